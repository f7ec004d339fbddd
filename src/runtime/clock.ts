/**
 * Time for the runtime. Nothing else in src/runtime reads Date.now() or calls setTimeout directly (the lint
 * holds it to that): it is given a Clock. `SystemClock` is the real one; `VirtualClock` lets tests and
 * `stagger simulate` run an hour-long cycle in milliseconds, jump, and wake late on purpose.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Waits `ms` (≤ 0: yields once). Resolves `true` when the time has passed, `false` as soon as `signal` aborts —
   * it never rejects, so loops read `if (!(await clock.sleep(ms, signal))) return;`.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * Runs `fn` once the work of the current instant is done — the group-commit window. Real time: after every
   * timer callback of this event-loop turn (setImmediate). Virtual time: after the pending microtasks, so that a
   * virtual instant is fully settled before the clock moves.
   */
  defer(fn: () => void): void;
}

export function sleepUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<boolean> {
  return clock.sleep(at - clock.now(), signal);
}

/** setTimeout holds at most 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Sleeper {
  at: number;
  resolve: (completed: boolean) => void;
  signal: AbortSignal | undefined;
  done: boolean;
}

/**
 * The real clock. All sleeps of the process share one Node timer, set for the earliest wake-up, and one abort
 * listener per signal (a cycle's lanes share theirs): a sleep costs a promise and a small record instead of a
 * timer, three closures and an event listener — with a thousand bots sleeping, that is what young-generation GC
 * pauses (and so p99 lateness) are made of.
 */
export class SystemClock implements Clock {
  private readonly heap: Sleeper[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly bySignal = new WeakMap<AbortSignal, Set<Sleeper>>();

  now(): number {
    return Date.now();
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (!(ms > 0)) return new Promise<boolean>((resolve) => setImmediate(() => resolve(!signal?.aborted)));
    return new Promise<boolean>((resolve) => {
      const sleeper: Sleeper = { at: Date.now() + ms, resolve, signal, done: false };
      if (signal) this.watch(signal).add(sleeper);
      this.push(sleeper);
      this.arm();
    });
  }

  /** Sleeps waiting on this signal, with one listener that ends them all when it aborts. */
  private watch(signal: AbortSignal): Set<Sleeper> {
    let sleepers = this.bySignal.get(signal);
    if (!sleepers) {
      const set = new Set<Sleeper>();
      sleepers = set;
      this.bySignal.set(signal, set);
      signal.addEventListener(
        'abort',
        () => {
          for (const s of set) this.finish(s, false);
          set.clear();
          this.arm();
        },
        { once: true },
      );
    }
    return sleepers;
  }

  private finish(sleeper: Sleeper, completed: boolean): void {
    if (sleeper.done) return;
    sleeper.done = true;
    sleeper.resolve(completed);
  }

  /** One timer for the earliest live wake-up. */
  private arm(): void {
    while (this.heap.length > 0 && this.heap[0]!.done) this.pop();
    const first = this.heap[0];
    if (!first) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer && this.timerAt <= first.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = first.at;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, first.at - Date.now()), MAX_TIMER_MS));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    // Timers may fire a little early against Date.now(): only what is due wakes, the rest re-arms — never short.
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const sleeper = this.pop();
      if (sleeper.done) continue;
      if (sleeper.signal) this.bySignal.get(sleeper.signal)?.delete(sleeper);
      this.finish(sleeper, true);
    }
    this.arm();
  }

  private push(sleeper: Sleeper): void {
    const heap = this.heap;
    heap.push(sleeper);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= sleeper.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = sleeper;
  }

  private pop(): Sleeper {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = -1;
        let at = last.at;
        if (l < heap.length && heap[l]!.at < at) {
          m = l;
          at = heap[l]!.at;
        }
        if (r < heap.length && heap[r]!.at < at) m = r;
        if (m < 0) break;
        heap[i] = heap[m]!;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
}

