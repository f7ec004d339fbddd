import { describe, expect, it } from 'vitest';
import { stopsSession } from './outcome.js';
import {
  afterResolve,
  DEFAULT_RESOLVE_PACING,
  FRESH_RESOLVE_LANE,
  resolveTurn,
  type ResolveLane,
} from './resolve-pacing.js';

const pacing = { minIntervalMs: 2_000, limitedPauseMs: 3_600_000 };

describe('the pace of username resolving', () => {
  it('the first call goes at once; the next waits until the interval since the last start has passed', () => {
    expect(resolveTurn(FRESH_RESOLVE_LANE, 0, pacing)).toEqual({ kind: 'call' });
    const lane = afterResolve(FRESH_RESOLVE_LANE, 10_000, 10_300, { ok: true }, pacing);
    expect(lane).toEqual({ lastCallAt: 10_000, limit: null });
    expect(resolveTurn(lane, 10_300, pacing)).toEqual({ kind: 'wait', ms: 1_700 });
    expect(resolveTurn(lane, 11_999, pacing)).toEqual({ kind: 'wait', ms: 1 });
    expect(resolveTurn(lane, 12_000, pacing)).toEqual({ kind: 'call' });
    // a refusal that is no limit (the name is free) paces like any call
    const refused = afterResolve(lane, 12_000, 12_100, { ok: false, error: 'USERNAME_NOT_OCCUPIED' }, pacing);
    expect(refused).toEqual({ lastCallAt: 12_000, limit: null });
  });

  it('a FLOOD_WAIT stops every call for its seconds from the answer, reporting what is left of it', () => {
    const flood = { ok: false as const, error: 'FLOOD_WAIT_120', code: 420 };
    const lane = afterResolve(FRESH_RESOLVE_LANE, 1_000, 1_500, flood, pacing);
    expect(lane.limit).toMatchObject({ until: 121_500, timed: true });
    expect(resolveTurn(lane, 1_500, pacing)).toEqual({
      kind: 'limited',
      answer: { ok: false, error: 'FLOOD_WAIT_120', code: 420 },
    });
    expect(resolveTurn(lane, 61_500, pacing)).toEqual({
      kind: 'limited',
      answer: { ok: false, error: 'FLOOD_WAIT_60', code: 420 },
    });
    // part of a second left still counts as one: never reported as a wait of 0
    expect(resolveTurn(lane, 121_499, pacing)).toMatchObject({ answer: { error: 'FLOOD_WAIT_1' } });
    expect(resolveTurn(lane, 121_500, pacing)).toEqual({ kind: 'call' });
    expect(stopsSession(flood)).toBe(true);
  });

  it('a limit that names no duration stops calls for the long pause, reported in its own words', () => {
    const lane = afterResolve(
      FRESH_RESOLVE_LANE,
      0,
      0,
      { ok: false, error: 'PEER_FLOOD', code: 400 },
      pacing,
    );
    expect(resolveTurn(lane, 3_599_999, pacing)).toEqual({
      kind: 'limited',
      answer: { ok: false, error: 'PEER_FLOOD', code: 400 },
    });
    expect(resolveTurn(lane, 3_600_000, pacing)).toEqual({ kind: 'call' });
    const pony = afterResolve(FRESH_RESOLVE_LANE, 0, 0, { ok: false, error: 'P0NY_FLOODWAIT' }, pacing);
    expect(resolveTurn(pony, 1, pacing)).toEqual({
      kind: 'limited',
      answer: { ok: false, error: 'P0NY_FLOODWAIT' },
    });
  });

  it('an answer after a limit keeps the limit; FLOOD_WAIT_0 limits nothing', () => {
    const limited: ResolveLane = afterResolve(
      FRESH_RESOLVE_LANE,
      0,
      0,
      { ok: false, error: 'FLOOD_WAIT_30', code: 420 },
      pacing,
    );
    expect(afterResolve(limited, 5, 6, { ok: true }, pacing).limit).toEqual(limited.limit);
    const zero = afterResolve(
      FRESH_RESOLVE_LANE,
      0,
      0,
      { ok: false, error: 'FLOOD_WAIT_0', code: 420 },
      pacing,
    );
    expect(resolveTurn(zero, 2_000, pacing)).toEqual({ kind: 'call' });
  });

  it('by default one call a second, and a limit without a duration lasts 6 h', () => {
    expect(DEFAULT_RESOLVE_PACING).toEqual({ minIntervalMs: 1_000, limitedPauseMs: 6 * 3_600_000 });
  });
});
