/**
 * Parsing of Telegram post links (the message a schedule forwards or copies).
 *
 * Accepted: `https://t.me/<channel>/<message id>`, the same with `http://`, without a scheme, on `telegram.me` or a
 * `www.` host, the `t.me/s/…` preview form, private `t.me/c/<channel id>/<message id>` links, forum topic links
 * (`…/<topic id>/<message id>`), and the app forms `tg://resolve?domain=…&post=…` / `tg://privatepost?channel=…&post=…`.
 *
 * Chat ids are decimal strings, never JS numbers: Telegram ids are 64-bit. A private link carries the channel's
 * internal (MTProto) id; its Bot API chat id is -(10^12 + internal), which is the familiar "-100" + internal for the
 * 10-digit ids every channel has today. The arithmetic is done with BigInt so shorter or longer internal ids map
 * correctly too (string concatenation would give a different, wrong chat).
 */
import { CoreErrorCode, isStaggerError, StaggerError } from './errors.js';
import { isReservedSegment, quote, smallIdProblem, TME_HOSTS, usernameProblem } from './tme.js';

export type ChatRef = { kind: 'username'; username: string } | { kind: 'id'; chatId: string };

export interface PostRef {
  chat: ChatRef;
  messageId: number;
  topicId?: number;
  /** `https://t.me/<name>/[<topic>/]<id>` or `https://t.me/c/<internal>/[<topic>/]<id>`. */
  canonical: string;
}

/** Largest message id / topic id: Telegram message ids are signed 32-bit. */
const MAX_MESSAGE_ID = 2_147_483_647;
const DIGITS = /^[0-9]+$/;
/** Bot API chat id of a channel = ZERO_CHANNEL_ID - internal id. */
const ZERO_CHANNEL_ID = -1_000_000_000_000n;
/** Largest internal channel id (TDLib ChannelId::MAX_CHANNEL_ID = 10^12 - 2^31). */
const MAX_INTERNAL_CHANNEL_ID = 1_000_000_000_000n - (1n << 31n);

const EXPECTED = 'expected t.me/<channel>/<message id> or t.me/c/<id>/<message id>';
function fail(input: string, message: string): never {
  throw new StaggerError(CoreErrorCode.InvalidPostLink, message, { details: { input } });
}

/** A positive integer ≤ 2147483647 written in plain decimal (no sign, no leading zeros). */
function parseSmallId(input: string, what: string, raw: string): number {
  const problem = smallIdProblem(what, raw, MAX_MESSAGE_ID);
  if (problem) fail(input, problem);
  return Number(raw);
}

/** Validates the internal channel id of a `t.me/c/` link and returns it with the Bot API chat id. */
function parseInternalChannelId(input: string, raw: string): { internal: string; chatId: string } {
  const what = 'channel id';
  if (!DIGITS.test(raw)) fail(input, `${what} ${quote(raw)} in a t.me/c/ link is not a positive integer`);
  if (/^0+$/.test(raw))
    fail(input, `${what} ${quote(raw)} in a t.me/c/ link is not a positive integer (it is zero)`);
  if (raw.startsWith('0'))
    fail(input, `${what} ${quote(raw)} in a t.me/c/ link must be written without leading zeros`);
  const internal = BigInt(raw);
  if (internal > MAX_INTERNAL_CHANNEL_ID) {
    fail(
      input,
      `${what} ${quote(raw)} in a t.me/c/ link is out of range (the maximum is ${MAX_INTERNAL_CHANNEL_ID})`,
    );
  }
  return { internal: raw, chatId: (ZERO_CHANNEL_ID - internal).toString() };
}

function checkUsername(input: string, name: string): string {
  const problem = usernameProblem(name);
  if (problem) fail(input, `${quote(name)} is not a valid channel username: ${problem}`);
  return name;
}

/** Splits `a=1&b&c=2` into a map (first occurrence of a key wins; keys are case-insensitive). */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

