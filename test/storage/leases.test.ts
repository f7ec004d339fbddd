/**
 * Leases on PostgreSQL: the sweep that closes the cycles of stopped bots nobody holds (a stop that raced a
 * hand-over, or whose holder died before cancelling) — and leaves alone what someone still holds or runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewPost } from '../../src/runtime/store.js';
import { LeaseRepository } from '../../src/storage/leases.js';
import { requirePostgres } from '../support/postgres.js';
import { sqlFixture, type Fixture } from '../support/store-fixture.js';

const run = await requirePostgres('leases');

const cycleOf = (botId: string) => ({
  botId,
  number: 1,
  mode: 'enterprise' as const,
  slot: null,
  cycleSeconds: null,
  plannedStartAt: 0,
  deadlineAt: 600_000,
  expectedEndAt: 20_000,
  finishedAt: null,
  status: 'running' as const,
  reason: null,
  warnings: [],
});

const postsOf = (botId: string, sessionId: string): NewPost[] =>
  ['-1001', '-1002'].map((groupKey, seq) => ({
    botId,
    seq,
    sessionId,
    plannedSessionId: sessionId,
    groupKey,
    plannedAt: seq * 5000,
    randomId: String(7000 + seq),
    status: 'planned',
    reason: null,
    error: null,
    attempts: 0,
    sentAt: null,
  }));

describe.runIf(run)('lease sweep on PostgreSQL', () => {
  let fx: Fixture;
  let leases: LeaseRepository;
  beforeAll(async () => {
    fx = await sqlFixture('postgres');
    leases = new LeaseRepository(fx.store!.db, fx.store!.dialect);
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function botWithCycle(desiredState: 'running' | 'stopped') {
    const bot = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'], desiredState });
    const { cycle, posts } = await fx.runtime.createCycle(
      cycleOf(bot.botId),
      postsOf(bot.botId, bot.sessionIds[0]!),
    );
    await fx.runtime.markSending([{ postId: posts[0]!.id, botId: bot.botId, attempts: 1, fence: null }]);
    return { ...bot, cycleId: cycle.id };
  }

  it('closes a stopped bot’s cycle nobody holds; leaves a held one and a running bot alone', async () => {
    const orphan = await botWithCycle('stopped');
    const held = await botWithCycle('stopped');
    const running = await botWithCycle('running');
    await leases.registerWorker('w1', 'host', 1);
    // A live lease on `held`, as a worker giving the bot back still has it.
    await fx
      .store!.db.insertInto('leases')
      .values({ bot_id: held.botId, owner_id: 'w1', epoch: 1, expires_at: Date.now() + 60_000 })
      .execute();

    expect(await leases.closeOrphanedCycles()).toEqual([orphan.botId]);
    const posts = await fx.posts(orphan.botId);
    expect(posts.map((p) => [p.status, p.reason, p.error])).toEqual([
      ['failed', 'stopped', 'DELIVERY_UNKNOWN'],
      ['cancelled', 'stopped', null],
    ]);
    expect((await fx.cycles(orphan.botId))[0]).toMatchObject({ status: 'stopped' });
    expect((await fx.cycles(held.botId))[0]).toMatchObject({ status: 'running' });
    expect((await fx.cycles(running.botId))[0]).toMatchObject({ status: 'running' });

    // Once the holder gives the lease back, the next sweep closes that one too; nothing is closed twice.
    await leases.release('w1', [held.botId]);
    expect(await leases.closeOrphanedCycles()).toEqual([held.botId]);
    expect(await leases.closeOrphanedCycles()).toEqual([]);
  });

  it('stamps the cycles it closes with the clock it was given', async () => {
    const at = Date.UTC(2030, 0, 1);
    const stamped = new LeaseRepository(fx.store!.db, fx.store!.dialect, () => at);
    const orphan = await botWithCycle('stopped');
    expect(await stamped.closeOrphanedCycles()).toEqual([orphan.botId]);
    expect((await fx.cycles(orphan.botId))[0]).toMatchObject({ status: 'stopped', finishedAt: at });
  });

  it('a tick is one statement: heartbeat, renewal with desired states, and the counts claims are decided on', async () => {
    const db = fx.store!.db;
    const mine = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const stopping = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const theirs = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const free = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const worker = { id: 'tick-a', host: 'h', pid: 1 };
    await leases.registerWorker('tick-b', 'h', 2);
    const [a] = await leases.claim('tick-a', 1, 10_000, { only: mine.botId });
    const [s] = await leases.claim('tick-a', 1, 10_000, { only: stopping.botId });
    const [t] = await leases.claim('tick-b', 1, 10_000, { only: theirs.botId });
    await fx.store!.bots.stop(stopping.botId);
    const before = fx.store!.statements!.snapshot().other;
    const r = await leases.renew(
      worker,
      [
        { botId: a!.botId, epoch: a!.epoch },
        { botId: s!.botId, epoch: s!.epoch },
        // Not ours: theirs, and a stale epoch of ours.
        { botId: t!.botId, epoch: t!.epoch },
        { botId: a!.botId, epoch: a!.epoch - 1 },
      ],
      2_500,
      600,
    );
    expect(fx.store!.statements!.snapshot().other - before).toBe(1);
    expect(r.renewed.map((g) => [g.botId, g.epoch, g.desired]).sort()).toEqual(
      [
        [a!.botId, a!.epoch, 'running'],
        [s!.botId, s!.epoch, 'stopped'],
      ].sort(),
    );
    const now = await leases.databaseNow();
    for (const g of r.renewed) expect(g.expiresAt).toBeGreaterThan(now + 2_000);
    // Running: mine, theirs, free and the bots of the tests before (stopped ones do not count).
    const running = await db.selectFrom('bots').select('id').where('desired_state', '=', 'running').execute();
    expect(r.runningBots).toBe(running.length);
    expect(r.liveWorkers).toBeGreaterThanOrEqual(2);
    // `free` has no lease row yet: claimable, and an orphan (free since ever).
    expect(r.claimable).toBeGreaterThanOrEqual(1);
    expect(r.orphans).toBeGreaterThanOrEqual(1);
    const claimed = await leases.claim('tick-a', 10, 2_500);
    expect(claimed.map((g) => g.botId)).toContain(free.botId);
    const after = await leases.renew(worker, [], 2_500, 600);
    expect(after.claimable).toBe(0);

    // tick-b dies: the instant its lease expires it no longer counts as live, so a survivor's share leaves it out.
    await db
      .updateTable('leases')
      .set({ expires_at: now - 1 })
      .where('owner_id', '=', 'tick-b')
      .execute();
    await db
      .updateTable('workers')
      .set({ heartbeat_at: now - 2_501 })
      .where('id', '=', 'tick-b')
      .execute();
    const survivor = await leases.renew(worker, [], 2_500, 600);
    expect(survivor.claimable).toBe(1);
    expect(survivor.liveWorkers).toBe(after.liveWorkers - 1);
  });
});
