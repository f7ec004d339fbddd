/**
 * What Stagger knows about a group before it posts there, per (session, group): is the account a member, may it
 * write, the group's slow mode, whether it charges Stars per message, and whether the target's forum topic is
 * closed. Telegram is asked at a preflight and when a cycle is planned, at most once per (session, group) per
 * refresh interval (a policy number). This module decides what the facts mean — may the post go, the reason it is
 * skipped, who could take it over, which facts are due for a read, what the preview warns about and how the facts
 * read to a person — for the runtime, the API and the dashboard alike.
 *
 * Stagger never pays to post: a group that asks this account for Stars is skipped (`paid_messages`), its price
 * shown.
 */
import { classifyError, PAYMENT_REQUIRED, paidStarsIn, type GroupSkipReason } from './outcome.js';
import type { ExecutionMode } from './plan.js';

export interface GroupFacts {
  sessionId: string;
  /** The canonical target key (with `/topic` for a forum topic). */
  groupKey: string;
  /** When Telegram was asked (epoch ms). */
  checkedAt: number;
  member: boolean | null;
  canWrite: boolean | null;
  slowmodeSeconds: number | null;
  /** Stars a message this account would have to pay there; 0: free; null: not known. */
  paidStars: number | null;
  /** Only for a topic target: whether its forum topic is closed (a deleted topic counts as closed). */
  topicClosed: boolean | null;
  /** The group's public username, when it has one (its sent messages can be linked); null: none or not known. */
  username: string | null;
  /** Why the read failed, when it did (fields read before the failure stay known). */
  error: string | null;
}

/** The facts without the time they were read: what a gateway answers. */
export type GroupFactsRead = Omit<GroupFacts, 'checkedAt'>;

/** A read that learnt nothing about the group: every fact unknown, and why (null: not asked yet). */
export function unknownFacts(sessionId: string, groupKey: string, error: string | null): GroupFactsRead {
  return {
    sessionId,
    groupKey,
    member: null,
    canWrite: null,
    slowmodeSeconds: null,
    paidStars: null,
    topicClosed: null,
    username: null,
    error,
  };
}

/** The skip reasons facts can give (the same reasons a forward's answer gives). */
export type FactsSkipReason = Extract<
  GroupSkipReason,
  'not_member' | 'write_forbidden' | 'topic_closed' | 'paid_messages'
>;

export type FactsVerdict =
  | { kind: 'go' }
  /** `error`: what Telegram would answer the forward — the same text its refusal carries (the price included). */
  | { kind: 'skip'; reason: FactsSkipReason; error: string };

export type FactsDecision =
  | FactsVerdict
  /** Enterprise: sessions whose facts say they may post there take the post (the runtime picks among `to`). */
  | { kind: 'hand_over'; reason: FactsSkipReason; error: string; to: string[] };

export type FactsLookup = (sessionId: string, groupKey: string) => GroupFacts | null | undefined;

export interface FactPair {
  sessionId: string;
  groupKey: string;
}

const GO: FactsVerdict = { kind: 'go' };

/** Telegram's refusal of a message to a group that charges `stars` Stars a message. */
export function paymentRequiredError(stars: number): string {
  return `${PAYMENT_REQUIRED}_${stars}`;
}

/** May this session post there, by what is known? Unknown facts never stop a post: the forward will tell. */
export function judgeGroupFacts(facts: GroupFacts | GroupFactsRead | null | undefined): FactsVerdict {
  if (!facts) return GO;
  if (facts.member === false) return { kind: 'skip', reason: 'not_member', error: 'USER_NOT_PARTICIPANT' };
  if (facts.canWrite === false)
    return { kind: 'skip', reason: 'write_forbidden', error: 'CHAT_WRITE_FORBIDDEN' };
  if (facts.topicClosed === true) return { kind: 'skip', reason: 'topic_closed', error: 'TOPIC_CLOSED' };
  if (facts.paidStars !== null && facts.paidStars > 0) {
    return { kind: 'skip', reason: 'paid_messages', error: paymentRequiredError(facts.paidStars) };
  }
  return GO;
}

