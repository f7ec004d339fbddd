import { describe, expect, it } from 'vitest';
import { nextCycleStart, type LastCycle, type ScheduleInput } from './schedule.js';

const MIN = 60_000;
const base: ScheduleInput = {
  mode: 'starter',
  totalCycleMinutes: 60,
  delayBetweenCycles: 300,
  anchor: { at: 0, cycleSeconds: 3600 },
  last: null,
  runnerStartedAt: 0,
  now: 0,
  planningLeadMs: 1_000,
  lateStartGraceMs: 1_000,
};
const cycle = (c: Partial<LastCycle>): LastCycle => ({
  number: 1,
  mode: 'starter',
  slot: 0,
  plannedStartAt: 0,
  finishedAt: 10 * MIN,
  expectedEndAt: 10 * MIN,
  status: 'finished',
  ...c,
});

describe('nextCycleStart', () => {
  it('enterprise: delay_between_cycles after the previous one finished; right away after a stop or at first', () => {
    const e = { ...base, mode: 'enterprise' as const, anchor: null };
    expect(nextCycleStart({ ...e, now: 5 })).toMatchObject({ ok: true, at: 1_005, slot: null, number: 1 });
    const last = cycle({ mode: 'enterprise', slot: null, finishedAt: 50_000 });
    expect(nextCycleStart({ ...e, last, now: 60_000 })).toMatchObject({ at: 350_000, number: 2 });
    expect(nextCycleStart({ ...e, last: { ...last, status: 'stopped' }, now: 60_000 })).toMatchObject({
      at: 61_000,
    });
    // A cycle still running: its expected end plus the delay (what the status view shows).
    const running = { ...last, finishedAt: null, status: 'running' as const, expectedEndAt: 70_000 };
    expect(nextCycleStart({ ...e, last: running, now: 60_000 })).toMatchObject({ at: 370_000 });
  });

  it('enterprise: a start that has passed (every session was paused then) is now, planning lead included', () => {
    const e = { ...base, mode: 'enterprise' as const, anchor: null };
    const last = cycle({ mode: 'enterprise', slot: null, finishedAt: 50_000 });
    // due at 350 s; planned at 349 s (the lead) or up to the grace later: on time
    expect(nextCycleStart({ ...e, last, now: 349_000 })).toMatchObject({ at: 350_000 });
    expect(nextCycleStart({ ...e, last, now: 350_000 })).toMatchObject({ at: 350_000 });
    // later than that: it starts a planning lead from now
    expect(nextCycleStart({ ...e, last, now: 900_000 })).toMatchObject({ at: 901_000, number: 2 });
  });

  it('a missing mode is enterprise', () => {
    expect(nextCycleStart({ ...base, mode: null, now: 7 })).toMatchObject({
      ok: true,
      slot: null,
      at: 1_007,
    });
  });

  it('starter without a positive cycle length cannot run', () => {
    expect(nextCycleStart({ ...base, totalCycleMinutes: null })).toEqual({
      ok: false,
      reason: 'bad_settings',
      message: 'starter mode needs total_cycle_minutes > 0',
    });
  });

  it('starter: a first start sets the anchor a planning lead ahead; a changed T sets a new one', () => {
    expect(nextCycleStart({ ...base, anchor: null, now: 500 })).toMatchObject({
      at: 1_500,
      slot: 0,
      newAnchor: { at: 1_500, cycleSeconds: 3600 },
    });
    expect(
      nextCycleStart({ ...base, anchor: { at: 0, cycleSeconds: 1800 }, now: 500 }).ok &&
        nextCycleStart({ ...base, anchor: { at: 0, cycleSeconds: 1800 }, now: 500 }),
    ).toMatchObject({ newAnchor: { cycleSeconds: 3600 } });
  });

  it('starter: the next slot is anchor + k·T', () => {
    expect(nextCycleStart({ ...base, last: cycle({}), now: 20 * MIN })).toMatchObject({
      at: 60 * MIN,
      slot: 1,
      late: false,
      number: 2,
      skipped: null,
    });
  });

  it('starter: an overrun skips to the slot after the previous cycle’s end, recorded as skipped', () => {
    const long = cycle({ finishedAt: 150 * MIN });
    expect(nextCycleStart({ ...base, last: long, now: 150 * MIN })).toEqual({
      ok: true,
      at: 180 * MIN,
      slot: 3,
      late: false,
      number: 3,
      newAnchor: null,
      skipped: { number: 2, slot: 2, slots: 2, reason: 'previous_cycle_overran', plannedStartAt: 60 * MIN },
    });
    // The status view sees a cycle still running past the next slot the same way.
    const running = cycle({ finishedAt: null, status: 'running', expectedEndAt: 90 * MIN });
    expect(nextCycleStart({ ...base, last: running, now: 30 * MIN })).toMatchObject({
      at: 120 * MIN,
      slot: 2,
    });
  });

  it('starter after downtime: the slot under way runs late; whole slots missed are recorded as not running', () => {
    const after = { ...base, last: cycle({}), runnerStartedAt: 200 * MIN, now: 200 * MIN };
    expect(nextCycleStart(after)).toMatchObject({
      at: 180 * MIN,
      slot: 3,
      late: true,
      number: 3,
      skipped: { number: 2, slots: 2, reason: 'not_running', plannedStartAt: 60 * MIN },
    });
    // Down only within the grace: on time.
    expect(nextCycleStart({ ...after, now: 60 * MIN + 500, runnerStartedAt: 60 * MIN })).toMatchObject({
      at: 60 * MIN,
      late: false,
      skipped: null,
    });
  });
});
