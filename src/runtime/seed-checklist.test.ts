/**
 * The seed note's testing checklist, executed: the real runtime posts through the sandbox Telegram on a virtual
 * clock, and every assertion is on what the sandbox recorded as delivered.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedWorld } from './simulation.js';

const groups = (n: number): string[] => Array.from({ length: n }, (_, i) => `-100${2_000_000_000 + i}`);
const sessions = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));

async function runOneCycle(spec: Parameters<SimulatedWorld['addBot']>[0]) {
  const world = new SimulatedWorld();
  const botId = world.addBot(spec);
  world.runtime.startBot(botId);
  await world.runCycles(botId, 1);
  await world.runtime.stopBot(botId);
  const deliveries = await world.deliveries();
  return { world, botId, deliveries };
}

describe('starter mode', () => {
  it('example 1: 2 sessions, 60 min, 10 groups, 5 s — deliveries at 0…45 s and 1800…1845 s', async () => {
    const g = groups(10);
    const { deliveries } = await runOneCycle({
      mode: 'starter',
      totalCycleMinutes: 60,
      settings: { delayBetweenPosts: 5 },
      sessions: sessions(2),
      groups: g,
    });
    expect(deliveries.map((d) => [d.session, d.group, d.atSeconds])).toEqual([
      ...g.map((group, j) => ['s0', group, j * 5]),
      ...g.map((group, j) => ['s1', group, 1800 + j * 5]),
    ]);
  });

  it('example 2: 6 sessions, 60 min, 20 groups — staggered by 10 minutes, ~100 s each', async () => {
    const g = groups(20);
    const { deliveries } = await runOneCycle({
      mode: 'starter',
      totalCycleMinutes: 60,
      sessions: sessions(6),
      groups: g,
    });
    expect(deliveries).toHaveLength(120);
    for (let i = 0; i < 6; i++) {
      const own = deliveries.filter((d) => d.session === `s${i}`);
      // All sessions get all groups, in order, at offset i*T/n + j*delay.
      expect(own.map((d) => d.group)).toEqual(g);
      expect(own.map((d) => d.atSeconds)).toEqual(g.map((_, j) => i * 600 + j * 5));
    }
  });

  it('sessions start at their offsets, including non-integer ones (3600/7)', async () => {
    const { world, deliveries } = await runOneCycle({
      mode: 'starter',
      totalCycleMinutes: 60,
      sessions: sessions(7),
      groups: groups(2),
    });
    for (let i = 0; i < 7; i++) {
      const first = deliveries.find((d) => d.session === `s${i}`)!;
      // Times are kept to the millisecond: 514.2857… s → 514.286 s.
      expect(first.atSeconds).toBeCloseTo((i * 3600) / 7, 2);
    }
    expect(world.events.some((e) => e.type === 'cycle.finished' && e.status === 'finished')).toBe(true);
  });

  it('no two sessions post to the same group at the same time (nor within the minimum gap)', async () => {
    const { deliveries } = await runOneCycle({
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: sessions(5),
      groups: groups(8),
    });
    const byGroup = new Map<string, number[]>();
    for (const d of deliveries) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d.atSeconds]);
    for (const times of byGroup.values()) {
      expect(times).toHaveLength(5);
      for (let k = 1; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBeGreaterThanOrEqual(60);
    }
  });
});

describe('enterprise mode', () => {
  it('example 3: 3 sessions, 10 groups → [4, 3, 3], all start at once, done by 15 s', async () => {
    const g = groups(10);
    const { deliveries } = await runOneCycle({ mode: 'enterprise', sessions: sessions(3), groups: g });
    const of = (s: string) => deliveries.filter((d) => d.session === s).map((d) => [d.group, d.atSeconds]);
    expect(of('s0')).toEqual([
      [g[0], 0],
      [g[1], 5],
      [g[2], 10],
      [g[3], 15],
    ]);
    expect(of('s1')).toEqual([
      [g[4], 0],
      [g[5], 5],
      [g[6], 10],
    ]);
    expect(of('s2')).toEqual([
      [g[7], 0],
      [g[8], 5],
      [g[9], 10],
    ]);
  });

  it('partitions evenly with no overlap: every group once per cycle, by exactly one session', async () => {
    const g = groups(23);
    const { deliveries } = await runOneCycle({ mode: 'enterprise', sessions: sessions(4), groups: g });
    expect(deliveries.map((d) => d.group).sort()).toEqual([...g].sort());
    const sizes = [0, 1, 2, 3].map((i) => deliveries.filter((d) => d.session === `s${i}`).length);
    expect(sizes).toEqual([6, 6, 6, 5]);
  });

  it('all sessions start immediately and run in parallel', async () => {
    const { deliveries } = await runOneCycle({
      mode: 'enterprise',
      sessions: sessions(5),
      groups: groups(15),
    });
    for (let i = 0; i < 5; i++) {
      const own = deliveries.filter((d) => d.session === `s${i}`).map((d) => d.atSeconds);
      expect(own).toEqual([0, 5, 10]);
    }
  });

  it('is the default when no mode is configured', async () => {
    const { world, deliveries } = await runOneCycle({ mode: null, sessions: sessions(2), groups: groups(4) });
    expect(deliveries.map((d) => d.atSeconds)).toEqual([0, 0, 5, 5]);
    expect(world.store.listCycles(world.store.listPosts()[0]!.botId)[0]!.mode).toBe('enterprise');
  });
});

describe('validation', () => {
  it('starter without total_cycle_minutes does not post and says why', async () => {
    const world = new SimulatedWorld();
    const botId = world.addBot({
      mode: 'starter',
      totalCycleMinutes: null,
      sessions: sessions(2),
      groups: groups(3),
    });
    world.runtime.startBot(botId);
    await world.clock.advance(5 * 60_000);
    await world.runtime.stopBot(botId);
    expect(await world.deliveries()).toEqual([]);
    expect(world.store.botRuntime(botId).lastError).toContain('total_cycle_minutes');
    expect(world.events.filter((e) => e.type === 'bot.attention')).toHaveLength(1);
  });
});
