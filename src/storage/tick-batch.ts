/**
 * Calls that arrive in one event-loop turn run as one batch — one statement, one round trip — and one batch is in
 * flight at a time: what arrives meanwhile rides the next, so batches grow with the load instead of the queue of
 * round trips. (The runtime's own commits do the same in runtime/write-batcher.ts, on its Clock; this one serves
 * storage that has none.)
 */

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class TickBatch<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private running = false;

  /**
   * `run` answers the items of a batch, in order. `take` chooses the items of the next batch from the queue (those
   * that may not share a statement wait for the next one); by default all of them, at most `max`.
   */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly take: (items: readonly I[]) => number[] = (items) => items.map((_, i) => i),
    private readonly max = 200,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // After every callback of this turn: the calls made in it join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    this.running = true;
    const chosen = new Set(this.take(this.queue.map((p) => p.item)).slice(0, this.max));
    if (chosen.size === 0) chosen.add(0);
    const batch = this.queue.filter((_, i) => chosen.has(i));
    this.queue = this.queue.filter((_, i) => !chosen.has(i));
    try {
      const answers = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(answers[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
