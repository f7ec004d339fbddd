/** A counting semaphore with abortable acquire: the per-bot limit on concurrently active sessions. */
export class Semaphore {
  private available: number;
  private readonly waiters: {
    resolve: (ok: boolean) => void;
    signal: AbortSignal | undefined;
    onAbort: () => void;
  }[] = [];

  constructor(size: number) {
    this.available = Math.max(1, size);
  }

  /** Resolves true with a permit, or false (no permit) when the signal aborts first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = {
        resolve,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(false);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(true);
    } else {
      this.available++;
    }
  }
}
