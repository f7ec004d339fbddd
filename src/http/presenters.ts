/**
 * How records look in responses, shared by the customer's and the operator's routes: times as ISO text, sessions
 * without secrets.
 */
import { describeGroupFacts, judgeGroupFacts, type GroupFactsRead } from '../core/group-facts.js';
import { frozenAt, type FreezeState } from '../core/freeze.js';
import { explainReason, type ExplainPolicy } from '../core/reasons.js';
import { sessionStateAt } from '../core/session-state.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../runtime/options.js';
import type { SessionRecord } from '../storage/sessions.js';

/** A stored time as ISO text; a time that no date can show (e.g. out-of-range data) is null, never a crash. */
export function iso(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A freeze of a Telegram account (core/freeze.ts), times as ISO text. */
export function presentFreeze(freeze: FreezeState | null) {
  return freeze ? { since: iso(freeze.since), until: iso(freeze.until), appealUrl: freeze.appealUrl } : null;
}

/**
 * A session as it is at `at` (core/session-state.ts): a FLOOD_WAIT that has ended shows as active, whether or not
 * the runner has written that down yet. `stateText` says the state's reason in words of its kind (a session's
 * `restricted` is the account, not a group). `frozen` is set while Telegram keeps the account frozen (the state is
 * then dead for `frozen`); `connectFailures` counts failed connects in a row (`unreachable` from the policy's
 * number on, retried at `cooldownUntil`).
 */
export function presentSession(
  s: SessionRecord,
  at: number,
  policy: ExplainPolicy = DEFAULT_RUNTIME_OPTIONS,
) {
  const state = sessionStateAt(s, at);
  return {
    id: s.id,
    label: s.label,
    driver: s.driver,
    state: state.status,
    stateReason: state.statusReason,
    stateText: state.statusReason ? explainReason('session', state.statusReason, policy) : null,
    cooldownUntil: iso(state.cooldownUntil),
    connectFailures: s.connectFailures,
    frozen: frozenAt(s.frozen, at) ? presentFreeze(s.frozen) : null,
    account:
      s.tgUserId || s.tgUsername || s.tgName
        ? { id: s.tgUserId, username: s.tgUsername, name: s.tgName }
        : null,
    createdAt: iso(s.createdAt),
  };
}

/**
 * What the facts of a (session, group) mean (core/group-facts.ts): the skip they cause, in words, and the facts in
 * short words (`paid: 25 stars — skipped`, `slow mode 5 min`…).
 */
export function presentFactsVerdict(facts: GroupFactsRead, policy: ExplainPolicy = DEFAULT_RUNTIME_OPTIONS) {
  const verdict = judgeGroupFacts(facts);
  return {
    skipReason: verdict.kind === 'skip' ? verdict.reason : null,
    skipText: verdict.kind === 'skip' ? explainReason('post', verdict.reason, policy, verdict.error) : null,
    factsText: describeGroupFacts(facts),
  };
}
