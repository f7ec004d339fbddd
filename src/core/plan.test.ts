import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CoreErrorCode, StaggerError } from './errors.js';
import {
  distributeEnterprise,
  distributeStarter,
  planCycle,
  PlanWarningCode,
  starterOffsets,
} from './plan.js';

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StaggerError);
    expect((error as StaggerError).code).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

describe('the seed note examples', () => {
  it('example 1: starter, 2 sessions, 60 minutes, 10 groups, 5 s', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 2),
      groups: names('g', 10),
      delayBetweenPosts: 5,
      totalCycleMinutes: 60,
    });
    expect(plan.cycleSeconds).toBe(3600);
    expect(plan.sessions.map((s) => s.offsetSeconds)).toEqual([0, 1800]);
    const times = (session: number): number[] =>
      plan.posts.filter((p) => p.sessionIndex === session).map((p) => p.atSeconds);
    expect(times(0)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    expect(times(1)).toEqual([1800, 1805, 1810, 1815, 1820, 1825, 1830, 1835, 1840, 1845]);
    // Group 0 receives the post at 0 s and 1800 s (and at 3600 s when the cycle repeats).
    expect(plan.posts.filter((p) => p.group === 'g0').map((p) => p.atSeconds)).toEqual([0, 1800]);
    expect(plan.warnings).toEqual([]);
  });

  it('example 2: starter, 6 sessions, 60 minutes, 20 groups: staggered by 10 minutes, ~100 s each, no overlap', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 6),
      groups: names('g', 20),
      delayBetweenPosts: 5,
      totalCycleMinutes: 60,
    });
    expect(plan.sessions.map((s) => s.offsetSeconds)).toEqual([0, 600, 1200, 1800, 2400, 3000]);
    for (const s of plan.sessions) {
      const own = plan.posts.filter((p) => p.sessionIndex === s.index);
      expect(own).toHaveLength(20);
      expect(own[0]!.atSeconds).toBe(s.offsetSeconds);
      expect(own[19]!.atSeconds).toBe(s.offsetSeconds + 95);
    }
    expect(plan.warnings.map((w) => w.code)).not.toContain(PlanWarningCode.SessionsOverlap);
  });

  it('example 3: enterprise, 3 sessions, 10 groups → [4, 3, 3], all start at 0, done by 15 s', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: names('s', 3), groups: names('g', 10) });
    expect(plan.cycleSeconds).toBeNull();
    expect(plan.sessions.map((s) => s.groups)).toEqual([
      ['g0', 'g1', 'g2', 'g3'],
      ['g4', 'g5', 'g6'],
      ['g7', 'g8', 'g9'],
    ]);
    expect(plan.sessions.map((s) => s.offsetSeconds)).toEqual([0, 0, 0]);
    const bySession = plan.sessions.map((s) =>
      plan.posts.filter((p) => p.sessionIndex === s.index).map((p) => [p.group, p.atSeconds]),
    );
    expect(bySession).toEqual([
      [
        ['g0', 0],
        ['g1', 5],
        ['g2', 10],
        ['g3', 15],
      ],
      [
        ['g4', 0],
        ['g5', 5],
        ['g6', 10],
      ],
      [
        ['g7', 0],
        ['g8', 5],
        ['g9', 10],
      ],
    ]);
    expect(plan.lastPostAtSeconds).toBe(15);
  });
});

