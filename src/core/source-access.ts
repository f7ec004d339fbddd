/**
 * Who may post this cycle, from each session's answer to reading the source post (one check per session per
 * cycle). A session that cannot see the source chat says nothing about the post: the others may read it. A
 * protected or deleted post is the same for every session: the cycle stops.
 */
import type { Outcome, SourceInvalidReason } from './outcome.js';

export interface SourceCheckResult {
  sessionId: string;
  /** The classified answer (after retries); null when the session was not checked (paused, rate-limited). */
  outcome: Outcome | null;
}

export type SourceVerdict =
  { kind: 'go' } | { kind: 'stop'; reason: `source_invalid:${SourceInvalidReason}`; error: string | null };

export interface SourceAccess {
  /** Sessions that may post: they read the source, or gave no clear answer (their forwards will tell). */
  readers: string[];
  /** Sessions that cannot read the source, with Telegram's answer: their posts go to readers or are skipped. */
  unreachable: { sessionId: string; error: string }[];
  verdict: SourceVerdict;
}

export function judgeSourceAccess(checks: readonly SourceCheckResult[]): SourceAccess {
  const readers: string[] = [];
  const unreachable: SourceAccess['unreachable'] = [];
  for (const { sessionId, outcome } of checks) {
    if (outcome?.kind === 'source_invalid') {
      return {
        readers: [],
        unreachable: [],
        verdict: { kind: 'stop', reason: `source_invalid:${outcome.reason}`, error: outcome.error },
      };
    }
    if (outcome?.kind === 'source_unreachable') unreachable.push({ sessionId, error: outcome.error });
    // A dead session posts nothing: it neither reads nor keeps the cycle going.
    else if (outcome?.kind !== 'session_dead') readers.push(sessionId);
  }
  const verdict: SourceVerdict =
    unreachable.length > 0 && readers.length === 0
      ? { kind: 'stop', reason: 'source_invalid:source_unreachable', error: unreachable[0]!.error }
      : { kind: 'go' };
  return { readers, unreachable, verdict };
}
