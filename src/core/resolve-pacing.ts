/**
 * How often one session may ask Telegram to resolve a username (`contacts.resolveUsername`, a method Telegram
 * limits far more strictly than most): never two calls closer than `minIntervalMs`, and none at all while a limit
 * Telegram answered to it lasts — a limit is never retried through. The adapter keeps one `ResolveLane` per
 * session, asks `resolveTurn` before each call and records each answer with `afterResolve`.
 */
import { classifyAnswer, type TelegramAnswer } from './outcome.js';

/** The numbers of username resolving (the gateway's options carry them). */
export interface ResolvePacing {
  /** Least time between the starts of two resolveUsername calls of one session. */
  minIntervalMs: number;
  /** How long a limit that names no duration (PEER_FLOOD, a 420 without seconds) stops resolving. */
  limitedPauseMs: number;
}

/**
 * One call a second at most: the pace Telegram allows an account for ordinary calls, and slow enough that a
 * preflight over a few dozen new usernames is not a burst. A limit without a duration stops resolving for 6 h,
 * the runtime's pause for such limits.
 */
export const DEFAULT_RESOLVE_PACING: ResolvePacing = { minIntervalMs: 1_000, limitedPauseMs: 6 * 3_600_000 };

/** A session's resolving so far. */
export interface ResolveLane {
  /** When its last call started (ms on the clock); null before the first. */
  lastCallAt: number | null;
  /** The limit Telegram answered, and until when it holds. */
  limit: ResolveLimit | null;
}

export interface ResolveLimit {
  until: number;
  error: string;
  code: number | undefined;
  /** The limit said how long it lasts (FLOOD_WAIT_X): what is left of it is reported as a FLOOD_WAIT. */
  timed: boolean;
}

export type ResolveTurn =
  | { kind: 'call' }
  | { kind: 'wait'; ms: number }
  /** No call: the answer to report instead (the limit, with what is left of it). */
  | { kind: 'limited'; answer: TelegramAnswer & { ok: false } };

export const FRESH_RESOLVE_LANE: ResolveLane = { lastCallAt: null, limit: null };

/** May the session call now, must it wait first, or is it limited? */
export function resolveTurn(lane: ResolveLane, now: number, pacing: ResolvePacing): ResolveTurn {
  const { limit } = lane;
  if (limit && now < limit.until) return { kind: 'limited', answer: limitAnswer(limit, now) };
  if (lane.lastCallAt !== null) {
    const wait = lane.lastCallAt + pacing.minIntervalMs - now;
    if (wait > 0) return { kind: 'wait', ms: wait };
  }
  return { kind: 'call' };
}

/**
 * The lane after a call that started at `calledAt` and was answered at `answeredAt`: a limit (any session pause:
 * FLOOD_WAIT_X, PEER_FLOOD…) holds from the answer for its seconds, or `limitedPauseMs` when it names none.
 */
export function afterResolve(
  lane: ResolveLane,
  calledAt: number,
  answeredAt: number,
  answer: TelegramAnswer,
  pacing: ResolvePacing,
): ResolveLane {
  const outcome = classifyAnswer(answer);
  if (answer.ok || outcome.kind !== 'session_pause') return { lastCallAt: calledAt, limit: lane.limit };
  const timed = outcome.seconds !== null;
  const ms = outcome.seconds === null ? pacing.limitedPauseMs : outcome.seconds * 1000;
  return {
    lastCallAt: calledAt,
    limit: { until: answeredAt + ms, error: answer.error, code: answer.code, timed },
  };
}

function limitAnswer(limit: ResolveLimit, now: number): TelegramAnswer & { ok: false } {
  if (!limit.timed) {
    return limit.code === undefined
      ? { ok: false, error: limit.error }
      : { ok: false, error: limit.error, code: limit.code };
  }
  return { ok: false, error: `FLOOD_WAIT_${Math.ceil((limit.until - now) / 1000)}`, code: 420 };
}
