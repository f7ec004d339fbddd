/**
 * The one place where database values become domain values. Telegram chat ids, user ids and random_ids are
 * 64-bit: better-sqlite3 (safeIntegers on) returns them as bigint, pg returns int8 as a decimal string. They
 * stay bigint or decimal strings end to end and never pass through a JS number. Small values (counts,
 * millisecond times) are checked to be exact before they become numbers.
 */

export type DbInt = bigint | number | string;

const INT64 = /^-?\d{1,19}$/;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** A database integer as its exact decimal string (ids, random_ids, Telegram ids). */
export function int64(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && INT64.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new TypeError(`not an exact 64-bit integer: ${String(value)}`);
}

export function int64OrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : int64(value);
}

/** A decimal string (or bigint) as a value to bind: checked to be in the signed 64-bit range. */
export function bindInt64(value: string | bigint): bigint {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < MIN_INT64 || big > MAX_INT64) throw new RangeError(`out of the 64-bit range: ${String(value)}`);
  return big;
}

/** A database number that must be exact as a JS number (counts, epoch ms, seconds). */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`not exact as a number: ${value}`);
    }
    return Number(value);
  }
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    const n = Number(value);
    if (Number.isInteger(n) && !Number.isSafeInteger(n))
      throw new RangeError(`not exact as a number: ${value}`);
    return n;
  }
  throw new TypeError(`not a number: ${String(value)}`);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function bool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't';
}

export function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined || value === '') return fallback;
  return JSON.parse(String(value)) as T;
}
