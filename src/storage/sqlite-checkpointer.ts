/**
 * Moves SQLite's WAL checkpoints off the main thread. By default the connection that commits past 1,000 WAL
 * pages runs the checkpoint itself — copying pages and fsyncing while every timer of the process waits (tens of
 * ms under load). Here the main connection never checkpoints; a worker thread with its own connection runs a
 * PASSIVE checkpoint (it never blocks writers) every second.
 *
 * The worker also puts commits on disk on request (`sync`): a commit made with `synchronous = NORMAL` is in the
 * WAL, not yet on disk; an fsync of the WAL file — from any thread, through any descriptor — puts it and every
 * commit before it there, while the main thread goes on.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error) }); }
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message === 'close') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.close();
    return;
  }
  if (message && message.sync !== undefined) {
    try {
      const fd = fs.openSync(workerData.file + '-wal', 'r');
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      parentPort.postMessage({ synced: message.sync });
    } catch (error) {
      parentPort.postMessage({ synced: message.sync, error: String(error) });
    }
  }
});
`;

interface SyncWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;
  private nextSyncId = 0;
  private readonly waiting = new Map<number, SyncWaiter>();
  /** The fsync under way, and the one after it for callers that came while it ran. */
  private inFlight: Promise<void> | null = null;
  private following: Promise<void> | null = null;
  /** Fsyncs the worker has run (concurrent callers share one). */
  syncs = 0;

  constructor(file: string, options: { everyMs?: number; onError?: (message: string) => void } = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver, everyMs: options.everyMs ?? 1000 },
    });
    this.worker.on('message', (m: { error?: string; synced?: number }) => {
      if (m.synced !== undefined) this.synced(m.synced, m.error);
      else if (m.error) options.onError?.(m.error);
    });
    this.worker.on('error', (e) => options.onError?.(String(e)));
    this.worker.on('exit', () => {
      for (const id of [...this.waiting.keys()]) this.synced(id, 'the checkpointer stopped');
    });
    // The checkpointer must never keep the process alive on its own.
    this.worker.unref();
  }

  /**
   * Resolves once every commit made before the call is on disk (rejects if the fsync failed). A caller that
   * comes while an fsync runs waits for the next one — its commit may have come after that one began — and every
   * caller that came meanwhile shares it.
   */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the SQLite checkpointer is closed'));
    if (!this.inFlight) {
      const run: Promise<void> = this.request().finally(() => {
        if (this.inFlight === run) this.inFlight = null;
      });
      this.inFlight = run;
      return run;
    }
    this.following ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.following = null;
        return this.sync();
      });
    return this.following;
  }

  private request(): Promise<void> {
    const id = this.nextSyncId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // A wait for the disk keeps the process alive until it is answered.
      this.worker.ref();
      this.worker.postMessage({ sync: id });
    });
  }

  private synced(id: number, error: string | undefined): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0 && !this.closed) this.worker.unref();
    if (error !== undefined) {
      waiter.reject(new Error(`SQLite: the WAL could not be synced to disk: ${error}`));
      return;
    }
    this.syncs += 1;
    waiter.resolve();
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      // Held until it has finished its last checkpoint and closed its connection.
      this.worker.ref();
      this.worker.postMessage('close');
      setTimeout(() => void this.worker.terminate(), 2000).unref();
    });
    return this.closed;
  }
}
