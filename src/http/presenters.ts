/**
 * How records look in responses, shared by the customer's and the operator's routes: times as ISO text, sessions
 * without secrets.
 */
import type { SessionRecord } from '../storage/sessions.js';

/** A stored time as ISO text; a time that no date can show (e.g. out-of-range data) is null, never a crash. */
export function iso(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function presentSession(s: SessionRecord) {
  return {
    id: s.id,
    label: s.label,
    driver: s.driver,
    state: s.status,
    stateReason: s.statusReason,
    cooldownUntil: iso(s.cooldownUntil),
    account:
      s.tgUserId || s.tgUsername || s.tgName
        ? { id: s.tgUserId, username: s.tgUsername, name: s.tgName }
        : null,
    createdAt: iso(s.createdAt),
  };
}
