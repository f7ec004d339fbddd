/**
 * Behaviour beyond the seed note, on the sandbox and a virtual clock: the per-group guard, anchored cycles,
 * hand-offs, and the reaction to every class of Telegram answer (the table in docs/telegram.md).
 */
import { describe, expect, it } from 'vitest';
import { SystemClock } from './clock.js';
import { MemoryRuntimeStore } from './memory-store.js';
import { Runtime } from './runtime.js';
import { SimulatedWorld, type GatewayCall } from './simulation.js';
import { SandboxGateway } from '../telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore, sourceViewKey } from '../telegram/sandbox/sandbox-store.js';
import type { RuntimeStore } from './store.js';

const groups = (n: number, base = 2_000_000_000): string[] =>
  Array.from({ length: n }, (_, i) => `-100${base + i}`);
const sessions = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));

function gapsPerGroup(deliveries: { group: string; atSeconds: number }[]): number[] {
  const byGroup = new Map<string, number[]>();
  for (const d of deliveries) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d.atSeconds]);
  const gaps: number[] = [];
  for (const times of byGroup.values()) {
    times.sort((a, b) => a - b);
    for (let k = 1; k < times.length; k++) gaps.push(times[k]! - times[k - 1]!);
  }
  return gaps;
}

/** A session never calls forward twice closer than the delay — retries and hand-offs included. */
function expectSessionSpacing(calls: GatewayCall[], delaySeconds: number): void {
  const last = new Map<string, number>();
  for (const c of calls.filter((x) => x.method === 'forward')) {
    const prev = last.get(c.sessionId);
    if (prev !== undefined) expect(c.at - prev).toBeGreaterThanOrEqual(delaySeconds * 1000);
    last.set(c.sessionId, c.at);
  }
}

async function start(world: SimulatedWorld, spec: Parameters<SimulatedWorld['addBot']>[0]): Promise<string> {
  const botId = world.addBot(spec);
  world.runtime.startBot(botId);
  return botId;
}

describe('the per-group guard', () => {
  it('holds when a FLOOD_WAIT stalls a starter session until the next session catches up', async () => {
    const world = new SimulatedWorld();
    // s0's third call (at 10 s) is told to wait 1790 s: it resumes at 1800 s, exactly when s1 begins.
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_1790', atSeconds: 10 });
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 60,
      sessions: sessions(2),
      groups: groups(10),
    });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries).toHaveLength(20);
    expect(Math.min(...gapsPerGroup(deliveries))).toBeGreaterThanOrEqual(60);
    // s0 really did resume at 1800 s, and s1 had to wait for the guard at least once.
    expect(deliveries.filter((d) => d.session === 's0').map((d) => d.atSeconds)).toEqual([
      0, 5, 1800, 1805, 1810, 1815, 1820, 1825, 1830, 1835,
    ]);
    expect(deliveries.filter((d) => d.session === 's1')[2]!.atSeconds).toBe(1860);
    expect(world.events.filter((e) => e.type === 'session.paused')).toHaveLength(1);
    expect(world.store.botRuntime(botId).counters.floodWaits).toBe(1);
    expectSessionSpacing(world.calls, 5);
  });

  it('skips a post as group_slowmode when waiting out the group’s slow mode would take longer than the minimum gap', async () => {
    const world = new SimulatedWorld();
    const [a, b] = groups(2);
    // Slow mode 300 s known for group a (and its facts say so): s1 comes 120 s after s0 and may not wait 180 s.
    await world.putGroup({ key: a!, slowmodeSeconds: 300 });
    const botId = world.addBot({
      mode: 'starter',
      totalCycleMinutes: 4,
      sessions: sessions(2),
      groups: [
        { key: a!, slowmodeSeconds: 300 },
        { key: b!, slowmodeSeconds: null },
      ],
    });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId);
    expect(posts.filter((p) => p.status === 'sent')).toHaveLength(3);
    expect(posts.find((p) => p.sessionId === 's1' && p.groupKey === a)).toMatchObject({
      status: 'skipped',
      reason: 'group_slowmode',
    });
  });
});

