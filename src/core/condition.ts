/**
 * "How is the bot doing, right now?" — every current problem of a bot, worst first, each in plain words with where
 * to act; the status API sends it and the dashboard only shows it. It is built on the rules the runner uses: a
 * session's effective state (session-state.ts: a pause that has ended is over, a frozen account is out of use),
 * whether the bot can run (readiness.ts), and the post reasons' words (reasons.ts). A running bot is only "running
 * on schedule" when nothing below is true: every session paused, posts skipped or failed in the latest cycle, an
 * account limited, frozen, dead or unreachable.
 */
import type { CycleStatus, PostStatus } from './model.js';
import type { SessionDeadReason } from './outcome.js';
import { readiness, type ReadinessInput } from './readiness.js';
import { explainText, type ExplainPolicy } from './reasons.js';
import { isLimitedAt, sessionStateAt, type StoredSessionState } from './session-state.js';
import { count, isAre, listOf } from './words.js';

/** `critical`: nothing goes out; `warning`: some posts do not; `stopped`: the customer stopped it; `ok`: on schedule. */
export type ConditionLevel = 'ok' | 'stopped' | 'warning' | 'critical';

export type ConditionCode =
  | 'running'
  | 'stopped'
  | 'no_sessions'
  | 'no_usable_session'
  | 'sessions_all_paused'
  | 'not_ready'
  | 'source_invalid'
  | 'sessions_frozen'
  | 'sessions_dead'
  | 'sessions_limited'
  | 'sessions_unreachable'
  | 'posts_failed'
  | 'sessions_paused'
  | 'posts_skipped';

/** Where the customer acts on a condition (the dashboard's pages of the same names). */
export type ActionPlace = 'sessions' | 'post_and_groups' | 'activity';

export interface Condition {
  level: ConditionLevel;
  code: ConditionCode;
  /** One or two plain sentences: what is wrong, why, and whether it ends by itself. */
  message: string;
  /** Where to act, and what to do there; null when there is nothing to do. */
  action: { where: ActionPlace; label: string } | null;
  /** When it ends by itself (the first pause's end), if it does; null otherwise. */
  until: number | null;
  /** The sessions it is about (sessions_*), in the bot's order; empty for the others. */
  sessionIds: string[];
}

/** What the latest cycle's posts became: a count per (status, reason). */
export interface CycleOutcomes {
  number: number;
  status: CycleStatus;
  /** Why the cycle ended as it did (`source_invalid:forwards_restricted`, `stopped by the customer`…). */
  reason: string | null;
  posts: readonly { status: PostStatus; reason: string | null; count: number }[];
}

/**
 * The bot as stored and its sessions as stored. The runner's own "needs attention" flag is not an input: each of its
 * causes (readiness, a source that cannot be forwarded) is judged here again at `at`, so that a cause that has gone
 * (a pause that ended) is not shown until the runner's next cycle clears the flag.
 */
export interface ConditionInput<S extends StoredSessionState & { id: string; label: string }> {
  running: boolean;
  bot: Omit<ReadinessInput<S>, 'sessions'>;
  sessions: readonly S[];
  cycle: CycleOutcomes | null;
}

const SEVERITY: Record<ConditionLevel, number> = { critical: 0, warning: 1, stopped: 2, ok: 3 };

/** Each code's place among conditions of one level: the order the list above has them. */
const ORDER: Record<ConditionCode, number> = {
  no_sessions: 0,
  no_usable_session: 1,
  sessions_all_paused: 2,
  not_ready: 3,
  source_invalid: 4,
  stopped: 5,
  sessions_frozen: 7,
  sessions_dead: 8,
  sessions_limited: 9,
  sessions_unreachable: 10,
  posts_failed: 11,
  sessions_paused: 12,
  posts_skipped: 13,
  running: 14,
};

const TO_SESSIONS = { where: 'sessions', label: 'Open Sessions' } as const;
const TO_ACTIVITY = { where: 'activity', label: 'See the posts in Activity' } as const;
const TO_POST = { where: 'post_and_groups', label: 'Open Post and groups' } as const;

/** A dead session's reason in a few words, for a sentence about several sessions. */
const DEAD_WORDS: Record<Exclude<SessionDeadReason, 'frozen'>, string> = {
  revoked: 'logged out or revoked',
  deactivated: 'the account was deleted',
  banned: 'banned by Telegram',
  duplicated: 'used from two places at once, so Telegram revoked it',
  needs_login: 'lost its login',
};

/** Pauses of a session whose connection did not open (core/reachability.ts). */
const CONNECT_PAUSES: ReadonlySet<string> = new Set(['connecting', 'unreachable']);

