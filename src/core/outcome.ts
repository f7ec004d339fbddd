/**
 * Every answer Telegram can give to "forward this post there", classified once. Gateways report raw answers
 * (`{ ok: true }` or the error text); this module decides what they mean, and the runtime reacts to the class.
 * The table is in `docs/telegram.md` (section 3); the plain-words explanations are what the dashboard shows.
 */

/**
 * What a gateway reports for one call. Never thrown: a Telegram answer is data. `phase: 'source'` marks an error
 * that came from reading the source inside another call (a forward could not resolve the source chat): it is
 * about the source, not the target. A forward's ok answer carries the ids of the messages it created in the group
 * (`messageIds`, in the order of the request's messages, as far as Telegram said; `messageId` is the first).
 */
export type TelegramAnswer =
  | { ok: true; messageId?: number; messageIds?: number[] }
  | { ok: false; error: string; code?: number; phase?: CallPhase };

export type GroupSkipReason =
  | 'write_forbidden'
  | 'not_member'
  | 'restricted'
  | 'topic_closed'
  | 'topic_invalid'
  | 'premium_required'
  | 'payment_required'
  /** The group charges Stars a message (ALLOW_PAYMENT_REQUIRED_X); Stagger never pays. */
  | 'paid_messages'
  | 'banned_in_group'
  | 'admin_required'
  | 'unresolved'
  | 'no_access';

/**
 * `flood_wait`: Telegram said how long to wait; `flood_limit`: a rate limit (code 420) without a usable duration.
 * Both are about how often the account calls, not about what it posts. `connecting` / `unreachable`: the session's
 * connection did not open, it waits before the next connect (core/reachability.ts).
 */
export type SessionPauseReason =
  | 'flood_wait'
  | 'flood_limit'
  | 'peer_flood'
  | 'restricted'
  | 'banned_in_many_groups'
  | 'connecting'
  | 'unreachable';
export type SessionDeadReason =
  'frozen' | 'revoked' | 'deactivated' | 'banned' | 'duplicated' | 'needs_login';
/** `source_unreachable`: no session of the bot can read the source (each one answered as `source_unreachable`). */
export type SourceInvalidReason = 'forwards_restricted' | 'message_missing' | 'source_unreachable';

export type Outcome =
  /** `messageIds`: the messages the forward created in the group, when Telegram said. */
  | { kind: 'sent'; messageIds?: number[] }
  | { kind: 'duplicate' }
  | { kind: 'group_cooldown'; seconds: number; error: string }
  | { kind: 'group_skip'; reason: GroupSkipReason; error: string }
  /** `seconds: null` = the long, configurable pause (PEER_FLOOD, a 420 without a duration…). */
  | { kind: 'session_pause'; seconds: number | null; reason: SessionPauseReason; error: string }
  | { kind: 'session_dead'; reason: SessionDeadReason; error: string }
  | { kind: 'source_invalid'; reason: SourceInvalidReason; error: string }
  /** This session cannot read the source (not a member of its private chat, never met it): others may. */
  | { kind: 'source_unreachable'; error: string }
  /** The session's connection to Telegram did not open: nothing was sent (core/reachability.ts decides the wait). */
  | { kind: 'session_unreachable'; error: string }
  | { kind: 'transient'; error: string }
  | { kind: 'unknown'; error: string };

export type OutcomeKind = Outcome['kind'];

/**
 * Where the call was made. CHANNEL_PRIVATE, PEER_ID_INVALID… are about the source when we read the source — this
 * session cannot read it — and about the target when we forward (each session checks the source first).
 * `connect`: the call never started, because the session's connection to Telegram did not open.
 */
export type CallPhase = 'source' | 'forward' | 'connect';

const SESSION_DEAD: Record<string, SessionDeadReason> = {
  AUTH_KEY_UNREGISTERED: 'revoked',
  AUTH_KEY_INVALID: 'revoked',
  SESSION_REVOKED: 'revoked',
  SESSION_EXPIRED: 'revoked',
  AUTH_KEY_PERM_EMPTY: 'revoked',
  USER_DEACTIVATED: 'deactivated',
  USER_DEACTIVATED_BAN: 'banned',
  PHONE_NUMBER_BANNED: 'banned',
  AUTH_KEY_DUPLICATED: 'duplicated',
  FROZEN_METHOD_INVALID: 'frozen',
  FROZEN_PARTICIPANT_MISSING: 'frozen',
  // The key exists but its login stopped before the two-step password: nothing can be sent with it.
  SESSION_PASSWORD_NEEDED: 'needs_login',
};