describe('anchored starter cycles', () => {
  it('keep the T/n rhythm across cycle boundaries (no delay_between_cycles gap)', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 30,
      sessions: sessions(3),
      groups: groups(4),
    });
    await world.runCycles(botId, 3);
    await world.runtime.stopBot(botId);
    const first = (await world.deliveries()).filter((d) => d.group === groups(4)[0]).map((d) => d.atSeconds);
    expect(first).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600, 4200, 4800]);
    expect(world.store.listCycles(botId).map((c) => c.plannedStartAt - world.startAt)).toEqual([
      0, 1_800_000, 3_600_000,
    ]);
  });

  it('skip a slot the previous cycle overran, and report it', async () => {
    const world = new SimulatedWorld();
    // 2 sessions × 40 groups × 5 s: the last post is due at 60 + 195 = 255 s > T = 120 s.
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 2,
      settings: { minGroupGapSeconds: 0 },
      sessions: sessions(2),
      groups: groups(40),
    });
    await world.runCycles(botId, 3);
    await world.runtime.stopBot(botId);
    const cycles = world.store.listCycles(botId);
    expect(cycles.slice(0, 3).map((c) => c.status)).toEqual(['finished', 'skipped', 'finished']);
    expect(cycles[1]!.reason).toContain('previous_cycle_overran');
    expect(cycles[2]!.plannedStartAt - world.startAt).toBe(2 * 120_000 + 120_000);
    expect(cycles[0]!.warnings.map((w) => w.code)).toContain('CYCLE_OVERRUN');
    expect(world.events.some((e) => e.type === 'cycle.skipped' && e.slots === 2)).toBe(true);
  });
});

describe('enterprise', () => {
  it('hands a dead session’s remaining groups to the healthy sessions: every group still posted once', async () => {
    const world = new SimulatedWorld();
    const g = groups(10);
    await world.fault({ session: 's1', error: 'AUTH_KEY_UNREGISTERED', atSeconds: 5 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(3), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.group).sort()).toEqual([...g].sort());
    expect(deliveries.filter((d) => d.session === 's1').map((d) => d.group)).toEqual([g[4]]);
    expect(world.store.session('s1')).toMatchObject({ status: 'dead', statusReason: 'revoked' });
    expect(world.events.filter((e) => e.type === 'post.handed_off')).toHaveLength(2);
    expect(world.events.some((e) => e.type === 'session.retired' && e.sessionId === 's1')).toBe(true);
    expectSessionSpacing(world.calls, 5);
  });

  it('hands over when a FLOOD_WAIT lasts past the cycle, and waits when it does not', async () => {
    const world = new SimulatedWorld();
    const g = groups(10);
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_600', atSeconds: 5 });
    await world.fault({ session: 's1', error: 'FLOOD_WAIT_3', atSeconds: 5 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.group).sort()).toEqual([...g].sort());
    // s0 sent g0 only, its g1..g4 went to s1; s1 waited 3 s once and went on.
    expect(deliveries.filter((d) => d.session === 's0').map((d) => d.group)).toEqual([g[0]]);
    const s1 = deliveries.filter((d) => d.session === 's1');
    expect(s1.map((d) => d.group)).toEqual([g[5], g[6], g[7], g[8], g[9], g[1], g[2], g[3], g[4]]);
    // Its 3 s wait ended at 8 s, but its own spacing (last call at 5 s + 5 s) keeps it to 10 s.
    expect(s1[1]!.atSeconds).toBe(10);
    expectSessionSpacing(world.calls, 5);
  });

  it('a pause that outlasts the next cycle’s start: that cycle waits for the pause, then runs', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_1000', atSeconds: 0 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: g });
    // cycle 1 ends at once (its only session paused past it); cycle 2 is due at 300 s, while still paused
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.group)).toEqual(g);
    // the paused session made no call before its pause ended, and cycle 2 went out once it could
    expect(Math.min(...deliveries.map((d) => d.atSeconds))).toBeGreaterThanOrEqual(1000);
    expect(Math.min(...deliveries.map((d) => d.atSeconds))).toBeLessThanOrEqual(1000 + 60);
  });

  it('starts the next cycle delay_between_cycles after the previous one completes', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, {
      mode: 'enterprise',
      settings: { delayBetweenCycles: 300 },
      sessions: sessions(2),
      groups: groups(4),
    });
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    const [c1, c2] = world.store.listCycles(botId);
    expect(c2!.plannedStartAt - c1!.finishedAt!).toBe(300_000);
  });

  it('keeps at most 7 sessions active at once (the per-bot limit)', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(10), groups: groups(30) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries).toHaveLength(30);
    const spans = [...new Set(deliveries.map((d) => d.session))].map((s) => {
      const t = deliveries.filter((d) => d.session === s).map((d) => d.atSeconds);
      return [Math.min(...t), Math.max(...t)] as const;
    });
    // A lane holds its permit from its first post until after its last one.
    for (const [from] of spans) {
      const holding = spans.filter(([a, b]) => a <= from && from < b).length;
      expect(holding).toBeLessThanOrEqual(7);
    }
    expect(spans.filter(([a]) => a === 0)).toHaveLength(7);
    expect(spans.filter(([a]) => a === 10)).toHaveLength(3);
  });
});

