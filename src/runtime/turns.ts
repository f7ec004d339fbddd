/**
 * Turns for the runtime's bursts of work between two posts' timers — planning a cycle, loading a bot — so that a
 * thousand bots starting at once (a restart) do not hold the event loop for seconds. Without I/O of its own
 * (SQLite is synchronous, the sandbox answers at once) one bot's planning runs to its end in a single stretch of
 * microtasks; a thousand of them ran back to back, and every post due meanwhile — and every commit — waited.
 * `next()` resolves one waiter per turn of the event loop (the Clock's `defer`), so each stretch is one bot's step
 * and timers and commits run between them. It is not a lock: a bot waiting on Telegram holds no turn.
 *
 * Earliest deadline first: the bot whose cycle starts soonest goes first, so a bot that began planning finishes
 * before the next begins (round robin would finish them all late, together).
 */
import type { Clock } from './clock.js';

interface Waiter {
  deadline: number;
  order: number;
  resolve: () => void;
}

export class Turns {
  /** A binary min-heap by (deadline, order of asking). */
  private readonly heap: Waiter[] = [];
  private order = 0;
  private scheduled = false;

  constructor(private readonly clock: Clock) {}

  /** Resolves on a turn of its own; `deadline`: when the work must be done by (ms on the clock), earliest first. */
  next(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.push({ deadline, order: this.order++, resolve });
      this.schedule();
    });
  }

  /** Waiting for a turn (tests read it). */
  get pending(): number {
    return this.heap.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.defer(() => {
      this.scheduled = false;
      this.pop()?.resolve();
      if (this.heap.length > 0) this.schedule();
    });
  }

  private before(a: Waiter, b: Waiter): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  private push(waiter: Waiter): void {
    const heap = this.heap;
    heap.push(waiter);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(waiter, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = waiter;
  }

  private pop(): Waiter | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      if (l < heap.length && this.before(heap[l]!, best)) {
        m = l;
        best = heap[l]!;
      }
      if (r < heap.length && this.before(heap[r]!, best)) m = r;
      if (m === i) break;
      heap[i] = heap[m]!;
      i = m;
    }
    heap[i] = last;
    return top;
  }
}
