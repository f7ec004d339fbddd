/**
 * One run of the runtime benchmark, in a process of its own (bench/runtime.ts starts it with its own Node flags, so
 * that every contender runs on a fresh heap with the same flags): either the floor — bare Node timers at the same
 * load — or Stagger on one store. Both follow the same timeline: `bots` lanes start spread over one second, each
 * due `rate` times a second from `leadMs` after its start; what was due in the window (after the warm-up) is
 * measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { sql } from 'kysely';
import { SystemClock } from '../src/runtime/clock.js';
import { MemoryRuntimeStore } from '../src/runtime/memory-store.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { RuntimeStore } from '../src/runtime/store.js';
import { openStore, type Store } from '../src/storage/store.js';
import type { ForwardRequest, Gateway } from '../src/telegram/gateway.js';
import { SandboxGateway } from '../src/telegram/sandbox/sandbox-gateway.js';
import {
  MemorySandboxStore,
  type SandboxDelivery,
  type SandboxInsert,
} from '../src/telegram/sandbox/sandbox-store.js';
import { createTestDatabase } from '../test/support/postgres.js';
import { seedBot } from '../test/support/seed.js';
import { percentiles, slices } from './lateness.js';

export type Contender = 'floor' | 'memory' | 'sqlite' | 'postgres';

export interface RunSpec {
  contender: Contender;
  bots: number;
  /** Timed events a second per lane (posts per second per bot: one session, delay 1/rate). */
  rate: number;
  /** Due, sent but not measured: the runtime settles (JIT, heap, batches). */
  warmupSeconds: number;
  seconds: number;
  /** Posts are planned this long ahead of the first one (Stagger's planning lead). */
  leadMs: number;
  /**
   * `cycle`: one enterprise cycle per bot covers the whole run. `minutes`: starter cycles of one minute (T = 1 min,
   * 60 × rate groups), so that a long run goes through a cycle boundary every minute, as a soak should.
   */
  cycles: 'cycle' | 'minutes';
}

const gc = (globalThis as { gc?: () => void }).gc;
const preciseNow = (): number => performance.timeOrigin + performance.now();

/** The sandbox's memory store without the record of deliveries: a long run must not grow the harness's heap. */
class LeanSandboxStore extends MemorySandboxStore {
  private delivered = 0;
  override async insertDelivery(_delivery: Omit<SandboxDelivery, 'id'>): Promise<SandboxInsert> {
    return { status: 'inserted', id: ++this.delivered };
  }
}

/** Records when each forward reached the gateway (the work starting), with sub-millisecond precision. */
class TimingGateway implements Gateway {
  readonly postIds: string[] = [];
  readonly at: number[] = [];
  constructor(private readonly inner: Gateway) {}
  checkSource(...args: Parameters<Gateway['checkSource']>) {
    return this.inner.checkSource(...args);
  }
  readSource(...args: Parameters<Gateway['readSource']>) {
    return this.inner.readSource(...args);
  }
  forward(request: ForwardRequest, signal?: AbortSignal) {
    this.at.push(preciseNow());
    this.postIds.push(request.trace!.postId!);
    return this.inner.forward(request, signal);
  }
  preflight(...args: Parameters<Gateway['preflight']>) {
    return this.inner.preflight(...args);
  }
  groupFacts(...args: Parameters<Gateway['groupFacts']>) {
    return this.inner.groupFacts(...args);
  }
  release(id: string) {
    return this.inner.release(id);
  }
  close() {
    return this.inner.close();
  }
}