describe('outcomes and reactions', () => {
  it('a source error stops the cycle after one call, not one per group', async () => {
    const world = new SimulatedWorld();
    await world.sandboxStore.putSourceState('https://t.me/stagger_demo/1', 'deleted');
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(3), groups: groups(30) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    // One read when the cycle was planned (a deleted post: no other session is asked), one check in the cycle.
    expect(world.calls.map((c) => [c.method, c.sessionId])).toEqual([
      ['readSource', 's0'],
      ['checkSource', 's0'],
    ]);
    const cycle = world.store.listCycles(botId)[0]!;
    expect(cycle.status).toBe('aborted');
    expect(cycle.reason).toBe('source_invalid:message_missing');
    expect(
      world.store.listPosts(botId).every((p) => p.status === 'cancelled' && p.reason === 'source_invalid'),
    ).toBe(true);
    expect(world.store.botRuntime(botId)).toMatchObject({ needsAttention: true });
  });

  it('a source error answered to a forward stops the whole cycle at once', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'CHAT_FORWARDS_RESTRICTED', atSeconds: 1, times: 1 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: groups(10) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const forwards = world.calls.filter((c) => c.method === 'forward');
    // t=0: both sessions posted; t=5: s0 hits the restricted source (s1 may be on the wire in the same instant).
    expect(forwards.length).toBeLessThanOrEqual(4);
    expect(world.store.listCycles(botId)[0]!.status).toBe('aborted');
  });

  it('PEER_FLOOD pauses the session for hours; its posts are skipped, not handed to other accounts', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'PEER_FLOOD', atSeconds: 5 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: groups(6) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId);
    const s0 = posts.filter((p) => p.plannedSessionId === 's0');
    expect(s0.map((p) => p.status)).toEqual(['sent', 'skipped', 'skipped']);
    expect(s0.slice(1).every((p) => p.reason === 'session_limited' && p.sessionId === 's0')).toBe(true);
    const session = world.store.session('s0');
    expect(session.status).toBe('paused');
    expect(session.cooldownUntil! - world.startAt).toBe(5_000 + 6 * 3600_000);
  });

  it('a flood wait without a duration pauses the session for hours; in enterprise its groups go to the others', async () => {
    const world = new SimulatedWorld();
    const g = groups(6);
    await world.fault({ session: 's0', error: 'P0NY_FLOODWAIT', atSeconds: 5 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.group).sort()).toEqual([...g].sort());
    expect(deliveries.filter((d) => d.session === 's0').map((d) => d.group)).toEqual([g[0]]);
    expect(world.store.session('s0')).toMatchObject({ status: 'paused', statusReason: 'flood_limit' });
    expect(world.store.session('s0').cooldownUntil! - world.startAt).toBe(5_000 + 6 * 3600_000);
    expect(world.store.botRuntime(botId).counters.floodWaits).toBe(1);
  });

  it('SLOWMODE_WAIT cools down that (session, group) only, and the guard learns the slow mode', async () => {
    const world = new SimulatedWorld();
    const g = groups(3);
    await world.fault({ session: 's0', group: g[1], error: 'SLOWMODE_WAIT_120', atSeconds: 0 });
    const botId = await start(world, {
      mode: 'enterprise',
      // The second cycle reaches g1 at 165 s, after the 120 s slow mode ended (at 125 s).
      settings: { delayBetweenCycles: 150 },
      sessions: sessions(1),
      groups: g,
    });
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId);
    expect(posts.map((p) => [p.groupKey, p.status, p.reason])).toEqual([
      [g[0], 'sent', null],
      [g[1], 'skipped', 'slowmode'],
      [g[2], 'sent', null],
      [g[0], 'sent', null],
      [g[1], 'sent', null],
      [g[2], 'sent', null],
    ]);
    expect(world.store.pairState('s0', g[1]!)!.cooldownUntil! - world.startAt).toBe(125_000);
    expect((await world.store.loadBot(botId))!.groups[1]!.slowmodeSeconds).toBe(120);
  });

  it('group_skip errors park the pair for hours and show the reason', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    // Telegram's answer to the forward, not the group's facts (those would skip it before any call).
    await world.fault({ group: g[0], error: 'USER_NOT_PARTICIPANT', times: -1 });
    const botId = await start(world, {
      mode: 'enterprise',
      settings: { delayBetweenCycles: 60 },
      sessions: sessions(1),
      groups: g,
    });
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId).filter((p) => p.groupKey === g[0]);
    expect(posts.map((p) => [p.status, p.reason, p.error])).toEqual([
      ['skipped', 'not_member', 'USER_NOT_PARTICIPANT'],
      ['skipped', 'not_member', 'USER_NOT_PARTICIPANT'],
    ]);
    // Parked: the second cycle did not call Telegram for that group again.
    expect(world.calls.filter((c) => c.groupKey === g[0])).toHaveLength(1);
  });

  it('USER_BANNED_IN_CHANNEL in three groups pauses the account instead of killing it', async () => {
    const world = new SimulatedWorld();
    const g = groups(5);
    for (const key of g.slice(0, 3)) await world.fault({ group: key, error: 'USER_BANNED_IN_CHANNEL' });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.session('s0')).toMatchObject({
      status: 'paused',
      statusReason: 'banned_in_many_groups',
    });
    expect(world.store.listPosts(botId).map((p) => p.reason)).toEqual([
      'banned_in_group',
      'banned_in_group',
      'banned_in_group',
      'session_limited',
      'session_limited',
    ]);
  });

  it('transient errors are retried with the same random_id, spaced by at least the delay', async () => {
    const world = new SimulatedWorld();
    const g = groups(2);
    await world.fault({ session: 's0', group: g[0], error: 'TIMEOUT', times: 2 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const tries = world.calls.filter((c) => c.groupKey === g[0]);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((c) => c.randomId)).size).toBe(1);
    expect(tries.map((c) => (c.at - world.startAt) / 1000)).toEqual([0, 5, 10]);
    expect(world.store.listPosts(botId)[0]).toMatchObject({ status: 'sent', attempts: 3 });
    expect((await world.deliveries()).filter((d) => d.group === g[0])).toHaveLength(1);
    expectSessionSpacing(world.calls, 5);
  });

  it('transient errors give up after the bounded number of attempts', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'RPC_CALL_FAIL', times: 10 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: groups(1) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.listPosts(botId)[0]).toMatchObject({
      status: 'failed',
      reason: 'transient',
      attempts: 3,
    });
  });

  it('RANDOM_ID_DUPLICATE counts as sent', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'RANDOM_ID_DUPLICATE', atSeconds: 0 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: groups(2) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.listPosts(botId).map((p) => p.status)).toEqual(['duplicate', 'sent']);
    expect(world.store.botRuntime(botId).counters).toMatchObject({ sent: 2, duplicates: 1, failed: 0 });
  });

  it.each(['enterprise', 'starter'] as const)(
    'an unknown error is never retried in its cycle (%s): the post is attempted once, and not handed over',
    async (mode) => {
      const world = new SimulatedWorld();
      const g = groups(3);
      // Every call of s0 to g1 gets the unknown error: a retry or a hand-over would show as another call.
      await world.fault({ session: 's0', group: g[1], error: 'SOMETHING_NEW', times: -1 });
      const botId = await start(world, {
        mode,
        ...(mode === 'starter' ? { totalCycleMinutes: 60 } : {}),
        sessions: sessions(2),
        groups: g,
      });
      await world.runCycles(botId, 1);
      await world.runtime.stopBot(botId);
      const calls = world.calls.filter((c) => c.method === 'forward' && c.groupKey === g[1]);
      const failed = world.store.listPosts(botId).filter((p) => p.status === 'failed');
      expect(failed).toEqual([
        expect.objectContaining({ sessionId: 's0', groupKey: g[1], reason: 'unknown', attempts: 1 }),
      ]);
      // Starter: s1 posts to g1 as planned (once); enterprise: g1 is s0's only, so nobody else calls it.
      expect(calls.map((c) => c.sessionId)).toEqual(mode === 'starter' ? ['s0', 's1'] : ['s0']);
    },
  );

  it('two unknown failures of one (session, group) skip it for three cycles', async () => {
    const world = new SimulatedWorld();
    const [a, b] = groups(2);
    await world.fault({ session: 's0', group: a, error: 'SOMETHING_NEW', times: 2 });
    const botId = await start(world, {
      mode: 'enterprise',
      settings: { delayBetweenCycles: 10 },
      sessions: sessions(1),
      groups: [a!, b!],
    });
    await world.runCycles(botId, 6);
    await world.runtime.stopBot(botId);
    const cycles = world.store.listCycles(botId);
    const statusOfA = world.store
      .listPosts(botId)
      .filter((p) => p.groupKey === a)
      .map((p) => [cycles.find((c) => c.id === p.cycleId)!.number, p.status, p.reason]);
    expect(statusOfA.slice(0, 6)).toEqual([
      [1, 'failed', 'unknown'],
      [2, 'failed', 'unknown'],
      [3, 'skipped', 'unknown_repeated'],
      [4, 'skipped', 'unknown_repeated'],
      [5, 'skipped', 'unknown_repeated'],
      [6, 'sent', null],
    ]);
    expect(world.store.listPosts(botId).find((p) => p.status === 'failed')!.error).toBe('SOMETHING_NEW');
  });

  it('a long FLOOD_WAIT raises an alert to the operator', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_7200', atSeconds: 0 });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: groups(2) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.events.some((e) => e.type === 'alert' && e.message.includes('120 min'))).toBe(true);
  });
});

