/**
 * A cycle's plan on SQLite is committed without waiting for the disk and is on disk before any of its posts goes
 * out. The plan's random_ids must survive a power loss before a forward uses them (a post re-planned with new ones
 * would be sent twice); the commit itself need not hold the main thread in an fsync for it — with a thousand bots
 * planning, those fsyncs (1–40 ms each on a busy disk) were what made every other bot's posts late.
 *
 * So: the plan commits with `synchronous = NORMAL`, the checkpointer's thread fsyncs the WAL at once, and the
 * commit that marks posts `sending` (right before their forwards) first makes sure their bots' plans are on disk —
 * already done by that fsync, as a plan is made well before its first post (`planningLeadMs`), or done there and
 * then on the main thread when it has not answered yet. Only the marked posts' own plans count: other bots planning
 * meanwhile (a thousand after a restart) must not make every commit wait for the disk.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Puts a file's written data on disk (the WAL: every commit in it). */
export function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class WalDurability {
  /** Commits (plans) made without waiting for the disk, and how many of them are known to be on disk. */
  private made = 0;
  private synced = 0;
  /** The last plan of each bot (its number among the commits). */
  private readonly planOf = new Map<string, number>();
  /** Fsyncs run on the main thread because the background one had not answered (tests read it). */
  inlineSyncs = 0;

  constructor(
    private readonly walFile: string,
    /** Resolves once every commit made before the call is on disk (the checkpointer's fsync). */
    private readonly background: () => Promise<void>,
    private readonly fsync: (file: string) => void = fsyncFile,
  ) {}

  /** A bot's plan was just committed without waiting for the disk: it is synced in the background. */
  committed(botId: string): void {
    const seq = ++this.made;
    this.planOf.set(botId, seq);
    this.background().then(
      () => {
        if (seq > this.synced) this.synced = seq;
      },
      // A failed background fsync leaves it to `ensure`, which fsyncs itself (and fails loudly if the disk does).
      () => undefined,
    );
  }

  /** Before these bots' posts go out: their plans are on disk — by the background fsync, or by one now. */
  ensure(botIds: Iterable<string>): void {
    let needed = 0;
    for (const id of botIds) needed = Math.max(needed, this.planOf.get(id) ?? 0);
    if (this.synced >= needed) return;
    const seq = this.made;
    this.fsync(this.walFile);
    this.inlineSyncs += 1;
    if (seq > this.synced) this.synced = seq;
  }
}
