/**
 * Time for the mtcute adapter. Its modules read the time and wait only through a `TelegramClock`, so tests can
 * move time by hand; the runtime's clocks fit as they are.
 */
import type { Clock } from '../../runtime/clock.js';

export type TelegramClock = Pick<Clock, 'now' | 'sleep'>;

/**
 * The real time, for a gateway made without a clock: the one place in the adapter that touches a timer. (mtcute's
 * own per-call timeouts run inside the library.)
 */
export const wallClock: TelegramClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<boolean>((resolve) => {
      if (signal?.aborted) {
        resolve(false);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