describe('a source one session cannot read', () => {
  const link = 'https://t.me/stagger_demo/1';
  const unreadableBy = (world: SimulatedWorld, session: string) =>
    world.sandboxStore.putSourceState(sourceViewKey(link, session), 'private');

  it('enterprise: the session that can read it posts every group (handed over); no pair is parked', async () => {
    const world = new SimulatedWorld();
    const g = groups(6);
    await unreadableBy(world, 's0');
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.group).sort()).toEqual([...g].sort());
    expect(deliveries.every((d) => d.session === 's1')).toBe(true);
    // s0 read the source at planning (s1 then read it), checked it once in the cycle and never forwarded.
    expect(world.calls.filter((c) => c.sessionId === 's0').map((c) => c.method)).toEqual([
      'readSource',
      'checkSource',
    ]);
    expect(world.events.filter((e) => e.type === 'post.handed_off')).toHaveLength(3);
    const posts = world.store.listPosts(botId);
    expect(posts.every((p) => p.status === 'sent' && p.sessionId === 's1')).toBe(true);
    for (const group of g) expect(world.store.pairState('s0', group)).toBeUndefined();
    expect(world.store.listCycles(botId)[0]).toMatchObject({ status: 'finished' });
    expect(world.store.session('s0')).toMatchObject({ status: 'active' });
    expectSessionSpacing(world.calls, 5);
  });

  it('starter: its posts are skipped as source_unreachable, the others post as planned', async () => {
    const world = new SimulatedWorld();
    const g = groups(3);
    await unreadableBy(world, 's0');
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: sessions(2),
      groups: g,
    });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId);
    expect(posts.filter((p) => p.sessionId === 's0').map((p) => [p.status, p.reason, p.error])).toEqual([
      ['skipped', 'source_unreachable', 'CHANNEL_PRIVATE'],
      ['skipped', 'source_unreachable', 'CHANNEL_PRIVATE'],
      ['skipped', 'source_unreachable', 'CHANNEL_PRIVATE'],
    ]);
    expect(posts.filter((p) => p.sessionId === 's1').every((p) => p.status === 'sent')).toBe(true);
    expect(world.calls.filter((c) => c.method === 'forward' && c.sessionId === 's0')).toHaveLength(0);
    for (const group of g) expect(world.store.pairState('s0', group)).toBeUndefined();
    expect(world.store.listCycles(botId)[0]).toMatchObject({ status: 'finished' });
  });

  it('no session can read it: the cycle stops as source_invalid, nothing is forwarded', async () => {
    const world = new SimulatedWorld();
    await unreadableBy(world, 's0');
    await unreadableBy(world, 's1');
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: groups(4) });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.calls.map((c) => [c.method, c.sessionId])).toEqual([
      ['readSource', 's0'],
      ['readSource', 's1'],
      ['checkSource', 's0'],
      ['checkSource', 's1'],
    ]);
    expect(world.store.listCycles(botId)[0]).toMatchObject({
      status: 'aborted',
      reason: 'source_invalid:source_unreachable',
    });
    expect(
      world.store.listPosts(botId).every((p) => p.status === 'cancelled' && p.reason === 'source_invalid'),
    ).toBe(true);
  });

  it('the first session locked out does not stop the cycle: the next one checks and posts', async () => {
    const world = new SimulatedWorld();
    const g = groups(4);
    await world.fault({ session: 's0', method: 'source', error: 'AUTH_KEY_UNREGISTERED' });
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(2), groups: g });
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect((await world.deliveries()).map((d) => d.group).sort()).toEqual([...g].sort());
    expect(world.store.listCycles(botId)[0]).toMatchObject({ status: 'finished' });
  });
});

