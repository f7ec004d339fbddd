/**
 * The runtime's repository contract, run on memory, SQLite and PostgreSQL: the same assertions on each engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryRuntimeStore } from '../../src/runtime/memory-store.js';
import { POST_PATCH_FIELDS, type Fence, type NewPost, type PostPatch } from '../../src/runtime/store.js';
import { requirePostgres } from '../support/postgres.js';
import { fixtureFor, type EngineName, type Fixture } from '../support/store-fixture.js';

const engines: EngineName[] = ['memory', 'sqlite'];
if (await requirePostgres('runtime store contract')) engines.push('postgres');

const BIG_RANDOM_ID = '9223372036854775001';
const NEGATIVE_RANDOM_ID = '-9223372036854775807';
const BIG_CHAT = '-1009223372036854775';

function newPosts(botId: string, sessionIds: string[], groups: string[], at: number): NewPost[] {
  return groups.map((groupKey, seq) => ({
    botId,
    seq,
    sessionId: sessionIds[seq % sessionIds.length]!,
    plannedSessionId: sessionIds[seq % sessionIds.length]!,
    groupKey,
    plannedAt: at + seq * 5000,
    randomId: seq === 0 ? BIG_RANDOM_ID : seq === 1 ? NEGATIVE_RANDOM_ID : String(1000 + seq),
    status: 'planned',
    reason: null,
    error: null,
    attempts: 0,
    sentAt: null,
  }));
}

const cycleOf = (botId: string, at: number) => ({
  botId,
  number: 1,
  mode: 'enterprise' as const,
  slot: null,
  cycleSeconds: null,
  plannedStartAt: at,
  deadlineAt: at + 600_000,
  expectedEndAt: at + 20_000,
  finishedAt: null,
  status: 'running' as const,
  reason: null,
  warnings: [{ code: 'IDLE_SESSIONS', message: 'x' }],
});

/** Gives `fence` the bot's lease: in memory directly; on PostgreSQL as a row the database's clock still honours. */
async function holdLease(fx: Fixture, botId: string, fence: Fence): Promise<void> {
  if (!fx.store) {
    (fx.runtime as MemoryRuntimeStore).fences.set(botId, fence);
    return;
  }
  await fx.store.db
    .insertInto('leases')
    .values({
      bot_id: fx.store.runtime.bind(botId),
      owner_id: fence.ownerId,
      epoch: fence.epoch,
      expires_at: Date.now() + 60_000,
    })
    .execute();
}

/** Another worker takes the bot over: the lease moves to `fence` (a new owner, the next epoch). */
async function takeOver(fx: Fixture, botId: string, fence: Fence): Promise<void> {
  if (!fx.store) {
    (fx.runtime as MemoryRuntimeStore).fences.set(botId, fence);
    return;
  }
  await fx.store.db
    .updateTable('leases')
    .set({ owner_id: fence.ownerId, epoch: fence.epoch, expires_at: Date.now() + 60_000 })
    .where('bot_id', '=', fx.store.runtime.bind(botId))
    .execute();
}

