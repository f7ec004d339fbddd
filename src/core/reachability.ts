/**
 * A session whose connection to Telegram does not open (its data centre does not answer, a closed port): how long
 * it waits before the next connect, and when it counts as unreachable. Each failed connect in a row waits twice as
 * long as the one before, up to a cap; from the Nth failure in a row on, the session is unreachable (before that
 * it is only `connecting`: a blip should not alarm anyone). A call that got an answer from Telegram proves the
 * connection works, and the count starts again.
 */
import type { Outcome, SessionPauseReason } from './outcome.js';

/** The numbers of the rule (RuntimeOptions carries them). */
export interface ReachabilityPolicy {
  /** Failed connects in a row after which the session is shown as unreachable. */
  connectFailuresBeforeUnreachable: number;
  /** The wait after the first failed connect; it doubles with each further one… */
  connectBackoffMs: number;
  /** …up to this. */
  connectBackoffMaxMs: number;
}

/** `connecting`: a few connects failed; `unreachable`: the policy's number of them in a row. */
export type ConnectPauseReason = Extract<SessionPauseReason, 'connecting' | 'unreachable'>;

export interface ConnectFailure {
  /** Failed connects in a row, this one included. */
  failures: number;
  /** The session makes no call (so no connect) for this long. */
  pauseMs: number;
  reason: ConnectPauseReason;
}

/** The wait before the next connect after `failures` failed connects in a row (1 or more). */
export function connectBackoffMs(failures: number, policy: ReachabilityPolicy): number {
  const n = Math.max(1, Math.floor(failures));
  // The exponent is bounded so that a very long run of failures stays a finite number (the cap applies anyway).
  const grown = policy.connectBackoffMs * 2 ** Math.min(n - 1, 40);
  return Math.min(policy.connectBackoffMaxMs, grown);
}

/** What one more failed connect makes of a session that had failed `before` times in a row. */
export function afterConnectFailure(before: number, policy: ReachabilityPolicy): ConnectFailure {
  const failures = Math.max(0, before) + 1;
  return {
    failures,
    pauseMs: connectBackoffMs(failures, policy),
    reason: failures >= policy.connectFailuresBeforeUnreachable ? 'unreachable' : 'connecting',
  };
}

/**
 * Whether an outcome shows that the session's connection works: Telegram answered the call (whatever it said).
 * A transient failure (a timeout, a network error, a call cut short by a stop) proves nothing either way.
 */
export function connectedBy(outcome: Outcome): boolean {
  return outcome.kind !== 'session_unreachable' && outcome.kind !== 'transient';
}
