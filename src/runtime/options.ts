/** Tunables of the runtime, with where each default comes from. */
export interface RuntimeOptions {
  /** Sessions of one bot posting at the same moment (the original's per-user semaphore: 7). */
  maxActiveSessions: number;
  /** Attempts for a transient error (TIMEOUT, 5xx, network), all with the same random_id. */
  maxTransientAttempts: number;
  /** First retry backoff; doubles per attempt (never less than the delay between posts). */
  transientBackoffMs: number;
  /** PEER_FLOOD / USER_RESTRICTED give no duration: pause the session this long ("hours", configurable). */
  limitedPauseSeconds: number;
  /** A (session, group) pair that answered a group_skip error is parked this long, then re-checked. */
  pairParkSeconds: number;
  /** Unknown errors: after this many in a row for one (session, group)… */
  unknownFailuresBeforeSkip: number;
  /** …skip the pair for this many cycles. */
  unknownSkipCycles: number;
  /** USER_BANNED_IN_CHANNEL in this many groups in one cycle → the account, not the groups, is the problem. */
  bannedGroupsBeforePause: number;
  /** FLOOD_WAITs longer than this raise an alert to the operator (notes/telegram-errors.md: > 1 h). */
  longWaitAlertSeconds: number;
  /** With nothing to post (no session, no groups, no post), check the configuration again after this. */
  recheckSeconds: number;
  /** A cycle starting this late is still "on time" (timer jitter, a short restart). */
  lateStartGraceMs: number;
  /** After a runner failure (e.g. the database went away), restart it after this long. */
  restartBackoffMs: number;
  /**
   * A lane behind its schedule (timer lateness, a GC pause, a slow commit, a call longer than the delay) catches
   * up: its next call may come this share of the delay sooner than one delay after the last call, never before
   * its planned time (core/lane-pacing.ts says why that is safe). 2.5 %: at the tightest delay (0.2 s) the 5 ms
   * timer jitter that was always allowed; at 1 s, 25 ms — a major GC pause is made up by the next post.
   */
  laneCatchUpShare: number;
  /**
   * A call later than this behind its lane's schedule re-bases the lane on when it went out: the plan is lost (a
   * machine that slept, a restart that took minutes), the rest is spaced by the full delay from there. Anything
   * shorter — GC pauses, a saturated event loop, thousands of bots planning at once, a quick restart — is made up.
   */
  laneCatchUpLimitMs: number;
  /**
   * A cycle is planned (posts and random_ids stored, source checked) this long before it starts, so that its
   * first posts are not late by the planning itself — after a restart of many bots that takes a while.
   */
  planningLeadMs: number;
  /**
   * A (session, group)'s facts (member, rights, slow mode, paid messages, closed topic) are read from Telegram at
   * most once in this long: at planning when they are older, and by a preflight. One read per group an hour keeps
   * the full-chat calls far below Telegram's limits.
   */
  groupFactsRefreshSeconds: number;
  /**
   * A session whose connection does not open waits before its next connect: `connectBackoffMs` after the first
   * failure, doubling with each further one in a row, at most `connectBackoffMaxMs`; after
   * `connectFailuresBeforeUnreachable` failures in a row it shows as unreachable (core/reachability.ts).
   */
  connectFailuresBeforeUnreachable: number;
  connectBackoffMs: number;
  connectBackoffMaxMs: number;
}

export const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = {
  maxActiveSessions: 7,
  maxTransientAttempts: 3,
  transientBackoffMs: 2_000,
  limitedPauseSeconds: 6 * 3600,
  pairParkSeconds: 6 * 3600,
  unknownFailuresBeforeSkip: 2,
  unknownSkipCycles: 3,
  bannedGroupsBeforePause: 3,
  longWaitAlertSeconds: 3600,
  recheckSeconds: 60,
  lateStartGraceMs: 1_000,
  restartBackoffMs: 5_000,
  laneCatchUpShare: 0.025,
  laneCatchUpLimitMs: 60_000,
  planningLeadMs: 1_000,
  groupFactsRefreshSeconds: 3600,
  // Five failures in a row is minutes of trying (10 + 20 + 40 + 80 s of waits between connects that each gave up),
  // not a blip; past that, a session that stays unreachable is tried again every half hour.
  connectFailuresBeforeUnreachable: 5,
  connectBackoffMs: 10_000,
  connectBackoffMaxMs: 30 * 60_000,
};
