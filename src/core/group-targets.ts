/**
 * Parsing of the group list a schedule posts into: one target per line.
 *
 * A target is a group chat id (`-1001234567890` for supergroups, `-123456789` for basic groups), `@username`, or a
 * `t.me/<username>` link, optionally followed by a forum topic (`/42`). Ids stay decimal strings end to end (they are
 * 64-bit; a JS number would silently round them). Each target has a canonical `key` used to find duplicates:
 * the id, or `@` + the lower-cased username (Telegram usernames are case-insensitive), plus `/<topic>`.
 */
import { CoreErrorCode, StaggerError } from './errors.js';
import type { ChatRef } from './post-link.js';
import { isReservedSegment, MAX_SMALL_ID, quote, smallIdProblem, TME_HOSTS, usernameProblem } from './tme.js';

export const MAX_GROUP_TARGETS = 10_000;

export interface GroupTarget {
  chat: ChatRef;
  topicId?: number;
  key: string;
}

/** `line` is 1-based in the input. */
export interface TargetLineError {
  line: number;
  text: string;
  message: string;
}

export interface TargetWarning {
  code: string;
  message: string;
  line: number;
}

export interface ParsedTargets {
  targets: GroupTarget[];
  errors: TargetLineError[];
  warnings: TargetWarning[];
}

const MAX_TOPIC_ID = MAX_SMALL_ID;
const MIN_INT64 = -(1n << 63n);
const EXPECTED =
  'expected a group id (-1001234567890), @username or t.me/username, optionally with /<topic id>';
const INVITE =
  'invite links are not group targets: Stagger never joins groups; give the id or @username of a group the account is already in';
/** How many bad lines the message of assertGroupTargets spells out; all of them are in `details.errors`. */
const MAX_LINES_IN_MESSAGE = 20;

function fail(text: string, message: string): never {
  throw new StaggerError(CoreErrorCode.InvalidGroupTargets, message, { details: { input: text } });
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Removes a trailing ` # comment` (a `#` preceded by whitespace) and surrounding whitespace. */
function stripComment(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('#')) return '';
  const match = /\s#/.exec(trimmed);
  return (match === null ? trimmed : trimmed.slice(0, match.index)).trim();
}

function parseTopic(text: string, raw: string): number {
  const problem = smallIdProblem('topic id', raw, MAX_TOPIC_ID);
  if (problem) fail(text, problem);
  return Number(raw);
}

function checkUsername(text: string, name: string): string {
  const problem = usernameProblem(name);
  if (problem) fail(text, `${quote(name)} is not a valid username: ${problem}`);
  return name;
}

function target(chat: ChatRef, topicId: number | undefined): GroupTarget {
  const base = chat.kind === 'id' ? chat.chatId : `@${chat.username.toLowerCase()}`;
  return topicId === undefined ? { chat, key: base } : { chat, topicId, key: `${base}/${topicId}` };
}

function parseNumericId(text: string, raw: string): ChatRef {
  const sign = raw.startsWith('-') ? '-' : raw.startsWith('+') ? '+' : '';
  const digits = raw.slice(sign.length);
  if (/^0+$/.test(digits)) fail(text, `${quote(raw)} is not a chat id: chat ids are never 0`);
  if (sign !== '-') {
    fail(
      text,
      `${quote(raw)} is a positive id: positive ids are users or bots, and Stagger posts only to groups ` +
        '(group ids are negative, e.g. -1001234567890 or -123456789)',
    );
  }
  if (digits.startsWith('0')) fail(text, `chat id ${quote(raw)} must be written without leading zeros`);
  if (digits.length > 19 || -BigInt(digits) < MIN_INT64) {
    fail(
      text,
      `chat id ${quote(raw)} is out of range: chat ids are signed 64-bit integers (minimum ${MIN_INT64})`,
    );
  }
  return { kind: 'id', chatId: raw };
}

