/**
 * Closing the parts of a process in order, each on its own and all within a bound. A part whose close throws is
 * logged and the next one still closes; a part that hangs is waited for only until the bound, so a stuck call
 * cannot keep the gateway's connections and the database open, nor the process from exiting.
 */
import type { Logger } from './logger.js';
import type { Clock } from './runtime/clock.js';

export interface ClosablePart {
  /** How the logs name it. */
  name: string;
  close(): Promise<unknown> | void;
}

/**
 * Once the bound has passed, each part still to close gets this long: the ones after a hung part (the store
 * last) are usually quick, and closing them is the point.
 */
const LATE_PART_MS = 1_000;

/** Closes `parts` one after the other; returns the names of those that failed or did not close in time. */
export async function closeInOrder(
  parts: readonly ClosablePart[],
  options: { clock: Clock; withinMs: number; logger: Logger },
): Promise<string[]> {
  const { clock, logger } = options;
  const deadline = clock.now() + options.withinMs;
  const notClosed: string[] = [];
  for (const part of parts) {
    const waitMs = Math.max(deadline - clock.now(), LATE_PART_MS);
    const timer = new AbortController();
    const closing = Promise.resolve()
      .then(() => part.close())
      .then(
        () => 'closed' as const,
        (error: unknown) => ({ error }),
      );
    const outcome = await Promise.race([
      closing,
      clock.sleep(waitMs, timer.signal).then(() => 'timeout' as const),
    ]);
    // The wait ends with the close, so no timer outlives it.
    timer.abort();
    if (outcome === 'closed') continue;
    notClosed.push(part.name);
    if (outcome === 'timeout')
      logger.warn({ part: part.name, waitedMs: waitMs }, `${part.name} did not close in time; going on`);
    else logger.error({ part: part.name, err: outcome.error }, `closing ${part.name} failed; going on`);
  }
  return notClosed;
}
