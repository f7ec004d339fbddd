/**
 * How records look in responses, shared by the customer's and the operator's routes: times as ISO text, sessions
 * without secrets.
 */
import { Type, type Static } from '@sinclair/typebox';
import { describeGroupFacts, judgeGroupFacts, type GroupFactsRead } from '../core/group-facts.js';
import { frozenAt, type FreezeState } from '../core/freeze.js';
import { explainReason, type ExplainPolicy } from '../core/reasons.js';
import { sessionStateAt } from '../core/session-state.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../runtime/options.js';
import type { SessionRecord } from '../storage/sessions.js';
import { DateTime, Nullable, StringEnum } from './schemas.js';

/** A freeze of a Telegram account: since when, when Telegram deletes it unless appealed, where to appeal. */
export const FreezeView = Type.Object({
  since: Nullable(DateTime()),
  until: Nullable(
    DateTime('when Telegram deletes the account unless the freeze is lifted; null: no date given'),
  ),
  appealUrl: Nullable(Type.String({ description: 'where the account’s owner appeals' })),
});

/** A Telegram session as every answer shows it: never with its secret. */
export const SessionView = Type.Object({
  id: Type.String(),
  label: Type.String(),
  driver: StringEnum(['sandbox', 'mtcute'], {
    description: 'sandbox: a simulated account; mtcute: a real Telegram account',
  }),
  state: StringEnum(['active', 'paused', 'dead'], {
    description: 'the state now (a pause that has ended is active)',
  }),
  stateReason: Nullable(
    Type.String({ description: 'why paused or dead (flood_wait, unreachable, frozen…)' }),
  ),
  stateText: Nullable(Type.String({ description: 'the reason in plain words' })),
  cooldownUntil: Nullable(DateTime('while paused: when it may post again')),
  connectFailures: Type.Integer({ minimum: 0, description: 'failed connects in a row' }),
  frozen: Nullable(FreezeView, { description: 'set while Telegram keeps the account frozen' }),
  account: Nullable(
    Type.Object({
      id: Nullable(Type.String({ description: 'the Telegram user id' })),
      username: Nullable(Type.String()),
      name: Nullable(Type.String()),
    }),
    { description: 'the Telegram account, once known' },
  ),
  createdAt: Nullable(DateTime()),
});

export const SESSION_EXAMPLE: Static<typeof SessionView> = {
  id: '7',
  label: '@ada',
  driver: 'mtcute',
  state: 'paused',
  stateReason: 'flood_wait',
  stateText: 'Telegram asked this account to slow down; it pauses, the others go on.',
  cooldownUntil: '2026-01-01T12:05:00.000Z',
  connectFailures: 0,
  frozen: null,
  account: { id: '5000000001', username: 'ada', name: 'Ada Lovelace' },
  createdAt: '2026-01-01T09:00:00.000Z',
};

/** What a session knows of a group (core/group-facts.ts), as a preflight row and the groups list show it. */
export const GroupFactsFields = {
  member: Nullable(Type.Boolean({ description: 'is the account a member; null: not known' })),
  canWrite: Nullable(Type.Boolean({ description: 'may it write there' })),
  slowmodeSeconds: Nullable(Type.Integer({ minimum: 0, description: 'the group’s slow mode; 0: none' })),
  paidStars: Nullable(Type.Integer({ minimum: 0, description: 'Stars a message would cost; 0: free' })),
  topicClosed: Nullable(Type.Boolean({ description: 'a topic target only: is its forum topic closed' })),
  username: Nullable(Type.String({ description: 'the group’s public username, when it has one' })),
  error: Nullable(Type.String({ description: 'why the read failed, when it did' })),
};

/** What the facts of a (session, group) mean for posting (presentFactsVerdict). */
export const FactsVerdictFields = {
  skipReason: Nullable(
    Type.String({ description: 'the post reason these facts give (paid_messages, topic_closed…)' }),
  ),
  skipText: Nullable(Type.String({ description: 'the reason in plain words' })),
  factsText: Type.Array(Type.String(), { description: 'the facts in short words: "slow mode 5 min"…' }),
};

/** A stored time as ISO text; a time that no date can show (e.g. out-of-range data) is null, never a crash. */
export function iso(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A freeze of a Telegram account (core/freeze.ts), times as ISO text. */
export function presentFreeze(freeze: FreezeState | null): Static<typeof FreezeView> | null {
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
): Static<typeof SessionView> {
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
export function presentFactsVerdict(
  facts: GroupFactsRead,
  policy: ExplainPolicy = DEFAULT_RUNTIME_OPTIONS,
): { skipReason: string | null; skipText: string | null; factsText: string[] } {
  const verdict = judgeGroupFacts(facts);
  return {
    skipReason: verdict.kind === 'skip' ? verdict.reason : null,
    skipText: verdict.kind === 'skip' ? explainReason('post', verdict.reason, policy, verdict.error) : null,
    factsText: describeGroupFacts(facts),
  };
}