function parseLink(text: string, link: string): GroupTarget {
  const rest = link.replace(/^https?:\/\//i, '');
  if (/[?#]/.test(rest)) {
    fail(text, `group links must not have a query string or fragment (?… or #…); ${EXPECTED}`);
  }
  const slash = rest.indexOf('/');
  const host = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  if (!TME_HOSTS.has(host)) fail(text, `${quote(host)} is not t.me or telegram.me; ${EXPECTED}`);
  let path = slash < 0 ? '' : rest.slice(slash + 1);
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '') fail(text, `link has no group username; ${EXPECTED}`);
  const segments = path.split('/');
  const [first = '', topic, message, ...extra] = segments;
  if (/^\+[0-9]+$/.test(first)) {
    fail(text, `t.me/${first} is a phone number link (a person); Stagger posts only to groups; ${EXPECTED}`);
  }
  if (first.startsWith('+') || first.toLowerCase() === 'joinchat') fail(text, INVITE);
  if (segments.some((s) => s === '')) fail(text, `link has an empty path segment (//); ${EXPECTED}`);
  if (first.toLowerCase() === 'c') {
    fail(
      text,
      `t.me/c/… links point to messages in a private chat, not to a group; give the group's id instead (-100…)`,
    );
  }
  if (isReservedSegment(first)) {
    fail(text, `t.me/${first}/… is a Telegram feature link, not a group; ${EXPECTED}`);
  }
  const username = checkUsername(text, first);
  if (message !== undefined) {
    fail(
      text,
      extra.length > 0
        ? `too many path segments; ${EXPECTED}`
        : `${quote(link)} is a post link (message ${message} in topic ${topic ?? ''}), not a group; ` +
            `give the group as t.me/${username} or t.me/${username}/${topic ?? ''} for a forum topic`,
    );
  }
  return target({ kind: 'username', username }, topic === undefined ? undefined : parseTopic(text, topic));
}

/**
 * Parses one target (surrounding whitespace and a trailing ` # comment` are ignored). Throws `StaggerError` with
 * code `INVALID_GROUP_TARGETS` and the reason otherwise.
 */
export function parseGroupTarget(text: string): GroupTarget {
  const body = stripComment(text);
  if (body === '') fail(text, `group target is empty; ${EXPECTED}`);

  if (/^[+-]?[0-9]+(\/|$)/.test(body)) {
    const slash = body.indexOf('/');
    const rawId = slash < 0 ? body : body.slice(0, slash);
    const chat = parseNumericId(text, rawId);
    if (slash < 0) return target(chat, undefined);
    const topic = body.slice(slash + 1);
    if (topic.includes('/')) fail(text, `too many /… parts; ${EXPECTED}`);
    return target(chat, parseTopic(text, topic));
  }

  if (body.startsWith('@')) {
    const parts = body.slice(1).split('/');
    const [name = '', topic, ...extra] = parts;
    if (extra.length > 0) fail(text, `too many /… parts; ${EXPECTED}`);
    const username = checkUsername(text, name);
    return target({ kind: 'username', username }, topic === undefined ? undefined : parseTopic(text, topic));
  }

  if (/^https?:\/\//i.test(body) || /^(www\.)?(t|telegram)\.me(\/|$)/i.test(body))
    return parseLink(text, body);
  if (/^[+]/.test(body)) fail(text, INVITE);
  if (/^[a-z][a-z0-9+.-]*:/i.test(body)) fail(text, `${quote(body)} is not a t.me link; ${EXPECTED}`);

  if (/^[A-Za-z][A-Za-z0-9_]*(\/[0-9]+)?$/.test(body)) {
    const name = body.split('/')[0] ?? body;
    fail(
      text,
      `bare word ${quote(body)}: use @${name} for a username (or the group's id, e.g. -1001234567890)`,
    );
  }
  fail(text, `${quote(body)} is not a group target; ${EXPECTED}`);
}

interface Scan {
  parsed: ParsedTargets;
  /** Distinct targets seen, including those over the maximum. */
  distinct: number;
  tooMany: TargetLineError | undefined;
}

function scan(input: string | readonly string[], maxTargets: number): Scan {
  const lines = typeof input === 'string' ? input.split(/\r?\n/) : input;
  const targets: GroupTarget[] = [];
  const errors: TargetLineError[] = [];
  const warnings: TargetWarning[] = [];
  const firstLineOfKey = new Map<string, number>();
  let tooMany: TargetLineError | undefined;

  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (stripComment(text) === '') return;
    let parsed: GroupTarget;
    try {
      parsed = parseGroupTarget(text);
    } catch (error) {
      if (!(error instanceof StaggerError)) throw error;
      errors.push({ line, text: clip(text, 200), message: error.message });
      return;
    }
    const seen = firstLineOfKey.get(parsed.key);
    if (seen !== undefined) {
      warnings.push({
        code: 'DUPLICATE_GROUP',
        line,
        message: `line ${line} repeats line ${seen} (${parsed.key}); kept once`,
      });
      return;
    }
    firstLineOfKey.set(parsed.key, line);
    if (targets.length < maxTargets) {
      targets.push(parsed);
    } else if (tooMany === undefined) {
      tooMany = {
        line,
        text: clip(text, 200),
        message: `too many groups: line ${line} is group ${maxTargets + 1}; the maximum is ${maxTargets}`,
      };
      errors.push(tooMany);
    }
  });

  return { parsed: { targets, errors, warnings }, distinct: firstLineOfKey.size, tooMany };
}

