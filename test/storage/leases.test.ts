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
});
