/**
 * The effective state of a Telegram session at a time, from its stored fields — the one answer every reader uses
 * (the API, the dashboard, the runner). A pause whose `cooldown_until` has passed is over: the session is active
 * again, whether or not anything has written that down yet.
 */
import type { SessionStatus } from './model.js';
import type { SessionPauseReason } from './outcome.js';

export interface StoredSessionState {
  status: SessionStatus;
  statusReason: string | null;
  cooldownUntil: number | null;
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
