/**
 * What the cluster benchmarks share: a fresh PostgreSQL database with the sandbox Telegram in it, real `stagger
 * worker` processes, their counters (statements by path, read with SIGUSR2) and the CPU time of the workers and of
 * the PostgreSQL backends serving them (from /proc: the benchmark runs beside its database).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { LeaseRepository } from '../src/storage/leases.js';
import { STATEMENT_PATHS, type StatementCounts } from '../src/storage/statement-stats.js';
import { openStore, type Store } from '../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';
import { runStagger, type Child } from '../test/support/processes.js';

/** Names the workers' connections, so that their PostgreSQL backends can be found. */
const APPLICATION = 'stagger-bench-worker';
/** Clock ticks a second in /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface BenchWorker {
  child: Child;
  id: string;
  pid: number;
}

export interface WorkerCounters {
  statements: StatementCounts;
  cpuMs: number;
}

export interface Cluster {
  db: TestDatabase;
  store: Store;
  leases: LeaseRepository;
  env: Record<string, string>;
  workers: BenchWorker[];
  startWorker(extraEnv?: Record<string, string>): Promise<BenchWorker>;
  /** Which worker holds each bot's live lease. */
  owners(): Promise<Map<string, string>>;
  /** Summed over the live workers (statements, their own CPU), plus the CPU of their database backends. */
  sample(): Promise<{ statements: StatementCounts; workerCpuMs: number; postgresCpuMs: number }>;
  close(): Promise<void>;
}

export async function startCluster(extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-bench-cluster-'));
  const env: Record<string, string> = {
    DATABASE_URL: `${db.url}?application_name=${APPLICATION}`,
    STAGGER_DATA_DIR: dataDir,
    STAGGER_SECRET_KEY: randomBytes(32).toString('base64'),
    STAGGER_SANDBOX_FLOOD_BURST: '100000',
    STAGGER_SANDBOX_FLOOD_PER_SECOND: '100000',
    LOG_LEVEL: 'error',
    ...extraEnv,
  };
  const store = await openStore({ dataDir, url: db.url, secretKey: env.STAGGER_SECRET_KEY });
  const leases = new LeaseRepository(store.db, store.dialect);
  const workers: BenchWorker[] = [];
  const aliveWithin = Number(env.STAGGER_LEASE_SECONDS ?? 5) * 1000;

  async function startWorker(more: Record<string, string> = {}): Promise<BenchWorker> {
    const child = runStagger(['worker'], { ...env, ...more });
    const [, id] = await child.waitFor(/worker (\S+) running/, 60_000);
    const worker = { child, id: id!, pid: child.process.pid! };
    workers.push(worker);
    return worker;
  }

  async function owners(): Promise<Map<string, string>> {
    const view = await leases.clusterView(aliveWithin);
    const out = new Map<string, string>();
    for (const w of view.workers) for (const b of w.bots) out.set(b.botId, w.id);
    return out;
  }

  async function sample() {
    const live = workers.filter(
      (w) => w.child.process.exitCode === null && w.child.process.signalCode === null,
    );
    const counters = await Promise.all(live.map(readCounters));
    const statements = Object.fromEntries(STATEMENT_PATHS.map((p) => [p, 0])) as StatementCounts;
    for (const c of counters) for (const p of STATEMENT_PATHS) statements[p] += c.statements[p];
    const backends = await sql<{ pid: number }>`
      select pid from pg_stat_activity where application_name = ${APPLICATION}`.execute(store.db);
    return {
      statements,
      workerCpuMs: live.reduce((n, w) => n + cpuMsOf(w.pid), 0),
      postgresCpuMs: backends.rows.reduce((n, r) => n + cpuMsOf(r.pid), 0),
    };
  }

  return {
    db,
    store,
    leases,
    env,
    workers,
    startWorker,
    owners,
    sample,
    async close() {
      for (const w of workers) await w.child.kill('SIGKILL');
      await store.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The worker's counters, as it prints them on SIGUSR2. */
async function readCounters(worker: BenchWorker): Promise<WorkerCounters> {
  const lines = (): string[] => worker.child.output().match(/^\{"worker".*$/gm) ?? [];
  const before = lines().length;
  worker.child.process.kill('SIGUSR2');
  const deadline = Date.now() + 10_000;
  while (lines().length <= before) {
    if (Date.now() > deadline) throw new Error(`worker ${worker.id} did not report its counters`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const report = JSON.parse(lines().at(-1)!) as {
    statements: StatementCounts;
    cpu: { user: number; system: number };
  };
  return { statements: report.statements, cpuMs: (report.cpu.user + report.cpu.system) / 1000 };
}

/** User + system CPU of a process, in ms; 0 once it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3 of stat(5); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