function rejectComment(input: string, params: Map<string, string>): void {
  const comment = params.get('comment');
  if (comment !== undefined) {
    fail(
      input,
      `comment links are not post links: ?comment=${comment} points to a comment in the channel's discussion group, ` +
        'which is a different message in a different chat; link the channel post itself (without ?comment=)',
    );
  }
}

/** The topic id from `?thread=` / `?topic=`, if any. */
function queryTopic(input: string, params: Map<string, string>): number | undefined {
  const thread = params.get('thread');
  const topic = params.get('topic');
  const threadId = thread === undefined ? undefined : parseSmallId(input, 'topic id', thread);
  const topicId = topic === undefined ? undefined : parseSmallId(input, 'topic id', topic);
  if (threadId !== undefined && topicId !== undefined && threadId !== topicId) {
    fail(input, `conflicting topic ids: ?thread=${threadId} and ?topic=${topicId}`);
  }
  return threadId ?? topicId;
}

function mergeTopic(
  input: string,
  pathTopic: number | undefined,
  fromQuery: number | undefined,
): number | undefined {
  if (pathTopic !== undefined && fromQuery !== undefined && pathTopic !== fromQuery) {
    fail(input, `conflicting topic ids: ${pathTopic} in the path and ${fromQuery} in the query string`);
  }
  return pathTopic ?? fromQuery;
}

function build(chat: ChatRef, pathBase: string, messageId: number, topicId: number | undefined): PostRef {
  const canonical = `https://t.me/${pathBase}/${topicId === undefined ? '' : `${topicId}/`}${messageId}`;
  return topicId === undefined ? { chat, messageId, canonical } : { chat, messageId, topicId, canonical };
}

function privatePost(
  input: string,
  rawInternal: string,
  rawMessageId: string,
  rawTopic: string | undefined,
  fromQuery: number | undefined,
): PostRef {
  const { internal, chatId } = parseInternalChannelId(input, rawInternal);
  const pathTopic = rawTopic === undefined ? undefined : parseSmallId(input, 'topic id', rawTopic);
  const messageId = parseSmallId(input, 'message id', rawMessageId);
  return build({ kind: 'id', chatId }, `c/${internal}`, messageId, mergeTopic(input, pathTopic, fromQuery));
}

function publicPost(
  input: string,
  rawName: string,
  rawMessageId: string,
  rawTopic: string | undefined,
  fromQuery: number | undefined,
): PostRef {
  const username = checkUsername(input, rawName);
  const pathTopic = rawTopic === undefined ? undefined : parseSmallId(input, 'topic id', rawTopic);
  const messageId = parseSmallId(input, 'message id', rawMessageId);
  return build({ kind: 'username', username }, username, messageId, mergeTopic(input, pathTopic, fromQuery));
}

const INVITE =
  'invite links are not post links: Stagger never joins groups; link a message (t.me/<channel>/<message id>)';

function parseTgLink(input: string, rest: string): PostRef {
  const q = rest.indexOf('?');
  const host = (q < 0 ? rest : rest.slice(0, q)).replace(/\/$/, '').toLowerCase();
  const params = parseQuery(q < 0 ? '' : rest.slice(q + 1));
  if (host === 'join') fail(input, INVITE);
  if (host !== 'resolve' && host !== 'privatepost') {
    fail(input, `not a Telegram post link: tg://${host} is not a message; ${EXPECTED}`);
  }
  rejectComment(input, params);
  const post = params.get('post');
  if (post === undefined || post === '') fail(input, `link has no message id (post=…); ${EXPECTED}`);
  const topic = queryTopic(input, params);
  if (host === 'privatepost') {
    const channel = params.get('channel');
    if (channel === undefined || channel === '') fail(input, 'tg://privatepost link has no channel=…');
    return privatePost(input, channel, post, undefined, topic);
  }
  const domain = params.get('domain');
  if (domain === undefined || domain === '') fail(input, 'tg://resolve link has no domain=…');
  return publicPost(input, domain, post, undefined, topic);
}

/**
 * Parses a link to one Telegram message. Throws `StaggerError` with code `INVALID_POST_LINK` and a message saying
 * what is wrong for anything that is not exactly one message of a channel or group.
 */
