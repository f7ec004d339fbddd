/**
 * Group commit for the two writes of exactly-once posting. Posts that fall due together (the same timer tick,
 * across all bots of this process) have their `sending` marks — and the outcomes of calls that finished — committed
 * in one transaction, so durability does not cap throughput. Only one commit is in flight at a time; what arrives
 * meanwhile rides the next one (batches grow under load).
 *
 * A commit holds at most MAX_ITEMS marks and as many outcomes, so that it stays one statement on PostgreSQL (its
 * parameter limit); what is over rides the next commit, at once. A bot's outcomes in one commit carry one fence:
 * an outcome written under another (a runner of an earlier lease of the bot, still finishing here) waits for the
 * next commit, so that each bot's outcomes and counters stand or fall together.
 */
import type { CounterDelta } from '../core/model.js';
import type { Clock } from './clock.js';
import type { Fence, PostPatch, RuntimeStore, SendingMark } from './store.js';

/** Marks (and outcomes) a commit carries at most: ~12 parameters an outcome, far below PostgreSQL's 65,535. */
export const MAX_ITEMS = 1_000;

interface Result {
  patch: PostPatch;
  counters: CounterDelta | undefined;
  fence: Fence | null;
  waiter: Waiter<void>;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher {
  private readonly store: RuntimeStore;
  private marks: { mark: SendingMark; waiter: Waiter<boolean> }[] = [];
  private results: Result[] = [];
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

  /** `fence`: the writer's lease (null: none is used); a stale owner's outcome is refused by the store. */
  writeResult(patch: PostPatch, counters?: CounterDelta, fence: Fence | null = null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.results.push({ patch, counters, fence, waiter: { resolve, reject } });
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

  /** The outcomes of the next commit: at most MAX_ITEMS, one fence a bot; the rest stay queued, in order. */
  private takeResults(): { results: Result[]; fences: Map<string, Fence> } {
    const results: Result[] = [];
    const fences = new Map<string, Fence>();
    const fenceOf = new Map<string, Fence | null>();
    const later: Result[] = [];
    const waiting = new Set<string>();
    for (const r of this.results) {
      const botId = r.patch.botId;
      const seen = fenceOf.get(botId);
      const other = seen !== undefined && !sameFence(seen, r.fence);
      // Once one of a bot's outcomes waits, the later ones of that bot wait too: a post's outcomes keep their order.
      if (results.length >= MAX_ITEMS || other || waiting.has(botId)) {
        later.push(r);
        waiting.add(botId);
        continue;
      }
      fenceOf.set(botId, r.fence);
      if (r.fence) fences.set(botId, r.fence);
      results.push(r);
    }
    this.results = later;
    return { results, fences };
  }

  private async flush(): Promise<void> {
    const marks = this.marks.slice(0, MAX_ITEMS);
    this.marks = this.marks.slice(MAX_ITEMS);
    const { results, fences } = this.takeResults();
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
          ...(fences.size > 0 ? { fences } : {}),
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

function sameFence(a: Fence | null, b: Fence | null): boolean {
  return a === b || (a !== null && b !== null && a.ownerId === b.ownerId && a.epoch === b.epoch);
}