const GROUP_SKIP: Record<string, GroupSkipReason> = {
  CHAT_WRITE_FORBIDDEN: 'write_forbidden',
  CHAT_FORBIDDEN: 'no_access',
  CHAT_RESTRICTED: 'restricted',
  CHAT_GUEST_SEND_FORBIDDEN: 'not_member',
  USER_NOT_PARTICIPANT: 'not_member',
  TOPIC_CLOSED: 'topic_closed',
  TOPIC_DELETED: 'topic_closed',
  TOPIC_ID_INVALID: 'topic_invalid',
  USER_BANNED_IN_CHANNEL: 'banned_in_group',
  CHAT_ADMIN_REQUIRED: 'admin_required',
  PREMIUM_ACCOUNT_REQUIRED: 'premium_required',
  // The group charges for posting and this account cannot pay there; Stagger never pays either way.
  PAYMENT_UNSUPPORTED: 'payment_required',
  PEER_ID_INVALID: 'unresolved',
  CHANNEL_INVALID: 'unresolved',
  CHAT_ID_INVALID: 'unresolved',
  USERNAME_NOT_OCCUPIED: 'unresolved',
  USERNAME_INVALID: 'unresolved',
};

const SOURCE_INVALID: Record<string, SourceInvalidReason> = {
  CHAT_FORWARDS_RESTRICTED: 'forwards_restricted',
  MSG_ID_INVALID: 'message_missing',
  MESSAGE_ID_INVALID: 'message_missing',
  MESSAGE_IDS_EMPTY: 'message_missing',
};

/** Answers to reading the source that say this session cannot see its chat (another session may). */
const SOURCE_UNREACHABLE = new Set([
  'CHANNEL_PRIVATE',
  'CHAT_FORBIDDEN',
  'PEER_ID_INVALID',
  'CHANNEL_INVALID',
  'CHAT_ID_INVALID',
  'USERNAME_NOT_OCCUPIED',
  'USERNAME_INVALID',
]);