describe.each(engines)('runtime store contract on %s', (engine) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixtureFor(engine);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('loads a bot with its sessions in order and its groups in the customer’s order', async () => {
    const { botId, userId, sessionIds } = await fx.addBot({
      mode: 'starter',
      totalCycleMinutes: 60,
      sessions: 3,
      groups: ['@zeta_group', BIG_CHAT, '-100123/7'],
      settings: { delayBetweenPosts: 2.5, minGroupGapSeconds: 90 },
    });
    const bot = (await fx.runtime.loadBot(botId))!;
    expect(bot).toMatchObject({
      id: botId,
      userId,
      mode: 'starter',
      totalCycleMinutes: 60,
      desiredState: 'running',
      anchorAt: null,
    });
    expect(bot.settings).toMatchObject({
      delayBetweenPosts: 2.5,
      minGroupGapSeconds: 90,
      delayBetweenCycles: 300,
    });
    expect(bot.sessions.map((s) => s.id)).toEqual(sessionIds);
    expect(bot.sessions.every((s) => s.status === 'active' && s.driver === 'sandbox')).toBe(true);
    expect(bot.groups.map((g) => g.key)).toEqual(['@zeta_group', BIG_CHAT, '-100123/7']);
    expect(await fx.runtime.listRunningBotIds()).toContain(botId);
    expect(await fx.runtime.loadBot('999999')).toBeNull();
  });

  it('keeps stopped bots out of the running list', async () => {
    const { botId } = await fx.addBot({ desiredState: 'stopped', sessions: 1, groups: ['@some_group'] });
    expect(await fx.runtime.listRunningBotIds()).not.toContain(botId);
  });

  it('stores a cycle with its posts in one piece; 64-bit random_ids round-trip exactly', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 2, groups: ['-1001', '-1002', '-1003'] });
    const at = 1_767_225_600_000;
    const created = await fx.runtime.createCycle(
      cycleOf(botId, at),
      newPosts(botId, sessionIds, ['-1001', '-1002', '-1003'], at),
    );
    expect(created.posts.map((p) => p.randomId)).toEqual([BIG_RANDOM_ID, NEGATIVE_RANDOM_ID, '1002']);
    const active = (await fx.runtime.getActiveCycle(botId))!;
    expect(active.cycle).toEqual(created.cycle);
    expect(active.cycle.warnings).toEqual([{ code: 'IDLE_SESSIONS', message: 'x' }]);
    expect(active.posts).toEqual(created.posts);
    expect(active.posts.map((p) => [p.seq, p.sessionId, p.plannedAt])).toEqual([
      [0, sessionIds[0], at],
      [1, sessionIds[1], at + 5000],
      [2, sessionIds[0], at + 10_000],
    ]);
    expect(await fx.runtime.getLastCycle(botId)).toEqual(created.cycle);
    await fx.runtime.finishCycle(created.cycle.id, 'finished', null, at + 30_000);
    expect(await fx.runtime.getActiveCycle(botId)).toBeNull();
    expect(await fx.runtime.getLastCycle(botId)).toMatchObject({
      status: 'finished',
      finishedAt: at + 30_000,
    });
  });

  it('keeps an album with its cycle and one random_id per message with each post, exactly', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
    const at = 1_767_225_600_000;
    const album = { link: 'https://t.me/some_chan/41', messageIds: [40, 41, 2_147_483_647] };
    const [one, two] = newPosts(botId, sessionIds, ['-1001', '-1002'], at);
    const randomIds = [BIG_RANDOM_ID, NEGATIVE_RANDOM_ID, '-1'];
    const created = await fx.runtime.createCycle({ ...cycleOf(botId, at), source: album }, [
      { ...one!, randomId: BIG_RANDOM_ID, randomIds },
      { ...two!, randomId: '77', randomIds: ['77'] },
    ]);
    expect(created.cycle.source).toEqual(album);
    expect(created.posts.map((p) => [p.randomIds, p.sentMessageIds])).toEqual([
      [randomIds, []],
      [['77'], []],
    ]);
    const active = (await fx.runtime.getActiveCycle(botId))!;
    expect(active.cycle).toEqual(created.cycle);
    expect(active.posts).toEqual(created.posts);
    // the ids of the messages the forward created, written with the outcome
    await fx.runtime.writeResults(
      [{ postId: created.posts[0]!.id, botId, status: 'sent', sentAt: at, sentMessageIds: [900, 901, 902] }],
      new Map(),
    );
    const stored = (await fx.runtime.getActiveCycle(botId))!.posts;
    expect(stored.map((p) => p.sentMessageIds)).toEqual([[900, 901, 902], []]);
    if (fx.store) {
      // The last read, for the preview: the latest cycle planned with one.
      expect(await fx.store.bots.lastSourceRead(botId)).toEqual(album);
      await fx.runtime.createCycle({ ...cycleOf(botId, at + 60_000), number: 2 }, []);
      expect(await fx.store.bots.lastSourceRead(botId)).toEqual(album);
    }
  });

  it('a cycle planned without reading the source, and posts of one message: null source, [random_id]', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const created = await fx.runtime.createCycle(
      cycleOf(botId, 0),
      newPosts(botId, sessionIds, ['-1001'], 0),
    );
    const active = (await fx.runtime.getActiveCycle(botId))!;
    expect(active.cycle.source).toBeNull();
    expect(active.posts.map((p) => [p.randomIds, p.sentMessageIds])).toEqual([[[BIG_RANDOM_ID], []]]);
    expect(active.posts).toEqual(created.posts);
  });

  it('marks sending only posts that are not final; the outcome write moves them on, counters add up', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002', '-1003'] });
    const { posts } = await fx.runtime.createCycle(
      cycleOf(botId, 0),
      newPosts(botId, sessionIds, ['-1001', '-1002', '-1003'], 0),
    );
    const [a, b, c] = posts;
    const marked = await fx.runtime.markSending([
      { postId: a!.id, botId, attempts: 1, fence: null },
      { postId: b!.id, botId, attempts: 1, fence: null },
    ]);
    expect([...marked].sort()).toEqual([a!.id, b!.id].sort());
    await fx.runtime.writeResults(
      [
        { postId: a!.id, botId, status: 'sent', sentAt: 1234, attempts: 1, reason: null, error: null },
        { postId: b!.id, botId, status: 'planned', error: 'FLOOD_WAIT_5' },
        { postId: c!.id, botId, sessionId: sessionIds[0]!, plannedAt: 999 },
        { postId: c!.id, botId, status: 'skipped', reason: 'group_gap' },
      ],
      new Map([[botId, { sent: 1, skipped: 1, floodWaits: 1 }]]),
    );
    const again = await fx.runtime.markSending([
      { postId: a!.id, botId, attempts: 2, fence: null },
      { postId: b!.id, botId, attempts: 2, fence: null },
      { postId: c!.id, botId, attempts: 1, fence: null },
    ]);
    expect([...again]).toEqual([b!.id]);
    const stored = (await fx.runtime.getActiveCycle(botId))!.posts;
    expect(stored.map((p) => [p.status, p.attempts, p.sentAt, p.reason, p.error])).toEqual([
      ['sent', 1, 1234, null, null],
      ['sending', 2, null, null, 'FLOOD_WAIT_5'],
      ['skipped', 0, null, 'group_gap', null],
    ]);
    expect(stored[2]!.plannedAt).toBe(999);
    if (fx.store) {
      const config = (await fx.store.bots.get(botId))!;
      expect(config.counters).toEqual({ sent: 1, duplicates: 0, failed: 0, skipped: 1, floodWaits: 1 });
    }
  });

  it('sets every field a patch may set, each to its own column', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 2, groups: ['-1001'] });
    const { posts } = await fx.runtime.createCycle(
      cycleOf(botId, 0),
      newPosts(botId, sessionIds, ['-1001'], 0),
    );
    // Required: a field added to PostPatch needs a value here, and the table (checked below) a column.
    const every: Required<PostPatch> = {
      postId: posts[0]!.id,
      botId,
      status: 'failed',
      reason: 'unknown_error',
      error: 'WEIRD_ERROR',
      attempts: 7,
      sentAt: 1_767_225_612_345,
      sessionId: sessionIds[1]!,
      plannedAt: 1_767_225_600_999,
      sentMessageIds: [2_147_483_647, 12, 13],
    };
    const { postId: _p, botId: _b, ...fields } = every;
    expect([...POST_PATCH_FIELDS].sort()).toEqual(Object.keys(fields).sort());
    await fx.runtime.writeResults([every], new Map());
    const stored = (await fx.runtime.getActiveCycle(botId))!.posts[0]!;
    expect(stored).toEqual({ ...posts[0], ...fields });
  });

  // Leases (and so fences) exist only in memory and on PostgreSQL; SQLite refuses a fenced mark (below).
  // Engine-specific: defined only where it applies (a skipped test would be reported for the others).
  if (engine !== 'sqlite')
    it('refuses a fenced mark without the matching lease', async () => {
      const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001'] });
      const { posts } = await fx.runtime.createCycle(
        cycleOf(botId, 0),
        newPosts(botId, sessionIds, ['-1001'], 0),
      );
      const fence = { ownerId: 'worker-a', epoch: 3 };
      expect(await fx.runtime.markSending([{ postId: posts[0]!.id, botId, attempts: 1, fence }])).toEqual(
        new Set(),
      );
      expect((await fx.runtime.getActiveCycle(botId))!.posts[0]!.status).toBe('planned');
    });

  // Engine-specific: defined only where it applies (a skipped test would be reported for the others).
  if (engine !== 'sqlite')
    it('accepts a fenced mark only while that owner holds the lease with that epoch', async () => {
      const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002', '-1003'] });
      const { posts } = await fx.runtime.createCycle(
        cycleOf(botId, 0),
        newPosts(botId, sessionIds, ['-1001', '-1002', '-1003'], 0),
      );
      const [a, b, c] = posts;
      const fence = { ownerId: 'worker-a', epoch: 3 };
      await holdLease(fx, botId, fence);
      const marked = await fx.runtime.markSending([
        { postId: a!.id, botId, attempts: 1, fence },
        { postId: b!.id, botId, attempts: 1, fence: { ownerId: 'worker-a', epoch: 2 } },
        { postId: c!.id, botId, attempts: 1, fence: { ownerId: 'worker-b', epoch: 3 } },
      ]);
      expect([...marked]).toEqual([a!.id]);
      const stored = (await fx.runtime.getActiveCycle(botId))!.posts;
      expect(stored.map((p) => p.status)).toEqual(['sending', 'planned', 'planned']);
    });

  // Engine-specific: defined only where it applies (a skipped test would be reported for the others).
  if (engine !== 'sqlite')
    it('one commit for two bots: the stale owner’s marks, outcomes and counters are refused, the live owner’s written', async () => {
      const live = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
      const stale = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
      const cycle = async (bot: typeof live) =>
        (
          await fx.runtime.createCycle(
            cycleOf(bot.botId, 0),
            newPosts(bot.botId, bot.sessionIds, ['-1001', '-1002'], 0),
          )
        ).posts;
      const [l0, l1] = await cycle(live);
      const [s0, s1] = await cycle(stale);
      const mine = { ownerId: 'worker-a', epoch: 3 };
      await holdLease(fx, live.botId, mine);
      await holdLease(fx, stale.botId, mine);
      // Both were marked under the lease; then worker-b takes the stale one over (epoch 4) while worker-a finishes.
      expect(
        await fx.runtime.markSending([
          { postId: l0!.id, botId: live.botId, attempts: 1, fence: mine },
          { postId: s0!.id, botId: stale.botId, attempts: 1, fence: mine },
        ]),
      ).toEqual(new Set([l0!.id, s0!.id]));
      await takeOver(fx, stale.botId, { ownerId: 'worker-b', epoch: 4 });
      const accepted = await fx.runtime.commit({
        patches: [
          { postId: l0!.id, botId: live.botId, status: 'sent', sentAt: 10 },
          { postId: s0!.id, botId: stale.botId, status: 'sent', sentAt: 10 },
        ],
        counters: new Map([
          [live.botId, { sent: 1 }],
          [stale.botId, { sent: 1 }],
        ]),
        fences: new Map([
          [live.botId, mine],
          [stale.botId, mine],
        ]),
        marks: [
          { postId: l1!.id, botId: live.botId, attempts: 1, fence: mine },
          { postId: s1!.id, botId: stale.botId, attempts: 1, fence: mine },
        ],
      });
      expect([...accepted]).toEqual([l1!.id]);
      const statuses = async (botId: string) =>
        (await fx.runtime.getActiveCycle(botId))!.posts.map((p) => [p.status, p.sentAt]);
      expect(await statuses(live.botId)).toEqual([
        ['sent', 10],
        ['sending', null],
      ]);
      // The new owner finds the post as the old one left it before the takeover: `sending`, retried by it with the
      // same random_id (Telegram answers RANDOM_ID_DUPLICATE if the old owner's call got through).
      expect(await statuses(stale.botId)).toEqual([
        ['sending', null],
        ['planned', null],
      ]);
      const counted = async (botId: string) =>
        fx.store
          ? (await fx.store.bots.get(botId))!.counters.sent
          : (fx.runtime as MemoryRuntimeStore).botRuntime(botId).counters.sent;
      expect([await counted(live.botId), await counted(stale.botId)]).toEqual([1, 0]);
    });

  // Engine-specific: only PostgreSQL commits are round trips (SQLite's are calls in this process).
  if (engine === 'postgres')
    it('a commit of outcomes, counters and fenced and unfenced marks is one statement: one round trip', async () => {
      const bot = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002', '-1003', '-1004'] });
      const { posts } = await fx.runtime.createCycle(
        cycleOf(bot.botId, 0),
        newPosts(bot.botId, bot.sessionIds, ['-1001', '-1002', '-1003', '-1004'], 0),
      );
      const fence = { ownerId: 'worker-a', epoch: 1 };
      await holdLease(fx, bot.botId, fence);
      const before = fx.store!.statements!.snapshot();
      const accepted = await fx.runtime.commit({
        patches: [
          { postId: posts[0]!.id, botId: bot.botId, status: 'sent', sentAt: 10 },
          { postId: posts[1]!.id, botId: bot.botId, error: 'FLOOD_WAIT_3' },
        ],
        counters: new Map([[bot.botId, { sent: 1, floodWaits: 1 }]]),
        fences: new Map([[bot.botId, fence]]),
        marks: [
          { postId: posts[2]!.id, botId: bot.botId, attempts: 1, fence },
          { postId: posts[3]!.id, botId: bot.botId, attempts: 1, fence: null },
        ],
      });
      const after = fx.store!.statements!.snapshot();
      expect(after.commit - before.commit).toBe(1);
      expect(accepted).toEqual(new Set([posts[2]!.id, posts[3]!.id]));
      const stored = (await fx.runtime.getActiveCycle(bot.botId))!.posts;
      expect(stored.map((p) => [p.status, p.error])).toEqual([
        ['sent', null],
        ['planned', 'FLOOD_WAIT_3'],
        ['sending', null],
        ['sending', null],
      ]);
      expect((await fx.store!.bots.get(bot.botId))!.counters).toMatchObject({ sent: 1, floodWaits: 1 });
    });

  // Engine-specific: PostgreSQL times leases by its clock (the memory store's fences do not expire).
  if (engine === 'postgres')
    it('an expired lease nobody took over: outcomes of calls made are written, no new mark is', async () => {
      const bot = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
      const { posts } = await fx.runtime.createCycle(
        cycleOf(bot.botId, 0),
        newPosts(bot.botId, bot.sessionIds, ['-1001', '-1002'], 0),
      );
      const fence = { ownerId: 'worker-a', epoch: 1 };
      await holdLease(fx, bot.botId, fence);
      await fx.runtime.markSending([{ postId: posts[0]!.id, botId: bot.botId, attempts: 1, fence }]);
      await fx
        .store!.db.updateTable('leases')
        .set({ expires_at: Date.now() - 1_000 })
        .where('bot_id', '=', fx.store!.runtime.bind(bot.botId))
        .execute();
      const accepted = await fx.runtime.commit({
        patches: [{ postId: posts[0]!.id, botId: bot.botId, status: 'sent', sentAt: 10 }],
        counters: new Map([[bot.botId, { sent: 1 }]]),
        fences: new Map([[bot.botId, fence]]),
        marks: [{ postId: posts[1]!.id, botId: bot.botId, attempts: 1, fence }],
      });
      expect(accepted).toEqual(new Set());
      const stored = (await fx.runtime.getActiveCycle(bot.botId))!.posts;
      expect(stored.map((p) => p.status)).toEqual(['sent', 'planned']);
      expect((await fx.store!.bots.get(bot.botId))!.counters.sent).toBe(1);
    });

  // Engine-specific: defined only where it applies (a skipped test would be reported for the others).
  if (engine === 'sqlite')
    it('refuses a fenced mark loudly: SQLite holds no leases to check it against', async () => {
      const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
      const { posts } = await fx.runtime.createCycle(
        cycleOf(botId, 0),
        newPosts(botId, sessionIds, ['-1001', '-1002'], 0),
      );
      const fence = { ownerId: 'worker-a', epoch: 3 };
      await expect(
        fx.runtime.commit({
          marks: [
            { postId: posts[0]!.id, botId, attempts: 1, fence: null },
            { postId: posts[1]!.id, botId, attempts: 1, fence },
          ],
          patches: [{ postId: posts[1]!.id, botId, error: 'FLOOD_WAIT_5' }],
          counters: new Map([[botId, { floodWaits: 1 }]]),
        }),
      ).rejects.toThrow(/fenced .*PostgreSQL/);
      // Nothing of the refused batch was written.
      const stored = (await fx.runtime.getActiveCycle(botId))!.posts;
      expect(stored.map((p) => [p.status, p.attempts, p.error])).toEqual([
        ['planned', 0, null],
        ['planned', 0, null],
      ]);
      expect((await fx.store!.bots.get(botId))!.counters.floodWaits).toBe(0);
    });

  it('remembers sessions’ cooldowns and (session, group) states', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 2, groups: ['-1001', '-1002'] });
    await fx.runtime.updateSession(sessionIds[1]!, {
      status: 'paused',
      cooldownUntil: 5_000,
      statusReason: 'flood_wait',
    });
    const state = {
      sessionId: sessionIds[0]!,
      groupKey: '-1002',
      cooldownUntil: 77,
      parkedUntil: null,
      parkedReason: null,
      unknownFailures: 1,
      skipThroughCycle: null,
      lastError: 'WEIRD',
    };
    await fx.runtime.savePairState(botId, state);
    await fx.runtime.savePairState(botId, { ...state, unknownFailures: 0, skipThroughCycle: 4 });
    expect(await fx.runtime.loadPairStates(botId)).toEqual([
      { ...state, unknownFailures: 0, skipThroughCycle: 4 },
    ]);
    await fx.runtime.setGroupSlowmode(botId, '-1002', 30);
    const bot = (await fx.runtime.loadBot(botId))!;
    expect(bot.sessions[1]).toMatchObject({
      status: 'paused',
      cooldownUntil: 5_000,
      statusReason: 'flood_wait',
    });
    expect(bot.groups).toEqual([
      { key: '-1001', slowmodeSeconds: null },
      { key: '-1002', slowmodeSeconds: 30 },
    ]);
    await fx.runtime.updateBotRuntime(botId, {
      anchorAt: 42,
      anchorCycleSeconds: 3600,
      needsAttention: true,
      lastError: 'x',
    });
    expect(await fx.runtime.loadBot(botId)).toMatchObject({ anchorAt: 42, anchorCycleSeconds: 3600 });
  });

  it('knows when each group last received a post from this bot', async () => {
    const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001', '-1002'] });
    const { posts } = await fx.runtime.createCycle(
      cycleOf(botId, 0),
      newPosts(botId, sessionIds, ['-1001', '-1002', '-1001'], 0),
    );
    await fx.runtime.writeResults(
      [
        { postId: posts[0]!.id, botId, status: 'sent', sentAt: 100 },
        { postId: posts[1]!.id, botId, status: 'failed', sentAt: null },
        { postId: posts[2]!.id, botId, status: 'duplicate', sentAt: 300 },
      ],
      new Map(),
    );
    expect(await fx.runtime.lastSentByGroup(botId)).toEqual(new Map([['-1001', 300]]));
  });

  it('keeps group facts per (session, group): unknowns as null, a new read replacing the last, per session', async () => {
    const a = await fx.addBot({ sessions: 2, groups: [BIG_CHAT, '-100123/7'] });
    const b = await fx.addBot({ sessions: 1, groups: [BIG_CHAT] });
    const [s0, s1] = a.sessionIds;
    const base = {
      member: true,
      canWrite: true,
      slowmodeSeconds: 300,
      paidStars: 0,
      topicClosed: null,
      username: null,
      error: null,
    };
    const paid = {
      ...base,
      sessionId: s0!,
      groupKey: BIG_CHAT,
      checkedAt: 1_700_000_000_000,
      paidStars: 25,
      username: 'Paid_Group',
    };
    const topic = { ...base, sessionId: s0!, groupKey: '-100123/7', checkedAt: 5, topicClosed: true };
    const failed = {
      sessionId: s1!,
      groupKey: BIG_CHAT,
      checkedAt: 6,
      member: null,
      canWrite: null,
      slowmodeSeconds: null,
      paidStars: null,
      topicClosed: null,
      username: null,
      error: 'FLOOD_WAIT_30',
    };
    const other = { ...base, sessionId: b.sessionIds[0]!, groupKey: BIG_CHAT, checkedAt: 7, canWrite: false };
    // The same pair twice in one batch: the last read wins.
    await fx.runtime.saveGroupFacts([{ ...paid, paidStars: 1 }, paid, topic, failed, other]);
    const sorted = async (ids: string[]) =>
      (await fx.runtime.loadGroupFacts(ids)).sort((x, y) =>
        `${x.sessionId} ${x.groupKey}` < `${y.sessionId} ${y.groupKey}` ? -1 : 1,
      );
    const expected = [paid, topic, failed].sort((x, y) =>
      `${x.sessionId} ${x.groupKey}` < `${y.sessionId} ${y.groupKey}` ? -1 : 1,
    );
    expect(await sorted(a.sessionIds)).toEqual(expected);
    expect(await sorted(b.sessionIds)).toEqual([other]);
    expect(await fx.runtime.loadGroupFacts([])).toEqual([]);
    // A new read of a pair replaces it (an error cleared, the price gone).
    const reread = { ...paid, checkedAt: paid.checkedAt + 3_600_000, paidStars: 0, topicClosed: false };
    await fx.runtime.saveGroupFacts([reread]);
    expect((await fx.runtime.loadGroupFacts([s0!])).find((f) => f.groupKey === BIG_CHAT)).toEqual(reread);
  });

  it('two customers never see each other’s rows', async () => {
    const a = await fx.addBot({ sessions: 2, groups: ['@alpha_group'] });
    const b = await fx.addBot({ sessions: 1, groups: ['@beta_group'] });
    const botA = (await fx.runtime.loadBot(a.botId))!;
    const botB = (await fx.runtime.loadBot(b.botId))!;
    expect(botA.sessions.map((s) => s.id)).toEqual(a.sessionIds);
    expect(botB.sessions.map((s) => s.id)).toEqual(b.sessionIds);
    expect(botA.groups.map((g) => g.key)).toEqual(['@alpha_group']);
    await fx.runtime.createCycle(cycleOf(a.botId, 0), newPosts(a.botId, a.sessionIds, ['@alpha_group'], 0));
    expect(await fx.runtime.getActiveCycle(b.botId)).toBeNull();
    await fx.runtime.savePairState(a.botId, {
      sessionId: a.sessionIds[0]!,
      groupKey: '@alpha_group',
      cooldownUntil: 1,
      parkedUntil: null,
      parkedReason: null,
      unknownFailures: 0,
      skipThroughCycle: null,
      lastError: null,
    });
    expect(await fx.runtime.loadPairStates(b.botId)).toEqual([]);
    if (fx.store) {
      expect((await fx.store.sessions.listByOwner(b.userId)).map((s) => s.id)).toEqual(b.sessionIds);
      const page = await fx.store.bots.posts(b.botId, { limit: 50 });
      expect(page.posts).toEqual([]);
    }
  });
});
