/**
 * Knowing the group before posting, on the sandbox and a virtual clock: facts are read when a cycle is planned (at
 * most once an hour per session and group), and a post they forbid is never sent — skipped with the core's reason,
 * or handed to a session they allow (enterprise). A known slow mode spaces the group's posts.
 */
import { describe, expect, it } from 'vitest';
import { parseGroupTarget } from '../core/group-targets.js';
import { explainReason } from '../core/reasons.js';
import { DEFAULT_RUNTIME_OPTIONS } from './options.js';
import { SimulatedWorld } from './simulation.js';

const groups = (n: number, base = 2_100_000_000): string[] =>
  Array.from({ length: n }, (_, i) => `-100${base + i}`);
const sessions = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));

async function start(world: SimulatedWorld, spec: Parameters<SimulatedWorld['addBot']>[0]): Promise<string> {
  const botId = world.addBot(spec);
  world.runtime.startBot(botId);
  return botId;
}

const forwardsTo = (world: SimulatedWorld, group: string) =>
  world.calls.filter((c) => c.method === 'forward' && c.groupKey === group);

describe('reading the facts', () => {
  it('once per (session, group) an hour: plannings within the hour read nothing; after the hour, one read', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    const botId = await start(world, {
      mode: 'enterprise',
      settings: { delayBetweenCycles: 1000 },
      sessions: sessions(1),
      groups: g,
    });
    // Four cycles, about 1010 s apart: all within the first hour.
    await world.runCycles(botId, 4);
    expect(world.factReads.map((r) => [r.sessionId, r.groupKey, world.seconds(r.at)])).toEqual([
      ['s0', g[0], 0],
      ['s0', g[1], 0],
    ]);
    await world.runCycles(botId, 8);
    await world.runtime.stopBot(botId);
    const reads = world.factReads.map((r) => world.seconds(r.at));
    expect(reads).toHaveLength(4);
    const [, , again, againToo] = reads;
    expect(again).toBe(againToo);
    // The first planning (or wait before one) an hour or more after the first read; not a second later than needed.
    expect(again).toBeGreaterThanOrEqual(DEFAULT_RUNTIME_OPTIONS.groupFactsRefreshSeconds);
    expect(again).toBeLessThan(DEFAULT_RUNTIME_OPTIONS.groupFactsRefreshSeconds + 1100);
    expect(
      world.store
        .listCycles(botId)
        .slice(0, 8)
        .every((c) => c.status === 'finished'),
    ).toBe(true);
    // What was read is stored, per (session, group).
    expect((await world.store.loadGroupFacts(['s0'])).map((f) => [f.groupKey, f.checkedAt])).toEqual(
      g.map((key) => [key, world.startAt + again! * 1000]),
    );
  });

  it('a limit ends a session’s reads at once, never retried through, and the posts still go', async () => {
    const world = new SimulatedWorld();
    const g = groups(3);
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_30', method: 'facts' });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    // Every target says why, without a call: the fault had one use, so a second read would have succeeded.
    expect(world.factReads.map((r) => r.error)).toEqual(['FLOOD_WAIT_30', 'FLOOD_WAIT_30', 'FLOOD_WAIT_30']);
    expect(world.store.listPosts(botId).map((p) => p.status)).toEqual(['sent', 'sent', 'sent']);
    // A wait on reading full chats is about that method: the session is not paused for its forwards.
    expect(world.store.session('s0').status).toBe('active');
  });
});

