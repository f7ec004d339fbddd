/**
 * "Can this bot run now?" — the one answer the start route, the preview, the runner and the dashboard share. A bot
 * can run when it has a valid post, groups, and a session usable at the time; when every session is paused the
 * bot may still be started (it waits for the first pause to end), which is a separate answer, not a refusal.
 */
import { cycleSettingsProblem, type ExecutionMode } from './plan.js';
import { tryParsePostLink } from './post-link.js';
import { sessionStateAt, usableAt, type StoredSessionState } from './session-state.js';

export interface ReadinessInput<S extends StoredSessionState> {
  postLink: string | null;
  groupCount: number;
  sessions: readonly S[];
  mode: ExecutionMode | null;
  totalCycleMinutes: number | null;
}

export type NotReadyReason =
  'no_post' | 'no_groups' | 'no_usable_session' | 'sessions_paused' | 'bad_settings';

export type Readiness<S> =
  | { ok: true; usable: S[] }
  | {
      ok: false;
      reason: NotReadyReason;
      message: string;
      /** With `sessions_paused`: when the first pause ends (null when no pause has an end). */
      until?: number | null;
    };

export function readiness<S extends StoredSessionState>(input: ReadinessInput<S>, at: number): Readiness<S> {
  if (!input.postLink) return { ok: false, reason: 'no_post', message: 'no post link set' };
  if (tryParsePostLink(input.postLink) === null) {
    return { ok: false, reason: 'no_post', message: `the post link is not valid: ${input.postLink}` };
  }
  if (input.groupCount === 0) return { ok: false, reason: 'no_groups', message: 'the group list is empty' };
  const settings = cycleSettingsProblem(input.mode, input.totalCycleMinutes);
  if (settings !== null) return { ok: false, reason: 'bad_settings', message: settings };
  const usable = input.sessions.filter((s) => usableAt(s, at));
  if (usable.length > 0) return { ok: true, usable };
  const paused = input.sessions.map((s) => sessionStateAt(s, at)).filter((s) => s.status === 'paused');
  if (paused.length === 0) {
    // No session at all is not "every session is dead": the words say which it is.
    const message =
      input.sessions.length === 0
        ? 'no usable session: the bot has no session'
        : 'no usable session: every session is dead';
    return { ok: false, reason: 'no_usable_session', message };
  }
  const ends = paused.map((s) => s.cooldownUntil).filter((u): u is number => u !== null);
  return {
    ok: false,
    reason: 'sessions_paused',
    message: 'every session is paused by Telegram; the bot goes on when the first pause ends',
    until: ends.length > 0 ? Math.min(...ends) : null,
  };
}
