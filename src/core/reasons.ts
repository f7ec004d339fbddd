/**
 * Why things happen, as typed reasons per kind — a post's result, a session's state, a cycle's end, a bot that
 * needs attention, a bot that stopped — and their plain words, keyed by (kind, reason). The same word may mean
 * different things in different kinds (`restricted`: the group is restricted for this account, or Telegram
 * restricted the whole account), so nothing is explained without its kind. Numbers in the words come from the
 * policy in force, never from the text.
 */
import {
  explainTelegram,
  paidStarsIn,
  type GroupSkipReason,
  type SessionDeadReason,
  type SessionPauseReason,
} from './outcome.js';
import type { PostStatus } from './model.js';
import type { NotReadyReason } from './readiness.js';
import type { SkipReason } from './schedule.js';

/** Why a post ended as it did (skipped, failed, cancelled, missed, not attempted). */
export type PostReason =
  | GroupSkipReason
  | 'group_gap'
  | 'group_slowmode'
  | 'slowmode'
  | 'session_paused'
  | 'session_limited'
  | 'session_dead'
  | 'session_frozen'
  | 'session_unreachable'
  | 'session_removed'
  | 'pair_parked'
  | 'unknown_repeated'
  | 'source_invalid'
  | 'source_unreachable'
  | 'stopped'
  | 'missed'
  | 'cycle_deadline'
  | 'invalid_target'
  | 'unknown'
  | 'transient';

export type SessionReason = SessionPauseReason | SessionDeadReason;
export type StopReason =
  'stop:cancel' | 'stop:suspend' | 'desired_stopped' | 'deleted' | 'fenced' | 'stopped';
/** Why a post went to another of the bot's sessions (enterprise): what kept its own session from posting it. */
export type HandOffReason = Extract<
  PostReason,
  | 'session_paused'
  | 'session_dead'
  | 'session_frozen'
  | 'session_unreachable'
  | 'session_removed'
  | 'source_unreachable'
  | 'not_member'
  | 'write_forbidden'
  | 'topic_closed'
  | 'paid_messages'
>;
export type ReasonKind = 'post' | 'session' | 'cycle' | 'attention' | 'stop' | 'handoff';

/** The numbers the words quote. */
export interface ExplainPolicy {
  unknownFailuresBeforeSkip: number;
  unknownSkipCycles: number;
}

const cycles = (n: number) => `${n} cycle${n === 1 ? '' : 's'}`;

type Words = string | ((policy: ExplainPolicy, error: string | null) => string);

const GROUP_SKIP_WORDS: Record<GroupSkipReason, Words> = {
  write_forbidden: 'Skipped: this account may not write in the group.',
  not_member: 'Skipped: this account is not a member of the group. Stagger never joins groups.',
  restricted: 'Skipped: the group is restricted for this account.',
  topic_closed: 'Skipped: the forum topic is closed or deleted.',
  topic_invalid: 'Skipped: the forum topic does not exist in the group (check the topic in the group list).',
  premium_required: 'Skipped: Telegram requires a Premium account to post this there.',
  payment_required: 'Skipped: the group asks for payment to post.',
  // The price comes from Telegram's refusal (ALLOW_PAYMENT_REQUIRED_X) or the group's facts, kept as the error.
  paid_messages: (_p, error) => {
    const stars = paidStarsIn(error);
    return `Skipped: the group charges ${stars === null ? 'stars' : `${stars} stars`} a message (paid messages), and Stagger never pays to post.`;
  },
  banned_in_group: 'Skipped: this account is banned from writing in the group.',
  admin_required: 'Skipped: the target is a channel where only admins post (a configuration error).',
  unresolved: 'Skipped: this account does not know the group (not in its dialogs).',
  no_access: 'Skipped: this account has no access to the group.',
};