export function parsePostLink(input: string): PostRef {
  const text = input.trim();
  if (text === '') fail(input, `post link is empty; ${EXPECTED}`);

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/)?/.exec(text);
  let rest = text;
  if (scheme !== null) {
    const name = (scheme[1] ?? '').toLowerCase();
    if (name === 'tg') return parseTgLink(input, text.slice(scheme[0].length));
    if ((name === 'http' || name === 'https') && scheme[2] !== undefined) {
      rest = text.slice(scheme[0].length);
    } else if (scheme[2] !== undefined) {
      fail(input, `not a Telegram post link: ${name}:// links are not supported; ${EXPECTED}`);
    }
    // Otherwise "t.me:…" or similar: no scheme; the host check below reports it.
  }

  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const params = parseQuery(q < 0 ? '' : rest.slice(q + 1));
  if (q >= 0) rest = rest.slice(0, q);

  const slash = rest.indexOf('/');
  const host = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  if (!TME_HOSTS.has(host)) {
    fail(input, `not a Telegram post link: ${quote(host)} is not t.me or telegram.me; ${EXPECTED}`);
  }
  let path = slash < 0 ? '' : rest.slice(slash + 1);
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '') fail(input, `link has no channel and message id; ${EXPECTED}`);
  const segments = path.split('/');
  if (segments.some((s) => s === '')) fail(input, `link has an empty path segment (//); ${EXPECTED}`);

  let first = segments[0] ?? '';
  if (/^\+[0-9]+$/.test(first))
    fail(input, `t.me/${first} is a phone number link (a person), not a post; ${EXPECTED}`);
  if (first.startsWith('+') || first.toLowerCase() === 'joinchat') fail(input, INVITE);

  rejectComment(input, params);
  const fromQuery = queryTopic(input, params);

  if (first.toLowerCase() === 'c') {
    const [, internal, a, b, ...extra] = segments;
    if (internal === undefined || a === undefined || extra.length > 0) {
      fail(
        input,
        extra.length > 0
          ? `too many path segments for a private link; expected t.me/c/<id>/<message id> or t.me/c/<id>/<topic id>/<message id>`
          : `private links look like t.me/c/<id>/<message id>; this one has no message id`,
      );
    }
    return b === undefined
      ? privatePost(input, internal, a, undefined, fromQuery)
      : privatePost(input, internal, b, a, fromQuery);
  }

  if (first.toLowerCase() === 's') {
    // Web preview link: t.me/s/<channel>/<id> shows the same post.
    segments.shift();
    if (segments.length === 0)
      fail(input, `t.me/s/ needs a channel and a message id: t.me/s/<channel>/<message id>`);
    first = segments[0] ?? '';
  }

  if (isReservedSegment(first)) {
    fail(
      input,
      `not a Telegram post link: t.me/${first}/… is a Telegram feature link, not a channel; ${EXPECTED}`,
    );
  }
  const [name, a, b, ...extra] = segments;
  if (name === undefined || a === undefined) {
    checkUsername(input, first);
    fail(input, `link has no message id: t.me/${first} is a channel, not a post; ${EXPECTED}`);
  }
  if (extra.length > 0) {
    fail(
      input,
      `too many path segments; expected t.me/<channel>/<message id> or t.me/<channel>/<topic id>/<message id>`,
    );
  }
  return b === undefined
    ? publicPost(input, name, a, undefined, fromQuery)
    : publicPost(input, name, b, a, fromQuery);
}

/** The parsed link, or null when the text is not a post link (for checks that only need to know). */
export function tryParsePostLink(input: string): PostRef | null {
  try {
    return parsePostLink(input);
  } catch (error) {
    if (isStaggerError(error)) return null;
    throw error;
  }
}

/** `@name` for a username, the decimal chat id otherwise. */
export function formatChatRef(chat: ChatRef): string {
  return chat.kind === 'username' ? `@${chat.username}` : chat.chatId;
}
