/**
 * Turns for the runtime's bursts of work between two posts' timers — planning a cycle, loading a bot — so that a
 * thousand bots starting at once (a restart) do not hold the event loop for seconds. Without I/O of its own
 * (SQLite is synchronous, the sandbox answers at once) one bot's planning runs to its end in a single stretch of
 * microtasks; a thousand of them ran back to back, and every post due meanwhile — and every commit — waited.
 * `next()` resolves waiters a few per turn of the event loop (the Clock's `defer`), so timers and commits run
 * between the stretches. How many: as many as keep a turn of the loop within `TURN_BUDGET_MS` — one at a time
 * while each is a millisecond of planning on SQLite, more while each is a query's round trip (PostgreSQL), whose
 * waits let the loop go on by themselves. It is not a lock: a bot waiting on Telegram or the database holds no
 * turn.
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

/** A turn of the event loop this long or shorter lets twice the waiters go the next time; a longer one, fewer. */
const TURN_BUDGET_MS = 4;
const MAX_PER_TURN = 64;

export class Turns {
  /** A binary min-heap by (deadline, order of asking). */
  private readonly heap: Waiter[] = [];
  private order = 0;
  private scheduled = false;
  /** Waiters let go a turn, and when the last turn began (-1: none under way). */
  private perTurn = 1;
  private lastTurnAt = -1;

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
      const now = this.clock.now();
      if (this.lastTurnAt >= 0) {
        // Short turns: twice as many. Long ones: as many as the last turn's cost a waiter says fit the budget.
        const took = now - this.lastTurnAt;
        this.perTurn =
          took <= TURN_BUDGET_MS
            ? Math.min(MAX_PER_TURN, this.perTurn * 2)
            : Math.max(1, Math.floor((this.perTurn * TURN_BUDGET_MS) / took));
      }
      for (let i = 0; i < this.perTurn && this.heap.length > 0; i++) this.pop()!.resolve();
      if (this.heap.length > 0) {
        this.lastTurnAt = now;
        this.schedule();
      } else {
        this.lastTurnAt = -1;
        this.perTurn = 1;
      }
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