function limitOf(options: { maxTargets?: number } | undefined): number {
  const max = options?.maxTargets ?? MAX_GROUP_TARGETS;
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new StaggerError(
      CoreErrorCode.InvalidGroupTargets,
      `maxTargets must be a non-negative integer, got ${max}`,
    );
  }
  return max;
}

/**
 * The public address of a message in a group, `https://t.me/<username>/<id>`: for a group with a public username —
 * its key is `@name`, or `username` is one resolved for it — else null (a `-100…` id has no public address; a
 * private group's messages open only from inside Telegram).
 */
export function publicMessageLink(
  groupKey: string,
  messageId: number,
  username: string | null = null,
): string | null {
  let name = username;
  if (name === null) {
    try {
      const { chat } = parseGroupTarget(groupKey);
      if (chat.kind === 'username') name = chat.username;
    } catch {
      return null;
    }
  }
  if (name === null || usernameProblem(name) !== null) return null;
  if (!Number.isSafeInteger(messageId) || messageId <= 0) return null;
  return `https://t.me/${name}/${messageId}`;
}

/**
 * Parses a list of targets, one per line (a string is split on line breaks; an array is one element per line).
 * Blank lines and `#` comments are skipped, duplicates are dropped with a `DUPLICATE_GROUP` warning, bad lines are
 * reported in `errors` (never thrown), and going over `maxTargets` distinct targets adds one error at the first
 * line over the limit (`targets` then holds the first `maxTargets`).
 */
export function parseGroupTargets(
  input: string | readonly string[],
  options?: { maxTargets?: number },
): ParsedTargets {
  return scan(input, limitOf(options)).parsed;
}

/**
 * Like parseGroupTargets, but throws: `TOO_MANY_GROUPS` when there are more than `maxTargets` distinct targets,
 * otherwise `INVALID_GROUP_TARGETS` listing the bad lines when there are any (all of them in `details.errors`).
 */
export function assertGroupTargets(
  input: string | readonly string[],
  options?: { maxTargets?: number },
): ParsedTargets {
  const max = limitOf(options);
  const { parsed, distinct, tooMany } = scan(input, max);
  if (tooMany !== undefined) {
    throw new StaggerError(
      CoreErrorCode.TooManyGroups,
      `too many groups: ${distinct} distinct groups, the maximum is ${max} (line ${tooMany.line} is the first over)`,
      {
        details: {
          max,
          count: distinct,
          line: tooMany.line,
          errors: parsed.errors.filter((e) => e !== tooMany),
        },
      },
    );
  }
  const { errors } = parsed;
  if (errors.length > 0) {
    const shown = errors
      .slice(0, MAX_LINES_IN_MESSAGE)
      .map((e) => `line ${e.line}: ${e.message}`)
      .join('; ');
    const more =
      errors.length > MAX_LINES_IN_MESSAGE ? `; and ${errors.length - MAX_LINES_IN_MESSAGE} more` : '';
    throw new StaggerError(
      CoreErrorCode.InvalidGroupTargets,
      `${errors.length} bad line${errors.length === 1 ? '' : 's'}: ${shown}${more}`,
      { details: { errors } },
    );
  }
  return parsed;
}
