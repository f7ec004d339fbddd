/**
 * The accepted range of every number a customer or operator can set — one definition that the API's schemas,
 * the start rules, the preview and the CLI all read, so a value one of them accepts is never refused (or, worse,
 * accepted and then crashes the runtime) in another. The message of a refusal always names the limit.
 */
import { StaggerError } from './errors.js';

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
  /** What the number means, for messages ("seconds between two posts of one session"). */
  readonly unit: string;
}

const range = (min: number, max: number, integer: boolean, unit: string): NumberRange => ({
  min,
  max,
  integer,
  unit,
});

const DAY_SECONDS = 86_400;

export const LIMITS = {
  /** Starter's cycle T: at least a minute, at most a year (525,600 minutes). */
  totalCycleMinutes: range(1, 525_600, true, 'minutes'),
  /** Telegram's own pace for one account is about one message a second; 0.2 s is the tightest we allow. */
  delayBetweenPosts: range(0.2, DAY_SECONDS, false, 'seconds'),
  delayBetweenCycles: range(0, 7 * DAY_SECONDS, false, 'seconds'),
  minGroupGapSeconds: range(0, DAY_SECONDS, false, 'seconds'),
  /** Sessions of a plan preview (`stagger plan`, the API preview uses the customer's own). */
  planSessions: range(0, 100_000, true, 'sessions'),
  /** Sessions an operator may grant one customer. */
  maxSessions: range(0, 1_000, true, 'sessions'),
} as const satisfies Record<string, NumberRange>;

export type LimitName = keyof typeof LIMITS;

/** Why `value` is outside `limit` (in words, naming the limit), or null when it fits. */
export function rangeProblem(limit: NumberRange, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
  if (limit.integer && !Number.isInteger(value)) return 'must be a whole number';
  if (value < limit.min) return `must be at least ${limit.min} ${limit.unit}`;
  if (value > limit.max) return `must be at most ${limit.max} ${limit.unit}`;
  return null;
}

/** The value when it fits the limit; else a StaggerError with `code`, naming the field and the limit. */
export function checkRange(limit: NumberRange, field: string, value: unknown, code: string): number {
  const problem = rangeProblem(limit, value);
  if (problem !== null) {
    throw new StaggerError(code, `${field} ${problem} (got ${JSON.stringify(value) ?? 'none'})`, {
      details: { field, min: limit.min, max: limit.max },
    });
  }
  return value as number;
}

/** The largest signed 64-bit integer: every database id is below it (SQLite and PostgreSQL `bigint`). */
const MAX_ID = 2n ** 63n - 1n;

/** Whether `text` is a positive database id that fits the engines' 64-bit integers. */
export function isRecordId(text: string): boolean {
  return /^[0-9]{1,19}$/.test(text) && BigInt(text) > 0n && BigInt(text) <= MAX_ID;
}