/** Facts read without an error that let this session post: a session a post can be handed to. */
function knownToAllow(facts: GroupFacts | null | undefined): boolean {
  return !!facts && facts.error === null && judgeGroupFacts(facts).kind === 'go';
}

export interface FactsDecisionInput {
  mode: ExecutionMode;
  sessionId: string;
  groupKey: string;
  /**
   * The other sessions that could take a post over now (alive, not limited), in the runtime's order — or how to
   * find them for `sessionId`: asked only when the facts forbid the post (the runtime decides for every post it
   * sends, and most may go).
   */
  candidates: readonly string[] | ((sessionId: string) => readonly string[]);
  facts: FactsLookup;
}

/**
 * What the facts say about one post: go, skip, or (enterprise, where each group is posted by one session) hand it
 * to sessions whose facts say they may post there. Only sessions known to be allowed take a post: one whose facts
 * are unknown might meet the same paid group.
 */
export function decideByFacts(input: FactsDecisionInput): FactsDecision {
  const verdict = judgeGroupFacts(input.facts(input.sessionId, input.groupKey));
  if (verdict.kind === 'go' || input.mode !== 'enterprise') return verdict;
  const candidates =
    typeof input.candidates === 'function' ? input.candidates(input.sessionId) : input.candidates;
  const to = candidates.filter((s) => s !== input.sessionId && knownToAllow(input.facts(s, input.groupKey)));
  return to.length > 0 ? { kind: 'hand_over', reason: verdict.reason, error: verdict.error, to } : verdict;
}

/**
 * Due for a read: never read, read at least `refreshMs` ago, or read "in the future" (the clock went back: the age
 * cannot be known, so the facts are read again rather than trusted for longer than the interval).
 */
export function factsDue(
  facts: { checkedAt: number } | null | undefined,
  now: number,
  refreshMs: number,
): boolean {
  return !facts || now - facts.checkedAt >= refreshMs || now < facts.checkedAt;
}

/**
 * Whether any (session, group) of these has facts due: when none has, no pair a plan could make is due either, so
 * a runner need not plan a cycle ahead of time just to find that out.
 */
export function anyFactsDue(
  sessionIds: readonly string[],
  groupKeys: readonly string[],
  factsOf: (sessionId: string, groupKey: string) => { checkedAt: number } | undefined,
  now: number,
  refreshMs: number,
): boolean {
  return sessionIds.some((s) => groupKeys.some((g) => factsDue(factsOf(s, g), now, refreshMs)));
}

