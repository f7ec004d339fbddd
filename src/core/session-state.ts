/**
 * The effective state of a Telegram session at a time, from its stored fields — the one answer every reader uses
 * (the API, the dashboard, the runner). A pause whose `cooldown_until` has passed is over: the session is active
 * again, whether or not anything has written that down yet. A frozen account (core/freeze.ts) is out of use —
 * dead, for the reason `frozen` — while the freeze lasts, whatever else is stored; when the freeze is lifted
 * (the record is cleared), what is stored counts again.
 */
import { frozenAt, type FreezeState } from './freeze.js';
import type { SessionStatus } from './model.js';
import type { SessionPauseReason } from './outcome.js';

export interface StoredSessionState {
  status: SessionStatus;
  statusReason: string | null;
  cooldownUntil: number | null;
  /** What Telegram said of a freeze; absent or null: not frozen. */
  frozen?: FreezeState | null;
}

export interface EffectiveSessionState {
  status: SessionStatus;
  /** Why it is paused or dead; null when active. */
  statusReason: string | null;
  /** While paused: when it may post again (null: until someone revives it). Null otherwise. */
  cooldownUntil: number | null;
}

/** Pauses that mean Telegram limited the account (spam and the like): not handed the others' work. */
const LIMITED: ReadonlySet<string> = new Set<SessionPauseReason>([
  'peer_flood',
  'restricted',
  'banned_in_many_groups',
]);

export function sessionStateAt(stored: StoredSessionState, at: number): EffectiveSessionState {
  if (stored.status !== 'dead' && frozenAt(stored.frozen, at)) {
    return { status: 'dead', statusReason: 'frozen', cooldownUntil: null };
  }
  if (stored.status === 'paused' && stored.cooldownUntil !== null && stored.cooldownUntil <= at) {
    return { status: 'active', statusReason: null, cooldownUntil: null };
  }
  if (stored.status === 'active') return { status: 'active', statusReason: null, cooldownUntil: null };
  return {
    status: stored.status,
    statusReason: stored.statusReason,
    cooldownUntil: stored.status === 'paused' ? stored.cooldownUntil : null,
  };
}

/** Whether the pause stored in `stored` has ended by `at` (an active session stays active). */
export function pauseOverBy(stored: StoredSessionState, at: number): boolean {
  return stored.status === 'paused' && sessionStateAt(stored, at).status === 'active';
}

/** Usable at `at`: not dead, and any pause over by then. */
export function usableAt(stored: StoredSessionState, at: number): boolean {
  return sessionStateAt(stored, at).status === 'active';
}

/** Paused at `at` because Telegram limited the account (as opposed to a FLOOD_WAIT). */
export function isLimitedAt(stored: StoredSessionState, at: number): boolean {
  const state = sessionStateAt(stored, at);
  return state.status === 'paused' && LIMITED.has(state.statusReason ?? '');
}

/** Pauses of a session whose connection did not open (core/reachability.ts). */
const CONNECT_PAUSES: ReadonlySet<string> = new Set<SessionPauseReason>(['connecting', 'unreachable']);

/**
 * Why a session's posts cannot go out now (its lane ends: handed to healthy sessions in enterprise mode, skipped in
 * starter): the post reason for a dead, frozen, unreachable or paused session.
 */
export function unavailableReason(
  state: EffectiveSessionState,
): 'session_dead' | 'session_frozen' | 'session_unreachable' | 'session_paused' {
  if (state.status === 'dead') return state.statusReason === 'frozen' ? 'session_frozen' : 'session_dead';
  return CONNECT_PAUSES.has(state.statusReason ?? '') ? 'session_unreachable' : 'session_paused';
}