/** Every post reason with its words: a reason added to PostReason without words does not compile. */
const POST_WORDS: Record<PostReason, Words> = {
  ...GROUP_SKIP_WORDS,
  group_gap: 'Skipped: another of your accounts posted to this group too recently (minimum group gap).',
  group_slowmode:
    'Skipped: the group is in slow mode and one of your accounts posted there too recently; waiting for it would take longer than the minimum group gap.',
  slowmode: 'Skipped: the group is in slow mode for this account.',
  session_paused: 'Skipped: the account was paused (Telegram asked it to wait) past its time in this cycle.',
  session_limited: 'Skipped: the account is limited by Telegram (spam); not handed to other accounts.',
  session_dead: 'Skipped: the account’s session is no longer valid.',
  session_frozen: 'Skipped: Telegram froze the account; nothing is posted from it while it is frozen.',
  session_unreachable:
    'Skipped: Telegram could not be reached with this account (its connection did not open) in this post’s time.',
  session_removed: 'Skipped: the session was removed from the bot.',
  pair_parked: 'Skipped: this account cannot post in this group right now; it is re-checked later.',
  unknown_repeated: (p) =>
    `Skipped: this group failed ${p.unknownFailuresBeforeSkip} times with an unknown error; it is skipped for ${cycles(p.unknownSkipCycles)}.`,
  source_invalid: 'Cancelled: the source post cannot be forwarded, so the cycle stopped.',
  source_unreachable:
    'Skipped: this account cannot read the source post (for example, it is not a member of the private source chat).',
  stopped: 'Cancelled: the bot was stopped.',
  missed: 'Missed: Stagger was not running when this post was due, and it was too late to post it.',
  cycle_deadline: 'Not attempted: the cycle ended before this post’s turn.',
  invalid_target: 'Failed: the group target is not valid.',
  unknown: (p) =>
    `Failed with an error Telegram did not explain; after ${p.unknownFailuresBeforeSkip} such errors this group is skipped for ${cycles(p.unknownSkipCycles)}.`,
  transient: 'Failed after retries: Telegram or the network kept failing (retried with the same message id).',
};

const SESSION_WORDS: Record<SessionReason, string> = {
  flood_wait: 'Telegram asked this account to slow down; it pauses, the others go on.',
  flood_limit:
    'Telegram asked this account to slow down without saying for how long; it is paused for hours, the others go on.',
  peer_flood: 'Telegram limited this account for spam; it is paused for hours. Check it with @SpamBot.',
  restricted: 'Telegram restricted this account; it is paused for hours.',
  banned_in_many_groups: 'The account is banned in several groups; it is paused for hours.',
  connecting:
    'Stagger could not connect to Telegram with this account; it tries again at the time shown, the others go on.',
  unreachable:
    'Telegram cannot be reached with this account: connect after connect failed (its data centre does not answer). It is tried again at the time shown, after a longer wait each time.',
  revoked: 'The session was logged out or revoked; log in again.',
  deactivated: 'The account was deleted.',
  banned: 'The account was banned by Telegram.',
  duplicated: 'The session was used from two places at once; Telegram revoked it. Log in again.',
  frozen:
    'The account is frozen by Telegram: nothing is posted from it. Appeal through Telegram’s link; once the freeze is lifted, check the session to use it again.',
  needs_login: 'The session key lost its login; log in again.',
};

const ATTENTION_WORDS: Record<NotReadyReason, string> = {
  no_post: 'Set the post to forward.',
  no_groups: 'Add groups to post to.',
  no_usable_session: 'No usable session: every session is dead. Log one in again or add one.',
  sessions_paused: 'Every session is paused by Telegram; the bot goes on when the first pause ends.',
  bad_settings: 'The settings cannot run (starter mode needs total_cycle_minutes).',
};

const CYCLE_WORDS: Record<SkipReason | 'source_invalid' | 'stopped by the customer', string> = {
  previous_cycle_overran:
    'Skipped: the previous cycle ran into this cycle’s time (see the planner’s warnings).',
  not_running: 'Skipped: Stagger was not running during this cycle’s time.',
  source_invalid: 'The cycle stopped: the source post cannot be forwarded.',
  'stopped by the customer': 'Stopped by the customer.',
};

const STOP_WORDS: Record<StopReason, string> = {
  'stop:cancel': 'Stopped by the customer.',
  'stop:suspend': 'Stagger shut down or handed the bot to another worker; it resumes there.',
  desired_stopped: 'Stopped by the customer.',
  stopped: 'Stopped.',
  deleted: 'The bot was deleted.',
  fenced: 'Another worker took over this bot.',
};

