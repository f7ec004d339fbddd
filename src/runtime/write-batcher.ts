/**
 * Group commit for the two writes of exactly-once posting. Posts that fall due together (the same timer tick,
 * across all bots of this process) have their `sending` marks — and the outcomes of calls that finished — committed
 * in one transaction, so durability does not cap throughput. Only one commit is in flight at a time; what arrives
 * meanwhile rides the next one (batches grow under load).
 */
import type { CounterDelta } from '../core/model.js';
import type { Clock } from './clock.js';
import type { PostPatch, RuntimeStore, SendingMark } from './store.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher {
  private readonly store: RuntimeStore;
  private marks: { mark: SendingMark; waiter: Waiter<boolean> }[] = [];
  private results: { patch: PostPatch; counters: CounterDelta | undefined; waiter: Waiter<void> }[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  /** Commits made and items they carried (for the benchmark's batch-size figure). */
  readonly stats = { commits: 0, items: 0 };

  private readonly clock: Clock;

  constructor(store: RuntimeStore, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  markSending(mark: SendingMark): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.marks.push({ mark, waiter: { resolve, reject } });
      this.schedule();
    });
  }

  writeResult(patch: PostPatch, counters?: CounterDelta): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.results.push({ patch, counters, waiter: { resolve, reject } });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is committed. */
  async drain(): Promise<void> {
    while (this.running || this.marks.length > 0 || this.results.length > 0) {
      if (this.running) await this.running;
      else await this.flush();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Deferred past every timer callback of this turn: all posts due in this tick join the batch.
    this.clock.defer(() => {
      this.scheduled = false;
      if (!this.running) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const marks = this.marks;
    const results = this.results;
    this.marks = [];
    this.results = [];
    if (marks.length === 0 && results.length === 0) return;
    this.running = (async () => {
      const counters = new Map<string, CounterDelta>();
      for (const r of results) {
        if (!r.counters) continue;
        const sum = counters.get(r.patch.botId) ?? {};
        for (const [k, v] of Object.entries(r.counters) as [keyof CounterDelta, number][])
          sum[k] = (sum[k] ?? 0) + v;
        counters.set(r.patch.botId, sum);
      }
      try {
        const accepted = await this.store.commit({
          marks: marks.map((m) => m.mark),
          patches: results.map((r) => r.patch),
          counters,
        });
        for (const r of results) r.waiter.resolve();
        for (const m of marks) m.waiter.resolve(accepted.has(m.mark.postId));
      } catch (error) {
        for (const r of results) r.waiter.reject(error);
        for (const m of marks) m.waiter.reject(error);
      }
      this.stats.commits += 1;
      this.stats.items += marks.length + results.length;
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    if (this.marks.length > 0 || this.results.length > 0) this.schedule();
  }
}