/** The pairs whose facts are due, each once, in their first order. */
export function dueFactPairs(
  pairs: readonly FactPair[],
  facts: FactsLookup,
  now: number,
  refreshMs: number,
): FactPair[] {
  const seen = new Set<string>();
  const out: FactPair[] = [];
  for (const p of pairs) {
    const key = `${p.sessionId}\u0000${p.groupKey}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (factsDue(facts(p.sessionId, p.groupKey), now, refreshMs)) out.push(p);
  }
  return out;
}

/**
 * Enterprise: for each planned post its own session may not make, the other sessions' pairs for that group — a
 * hand-off needs to know who may post there. Nothing in starter mode, where every session posts every group.
 */
export function handOverFactPairs(
  mode: ExecutionMode,
  planned: readonly FactPair[],
  sessionIds: readonly string[],
  facts: FactsLookup,
): FactPair[] {
  if (mode !== 'enterprise') return [];
  const out: FactPair[] = [];
  for (const p of planned) {
    if (judgeGroupFacts(facts(p.sessionId, p.groupKey)).kind === 'go') continue;
    for (const s of sessionIds) if (s !== p.sessionId) out.push({ sessionId: s, groupKey: p.groupKey });
  }
  return out;
}

/**
 * How often one group gets a post by a plan: starter T/n (each session posts every group, `T/n` apart); enterprise
 * once a cycle — the cycle's run and the pause after it. Null for an empty plan.
 */
export function groupRhythmSeconds(
  plan: {
    mode: ExecutionMode;
    cycleSeconds: number | null;
    sessions: readonly unknown[];
    lastPostAtSeconds: number;
    delayBetweenPosts: number;
  },
  delayBetweenCycles: number,
): number | null {
  if (plan.sessions.length === 0) return null;
  if (plan.mode === 'starter')
    return plan.cycleSeconds === null ? null : plan.cycleSeconds / plan.sessions.length;
  return plan.lastPostAtSeconds + plan.delayBetweenPosts + delayBetweenCycles;
}

/** An index of facts by (session, group). */
export function factsIndex(list: readonly GroupFacts[]): FactsLookup {
  const map = new Map<string, GroupFacts>();
  for (const f of list) map.set(`${f.sessionId}\u0000${f.groupKey}`, f);
  return (sessionId, groupKey) => map.get(`${sessionId}\u0000${groupKey}`);
}

/** The answer that ends a session's reads of facts: a dead key or a limit (nothing is retried through a limit). */
export function endsFactReads(error: string, code?: number): boolean {
  const kind = classifyError(error, code).kind;
  return kind === 'session_dead' || kind === 'session_pause';
}

/** `300` → `5 min`, `45` → `45 s`, `3600` → `1 h`. */
export function formatInterval(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/**
 * The facts in short words, for a group's line on the dashboard: `slow mode 5 min`, `paid: 25 stars — skipped`,
 * `topic closed — skipped`, `cannot write — skipped`, `not a member — skipped`.
 */
export function describeGroupFacts(facts: GroupFacts | GroupFactsRead): string[] {
  const words: string[] = [];
  if (facts.member === false) words.push('not a member — skipped');
  else if (facts.canWrite === false) words.push('cannot write — skipped');
  if (facts.topicClosed === true) words.push('topic closed — skipped');
  if (facts.paidStars !== null && facts.paidStars > 0) words.push(`paid: ${facts.paidStars} stars — skipped`);
  if (facts.slowmodeSeconds !== null && facts.slowmodeSeconds > 0)
    words.push(`slow mode ${formatInterval(facts.slowmodeSeconds)}`);
  return words;
}

export const FactsWarningCode = {
  PaidMessages: 'GROUP_PAID_MESSAGES',
  TopicClosed: 'GROUP_TOPIC_CLOSED',
  CannotWrite: 'GROUP_CANNOT_WRITE',
  SlowMode: 'GROUP_SLOW_MODE',
} as const;
export type FactsWarningCode = (typeof FactsWarningCode)[keyof typeof FactsWarningCode];

export interface FactsWarning {
  code: FactsWarningCode;
  message: string;
  group: string;
  /** The sessions the warning is about (the planned ones the facts stop, or none for the group's slow mode). */
  sessions: string[];
  /** Paid messages: the price a message, in Stars. */
  stars?: number;
  /** Slow mode: its interval. */
  seconds?: number;
  /** Enterprise: the sessions that take the group's post over instead. */
  handedTo?: string[];
}

export interface FactsWarningsInput {
  mode: ExecutionMode;
  /** The plan's posts: which session posts to which group. */
  posts: readonly FactPair[];
  /** Every session of the plan (the hand-off candidates). */
  sessionIds: readonly string[];
  facts: FactsLookup;
  /** How often one group gets a post by the plan (starter: T/n; enterprise: about a cycle); null when unknown. */
  rhythmSeconds: number | null;
  /** A session's name in the words (its label). */
  label?: (sessionId: string) => string;
}

const SKIP_CODE: Record<FactsSkipReason, FactsWarningCode> = {
  paid_messages: FactsWarningCode.PaidMessages,
  topic_closed: FactsWarningCode.TopicClosed,
  not_member: FactsWarningCode.CannotWrite,
  write_forbidden: FactsWarningCode.CannotWrite,
};

/**
 * The preview's warnings from the known facts (the preview itself never asks Telegram): one per problem and group,
 * naming the sessions it stops and, in enterprise mode, who takes the post over — as the runtime will decide.
 */
export function factsWarnings(input: FactsWarningsInput): FactsWarning[] {
  const label = input.label ?? ((s: string) => s);
  const names = (ids: readonly string[]) => ids.map(label).join(', ');
  const byKey = new Map<string, FactsWarning>();
  const order: string[] = [];
  const add = (key: string, make: () => FactsWarning, session: string | null): FactsWarning => {
    let w = byKey.get(key);
    if (!w) {
      w = make();
      byKey.set(key, w);
      order.push(key);
    }
    if (session !== null && !w.sessions.includes(session)) w.sessions.push(session);
    return w;
  };
  for (const post of input.posts) {
    const decision = decideByFacts({
      mode: input.mode,
      sessionId: post.sessionId,
      groupKey: post.groupKey,
      candidates: input.sessionIds,
      facts: input.facts,
    });
    if (decision.kind === 'go') continue;
    const code = SKIP_CODE[decision.reason];
    const w = add(
      `${code}\u0000${post.groupKey}`,
      () => ({ code, message: '', group: post.groupKey, sessions: [] }),
      post.sessionId,
    );
    if (decision.reason === 'paid_messages') w.stars = paidStarsIn(decision.error) ?? undefined;
    if (decision.kind === 'hand_over') w.handedTo = [...new Set([...(w.handedTo ?? []), ...decision.to])];
  }
  for (const key of order) {
    const w = byKey.get(key)!;
    const then = w.handedTo
      ? `its post goes to ${names(w.handedTo)} instead`
      : `its posts are skipped${w.sessions.length > 1 ? ` for ${names(w.sessions)}` : ''}`;
    switch (w.code) {
      case FactsWarningCode.PaidMessages:
        w.message = `${w.group} charges ${w.stars ?? 'some'} stars a message (paid messages), and Stagger never pays: ${then}`;
        break;
      case FactsWarningCode.TopicClosed:
        w.message = `the forum topic ${w.group} is closed: ${then}`;
        break;
      default:
        w.message = `${names(w.sessions)} may not write in ${w.group} (not a member, or no right to send): ${then}`;
    }
  }
  const warnings = order.map((k) => byKey.get(k)!);
  // Slow mode: a fact of the group, whichever session reads it; it matters when the plan posts there more often.
  const slow = new Map<string, number>();
  for (const group of new Set(input.posts.map((p) => p.groupKey))) {
    for (const s of input.sessionIds) {
      const seconds = input.facts(s, group)?.slowmodeSeconds ?? null;
      if (seconds !== null && seconds > (slow.get(group) ?? 0)) slow.set(group, seconds);
    }
  }
  for (const [group, seconds] of slow) {
    if (input.rhythmSeconds === null || input.rhythmSeconds >= seconds) continue;
    warnings.push({
      code: FactsWarningCode.SlowMode,
      message:
        `${group} has slow mode (${formatInterval(seconds)}), longer than the time between two of its posts ` +
        `(${formatInterval(Math.round(input.rhythmSeconds))}): the guard keeps its posts at least ` +
        `${formatInterval(seconds)} apart, and a post that would come sooner waits or is skipped`,
      group,
      sessions: [],
      seconds,
    });
  }
  return warnings;
}

/** Each group's public username as the sessions' latest reads know it (for links to the messages sent there). */
export function groupUsernames(facts: readonly GroupFacts[]): Map<string, string> {
  const latest = new Map<string, GroupFacts>();
  for (const f of facts) {
    if (f.username === null) continue;
    const known = latest.get(f.groupKey);
    if (!known || f.checkedAt > known.checkedAt) latest.set(f.groupKey, f);
  }
  return new Map([...latest].map(([key, f]) => [key, f.username!]));
}
