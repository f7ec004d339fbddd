/**
 * Moves SQLite's WAL checkpoints off the main thread. By default the connection that commits past 1,000 WAL
 * pages runs the checkpoint itself — copying pages and fsyncing while every timer of the process waits (tens of
 * ms under load). Here the main connection never checkpoints; a worker thread with its own connection runs a
 * PASSIVE checkpoint (it never blocks writers) every second.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
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
  }
});
`;

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;

  constructor(file: string, options: { everyMs?: number; onError?: (message: string) => void } = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver, everyMs: options.everyMs ?? 1000 },
    });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) options.onError?.(m.error);
    });
    this.worker.on('error', (e) => options.onError?.(String(e)));
    // The checkpointer must never keep the process alive on its own.
    this.worker.unref();
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