interface VirtualTimer {
  at: number;
  order: number;
  resolve: (completed: boolean) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A run of the virtual clock ended without its condition: past its limit, or with nothing left to run. */
export class ClockStallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClockStallError';
  }
}

/**
 * A clock that moves only when told. Timers fire in time order; between two firings the clock lets the event loop
 * run (a few `setImmediate` turns) so that everything the woken code does before its next sleep has happened.
 * `runUntil` advances to a time, `runUntilIdle` until no timer is left (with a bound, for endless loops).
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly timers: VirtualTimer[] = [];
  private order = 0;
  /** Event-loop turns given to woken code before the clock moves on. */
  readonly settleTurns: number;

  constructor(startAt = Date.UTC(2026, 0, 1), options: { settleTurns?: number } = {}) {
    this.current = startAt;
    this.settleTurns = options.settleTurns ?? 3;
  }

  now(): number {
    return this.current;
  }

  defer(fn: () => void): void {
    queueMicrotask(fn);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer: VirtualTimer = {
        at: this.current + Math.max(0, ms),
        order: this.order++,
        resolve,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        timer.onAbort = () => {
          this.remove(timer);
          resolve(false);
        };
        signal.addEventListener('abort', timer.onAbort, { once: true });
      }
      this.insert(timer);
    });
  }

  /** Number of pending timers (tests use it to check that nothing is left waiting). */
  get pending(): number {
    return this.timers.length;
  }

  /** The time of the next timer, if any. */
  get nextAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /** Lets woken code run until it sleeps again (or finishes). */
  async settle(): Promise<void> {
    for (let i = 0; i < this.settleTurns; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Fires every timer due at or before `at`, in order, then sets the time to `at`. */
  async runUntil(at: number): Promise<void> {
    await this.settle();
    for (;;) {
      const first = this.timers[0];
      if (!first || first.at > at) break;
      // Everything due at the same instant wakes together, as real timers of one tick would.
      this.current = Math.max(this.current, first.at);
      while (this.timers[0] && this.timers[0].at <= this.current) this.fire(this.timers.shift()!);
      await this.settle();
    }
    this.current = Math.max(this.current, at);
    await this.settle();
  }

  async advance(ms: number): Promise<void> {
    await this.runUntil(this.current + ms);
  }

  /** Runs until no timer is left, or until `limit` (then throws a ClockStallError: something loops forever). */
  async runUntilIdle(limit = this.current + 365 * 24 * 3600_000): Promise<void> {
    await this.settle();
    while (this.timers.length > 0) {
      const next = this.timers[0]!;
      if (next.at > limit)
        throw new ClockStallError(`virtual clock: still busy at the limit ${new Date(limit).toISOString()}`);
      await this.runUntil(next.at);
    }
  }

  /** Runs until `done()` is true (checked after each step), or throws past `limit`. */
  async runUntilTrue(done: () => boolean, limit = this.current + 365 * 24 * 3600_000): Promise<void> {
    await this.settle();
    while (!done()) {
      const next = this.timers[0];
      if (!next)
        throw new ClockStallError('virtual clock: nothing left to run and the condition is still false');
      if (next.at > limit)
        throw new ClockStallError(`virtual clock: condition still false at ${new Date(limit).toISOString()}`);
      await this.runUntil(next.at);
    }
  }

  /** Moves the time without firing timers in between (a jump); due timers fire on the next run. */
  jump(ms: number): void {
    this.current += ms;
  }

  private fire(timer: VirtualTimer): void {
    if (timer.signal && timer.onAbort) timer.signal.removeEventListener('abort', timer.onAbort);
    timer.resolve(true);
  }

  private insert(timer: VirtualTimer): void {
    // Binary search by (at, order): timers stay sorted, ties fire in the order they were set.
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const t = this.timers[mid]!;
      if (t.at < timer.at || (t.at === timer.at && t.order < timer.order)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
  }

  private remove(timer: VirtualTimer): void {
    const index = this.timers.indexOf(timer);
    if (index >= 0) this.timers.splice(index, 1);
  }
}
