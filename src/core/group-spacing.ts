/**
 * When the next post to a group may go, for the per-group guard: no group receives two posts from one customer closer
 * than the minimum group gap or the group's known slow mode, whichever is longer. A post that must wait waits — up to
 * the minimum gap, so one group in a long slow mode does not hold up the session's other groups — and is skipped
 * when the wait would be longer, or would run past the cycle's deadline. A skip says which rule held it: the
 * customer's minimum gap, or the group's slow mode (with a minimum gap of 0, only the slow mode can).
 */

export type SpacingVerdict =
  { kind: 'go' } | { kind: 'wait'; until: number } | { kind: 'skip'; reason: 'group_gap' | 'group_slowmode' };

export interface SpacingInput {
  /** When the customer's last post to this group was sent (or reserved); undefined: none known. */
  lastPostAt: number | undefined;
  minGapSeconds: number;
  /** The group's slow mode as learned from Telegram; 0 when it has none (or none is known). */
  slowmodeSeconds: number;
  now: number;
  deadlineAt: number;
}

export function groupSpacing(input: SpacingInput): SpacingVerdict {
  if (input.lastPostAt === undefined) return { kind: 'go' };
  const slowmodeBinds = input.slowmodeSeconds > input.minGapSeconds;
  const gapMs = (slowmodeBinds ? input.slowmodeSeconds : input.minGapSeconds) * 1000;
  const earliest = input.lastPostAt + gapMs;
  if (earliest <= input.now) return { kind: 'go' };
  if (earliest - input.now > input.minGapSeconds * 1000 || earliest > input.deadlineAt) {
    return { kind: 'skip', reason: slowmodeBinds ? 'group_slowmode' : 'group_gap' };
  }
  return { kind: 'wait', until: earliest };
}
