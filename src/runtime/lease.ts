/**
 * The right to run a bot in this process (scale-out). Its own module because the runtime, each runner and its
 * state all hold one, and the lease keeper hands them out.
 */
import type { Fence } from './store.js';

/**
 * The fence checked by the database on every `sending` mark, and a local check made just before each Telegram
 * call — false once this worker's lease deadline has passed.
 */
export interface Lease {
  fence: Fence;
  holds(): boolean;
  /**
   * Past the deadline (`holds()` false) the lease may still be ours: the process may have stalled and not renewed.
   * Resolves once this worker has asked the database again: true when the lease is still held (`holds()` is true
   * again), false when it is gone — then nothing may be sent for the bot here — or when `signal` aborts.
   */
  confirm(signal?: AbortSignal): Promise<boolean>;
}