/** GC pauses as the process saw them (the observer's entries), counted over a window. */
class GcLog {
  private readonly entries: { at: number; ms: number; kind: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      this.entries.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind });
    }
  });
  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }
  figures(from: number, to: number) {
    const within = this.entries.filter((e) => e.at >= from && e.at < to);
    const major = within.filter((e) => e.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    const minor = within.filter((e) => e.kind === constants.NODE_PERFORMANCE_GC_MINOR);
    return {
      major: major.length,
      majorMs: major.reduce((s, e) => s + e.ms, 0),
      minor: minor.length,
      maxPauseMs: within.reduce((m, e) => Math.max(m, e.ms), 0),
      totalMs: within.reduce((s, e) => s + e.ms, 0),
      /** Major collections by the minute they happened in (from `from`). */
      majorByMinute: (minutes: number) =>
        Array.from(
          { length: minutes },
          (_, m) => major.filter((e) => Math.floor((e.at - from) / 60_000) === m).length,
        ),
    };
  }
  stop(): void {
    this.observer.disconnect();
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used so far by these processes (Linux /proc); null when it cannot be read. */
function processCpuSeconds(pids: readonly number[]): number | null {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return null;
    }
  }
  return ticks / CLOCK_TICKS;
}

interface Engine {
  runtime: RuntimeStore;
  store: Store | null;
  /** PostgreSQL's backends serving this run's database (their CPU is the server's share of the work). */
  serverPids(): Promise<number[]>;
  close(): Promise<void>;
}