const TRANSIENT = new Set([
  'TIMEOUT',
  'RPC_CALL_FAIL',
  'RPC_MCGET_FAIL',
  'INTERNAL',
  'INTERNAL_SERVER_ERROR',
  'WORKER_BUSY_TOO_LONG_RETRY',
  'MSG_WAIT_FAILED',
  'MSG_WAIT_TIMEOUT',
  'NETWORK_ERROR',
  'CONNECTION_LOST',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);

/** Telegram's code for "too many calls, wait": FLOOD_WAIT_X and every other rate limit. */
const FLOOD_CODE = 420;

/**
 * A wait as written by Telegram: at most 9 digits (about 31 years). A longer number is no duration anyone
 * could mean, so it is treated as no duration (the long pause), never as a huge or overflowing one.
 */
function waitSeconds(digits: string | undefined): number | null {
  return digits !== undefined && /^\d{1,9}$/.test(digits) ? Number(digits) : null;
}

/** `SLOWMODE_WAIT_30` → 30. */
function secondsAfter(prefix: string, text: string): number | null {
  return text.startsWith(prefix) ? waitSeconds(text.slice(prefix.length)) : null;
}

/**
 * An error name that says it is a flood wait — FLOOD_WAIT_X, FLOOD_PREMIUM_WAIT_X, FLOOD_TEST_PHONE_WAIT_X,
 * P0NY_FLOODWAIT — is one whatever code came with it: a gateway that lost the code must not keep the account
 * posting through a limit. (PEER_FLOOD has no WAIT: a spam limit, classified on its own.)
 */
function isFloodName(error: string): boolean {
  return /^[A-Z0-9_]+$/.test(error) && error.includes('FLOOD') && error.includes('WAIT');
}

/** The seconds of a rate limit's trailing `_X`; null when it gives none that can be used. */
function floodSeconds(error: string): number | null {
  return waitSeconds(/_(\d+)$/.exec(error)?.[1]);
}

/** A rate limit on this account: for the seconds it gives, else the long pause. */
function floodPause(error: string): Outcome {
  const seconds = floodSeconds(error);
  return seconds === null
    ? { kind: 'session_pause', seconds: null, reason: 'flood_limit', error }
    : { kind: 'session_pause', seconds, reason: 'flood_wait', error };
}

/** Telegram's refusal of a message to a group with paid messages; `_X` gives the price in Stars. */
export const PAYMENT_REQUIRED = 'ALLOW_PAYMENT_REQUIRED';

/** The price in a refusal `ALLOW_PAYMENT_REQUIRED_X` (X Stars), or null. */
export function paidStarsIn(error: string | null | undefined): number | null {
  const match = /^ALLOW_PAYMENT_REQUIRED_(\d{1,9})$/.exec((error ?? '').trim().toUpperCase());
  return match ? Number(match[1]) : null;
}

export function classifyAnswer(answer: TelegramAnswer, phase: CallPhase = 'forward'): Outcome {
  if (answer.ok)
    return answer.messageIds?.length ? { kind: 'sent', messageIds: answer.messageIds } : { kind: 'sent' };
  return classifyError(answer.error, answer.code, answer.phase ?? phase);
}

export function classifyError(rawError: string, code?: number, phase: CallPhase = 'forward'): Outcome {
  const error = rawError.trim().toUpperCase();
  // Whatever the connection failed with, Telegram never saw the call: about the session's reach, nothing else.
  if (phase === 'connect') return { kind: 'session_unreachable', error };
  if (error === 'RANDOM_ID_DUPLICATE') return { kind: 'duplicate' };

  if (isFloodName(error)) return floodPause(error);
  const slow = secondsAfter('SLOWMODE_WAIT_', error);
  if (slow !== null) return { kind: 'group_cooldown', seconds: slow, error };
  if (error === 'PEER_FLOOD') return { kind: 'session_pause', seconds: null, reason: 'peer_flood', error };
  if (error === 'USER_RESTRICTED')
    return { kind: 'session_pause', seconds: null, reason: 'restricted', error };

  const dead = SESSION_DEAD[error];
  if (dead) return { kind: 'session_dead', reason: dead, error };

  if (phase === 'source' && SOURCE_UNREACHABLE.has(error)) return { kind: 'source_unreachable', error };
  if (error === 'CHANNEL_PRIVATE') return { kind: 'group_skip', reason: 'no_access', error };
  const source = SOURCE_INVALID[error];
  if (source) return { kind: 'source_invalid', reason: source, error };

  const skip = GROUP_SKIP[error];
  if (skip) return { kind: 'group_skip', reason: skip, error };
  if (error.startsWith('CHAT_SEND_') && error.endsWith('_FORBIDDEN')) {
    return { kind: 'group_skip', reason: 'write_forbidden', error };
  }
  if (error === PAYMENT_REQUIRED || paidStarsIn(error) !== null) {
    return { kind: 'group_skip', reason: 'paid_messages', error };
  }
  // Every other 420 is a rate limit too, however it is named (SLOWMODE_WAIT_X and FROZEN_METHOD_INVALID, also
  // sent with 420, were recognised above).
  if (code === FLOOD_CODE) return floodPause(error);

  if (TRANSIENT.has(error) || (code !== undefined && (code >= 500 || code === -500 || code === -503))) {
    return { kind: 'transient', error };
  }
  return { kind: 'unknown', error };
}

/**
 * Answers about the whole session — a dead key or a limit: nothing more is asked with it for now (a limit is never
 * retried through).
 */
export function stopsSession(answer: TelegramAnswer): boolean {
  if (answer.ok) return false;
  const kind = classifyError(answer.error, answer.code).kind;
  return kind === 'session_dead' || kind === 'session_pause';
}

/** Outcomes that mean the message is in the group. */
export function isDelivered(outcome: Outcome): boolean {
  return outcome.kind === 'sent' || outcome.kind === 'duplicate';
}

/** Plain words for a raw Telegram error, for people (dashboard, CLI, API). Reasons are explained in reasons.ts. */
export function explain(code: string): string {
  return explainTelegram(code) ?? `Telegram answered ${code.trim()}.`;
}

/**
 * Plain words for a Telegram error, or null for a text that is not one (an error name is UPPER_SNAKE_CASE: an
 * unknown one is still said to come from Telegram).
 */
export function explainTelegram(code: string): string | null {
  const key = code.trim();
  const upper = key.toUpperCase();
  if (isFloodName(upper)) {
    const flood = floodSeconds(upper);
    return flood !== null
      ? `Telegram asked this account to slow down for ${flood} s; it pauses, others go on.`
      : 'Telegram asked this account to slow down without saying for how long; it pauses for hours, others go on.';
  }
  const slow = secondsAfter('SLOWMODE_WAIT_', upper);
  if (slow !== null) return `The group has slow mode: this account may post there again in ${slow} s.`;
  const stars = paidStarsIn(upper);
  if (stars !== null)
    return `The group charges ${stars} stars a message (paid messages); Stagger never pays.`;
  if (!/^[A-Z][A-Z0-9_]*$/.test(key)) return null;
  return Object.hasOwn(TELEGRAM_WORDS, key) ? TELEGRAM_WORDS[key]! : `Telegram answered ${key}.`;
}

const TELEGRAM_WORDS: Record<string, string> = {
  RANDOM_ID_DUPLICATE: 'The message was already delivered (a retry of the same post); counted as sent.',
  PEER_FLOOD: 'Telegram limited this account for spam; it is paused for hours. Check it with @SpamBot.',
  USER_RESTRICTED: 'This account is restricted by Telegram; it is paused for hours.',
  CHAT_WRITE_FORBIDDEN: 'This account may not write in the group.',
  CHAT_FORBIDDEN: 'This account has no access to the group.',
  CHAT_RESTRICTED: 'The group is restricted.',
  CHANNEL_PRIVATE: 'The chat is private or the account was removed from it.',
  USER_NOT_PARTICIPANT: 'This account is not a member of the group. Stagger never joins groups.',
  TOPIC_CLOSED: 'The forum topic is closed.',
  TOPIC_DELETED: 'The forum topic was deleted.',
  TOPIC_ID_INVALID: 'The forum topic does not exist in the group (check the topic in the group list).',
  USER_BANNED_IN_CHANNEL: 'This account is banned from writing in the group.',
  CHAT_ADMIN_REQUIRED: 'The target is a channel where only admins post: a configuration error.',
  PREMIUM_ACCOUNT_REQUIRED: 'Telegram requires a Premium account to post this there.',
  PAYMENT_UNSUPPORTED: 'The group charges for posting and this account cannot pay there; Stagger never pays.',
  ALLOW_PAYMENT_REQUIRED: 'The group charges stars a message (paid messages); Stagger never pays.',
  PEER_ID_INVALID: 'This account has never met this chat (not in its dialogs).',
  CHANNEL_INVALID: 'The chat id is not valid for this account.',
  CHAT_ID_INVALID: 'The chat id is not valid.',
  CHAT_FORWARDS_RESTRICTED: 'The source chat forbids forwarding (protected content). Choose another post.',
  MSG_ID_INVALID: 'The source post does not exist (deleted, or a wrong link).',
  MESSAGE_ID_INVALID: 'The source post does not exist (deleted, or a wrong link).',
  AUTH_KEY_UNREGISTERED: 'The session was logged out or revoked; log in again.',
  AUTH_KEY_INVALID: 'The session key is invalid; log in again.',
  SESSION_REVOKED: 'The session was revoked (logged out from another device); log in again.',
  SESSION_EXPIRED: 'The session expired; log in again.',
  USER_DEACTIVATED: 'The account was deleted.',
  USER_DEACTIVATED_BAN: 'The account was banned by Telegram.',
  PHONE_NUMBER_BANNED: 'The phone number is banned by Telegram.',
  AUTH_KEY_DUPLICATED: 'The session was used from two places at once; Telegram revoked it. Log in again.',
  FROZEN_METHOD_INVALID: 'The account is frozen by Telegram.',
  FROZEN_PARTICIPANT_MISSING: 'The account is frozen by Telegram.',
  SESSION_PASSWORD_NEEDED:
    'The session key lost its login (it stopped at the two-step verification password); log in again.',
  TIMEOUT: 'Telegram did not answer in time; retried with the same message id.',
  RPC_CALL_FAIL: 'Telegram failed internally; retried with the same message id.',
  NETWORK_ERROR: 'The connection to Telegram failed; retried with the same message id.',
  CONNECT_TIMEOUT:
    'Telegram’s data centre did not open a connection for this account in time; nothing was sent, and the account tries again after a wait.',
  CONNECT_FAILED:
    'The connection to Telegram could not be started for this account; nothing was sent, and the account tries again after a wait.',
};