describe('a post the facts forbid is never sent', () => {
  it('paid messages: never forwarded to, skipped as paid_messages with the price, every cycle', async () => {
    const world = new SimulatedWorld();
    const g = groups(3);
    await world.putGroup({ key: g[1]!, paidStars: 25 });
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: sessions(2),
      groups: g,
    });
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    expect(forwardsTo(world, g[1]!)).toEqual([]);
    const paid = world.store.listPosts(botId).filter((p) => p.groupKey === g[1]);
    expect(paid).toHaveLength(4);
    for (const p of paid) {
      expect(p).toMatchObject({
        status: 'skipped',
        reason: 'paid_messages',
        error: 'ALLOW_PAYMENT_REQUIRED_25',
      });
      expect(p.attempts).toBe(0);
    }
    expect(explainReason('post', paid[0]!.reason!, DEFAULT_RUNTIME_OPTIONS, paid[0]!.error)).toContain(
      '25 stars',
    );
    // Facts are no parking: nothing is written for the pair, the next read decides again.
    expect(world.store.pairState('s0', g[1]!)).toBeUndefined();
    expect(
      world.events.filter((e) => e.type === 'post.skipped' && e.reason === 'paid_messages'),
    ).toHaveLength(4);
    // The other groups went out from both sessions.
    expect((await world.deliveries()).filter((d) => d.group !== g[1])).toHaveLength(8);
  });

  it('a closed forum topic: skipped as topic_closed, while an open topic of the same forum gets the post', async () => {
    const world = new SimulatedWorld();
    const [forum] = groups(1);
    await world.putGroup({ key: forum!, closedTopics: [7] });
    const [closed, open] = [7, 8].map((topic) => parseGroupTarget(`${forum}/${topic}`).key);
    const botId = await start(world, {
      mode: 'enterprise',
      sessions: sessions(1),
      groups: [closed!, open!],
      // Topics of one forum are one group for the guard: their posts 5 s apart must not be skipped for it.
      settings: { minGroupGapSeconds: 0 },
    });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.listPosts(botId).map((p) => [p.groupKey, p.status, p.reason, p.error])).toEqual([
      [closed, 'skipped', 'topic_closed', 'TOPIC_CLOSED'],
      [open, 'sent', null, null],
    ]);
    expect(world.calls.filter((c) => c.method === 'forward').map((c) => c.groupKey)).toEqual([open]);
  });

  it('no right to write: skipped with the existing reason, without a call', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    await world.putGroup({ key: g[0]!, readOnly: ['s0'] });
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: sessions(1),
      groups: g,
    });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.listPosts(botId).map((p) => [p.status, p.reason])).toEqual([
      ['skipped', 'write_forbidden'],
      ['sent', null],
    ]);
    expect(forwardsTo(world, g[0]!)).toEqual([]);
  });

  it('enterprise: a group one session may not write in goes to a session that may, as a hand-off', async () => {
    const world = new SimulatedWorld();
    const g = groups(4);
    // s0 is planned g0 and g1; it may not write in g0, s1 may.
    await world.putGroup({ key: g[0]!, readOnly: ['s0'] });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    // s1's facts about g0 were read too (the hand-off needs them), s0's about s1's groups were not.
    expect(world.factReads.map((r) => `${r.sessionId} ${r.groupKey}`).sort()).toEqual(
      [`s0 ${g[0]}`, `s0 ${g[1]}`, `s1 ${g[2]}`, `s1 ${g[3]}`, `s1 ${g[0]}`].sort(),
    );
    expect(forwardsTo(world, g[0]!).map((c) => c.sessionId)).toEqual(['s1']);
    const post = world.store.listPosts(botId).find((p) => p.groupKey === g[0])!;
    expect(post).toMatchObject({ status: 'sent', sessionId: 's1', plannedSessionId: 's0' });
    expect(world.events.filter((e) => e.type === 'post.handed_off')).toEqual([
      expect.objectContaining({
        postId: post.id,
        groupKey: g[0],
        fromSessionId: 's0',
        toSessionId: 's1',
        reason: 'write_forbidden',
      }),
    ]);
    expect(world.store.listPosts(botId).every((p) => p.status === 'sent')).toBe(true);
  });

  it('enterprise: a group that charges every session is skipped, not handed around', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    await world.putGroup({ key: g[0]!, paidStars: 5 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.listPosts(botId).map((p) => [p.groupKey, p.status, p.reason, p.sessionId])).toEqual([
      [g[0], 'skipped', 'paid_messages', 's0'],
      [g[1], 'sent', null, 's1'],
    ]);
    expect(world.events.some((e) => e.type === 'post.handed_off')).toBe(false);
    expect(forwardsTo(world, g[0]!)).toEqual([]);
  });

  it('facts not known (their read failed): the forward’s ALLOW_PAYMENT_REQUIRED_X is a paid_messages skip', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    await world.putGroup({ key: g[0]!, paidStars: 40 });
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_30', method: 'facts' });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(forwardsTo(world, g[0]!)).toHaveLength(1);
    expect(world.store.listPosts(botId)[0]).toMatchObject({
      status: 'skipped',
      reason: 'paid_messages',
      error: 'ALLOW_PAYMENT_REQUIRED_40',
    });
    // Telegram's refusal parks the pair, as every group skip does.
    expect(world.store.pairState('s0', g[0]!)).toMatchObject({ parkedReason: 'paid_messages' });
  });
});

describe('a known slow mode', () => {
  it('spaces the group’s posts on the virtual clock, learnt from the facts before the first post', async () => {
    const world = new SimulatedWorld();
    const [a, b] = groups(2);
    // Slow mode 150 s: s1's post at 120 s waits until 150 s (30 s, within the 60 s minimum gap it may wait).
    await world.putGroup({ key: a!, slowmodeSeconds: 150 });
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 4,
      sessions: sessions(2),
      groups: [a!, b!],
    });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.filter((d) => d.group === a).map((d) => [d.session, d.atSeconds])).toEqual([
      ['s0', 0],
      ['s1', 150],
    ]);
    // b has no slow mode: the plan's time.
    expect(deliveries.filter((d) => d.group === b).map((d) => d.atSeconds)).toEqual([5, 155]);
    expect((await world.store.loadBot(botId))!.groups.map((gr) => gr.slowmodeSeconds)).toEqual([150, null]);
  });

  it('a slow mode a preflight found while the bot runs spaces the posts from the next cycle on', async () => {
    const world = new SimulatedWorld();
    const [a] = groups(1);
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 4,
      sessions: sessions(2),
      groups: [a!],
    });
    await world.runCycles(botId, 1);
    // What a preflight stores (its rows as the pairs' facts), after the group turned slow mode on.
    const checkedAt = world.clock.now();
    await world.store.saveGroupFacts(
      ['s0', 's1'].map((sessionId) => ({
        sessionId,
        groupKey: a!,
        checkedAt,
        member: true,
        canWrite: true,
        slowmodeSeconds: 150,
        paidStars: 0,
        username: null,
        topicClosed: null,
        error: null,
      })),
    );
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    // Fresh: not read again, but taken as read. Cycle 2: s0's post due at 240 s waits until 150 s after the last
    // one (120 s), s1's due at 360 s until 150 s after that — each wait within the minimum gap it may wait.
    expect(world.factReads.map((r) => world.seconds(r.at))).toEqual([0, 0]);
    expect((await world.deliveries()).map((d) => d.atSeconds)).toEqual([0, 120, 270, 420]);
  });

  it('a slow mode the admins turned off is forgotten at the next read', async () => {
    const world = new SimulatedWorld();
    const [a] = groups(1);
    // Learnt once (a SLOWMODE_WAIT, an older read); the group's settings now say none.
    const botId = world.addBot({
      mode: 'enterprise',
      sessions: sessions(1),
      groups: [{ key: a!, slowmodeSeconds: 600 }],
    });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect((await world.store.loadBot(botId))!.groups[0]!.slowmodeSeconds).toBe(0);
  });
});
