/**
 * What post links and group targets share: the t.me hosts, the path segments that are Telegram features rather
 * than chat names, the username rules, small-id rules, and quoting user text in messages. Each parser raises its
 * own error code with these messages.
 */

export const TME_HOSTS: ReadonlySet<string> = new Set(['t.me', 'www.t.me', 'telegram.me', 'www.telegram.me']);

/** First path segments of t.me that are Telegram features, not chat names. */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  'c',
  's',
  'addstickers',
  'addemoji',
  'addtheme',
  'addlist',
  'share',
  'msg',
  'proxy',
  'socks',
  'iv',
  'login',
  'boost',
  'bg',
  'setlanguage',
  'invoice',
  'm',
  'contact',
  'confirmphone',
  'giftcode',
  'nft',
]);

export function isReservedSegment(segment: string): boolean {
  return RESERVED_SEGMENTS.has(segment.toLowerCase()) || segment.startsWith('$');
}

/** Telegram's public usernames: 4–32 characters, a letter first, letters, digits and `_`. */
const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

/** Why `name` is not a valid username (to follow "… is not a valid username: "), or null when it is. */
export function usernameProblem(name: string): string | null {
  if (!USERNAME.test(name))
    return 'it must be 4-32 characters, start with a letter and use only letters, digits and _';
  if (name.endsWith('_')) return 'it must not end with _';
  if (name.includes('__')) return 'it must not contain __';
  return null;
}

/** Quote user text in a message, shortened so a pasted novel does not end up in logs. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** Message ids and topic ids: positive, at most 2^31-1. */
export const MAX_SMALL_ID = 2_147_483_647;

/**
 * Why `raw` is not a positive integer ≤ max written in plain decimal (no sign, no leading zeros — one spelling
 * per id, so keys cannot collide), or null when it is.
 */
export function smallIdProblem(what: string, raw: string, max = MAX_SMALL_ID): string | null {
  if (!/^[0-9]+$/.test(raw)) return `${what} ${quote(raw)} is not a positive integer`;
  if (/^0+$/.test(raw)) return `${what} ${quote(raw)} is not a positive integer (it is zero)`;
  if (raw.startsWith('0')) return `${what} ${quote(raw)} must be written without leading zeros`;
  if (raw.length > 10 || Number(raw) > max)
    return `${what} ${quote(raw)} is too large (the maximum is ${max})`;
  return null;
}
