import { describe, expect, it } from 'vitest';
import { groupSpacing, type SpacingInput } from './group-spacing.js';

const S = 1000;
const at = (input: Partial<SpacingInput>): SpacingInput => ({
  lastPostAt: 0,
  minGapSeconds: 60,
  slowmodeSeconds: 0,
  now: 10 * S,
  deadlineAt: 3600 * S,
  ...input,
});

describe('group spacing (the per-group guard’s rule)', () => {
  it('lets a post go to a group with no earlier post, or once the gap has passed', () => {
    expect(groupSpacing(at({ lastPostAt: undefined }))).toEqual({ kind: 'go' });
    expect(groupSpacing(at({ now: 60 * S }))).toEqual({ kind: 'go' });
  });

  it('waits out the minimum gap, unless the wait runs past the deadline', () => {
    expect(groupSpacing(at({}))).toEqual({ kind: 'wait', until: 60 * S });
    expect(groupSpacing(at({ deadlineAt: 59 * S }))).toEqual({ kind: 'skip', reason: 'group_gap' });
  });

  it('with a minimum gap of 0, never holds a post back for the gap', () => {
    expect(groupSpacing(at({ minGapSeconds: 0, now: 0 }))).toEqual({ kind: 'go' });
  });

  it('names the group’s slow mode when that is what holds the post, also with a minimum gap of 0', () => {
    // Slow mode 30 s, minimum gap 0: any wait is longer than the gap.
    expect(groupSpacing(at({ minGapSeconds: 0, slowmodeSeconds: 30 }))).toEqual({
      kind: 'skip',
      reason: 'group_slowmode',
    });
    // Slow mode 300 s, minimum gap 60 s: 290 s to wait is more than the gap.
    expect(groupSpacing(at({ slowmodeSeconds: 300 }))).toEqual({ kind: 'skip', reason: 'group_slowmode' });
    // ...but 20 s to wait (slow mode 70 s, at 50 s) is within it: the post waits.
    expect(groupSpacing(at({ slowmodeSeconds: 70, now: 50 * S }))).toEqual({ kind: 'wait', until: 70 * S });
    // A slow mode shorter than the gap changes nothing.
    expect(groupSpacing(at({ slowmodeSeconds: 30, deadlineAt: 59 * S }))).toEqual({
      kind: 'skip',
      reason: 'group_gap',
    });
  });
});
