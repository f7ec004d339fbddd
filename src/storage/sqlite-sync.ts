/**
 * SQLite's `synchronous` setting, switched for the writes that need not wait for the disk. The connection runs
 * with FULL (a commit returns once it is on disk: an fsync that holds the main thread, and every timer of the
 * process, for a few ms); the runtime's frequent writes that a power loss may take back — the batches of
 * exactly-once posting, a cycle's end, group facts — commit with NORMAL (in the WAL, on disk at the next fsync).
 * Its two statements are prepared once: `pragma()` prepares anew on every call, and it was called twice a commit.
 */
import type BetterSqlite3 from 'better-sqlite3';

export class SqliteSync {
  private readonly normal: BetterSqlite3.Statement;
  private readonly full: BetterSqlite3.Statement;

  constructor(sqlite: BetterSqlite3.Database) {
    this.normal = sqlite.prepare('pragma synchronous = NORMAL');
    this.full = sqlite.prepare('pragma synchronous = FULL');
  }

  /**
   * Runs `write` with commits that do not wait for the disk, then sets FULL again. The caller holds the one
   * connection for the whole of it (nothing else may commit meanwhile under NORMAL by mistake).
   */
  relaxed<T>(write: () => T): T {
    this.normal.run();
    let async = false;
    try {
      const result = write();
      if (result instanceof Promise) {
        async = true;
        return result.finally(() => this.full.run()) as T;
      }
      return result;
    } finally {
      if (!async) this.full.run();
    }
  }
}
