/**
 * Small helpers shared by the CLI commands: strict option parsing (node:util) and one error type for bad input,
 * which `main` turns into exit code 2 and a one-line message on stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StaggerError } from '../core/errors.js';
import { isRecordId, rangeProblem, type NumberRange } from '../core/limits.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** A token that reads as a negative number (`-1`, `-0.5`, `-.5`, `-1e3`): a value, never an option. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `--name -1` → `--name=-1` for a string option: node:util refuses a value that starts with `-` as ambiguous, so
 * without this a negative number never reaches the range check that explains what is allowed.
 */
function attachNegativeValues(argv: readonly string[], options: OptionSpec): string[] {
  const shortNames = new Map<string, string>();
  for (const [long, option] of Object.entries(options)) if (option.short) shortNames.set(option.short, long);
  const stringOption = (token: string): string | undefined => {
    const long = token.startsWith('--')
      ? token.slice(2)
      : /^-[^-]$/.test(token)
        ? shortNames.get(token.slice(1))
        : undefined;
    return long !== undefined && Object.hasOwn(options, long) && options[long]!.type === 'string'
      ? long
      : undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = stringOption(token);
    const next = argv[i + 1];
    if (long === undefined || next === undefined) {
      out.push(token);
    } else if (NEGATIVE_NUMBER.test(next)) {
      out.push(`--${long}=${next}`);
      i++;
    } else {
      // The option's value, whatever it looks like: node:util decides about it, not this loop.
      out.push(token, next);
      i++;
    }
  }
  return out;
}

export function parseOptions<O extends OptionSpec>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args: attachNegativeValues(argv, options),
      options,
      strict: true,
      allowPositionals,
    });
  } catch (error) {
    // node:util's messages are precise ("Unknown option '--foo'"); keep them on one line.
    throw new UsageError(String((error as Error).message).split('\n')[0] ?? 'bad arguments');
  }
}

/** Decimal notation, optionally with an exponent (`5`, `-0.5`, `.5`, `1e3`); anything else is not a number. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * The number `raw` spells, or a UsageError naming the option. A number too large for a double (`1e400`) is kept as
 * the largest double of its sign, so that the range check reports it as out of range rather than as "not a number".
 */
function parseNumber(name: string, raw: string): number {
  const text = raw.trim();
  if (!NUMBER.test(text)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  const value = Number(text);
  if (value === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  if (value === Number.NEGATIVE_INFINITY) return -Number.MAX_VALUE;
  return value === 0 ? 0 : value; // -0 is 0
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/**
 * A numeric option of the CLI alone (a count of cycles, a port…): missing → `fallback`; present but not a number
 * in range → UsageError naming the option. A number the API accepts too is a `limitOption`.
 */
export function numberOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  rule?: NumberRule,
): number;
export function numberOption(
  name: string,
  raw: string | undefined,
  fallback: undefined,
  rule?: NumberRule,
): number | undefined;
export function numberOption(
  name: string,
  raw: string | undefined,
  fallback: number | undefined,
  rule: NumberRule = {},
): number | undefined {
  if (raw === undefined) return fallback;
  const value = parseNumber(name, raw);
  if (rule.integer && !Number.isInteger(value)) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  }
  if (rule.min !== undefined && value < rule.min)
    throw new UsageError(`--${name} must be ≥ ${rule.min}, got ${raw}`);
  if (rule.max !== undefined && value > rule.max)
    throw new UsageError(`--${name} must be ≤ ${rule.max}, got ${raw}`);
  if (Math.abs(value) === Number.MAX_VALUE) throw new UsageError(`--${name} is too large, got ${raw}`);
  return value;
}

/**
 * A numeric option that is also a setting of the API (a delay, the cycle length…): its range is the one in
 * `LIMITS`, and the message names the limit the way the API does ("--delay must be at least 0.2 seconds, got 0").
 */
export function limitOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  limit: NumberRange,
): number;
export function limitOption(
  name: string,
  raw: string | undefined,
  fallback: undefined,
  limit: NumberRange,
): number | undefined;
export function limitOption(
  name: string,
  raw: string | undefined,
  fallback: number | undefined,
  limit: NumberRange,
): number | undefined {
  if (raw === undefined) return fallback;
  const value = parseNumber(name, raw);
  const problem = rangeProblem(limit, value);
  if (problem !== null) throw new UsageError(`--${name} ${problem}, got ${raw.trim()}`);
  return value;
}

/**
 * A database id option (`--id`, `--user`): a positive whole number that fits the engines' 64-bit integers, checked
 * before the database sees it (a larger one is refused by SQLite and PostgreSQL with an error, not "no such row").
 */
export function recordIdOption(name: string, raw: string | undefined, what: string): string {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`--${name} ID (${what}) is required`);
  const text = raw.trim();
  if (!isRecordId(text)) {
    throw new UsageError(
      `--${name} must be ${what}: a positive whole number below 2^63, got ${JSON.stringify(raw)}`,
    );
  }
  return text;
}

/** A range for a help text: `0.2…86400`. */
export function span(limit: NumberRange): string {
  return `${limit.min}…${limit.max}`;
}

export function choiceOption<T extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (raw === undefined) return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
}

/** Bad input from the core (a typed StaggerError) is a usage error for the CLI: exit 2 with its message. */
export function asUsageError(error: unknown): never {
  if (error instanceof StaggerError) throw new UsageError(error.message);
  throw error;
}

/**
 * A command group's answer to its first word when that word is no subcommand: `--help`/`-h`/`help` print the
 * usage on stdout (exit 0); nothing at all is bad input, so the usage goes to stderr (exit 2). Null otherwise.
 */
export function groupUsage(sub: string | undefined, help: string): number | null {
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (sub === undefined) {
    process.stderr.write(`${help}\n`);
    return 2;
  }
  return null;
}