describe('stop, start and isolation', () => {
  it('stop during a 50-minute offset wait ends at once; the rest is cancelled', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 100,
      sessions: sessions(2),
      groups: groups(3),
    });
    await world.clock.advance(10 * 60_000);
    const before = world.clock.now();
    await world.runtime.stopBot(botId);
    expect(world.clock.now()).toBe(before);
    expect(world.clock.pending).toBe(0);
    expect(world.runtime.isRunning(botId)).toBe(false);
    const posts = world.store.listPosts(botId);
    expect(posts.filter((p) => p.status === 'sent')).toHaveLength(3);
    expect(posts.filter((p) => p.status === 'cancelled' && p.reason === 'stopped')).toHaveLength(3);
    expect(world.store.listCycles(botId)[0]!.status).toBe('stopped');
  });

  it('stop during a long cooldown ends at once', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 's0', error: 'FLOOD_WAIT_3000', atSeconds: 0 });
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 120,
      sessions: sessions(1),
      groups: groups(3),
    });
    await world.clock.advance(60_000);
    const before = world.clock.now();
    await world.runtime.stopBot(botId);
    expect(world.clock.now()).toBe(before);
    expect(world.clock.pending).toBe(0);
  });

  it('stop takes effect within a second on the real clock too', async () => {
    const store = new MemoryRuntimeStore();
    const clock = new SystemClock();
    const runtime = new Runtime({
      clock,
      store,
      gateway: new SandboxGateway({ clock, store: new MemorySandboxStore() }),
      options: { planningLeadMs: 0 },
    });
    const botId = store.addBot({
      mode: 'starter',
      totalCycleMinutes: 100,
      sessions: sessions(2),
      groups: groups(1),
    });
    // Stop once the first post is out (its result is committed before the event), however long that takes here.
    const firstSent = new Promise<void>((resolve) => {
      const off = runtime.events.on((event) => {
        if (event.type === 'post.sent' && event.botId === botId) {
          off();
          resolve();
        }
      });
    });
    runtime.startBot(botId);
    await firstSent;
    const t0 = Date.now();
    await runtime.stopBot(botId);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(store.listPosts(botId).map((p) => p.status)).toEqual(['sent', 'cancelled']);
  });

  it('start while running is a no-op', async () => {
    const world = new SimulatedWorld();
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(1), groups: groups(2) });
    expect(world.runtime.startBot(botId)).toBe(true);
    expect(world.runtime.startBot(botId)).toBe(false);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(await world.deliveries()).toHaveLength(2);
  });

  it('one bot failing never disturbs another', async () => {
    const world = new SimulatedWorld();
    await world.fault({ session: 'bad0', error: 'AUTH_KEY_UNREGISTERED', times: -1 });
    const bad = world.addBot({ mode: 'enterprise', sessions: [{ id: 'bad0' }], groups: groups(3) });
    const good = world.addBot({
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: [{ id: 'good0' }, { id: 'good1' }],
      groups: groups(3, 3_000_000_000),
    });
    world.runtime.startBot(bad);
    world.runtime.startBot(good);
    await world.runCycles(good, 2);
    await world.runtime.stopBot(good);
    await world.runtime.stopBot(bad);
    const deliveries = await world.deliveries();
    expect(deliveries.filter((d) => d.session.startsWith('bad'))).toHaveLength(0);
    expect(deliveries.map((d) => d.atSeconds)).toEqual([
      0, 5, 10, 300, 305, 310, 600, 605, 610, 900, 905, 910,
    ]);
    expect(world.store.botRuntime(bad).needsAttention).toBe(true);
  });

  it('a bot whose storage fails is restarted and resumes, while others go on', async () => {
    const world = new SimulatedWorld();
    const flaky = world.addBot({ mode: 'enterprise', sessions: [{ id: 'f0' }], groups: groups(2) });
    const steady = world.addBot({
      mode: 'enterprise',
      sessions: [{ id: 'k0' }],
      groups: groups(2, 3_000_000_000),
    });
    // The first attempt to store the flaky bot's cycle fails (a database hiccup).
    const store = world.store as RuntimeStore;
    const original = store.createCycle.bind(store);
    let failures = 1;
    store.createCycle = async (cycle, posts) => {
      if (cycle.botId === flaky && failures-- > 0) throw new Error('database is locked');
      return original(cycle, posts);
    };
    world.runtime.startBot(flaky);
    world.runtime.startBot(steady);
    await world.runCycles(flaky, 1);
    await world.runCycles(steady, 1);
    await world.runtime.stopBot(flaky);
    await world.runtime.stopBot(steady);
    const deliveries = await world.deliveries();
    expect(deliveries.filter((d) => d.session === 'k0').map((d) => d.atSeconds)).toEqual([0, 5]);
    // Restarted after the 5 s backoff.
    expect(deliveries.filter((d) => d.session === 'f0').map((d) => d.atSeconds)).toEqual([5, 10]);
  });

  it('1,000 bots run together, each exactly on its plan', async () => {
    const world = new SimulatedWorld();
    const ids: string[] = [];
    for (let b = 0; b < 1000; b++) {
      ids.push(
        world.addBot({
          mode: b % 2 === 0 ? 'enterprise' : 'starter',
          totalCycleMinutes: 10,
          sessions: [{ id: `b${b}s0` }, { id: `b${b}s1` }],
          groups: groups(4, 1_000_000_000 + b * 10),
        }),
      );
    }
    for (const id of ids) world.runtime.startBot(id);
    await world.clock.runUntilTrue(() => ids.every((id) => world.cyclesDone(id) >= 1));
    await Promise.all(ids.map((id) => world.runtime.stopBot(id)));
    const firstCycle = new Set(ids.map((id) => world.store.listCycles(id)[0]!.id));
    const deliveries = (await world.deliveries()).filter((d) => firstCycle.has(d.trace.cycleId!));
    expect(deliveries).toHaveLength(500 * 4 + 500 * 8);
    const times = (parity: number) =>
      [
        ...new Set(
          deliveries
            .filter((d) => Number(d.session.slice(1, d.session.indexOf('s', 1))) % 2 === parity)
            .map((d) => d.atSeconds),
        ),
      ].sort((a, b) => a - b);
    expect(times(0)).toEqual([0, 5]);
    expect(times(1)).toEqual([0, 5, 10, 15, 300, 305, 310, 315]);
    expect(world.errors).toEqual([]);
  });
});

