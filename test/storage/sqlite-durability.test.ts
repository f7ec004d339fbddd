/**
 * A cycle's plan on SQLite commits without holding the main thread in an fsync and is on disk before any of its
 * posts is marked `sending` (src/storage/sqlite-durability.ts): synced by the checkpointer's thread, or — when that
 * has not answered yet — by the commit of the marks itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCheckpointer } from '../../src/storage/sqlite-checkpointer.js';
import { WalDurability } from '../../src/storage/sqlite-durability.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function database(): { file: string; sqlite: BetterSqlite3.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'stagger-durability-'));
  dirs.push(dir);
  const file = join(dir, 'stagger.db');
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.exec('create table t (v integer)');
  return { file, sqlite };
}

/** A background fsync the test answers by hand. */
function heldBackground() {
  const pending: (() => void)[] = [];
  return {
    background: () => new Promise<void>((resolve) => pending.push(resolve)),
    answer: async () => {
      for (const resolve of pending.splice(0)) resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('plans on disk before their posts', () => {
  it('a mark right after its bot’s plan fsyncs the WAL itself while the background fsync has not answered', async () => {
    const synced: string[] = [];
    const held = heldBackground();
    const durability = new WalDurability('/data/stagger.db-wal', held.background, (f) => synced.push(f));
    // nothing committed yet: nothing to sync
    durability.ensure(['7']);
    expect(synced).toEqual([]);
    durability.committed('7');
    // another bot's posts do not wait for bot 7's plan
    durability.ensure(['8']);
    expect(synced).toEqual([]);
    durability.ensure(['8', '7']);
    expect(synced).toEqual(['/data/stagger.db-wal']);
    // once synced, a second mark does not sync again
    durability.ensure(['7']);
    expect(durability.inlineSyncs).toBe(1);
    await held.answer();
    expect(durability.inlineSyncs).toBe(1);
  });

  it('a plan the background fsync has put on disk costs the marks nothing; a newer plan is synced again', async () => {
    const synced: string[] = [];
    const held = heldBackground();
    const durability = new WalDurability('/wal', held.background, (f) => synced.push(f));
    durability.committed('7');
    await held.answer();
    durability.ensure(['7']);
    expect(synced).toEqual([]);
    // a plan made after that fsync began is not covered by it
    durability.committed('7');
    durability.ensure(['7']);
    expect(synced).toEqual(['/wal']);
  });

  it('a failed background fsync leaves the sync to the marks', async () => {
    const synced: string[] = [];
    const durability = new WalDurability(
      '/wal',
      () => Promise.reject(new Error('EIO')),
      (f) => synced.push(f),
    );
    durability.committed('7');
    await new Promise((r) => setImmediate(r));
    durability.ensure(['7']);
    expect(synced).toEqual(['/wal']);
  });

  it('the checkpointer fsyncs the WAL in its thread; callers that come together share fsyncs', async () => {
    const { file, sqlite } = database();
    const checkpointer = new SqliteCheckpointer(file, { everyMs: 60_000 });
    try {
      sqlite.prepare('insert into t values (1)').run();
      await checkpointer.sync();
      expect(checkpointer.syncs).toBe(1);
      // Ten plans committed at once: the one fsync under way and the one after it cover them all.
      const waits = Array.from({ length: 10 }, (_, i) => {
        sqlite.prepare('insert into t values (?)').run(i);
        return checkpointer.sync();
      });
      await Promise.all(waits);
      expect(checkpointer.syncs).toBe(3);
      // A call after those have answered runs an fsync of its own.
      await checkpointer.sync();
      expect(checkpointer.syncs).toBe(4);
    } finally {
      await checkpointer.close();
      sqlite.close();
    }
    await expect(checkpointer.sync()).rejects.toThrow(/closed/);
  });
});
