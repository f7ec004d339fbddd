/** What the long-running and database commands share: configuration errors as usage errors, and shutdown on a signal. */
import { readConfig, type Config } from '../config.js';
import { StaggerError } from '../core/errors.js';
import { UsageError } from './args.js';

/** The configuration from the environment; a bad value is bad input (exit 2), not a crash. */
export function configOrUsage(): Config {
  return usageOnStaggerError(() => readConfig());
}

/** Runs `fn`; a StaggerError it raises (bad configuration, wrong secret key…) becomes a one-line usage error. */
export function usageOnStaggerError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    throw error;
  }
}

export async function usageOnStaggerErrorAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * A Node system error (EADDRINUSE, ENOTDIR, ENOTFOUND…) or SQLite refusing its file (SQLITE_NOTADB…): the machine
 * or the configuration says no — not a bug, so no stack trace.
 */
function isEnvironmentError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    error instanceof Error &&
    typeof code === 'string' &&
    (/^E[A-Z0-9]+$/.test(code) || code.startsWith('SQLITE_'))
  );
}

/**
 * Runs `fn` (opening the database, starting the service): a StaggerError, or the environment refusing (a port in
 * use, a data directory that is a file, a file that is no database), becomes a one-line usage error; `what` says
 * what failed ("cannot open the database in ./data").
 */
export async function usageOnStartErrorAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    if (isEnvironmentError(error)) throw new UsageError(`${what}: ${error.message.split('\n')[0]}`);
    throw error;
  }
}

/** How the start-up errors name the database: its directory for SQLite (a PostgreSQL URL may hold a password). */
export function databaseName(config: Config): string {
  return config.databaseUrl ? 'the PostgreSQL database (DATABASE_URL)' : `the database in ${config.dataDir}`;
}

/** Resolves on the first SIGINT or SIGTERM (graceful shutdown follows). */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