const SKIPPED: ReadonlySet<PostStatus> = new Set(['skipped', 'missed', 'not_attempted']);

/**
 * Every current condition of the bot at `at`, worst first; never empty. A stopped bot leads with `stopped` (then
 * what is wrong with its sessions, for before it is started again); a running bot with nothing wrong is `running`.
 */
export function botConditions<S extends StoredSessionState & { id: string; label: string }>(
  input: ConditionInput<S>,
  at: number,
  policy: ExplainPolicy,
): Condition[] {
  const found = [...sessionConditions(input.sessions, at, input.running)];
  if (input.running) {
    found.push(...readinessConditions(input, at));
    found.push(...cycleConditions(input.cycle, policy));
  } else {
    found.push(condition('stopped', 'stopped', 'The bot is stopped: nothing is posted.', null));
  }
  if (found.length === 0) {
    found.push(condition('ok', 'running', 'The bot is running: posts go out on schedule.', null));
  }
  // A stopped bot says so first, whatever else is true: nothing it does posts.
  const rank = (c: Condition) => (c.code === 'stopped' ? -1 : SEVERITY[c.level] * 100 + ORDER[c.code]);
  return found.sort((a, b) => rank(a) - rank(b));
}

/** The worst condition: the one a status line shows. */
export function worstCondition(conditions: readonly Condition[]): Condition {
  return conditions[0]!;
}

function condition(
  level: ConditionLevel,
  code: ConditionCode,
  message: string,
  action: Condition['action'],
  extra: Partial<Pick<Condition, 'until' | 'sessionIds'>> = {},
): Condition {
  return { level, code, message, action, until: extra.until ?? null, sessionIds: extra.sessionIds ?? [] };
}

/** "1 of 3 sessions (sandbox 2) is", "3 of 3 sessions (a, b and c) are": who, and how many of how many. */
function who(sessions: readonly { label: string }[], total: number): string {
  const names = sessions.length <= 3 ? ` (${listOf(sessions.map((s) => s.label))})` : '';
  return `${sessions.length} of ${count(total, 'session')}${names} ${isAre(sessions.length)}`;
}

function* sessionConditions<S extends StoredSessionState & { id: string; label: string }>(
  sessions: readonly S[],
  at: number,
  running: boolean,
): Generator<Condition> {
  const total = sessions.length;
  const frozen: S[] = [];
  const dead: S[] = [];
  const limited: S[] = [];
  const unreachable: S[] = [];
  const paused: S[] = [];
  for (const s of sessions) {
    const state = sessionStateAt(s, at);
    if (state.status === 'dead') (state.statusReason === 'frozen' ? frozen : dead).push(s);
    else if (state.status === 'active') continue;
    else if (isLimitedAt(s, at)) limited.push(s);
    else if (CONNECT_PAUSES.has(state.statusReason ?? '')) unreachable.push(s);
    else paused.push(s);
  }
  const ids = (list: readonly S[]) => ({ sessionIds: list.map((s) => s.id) });
  const ends = (list: readonly S[]) => {
    const times = list.map((s) => sessionStateAt(s, at).cooldownUntil).filter((t): t is number => t !== null);
    return times.length > 0 ? Math.min(...times) : null;
  };
  const others = total - frozen.length - dead.length - limited.length - unreachable.length - paused.length;
  // While the bot runs, the others going on (or not) is what the customer needs to know.
  const rest = !running ? '' : others > 0 ? ' The other sessions go on.' : '';
  if (frozen.length > 0) {
    yield condition(
      'warning',
      'sessions_frozen',
      `${who(frozen, total)} frozen by Telegram: nothing is posted from ${frozen.length === 1 ? 'it' : 'them'}. Appeal through Telegram’s link on the Sessions page.${rest}`,
      TO_SESSIONS,
      ids(frozen),
    );
  }
  if (dead.length > 0) {
    const why = [
      ...new Set(dead.map((s) => DEAD_WORDS[s.statusReason as keyof typeof DEAD_WORDS] ?? 'retired')),
    ];
    yield condition(
      'warning',
      'sessions_dead',
      `${who(dead, total)} out of use (${listOf(why)}): log in again or add a session.${rest}`,
      TO_SESSIONS,
      ids(dead),
    );
  }
  if (limited.length > 0) {
    yield condition(
      'warning',
      'sessions_limited',
      `${who(limited, total)} limited by Telegram (spam or a restriction): paused for hours, and ${limited.length === 1 ? 'its' : 'their'} groups are not handed to other accounts. Check with @SpamBot.${rest}`,
      TO_SESSIONS,
      { ...ids(limited), until: ends(limited) },
    );
  }
  if (unreachable.length > 0) {
    yield condition(
      'warning',
      'sessions_unreachable',
      `${who(unreachable, total)} not reaching Telegram (the connection did not open); tried again later, after a longer wait each time.${rest}`,
      TO_SESSIONS,
      { ...ids(unreachable), until: ends(unreachable) },
    );
  }
  if (paused.length > 0) {
    yield condition(
      'warning',
      'sessions_paused',
      `${who(paused, total)} paused: Telegram asked ${paused.length === 1 ? 'it' : 'them'} to slow down (FLOOD_WAIT), and Stagger waits as asked.${rest}`,
      TO_SESSIONS,
      { ...ids(paused), until: ends(paused) },
    );
  }
}

