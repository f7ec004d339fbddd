/**
 * Restarts on a virtual clock, on memory and on SQLite: a resumed cycle re-times what it can and records what it
 * cannot as `missed` (nothing silently dropped); cooldowns, skips and anchors survive the restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedWorld } from '../../src/runtime/simulation.js';
import { fixtureFor, type Fixture } from '../support/store-fixture.js';

const GROUPS = Array.from({ length: 6 }, (_, i) => `-100${4_000_000_000 + i}`);

describe.each(['memory', 'sqlite'] as const)('resuming after a restart on %s', (engine) => {
  let fx: Fixture;
  afterEach(async () => {
    await fx.close();
  });

  async function world(spec: Parameters<Fixture['addBot']>[0]) {
    fx = await fixtureFor(engine);
    const created = await fx.addBot(spec);
    const w = new SimulatedWorld({ stores: { runtime: fx.runtime, sandbox: fx.sandbox } });
    w.runtime.startBot(created.botId);
    return { w, ...created };
  }

  it('re-times posts that are late but still in their cycle, each sent once, the guard holding', async () => {
    const { w, botId } = await world({ mode: 'starter', totalCycleMinutes: 30, sessions: 2, groups: GROUPS });
    await w.clock.advance(12_000); // s0 has posted 3 of its 6 groups (0, 5, 10 s)
    await w.restart(120); // down for two minutes
    await w.runCycles(botId, 1);
    await w.runtime.stopBot(botId);
    const posts = await fx.posts(botId);
    expect(posts).toHaveLength(12);
    expect(posts.every((p) => p.status === 'sent')).toBe(true);
    const deliveries = await w.deliveries();
    expect(deliveries).toHaveLength(12);
    // The three late ones went out right after the restart, 5 s apart; s1 kept its slot at 900 s.
    expect(deliveries.map((d) => d.atSeconds)).toEqual([
      0, 5, 10, 132, 137, 142, 900, 905, 910, 915, 920, 925,
    ]);
    expect(w.events.some((e) => e.type === 'cycle.started' && e.resumed)).toBe(true);
  });

  it('records posts that can no longer be sent as missed, then keeps the anchored rhythm', async () => {
    const { w, botId } = await world({ mode: 'starter', totalCycleMinutes: 30, sessions: 2, groups: GROUPS });
    await w.clock.advance(12_000);
    await w.restart(70 * 60); // down past the end of the cycle (30 min) and all of the next slot (30–60 min)
    await w.runCycles(botId, 3);
    await w.runtime.stopBot(botId);
    const cycles = await fx.cycles(botId);
    expect(cycles[0]!.status).toBe('finished');
    const first = (await fx.posts(botId)).filter((p) => p.cycleId === cycles[0]!.id);
    expect(first.map((p) => p.status)).toEqual([...Array(3).fill('sent'), ...Array(9).fill('missed')]);
    // Slot 1 passed while down: skipped and reported. Slot 2 (60 min) is under way: it runs late, on its anchor.
    expect(cycles[1]).toMatchObject({ status: 'skipped' });
    expect(cycles[1]!.reason).toContain('not_running');
    expect(cycles[2]!.plannedStartAt - w.startAt).toBe(60 * 60_000);
    expect(w.events.some((e) => e.type === 'alert' && e.message.includes('late'))).toBe(true);
    // Its posts that were due while down went out right after the restart (70 min 12 s), 5 s apart.
    const second = (await w.deliveries()).filter((d) => d.atSeconds >= 3600 && d.atSeconds < 5400);
    expect(second.slice(0, 3).map((d) => d.atSeconds)).toEqual([4212, 4217, 4222]);
  });

  it('keeps a session’s FLOOD_WAIT across a restart', async () => {
    const { w, botId, sessionIds } = await world({ mode: 'enterprise', sessions: 1, groups: GROUPS });
    await w.sandboxStore.addFault({
      accountId: sessionIds[0]!,
      groupKey: null,
      method: 'forward',
      fromAt: w.startAt,
      error: 'FLOOD_WAIT_20',
      remaining: 1,
    });
    await w.clock.advance(1_000);
    await w.restart(10);
    await w.runCycles(botId, 1);
    await w.runtime.stopBot(botId);
    const forwards = w.calls.filter((c) => c.method === 'forward').map((c) => (c.at - w.startAt) / 1000);
    // Called at 0 s (FLOOD_WAIT_20), then nothing until 20 s, though the process restarted at 11 s.
    expect(forwards).toEqual([0, 20, 25, 30, 35, 40, 45]);
    expect((await fx.posts(botId)).every((p) => p.status === 'sent')).toBe(true);
  });

  it('keeps a parked (session, group) pair across a restart', async () => {
    const { w, botId } = await world({
      mode: 'enterprise',
      settings: { delayBetweenCycles: 60 },
      sessions: 1,
      groups: GROUPS.slice(0, 2),
    });
    // Telegram refuses the forward itself (the group's facts would skip it without a call).
    await w.fault({ group: GROUPS[0]!, error: 'USER_NOT_PARTICIPANT', times: -1 });
    await w.runCycles(botId, 1);
    await w.restart(5);
    await w.runCycles(botId, 2);
    await w.runtime.stopBot(botId);
    expect(w.calls.filter((c) => c.groupKey === GROUPS[0]).length).toBe(1);
    const parked = (await fx.posts(botId)).filter((p) => p.groupKey === GROUPS[0]);
    expect(parked.map((p) => p.reason)).toEqual(['not_member', 'not_member']);
  });

  it('keeps the starter anchor across a restart between cycles', async () => {
    const { w, botId } = await world({
      mode: 'starter',
      totalCycleMinutes: 30,
      sessions: 2,
      groups: GROUPS.slice(0, 2),
    });
    await w.runCycles(botId, 1);
    await w.restart(10 * 60);
    await w.runCycles(botId, 2);
    await w.runtime.stopBot(botId);
    const cycles = await fx.cycles(botId);
    expect(cycles.map((c) => (c.plannedStartAt - w.startAt) / 60_000)).toEqual([0, 30]);
  });
});
