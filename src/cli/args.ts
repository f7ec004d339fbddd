/**
 * Small helpers shared by the CLI commands: strict option parsing (node:util) and one error type for bad input,
 * which `main` turns into exit code 2 and a one-line message on stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StaggerError } from '../core/errors.js';
import { isRecordId } from '../core/limits.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<O extends OptionSpec>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    // node:util's messages are precise ("Unknown option '--foo'"); keep them on one line.
    throw new UsageError(String((error as Error).message).split('\n')[0] ?? 'bad arguments');
  }
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A numeric option: missing → `fallback`; present but not a number in range → UsageError naming the option. */
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
  const text = raw.trim();
  const value = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  if (rule.integer && !Number.isInteger(value)) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  }
  if (rule.min !== undefined && value < rule.min)
    throw new UsageError(`--${name} must be ≥ ${rule.min}, got ${raw}`);
  if (rule.max !== undefined && value > rule.max)
    throw new UsageError(`--${name} must be ≤ ${rule.max}, got ${raw}`);
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