describe('the testing checklist (planning)', () => {
  it('starter: all sessions get all groups, in order, as copies', () => {
    const groups = names('g', 4);
    const dist = distributeStarter(groups, 3);
    expect(dist).toEqual([groups, groups, groups]);
    dist[0]!.push('mutated');
    expect(dist[1]).toEqual(groups);
    expect(groups).toHaveLength(4);
  });

  it('starter: no two sessions post to the same group at the same time', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 6),
      groups: names('g', 20),
      totalCycleMinutes: 60,
    });
    const seen = new Set<string>();
    for (const p of plan.posts) {
      const key = `${p.group}@${p.atSeconds}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  });

  it('enterprise: no group is given to two sessions', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: names('s', 4), groups: names('g', 11) });
    const all = plan.sessions.flatMap((s) => s.groups);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(names('g', 11));
  });

  it('invalid execution mode is rejected with a stable code, no fallback', () => {
    for (const mode of ['Starter', 'ENTERPRISE', '', 'rotational', 'starter ']) {
      expectCode(
        () => planCycle({ mode, sessions: ['a'], groups: ['g'] }),
        CoreErrorCode.InvalidExecutionMode,
      );
    }
  });

  it('starter without total_cycle_minutes > 0 is rejected', () => {
    for (const totalCycleMinutes of [undefined, null, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectCode(
        () => planCycle({ mode: 'starter', sessions: ['a'], groups: ['g'], totalCycleMinutes }),
        CoreErrorCode.StarterRequiresCycleMinutes,
      );
    }
  });

  it('enterprise needs no cycle minutes and ignores them', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: ['a'], groups: ['g'], totalCycleMinutes: 60 });
    expect(plan.cycleSeconds).toBeNull();
  });

  it('rejects a negative or non-finite delay', () => {
    for (const delayBetweenPosts of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectCode(
        () => planCycle({ mode: 'enterprise', sessions: ['a'], groups: ['g'], delayBetweenPosts }),
        CoreErrorCode.InvalidDelay,
      );
    }
  });

  it('defaults the delay to 5 seconds', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: ['a'], groups: ['g0', 'g1'] });
    expect(plan.delayBetweenPosts).toBe(5);
    expect(plan.posts.map((p) => p.atSeconds)).toEqual([0, 5]);
  });
});

describe('edges and warnings', () => {
  it('zero sessions → an empty plan with a warning, in both modes', () => {
    for (const mode of ['starter', 'enterprise']) {
      const plan = planCycle({ mode, sessions: [], groups: names('g', 3), totalCycleMinutes: 60 });
      expect(plan.sessions).toEqual([]);
      expect(plan.posts).toEqual([]);
      expect(plan.warnings.map((w) => w.code)).toEqual([PlanWarningCode.NoSessions]);
    }
    expect(distributeEnterprise(['g'], 0)).toEqual([]);
    expect(distributeStarter(['g'], 0)).toEqual([]);
  });

  it('an empty group list warns and plans nothing', () => {
    const plan = planCycle({ mode: 'starter', sessions: ['a', 'b'], groups: [], totalCycleMinutes: 10 });
    expect(plan.posts).toEqual([]);
    expect(plan.warnings.map((w) => w.code)).toEqual([PlanWarningCode.NoGroups]);
  });

  it('more sessions than groups in enterprise → idle sessions warning', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: names('s', 5), groups: names('g', 3) });
    expect(plan.sessions.map((s) => s.groups.length)).toEqual([1, 1, 1, 0, 0]);
    expect(plan.warnings).toEqual([expect.objectContaining({ code: PlanWarningCode.IdleSessions })]);
    expect(plan.warnings[0]!.message).toBe(
      '2 of 5 sessions have no group (more sessions than groups); they stay idle',
    );
    const one = planCycle({ mode: 'enterprise', sessions: names('s', 2), groups: names('g', 1) });
    expect(one.warnings[0]!.message).toBe(
      '1 of 2 sessions has no group (more sessions than groups); it stays idle',
    );
  });

  it('no sessions: the warning’s words do not say its code again', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: [], groups: names('g', 3) });
    expect(plan.warnings).toEqual([
      {
        code: PlanWarningCode.NoSessions,
        message: 'there is no session to post with: nothing will be posted',
      },
    ]);
  });

  it('starter sessions whose runs are longer than T/n overlap → warning', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 6),
      // run 86 × 7 = 602 s > T/n = 600 s; last post 3000 + 85 × 7 = 3595 s < 3600 s.
      groups: names('g', 86),
      delayBetweenPosts: 7,
      totalCycleMinutes: 60,
    });
    const codes = plan.warnings.map((w) => w.code);
    expect(codes).toContain(PlanWarningCode.SessionsOverlap);
    expect(codes).not.toContain(PlanWarningCode.CycleOverrun);
  });

  it('a last post at or past T → cycle overrun warning', () => {
    // last post: 1800 + 359*5 = 3595 < 3600 → fine; 361 groups → 3600 → overrun.
    const ok = planCycle({
      mode: 'starter',
      sessions: ['a', 'b'],
      groups: names('g', 360),
      totalCycleMinutes: 60,
    });
    expect(ok.warnings.map((w) => w.code)).not.toContain(PlanWarningCode.CycleOverrun);
    const late = planCycle({
      mode: 'starter',
      sessions: ['a', 'b'],
      groups: names('g', 361),
      totalCycleMinutes: 60,
    });
    expect(late.warnings.map((w) => w.code)).toContain(PlanWarningCode.CycleOverrun);
  });

  it('a rhythm T/n shorter than the minimum group gap → warning', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 4),
      groups: ['g'],
      totalCycleMinutes: 2,
      minGroupGapSeconds: 60,
    });
    expect(plan.warnings.map((w) => w.code)).toContain(PlanWarningCode.RhythmBelowGroupGap);
  });

  it('keeps non-integer offsets exact: 3600/7', () => {
    const plan = planCycle({
      mode: 'starter',
      sessions: names('s', 7),
      groups: ['g'],
      totalCycleMinutes: 60,
    });
    expect(plan.sessions[1]!.offsetSeconds).toBe(3600 / 7);
    expect(plan.sessions[3]!.offsetSeconds).toBe((3 * 3600) / 7);
    expect(starterOffsets(7, 3600)).toHaveLength(7);
    expect(starterOffsets(7, 3600).every((o, i) => o === (i * 3600) / 7)).toBe(true);
  });

  it('orders posts by time, then session index; seq is that order', () => {
    const plan = planCycle({
      mode: 'enterprise',
      sessions: names('s', 3),
      groups: names('g', 7),
      delayBetweenPosts: 2,
    });
    expect(plan.posts.map((p) => [p.atSeconds, p.sessionIndex])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [2, 0],
      [2, 1],
      [2, 2],
      [4, 0],
    ]);
    expect(plan.posts.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('is deterministic and does not mutate its input', () => {
    const sessions = Object.freeze(names('s', 3));
    const groups = Object.freeze(names('g', 9));
    const input = { mode: 'starter', sessions, groups, totalCycleMinutes: 30 } as const;
    expect(planCycle(input)).toEqual(planCycle(input));
  });
});

describe('properties over random sizes', () => {
  const sizes = fc.record({
    n: fc.integer({ min: 0, max: 40 }),
    g: fc.integer({ min: 0, max: 120 }),
    delay: fc.integer({ min: 0, max: 30 }),
    minutes: fc.integer({ min: 1, max: 180 }),
  });

  it('starter coverage: every session × every group exactly once; offsets i*T/n; spacing = delay', () => {
    fc.assert(
      fc.property(sizes, ({ n, g, delay, minutes }) => {
        const plan = planCycle({
          mode: 'starter',
          sessions: names('s', n),
          groups: names('g', g),
          delayBetweenPosts: delay,
          totalCycleMinutes: minutes,
        });
        expect(plan.posts).toHaveLength(n * g);
        const pairs = new Set(plan.posts.map((p) => `${p.session}|${p.group}`));
        expect(pairs.size).toBe(n * g);
        for (const s of plan.sessions) {
          expect(s.offsetSeconds).toBe((s.index * minutes * 60) / n);
          expect(s.groups).toEqual(names('g', g));
          const own = plan.posts.filter((p) => p.sessionIndex === s.index);
          own.forEach((p, j) => {
            expect(p.group).toBe(`g${j}`);
            expect(p.atSeconds).toBe(s.offsetSeconds + j * delay);
          });
        }
      }),
    );
  });

  it('enterprise partition: disjoint, complete, sizes differ by ≤ 1, remainder first, order kept, offsets 0', () => {
    fc.assert(
      fc.property(sizes, ({ n, g, delay }) => {
        const groups = names('g', g);
        const plan = planCycle({
          mode: 'enterprise',
          sessions: names('s', n),
          groups,
          delayBetweenPosts: delay,
        });
        if (n === 0) {
          expect(plan.posts).toEqual([]);
          return;
        }
        expect(plan.sessions.flatMap((s) => s.groups)).toEqual(groups);
        const lengths = plan.sessions.map((s) => s.groups.length);
        expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(1);
        lengths.forEach((len, i) => expect(len).toBe(Math.floor(g / n) + (i < g % n ? 1 : 0)));
        expect(plan.sessions.every((s) => s.offsetSeconds === 0)).toBe(true);
        const lanes = new Map<number, number[]>();
        for (const p of plan.posts)
          lanes.set(p.sessionIndex, [...(lanes.get(p.sessionIndex) ?? []), p.atSeconds]);
        for (const times of lanes.values()) times.forEach((t, j) => expect(t).toBe(j * delay));
      }),
    );
  });

  it('posts are sorted by (time, session) and seq numbers them', () => {
    fc.assert(
      fc.property(sizes, fc.constantFrom('starter', 'enterprise'), ({ n, g, delay, minutes }, mode) => {
        const plan = planCycle({
          mode,
          sessions: names('s', n),
          groups: names('g', g),
          delayBetweenPosts: delay,
          totalCycleMinutes: minutes,
        });
        plan.posts.forEach((p, i) => {
          expect(p.seq).toBe(i);
          const prev = plan.posts[i - 1];
          if (prev) {
            const ordered =
              prev.atSeconds < p.atSeconds ||
              (prev.atSeconds === p.atSeconds &&
                (prev.sessionIndex < p.sessionIndex ||
                  (prev.sessionIndex === p.sessionIndex && prev.slot < p.slot)));
            expect(ordered).toBe(true);
          }
        });
      }),
    );
  });
});
