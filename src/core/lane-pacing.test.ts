import { describe, expect, it } from 'vitest';
import { catchUpMs, laneCallAt, nextCall, type LaneCall, type LanePacing } from './lane-pacing.js';

const pacing: LanePacing = { delayMs: 1_000, catchUpShare: 0.025, catchUpLimitMs: 1_000 };

/**
 * A lane of posts planned every delay from 0, each call going out `late(k)` ms after the time it was given: the
 * actual call times, as the runtime would make them.
 */
function runLane(posts: number, late: (k: number) => number, p: LanePacing = pacing): number[] {
  let last: LaneCall | null = null;
  const actual: number[] = [];
  for (let k = 0; k < posts; k++) {
    const next = nextCall(last, k * p.delayMs, p);
    const at = next.at + late(k);
    actual.push(at);
    last = laneCallAt(next.target, at, p);
  }
  return actual;
}

describe('the pace of a session’s calls', () => {
  it('the first call goes when it is due; the next one a delay after the last call’s place', () => {
    expect(nextCall(null, 5_000, pacing)).toEqual({ target: 5_000, at: 5_000 });
    const last = laneCallAt(5_000, 5_000, pacing);
    expect(nextCall(last, 5_500, pacing)).toEqual({ target: 6_000, at: 6_000 });
    // a wait a rule imposed (a FLOOD_WAIT's end) moves the call's place, and the lane's after it
    expect(nextCall(last, 9_000, pacing)).toEqual({ target: 9_000, at: 9_000 });
  });

  it('a call a little late keeps its lane on the plan: the next goes at its planned time', () => {
    const last = laneCallAt(5_000, 5_004, pacing);
    expect(last).toEqual({ target: 5_000, actual: 5_004 });
    expect(nextCall(last, 6_000, pacing)).toEqual({ target: 6_000, at: 6_000 });
  });

  it('a lane late by more than the share catches up by at most the share of the delay a call', () => {
    // 100 ms late: the next call may come 25 ms sooner than a delay after it, still 75 ms behind its plan
    const last = laneCallAt(5_000, 5_100, pacing);
    expect(last).toEqual({ target: 5_000, actual: 5_100 });
    expect(nextCall(last, 6_000, pacing)).toEqual({ target: 6_000, at: 6_075 });
  });

  it('a lane delayed by a stall returns to its planned times within a few posts, never closer than 97.5 % of the delay', () => {
    // post 3 goes out 300 ms late (a stalled call, a GC pause); every other call 1 ms after the time it was given
    const actual = runLane(20, (k) => (k === 3 ? 300 : 1));
    const lateness = actual.map((at, k) => at - k * pacing.delayMs);
    expect(lateness.slice(0, 3)).toEqual([1, 1, 1]);
    expect(lateness[3]).toBe(300);
    // 24 ms made up per post (25 ms allowed, 1 ms lost to the timer): back on the plan 13 posts later
    expect(lateness.slice(4, 8)).toEqual([276, 252, 228, 204]);
    const backAt = lateness.findIndex((l, k) => k > 3 && l <= 1);
    expect(backAt).toBe(16);
    expect(lateness.slice(16)).toEqual([1, 1, 1, 1]);
    for (let k = 1; k < actual.length; k++) {
      expect(actual[k]! - actual[k - 1]!).toBeGreaterThanOrEqual(pacing.delayMs - catchUpMs(pacing));
      // never ahead of its plan
      expect(actual[k]!).toBeGreaterThanOrEqual(k * pacing.delayMs);
    }
  });

  it('hiccups one after another do not add up: the lane stays near its plan', () => {
    // 20 ms late every fifth call (major GC pauses), 1 ms otherwise: never more than one hiccup behind
    const actual = runLane(200, (k) => (k % 5 === 0 ? 20 : 1));
    const lateness = actual.map((at, k) => at - k * pacing.delayMs);
    expect(Math.max(...lateness)).toBe(20);
    expect(lateness.at(-1)).toBe(1);
  });

  it('a lane later than the limit has lost its plan: it moves with the call, spaced by the full delay', () => {
    const last = laneCallAt(5_000, 7_000, pacing);
    expect(last).toEqual({ target: 7_000, actual: 7_000 });
    expect(nextCall(last, 6_000, pacing)).toEqual({ target: 8_000, at: 8_000 });
    // exactly at the limit it still catches up
    expect(laneCallAt(5_000, 6_000, pacing)).toEqual({ target: 5_000, actual: 6_000 });
  });

  it('a clock set back puts the call before its place: the call’s own time is its place', () => {
    expect(laneCallAt(5_000, 3_000, pacing)).toEqual({ target: 3_000, actual: 3_000 });
  });

  it('the allowance is the share of the delay, and never more than the limit', () => {
    expect(catchUpMs({ ...pacing, delayMs: 200 })).toBe(5);
    expect(catchUpMs({ ...pacing, delayMs: 5_000 })).toBe(125);
    expect(catchUpMs({ ...pacing, delayMs: 3_600_000 })).toBe(1_000);
    // with a share of 0 a late lane never catches up: every call a full delay after the last
    const none = { ...pacing, catchUpShare: 0 };
    const actual = runLane(6, (k) => (k === 1 ? 300 : 0), none);
    expect(actual.map((at, k) => at - k * 1_000)).toEqual([0, 300, 300, 300, 300, 300]);
  });
});