/** What the session a post was taken from could not do, said after its name ("sandbox 1 may not write…"). */
const HAND_OFF_WORDS: Record<HandOffReason, string> = {
  session_paused: 'was paused by Telegram past its time in this cycle',
  session_dead: 'lost its session (it is no longer valid)',
  session_frozen: 'was frozen by Telegram',
  session_unreachable: 'could not reach Telegram in this post’s time',
  session_removed: 'was removed from the bot',
  source_unreachable: 'cannot read the source post',
  not_member: 'is not a member of the group',
  write_forbidden: 'may not write in the group',
  topic_closed: 'cannot post in the closed forum topic',
  paid_messages: 'would have to pay to post in the group, and Stagger never pays',
};

/**
 * Why a post moved, naming the session it moved from: "sandbox 1 may not write in the group". Null for a reason
 * that is no hand-off's.
 */
export function explainHandOff(reason: string, from: string): string | null {
  const words = lookup(HAND_OFF_WORDS, reason);
  return words === null ? null : `${from} ${words}`;
}

/**
 * Plain words for a reason of a kind, or null when the reason is not one of that kind's. `error` is the post's
 * error beside the reason, for words that quote it (the price of a paid group).
 */
export function explainReason(
  kind: ReasonKind,
  reason: string,
  policy: ExplainPolicy,
  error: string | null = null,
): string | null {
  switch (kind) {
    case 'post': {
      if (!isPostReason(reason)) return null;
      const words = POST_WORDS[reason];
      return typeof words === 'string' ? words : words(policy, error);
    }
    case 'session':
      return lookup(SESSION_WORDS, reason);
    case 'attention':
      return lookup(ATTENTION_WORDS, reason);
    case 'cycle':
      // `source_invalid:forwards_restricted`, `previous_cycle_overran: 2 slot(s) skipped`: the word before the detail.
      return lookup(CYCLE_WORDS, reason) ?? lookup(CYCLE_WORDS, reason.split(/[:]/)[0]!.trim());
    case 'stop':
      return lookup(STOP_WORDS, reason);
    case 'handoff': {
      const why = explainHandOff(reason, 'its session');
      return why === null ? null : `Handed over to another session: ${why}.`;
    }
  }
}

/**
 * Words for a text stored as a reason of `kind`, or as an `error` (a Telegram error, or the session reason a
 * skipped lane records as its cause); null when it is neither (free text is already words).
 */
export function explainText(
  kind: ReasonKind | 'error',
  text: string,
  policy: ExplainPolicy,
  error: string | null = null,
): string | null {
  // A session's reason kept as a skipped lane's cause is lower case (`flood_wait`): its words, not those of a
  // Telegram error of a similar name (FLOOD_WAIT without seconds means "for hours", which it did not say).
  if (kind === 'error') return explainReason('session', text, policy) ?? explainTelegram(text);
  return explainReason(kind, text, policy, error) ?? explainTelegram(text);
}

function lookup<K extends string>(table: Record<K, string>, key: string): string | null {
  return Object.hasOwn(table, key) ? table[key as K] : null;
}

const POST_REASONS: ReadonlySet<string> = new Set(Object.keys(POST_WORDS));

export function isPostReason(reason: string): reason is PostReason {
  return POST_REASONS.has(reason);
}

/**
 * What each post status means — the word alone ("missed", "not attempted") says little — for a legend or a tooltip
 * beside it; the post's reason says why that one ended so.
 */
const POST_STATUS_WORDS: Record<PostStatus, string> = {
  planned: 'Waiting for its time in the cycle.',
  sending:
    'Handed to Telegram, the answer not in yet. After a crash it is retried with the same message id: never sent twice.',
  sent: 'Telegram delivered it.',
  duplicate: 'Telegram already had it (a retry after a crash): counted as sent, once.',
  failed: 'Telegram refused it, or kept failing; its reason says why.',
  skipped:
    'Stagger did not send it, on purpose: its reason says why (a paused account, the minimum group gap, a group it may not post in…).',
  cancelled:
    'Not sent because the bot was stopped (or the source post could not be forwarded) before its turn.',
  missed: 'Stagger was not running when it was due, and it was too late to send it afterwards.',
  not_attempted: 'The cycle ended (its deadline came) before this post’s turn.',
};

export function postStatusMeaning(status: PostStatus): string {
  return POST_STATUS_WORDS[status];
}