async function openEngine(contender: Exclude<Contender, 'floor'>): Promise<Engine> {
  if (contender === 'memory') {
    return {
      runtime: new MemoryRuntimeStore(),
      store: null,
      serverPids: async () => [],
      close: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-bench-'));
  const pg = contender === 'postgres' ? await createTestDatabase() : null;
  const store = await openStore({ dataDir, url: pg?.url, poolSize: 10 });
  return {
    runtime: store.runtime,
    store,
    async serverPids() {
      if (!pg) return [];
      const rows = await sql<{
        pid: number;
      }>`select pid from pg_stat_activity where datname = current_database()`.execute(store.db);
      return rows.rows.map((r) => Number(r.pid));
    },
    async close() {
      await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The bots' plan: one long enterprise cycle, or starter cycles of a minute. */
function botPlan(spec: RunSpec) {
  const delay = 1 / spec.rate;
  if (spec.cycles === 'minutes') {
    return {
      mode: 'starter' as const,
      totalCycleMinutes: 1,
      groups: Math.round(60 * spec.rate),
      settings: { delayBetweenPosts: delay, delayBetweenCycles: 0, minGroupGapSeconds: 0 },
    };
  }
  // Long enough for the warm-up, the window and the grace after it; the next cycle would begin a minute later.
  return {
    mode: 'enterprise' as const,
    totalCycleMinutes: null,
    groups: Math.ceil(spec.rate * (spec.warmupSeconds + spec.seconds + 2)) + 1,
    settings: { delayBetweenPosts: delay, delayBetweenCycles: 60, minGroupGapSeconds: 0 },
  };
}

async function addBots(engine: Engine, spec: RunSpec): Promise<string[]> {
  const plan = botPlan(spec);
  const keys = (b: number) =>
    Array.from({ length: plan.groups }, (_, i) => `-100${1_000_000_000 + b * 10_000 + i}`);
  const ids: string[] = [];
  for (let b = 0; b < spec.bots; b++) {
    if (engine.store) {
      const { botId } = await seedBot(engine.store, {
        name: `bench ${b}`,
        sessions: 1,
        groups: keys(b),
        settings: plan.settings,
      });
      await engine.store.bots.start(botId, plan.mode, plan.totalCycleMinutes);
      ids.push(botId);
    } else {
      ids.push(
        (engine.runtime as MemoryRuntimeStore).addBot({
          mode: plan.mode,
          totalCycleMinutes: plan.totalCycleMinutes,
          settings: plan.settings,
          sessions: [{}],
          groups: keys(b),
        }),
      );
    }
  }
  return ids;
}

async function plannedTimes(engine: Engine, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (engine.store) {
    const rows = await engine.store.db.selectFrom('posts').select(['id', 'planned_at']).execute();
    for (const r of rows) out.set(String(r.id), Number(r.planned_at));
  } else {
    for (const id of ids)
      for (const p of (engine.runtime as MemoryRuntimeStore).listPosts(id)) out.set(p.id, p.plannedAt);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const sleepUntil = (at: number) => sleep(at - Date.now());

/** What is sampled at the window's start and end. */
interface Probe {
  cpu: NodeJS.CpuUsage;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  heapUsed: number;
  serverCpu: number | null;
}

async function probe(serverPids: () => Promise<number[]>): Promise<Probe> {
  const pids = await serverPids();
  return {
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    heapUsed: process.memoryUsage().heapUsed,
    serverCpu: pids.length > 0 ? processCpuSeconds(pids) : null,
  };
}

export interface RunResult {
  contender: Contender;
  figures: Record<string, number | string | null>;
  perSecond: ReturnType<typeof slices>;
  perMinute: ReturnType<typeof slices>;
  majorGcByMinute: number[];
}

/** Lateness and costs of what was due in the window. */
function result(
  spec: RunSpec,
  window: { start: number; end: number },
  samples: { dueAt: Float64Array; lateMs: Float64Array },
  dueCount: number,
  gcLog: GcLog,
  start: Probe,
  end: Probe,
  extra: Record<string, number | string | null>,
): RunResult {
  const seconds = (window.end - window.start) / 1000;
  const cpu = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1e6;
  const gcs = gcLog.figures(window.start, window.end);
  const posts = samples.lateMs.length;
  const serverCpu =
    start.serverCpu !== null && end.serverCpu !== null ? end.serverCpu - start.serverCpu : null;
  const all = percentiles(samples.lateMs);
  const minutes = Math.max(1, Math.round(seconds / 60));
  return {
    contender: spec.contender,
    figures: {
      contender: spec.contender,
      bots: spec.bots,
      target_per_s: spec.bots * spec.rate,
      window_s: seconds,
      posts,
      // Due in the window but never started before the run ended (it should be none).
      unsent: dueCount - posts,
      posts_per_s: posts / seconds,
      p50_ms: all.p50_ms,
      p99_ms: all.p99_ms,
      p99_9_ms: all.p99_9_ms,
      max_ms: all.max_ms,
      cpu_s: cpu,
      cpu_ms_per_post: (cpu * 1000) / Math.max(1, posts),
      server_cpu_s: serverCpu,
      server_cpu_ms_per_post: serverCpu === null ? null : (serverCpu * 1000) / Math.max(1, posts),
      event_loop_utilization: performance.eventLoopUtilization(end.elu, start.elu).utilization,
      major_gcs: gcs.major,
      major_gc_ms: gcs.majorMs,
      max_gc_pause_ms: gcs.maxPauseMs,
      // A scavenge frees about one young generation (1 MB with --max-semi-space-size=1): an allocation gauge.
      minor_gcs_per_1k_posts: (gcs.minor * 1000) / Math.max(1, posts),
      gc_ms_per_s: gcs.totalMs / seconds,
      heap_start_mb: start.heapUsed / 2 ** 20,
      heap_end_mb: end.heapUsed / 2 ** 20,
      ...extra,
    },
    perSecond: slices(samples.dueAt, samples.lateMs, window.start, 1000),
    perMinute: slices(samples.dueAt, samples.lateMs, window.start, 60_000),
    majorGcByMinute: gcs.majorByMinute(minutes),
  };
}

function windowOf(spec: RunSpec, t0: number) {
  const start = t0 + spec.leadMs + spec.warmupSeconds * 1000;
  return { start, end: start + spec.seconds * 1000 };
}

/** The floor: bare Node timers, one chain per lane, each due on its plan (never re-based on when it fired). */
async function runFloor(spec: RunSpec): Promise<RunResult> {
  const gcLog = new GcLog();
  const period = 1000 / spec.rate;
  const capacity = Math.ceil(spec.bots * spec.rate * (spec.warmupSeconds + spec.seconds + 3)) + spec.bots;
  const dueAt = new Float64Array(capacity);
  const lateMs = new Float64Array(capacity);
  let count = 0;
  gc?.();
  const t0 = Date.now();
  const window = windowOf(spec, t0);
  const stopAt = window.end + 1000;
  for (let i = 0; i < spec.bots; i++) {
    const first = Math.round(t0 + (i * 1000) / spec.bots + spec.leadMs);
    let k = 0;
    let due = first;
    const tick = (): void => {
      const at = preciseNow();
      if (due >= window.start && due < window.end) {
        dueAt[count] = due;
        lateMs[count] = at - due;
        count++;
      }
      k++;
      due = first + Math.round(k * period);
      if (due < stopAt) setTimeout(tick, due - Date.now());
    };
    setTimeout(tick, first - Date.now());
  }
  await sleepUntil(window.start);
  const start = await probe(async () => []);
  await sleepUntil(window.end);
  const end = await probe(async () => []);
  await sleepUntil(stopAt + 50);
  gcLog.stop();
  let dueCount = 0;
  for (let i = 0; i < spec.bots; i++) {
    const first = Math.round(t0 + (i * 1000) / spec.bots + spec.leadMs);
    for (let k = 0; ; k++) {
      const due = first + Math.round(k * period);
      if (due >= window.end) break;
      if (due >= window.start) dueCount++;
    }
  }
  return result(
    spec,
    window,
    { dueAt: dueAt.subarray(0, count), lateMs: lateMs.subarray(0, count) },
    dueCount,
    gcLog,
    start,
    end,
    {},
  );
}

async function runStagger(spec: RunSpec & { contender: Exclude<Contender, 'floor'> }): Promise<RunResult> {
  const engine = await openEngine(spec.contender);
  const ids = await addBots(engine, spec);
  const clock = new SystemClock();
  const gateway = new TimingGateway(
    new SandboxGateway({ clock, store: new LeanSandboxStore(), flood: { burst: 1e9, refillPerSecond: 1e9 } }),
  );
  const runtime = new Runtime({
    clock,
    gateway,
    store: engine.runtime,
    options: { planningLeadMs: spec.leadMs },
  });
  let planned = 0;
  let allPlannedAt = 0;
  const off = runtime.events.on((e) => {
    if (e.type === 'cycle.started' && ++planned === ids.length) {
      allPlannedAt = Date.now();
      off();
    }
  });
  const gcLog = new GcLog();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  const window = windowOf(spec, t0);
  // Bots start spread over one second, as customers do: the load is steady, not one burst per second.
  ids.forEach((id, i) => setTimeout(() => runtime.startBot(id), (i * 1000) / ids.length));
  // The heap once every bot has planned its cycle (no forced GC here: a pause would shift lanes).
  await sleep(Math.min(2000, spec.leadMs));
  const heapPlanned = process.memoryUsage().heapUsed;
  await sleepUntil(window.start);
  const start = await probe(() => engine.serverPids());
  await sleepUntil(window.end);
  const end = await probe(() => engine.serverPids());
  await sleepUntil(window.end + 1000);
  await runtime.close();
  gcLog.stop();
  const due = await plannedTimes(engine, ids);
  const seen = new Set<string>();
  const dueAt: number[] = [];
  const lateMs: number[] = [];
  for (let i = 0; i < gateway.postIds.length; i++) {
    const id = gateway.postIds[i]!;
    const at = due.get(id);
    // The first call of a post is when its work started (the bench has no retries); only the window counts.
    if (at === undefined || seen.has(id) || at < window.start || at >= window.end) continue;
    seen.add(id);
    dueAt.push(at);
    lateMs.push(gateway.at[i]! - at);
  }
  let dueCount = 0;
  for (const at of due.values()) if (at >= window.start && at < window.end) dueCount++;
  const out = result(
    spec,
    window,
    { dueAt: Float64Array.from(dueAt), lateMs: Float64Array.from(lateMs) },
    dueCount,
    gcLog,
    start,
    end,
    {
      plan_all_s: allPlannedAt > 0 ? (allPlannedAt - t0) / 1000 : Number.NaN,
      heap_growth_per_bot_kb: (heapPlanned - heapBefore) / spec.bots / 1024,
      posts_per_bot_plan: botPlan(spec).groups,
      commits: runtime.batcher.stats.commits,
      items_per_commit: runtime.batcher.stats.items / Math.max(1, runtime.batcher.stats.commits),
    },
  );
  await engine.close();
  return out;
}

export function runOne(spec: RunSpec): Promise<RunResult> {
  return spec.contender === 'floor'
    ? runFloor(spec)
    : runStagger(spec as RunSpec & { contender: Exclude<Contender, 'floor'> });
}