/** A running bot that cannot run: no session at all, none usable, or no post, groups or settings to run with. */
function* readinessConditions<S extends StoredSessionState & { id: string; label: string }>(
  input: ConditionInput<S>,
  at: number,
): Generator<Condition> {
  if (input.sessions.length === 0) {
    yield condition(
      'critical',
      'no_sessions',
      'Nothing is posted: the bot has no session. Add one or log a Telegram account in.',
      TO_SESSIONS,
    );
    return;
  }
  const ready = readiness({ ...input.bot, sessions: input.sessions }, at);
  if (ready.ok) return;
  switch (ready.reason) {
    case 'sessions_paused': {
      const allPaused = input.sessions.every((s) => sessionStateAt(s, at).status === 'paused');
      yield condition(
        'critical',
        'sessions_all_paused',
        `Nothing is posted now: ${allPaused ? 'every session is paused by Telegram' : 'every session is paused by Telegram or out of use'}. The bot goes on by itself when the first pause ends.`,
        TO_SESSIONS,
        { until: ready.until ?? null, sessionIds: input.sessions.map((s) => s.id) },
      );
      return;
    }
    case 'no_usable_session':
      yield condition(
        'critical',
        'no_usable_session',
        'Nothing is posted: no session can post (every one is out of use). Log one in again or add one.',
        TO_SESSIONS,
        { sessionIds: input.sessions.map((s) => s.id) },
      );
      return;
    default:
      // No post link, no groups, or settings that cannot run: all set on the bot's configuration pages.
      yield condition('critical', 'not_ready', `Nothing is posted: ${ready.message}.`, TO_POST);
  }
}

/** The latest cycle's trouble: stopped because of its source, posts that failed, posts that were skipped. */
function* cycleConditions(cycle: CycleOutcomes | null, policy: ExplainPolicy): Generator<Condition> {
  if (!cycle) return;
  if (cycle.status === 'aborted' && (cycle.reason ?? '').startsWith('source_invalid')) {
    yield condition(
      'critical',
      'source_invalid',
      `Cycle #${cycle.number} stopped: the post cannot be forwarded (it is protected, deleted or out of reach). Set another post.`,
      TO_POST,
    );
  }
  const total = cycle.posts.reduce((n, p) => n + p.count, 0);
  const failed = cycle.posts.filter((p) => p.status === 'failed');
  const skipped = cycle.posts.filter((p) => SKIPPED.has(p.status));
  const failedCount = failed.reduce((n, p) => n + p.count, 0);
  const skippedCount = skipped.reduce((n, p) => n + p.count, 0);
  if (failedCount > 0) {
    yield condition(
      'warning',
      'posts_failed',
      `${failedCount} of ${count(total, 'post')} of cycle #${cycle.number} failed.${mostly(failed, failedCount, policy)}`,
      TO_ACTIVITY,
    );
  }
  if (skippedCount > 0) {
    yield condition(
      'warning',
      'posts_skipped',
      `${skippedCount} of ${count(total, 'post')} of cycle #${cycle.number} ${skippedCount === 1 ? 'was' : 'were'} skipped.${mostly(skipped, skippedCount, policy)}`,
      TO_ACTIVITY,
    );
  }
}

/** The commonest reason among some posts, in words: " Why, for 14 of them: the account was paused…". */
function mostly(
  rows: readonly { reason: string | null; count: number }[],
  total: number,
  policy: ExplainPolicy,
): string {
  const byReason = new Map<string, number>();
  for (const r of rows) if (r.reason) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + r.count);
  const top = [...byReason].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!top) return '';
  const words = explainText('post', top[0], policy);
  if (!words) return '';
  // The words open with the status ("Skipped: …", "Not attempted: …"), which the sentence before has said.
  const reason = words.replace(/^(?:Skipped|Failed|Cancelled|Missed|Not attempted): /u, '');
  const head =
    top[1] === total ? (total === 1 ? 'Why' : 'Why, for all of them') : `Why, for ${top[1]} of them`;
  return ` ${head}: ${reason}`;
}
