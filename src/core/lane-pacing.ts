/**
 * When a session's next forward may go: the per-session spacing (`delay_between_posts`), and how a lane that fell
 * behind its schedule returns to it.
 *
 * A lane keeps a schedule — its posts' planned times, moved only by waits the rules impose (a FLOOD_WAIT, a retry's
 * backoff, the group guard, a permit) — and each call's actual time, which is later by whatever the process did
 * meanwhile: timer lateness, a GC pause, a slow commit, a call that took longer than the delay. A lane that is late
 * by that much catches up: its next call may come up to `catchUpShare` of the delay sooner than one delay after the
 * last one, until it is on its schedule again. Without this, every hiccup stayed in the lane for the rest of the
 * cycle and the next ones added to it, so lanes drifted away from their plan and the lateness tail grew with uptime.
 *
 * Why it is safe with Telegram's limits: no call ever goes before its place on the schedule, so over any stretch
 * from the lane's start it never sends more than its plan does (it only makes up time it lost); and two calls of a
 * session are never closer than the delay minus the share (97.5 % of it by default: 195 ms at the tightest
 * 0.2 s delay, 4.875 s at the default 5 s), nor more than `catchUpLimitMs` closer. A lane later than
 * `catchUpLimitMs` (a machine that slept, a restart that took minutes) has lost its plan: it moves with the delay,
 * spaced by the full delay from the call that went out.
 */

export interface LanePacing {
  /** `delay_between_posts`, in ms. */
  delayMs: number;
  /** How much sooner than one delay a call of a late lane may come, as a share of the delay (0.025: 2.5 %). */
  catchUpShare: number;
  /** A call later than this behind the lane's schedule re-bases the lane on when it went out (ms). */
  catchUpLimitMs: number;
}

/** A session's last call, as its lane remembers it. */
export interface LaneCall {
  /** Its place on the lane's schedule (ms on the clock). */
  target: number;
  /** When it went out. */
  actual: number;
}

export interface NextCall {
  /** The call's place on the schedule: its due time, and one delay after the last call's place. */
  target: number;
  /** The earliest it may go: its place, or later while the lane catches up (spaced from the last actual call). */
  at: number;
}

/**
 * The session's next call, due at `dueAt` (its planned time, or later when a rule made it wait: a FLOOD_WAIT's end,
 * a retry's backoff), after `last` (null: the session's first call).
 */
export function nextCall(last: LaneCall | null, dueAt: number, pacing: LanePacing): NextCall {
  if (last === null) return { target: dueAt, at: dueAt };
  const target = Math.max(dueAt, last.target + pacing.delayMs);
  return { target, at: Math.max(target, last.actual + pacing.delayMs - catchUpMs(pacing)) };
}

/**
 * What the lane remembers of a call that went out at `actual` for its place `target`: the place kept (the lane
 * catches up), or — later than `catchUpLimitMs` — the actual time (the lane moves with it).
 */
export function laneCallAt(target: number, actual: number, pacing: LanePacing): LaneCall {
  // A clock set back may put the place after the call: the call's own time is then the place.
  if (actual - target > pacing.catchUpLimitMs || target > actual) return { target: actual, actual };
  return { target, actual };
}

/** The most two calls' spacing may be shorter than the delay (ms). */
export function catchUpMs(pacing: LanePacing): number {
  return Math.min(pacing.delayMs * pacing.catchUpShare, pacing.catchUpLimitMs);
}
