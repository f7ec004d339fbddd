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