describe('the clock misbehaving', () => {
  it('a clock jumping forward mid-cycle (a machine waking from sleep): late posts go out spaced, none twice', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, {
      mode: 'starter',
      totalCycleMinutes: 30,
      sessions: sessions(2),
      groups: groups(6),
    });
    await world.clock.advance(12_000);
    world.clock.jump(10 * 60_000);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries.map((d) => d.atSeconds)).toEqual([
      0, 5, 10, 612, 617, 622, 900, 905, 910, 915, 920, 925,
    ]);
    expect(new Set(deliveries.map((d) => d.randomId)).size).toBe(12);
    expectSessionSpacing(world.calls, 5);
  });

  it('a clock jumping backwards: nothing is sent early or twice', async () => {
    const world = new SimulatedWorld();
    const botId = await start(world, { mode: 'enterprise', sessions: sessions(1), groups: groups(6) });
    await world.clock.advance(12_000);
    world.clock.jump(-10_000);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const deliveries = await world.deliveries();
    expect(deliveries).toHaveLength(6);
    expect(new Set(deliveries.map((d) => d.group)).size).toBe(6);
    // After the jump the clock reads 2 s; the post due at 15 s waits for 15 s on the clock.
    expect(deliveries.map((d) => d.atSeconds)).toEqual([0, 5, 10, 15, 20, 25]);
  });
});
