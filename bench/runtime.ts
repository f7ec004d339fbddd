/**
 * Runtime benchmark: many bots on the sandbox (zero latency) on the real clock. Reports dispatch lateness (actual
 * minus planned send time) p50/p99/max, throughput, CPU, and memory per running bot beyond its plan — in memory
 * and on the durable path (SQLite, PostgreSQL).
 *
 *   npm run bench:runtime                       the standard scenarios
 *   npm run bench:runtime -- --store sqlite --bots 1000 --rate 5 --seconds 10
 *
 * The sandbox keeps its records in memory in every scenario: what is measured is Stagger's own persistence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { SystemClock } from '../src/runtime/clock.js';
import { MemoryRuntimeStore } from '../src/runtime/memory-store.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { RuntimeStore } from '../src/runtime/store.js';
import { openStore, type Store } from '../src/storage/store.js';
import type { ForwardRequest, Gateway } from '../src/telegram/gateway.js';
import { SandboxGateway } from '../src/telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore } from '../src/telegram/sandbox/sandbox-store.js';
import { createTestDatabase } from '../test/support/postgres.js';
import { seedBot } from '../test/support/seed.js';
import { median, percentile, report } from './report.js';

type Engine = 'memory' | 'sqlite' | 'postgres';
const gc = (globalThis as { gc?: () => void }).gc;

interface Scenario {
  store: Engine;
  bots: number;
  /** Posts per second per bot (one session, delay 1/rate). */
  rate: number;
  seconds: number;
}

/** Records when each forward reached the gateway, with sub-millisecond precision. */
class TimingGateway implements Gateway {
  readonly calls: { postId: string; at: number }[] = [];
  constructor(private readonly inner: Gateway) {}
  checkSource(...args: Parameters<Gateway['checkSource']>) {
    return this.inner.checkSource(...args);
  }
  readSource(...args: Parameters<Gateway['readSource']>) {
    return this.inner.readSource(...args);
  }
  forward(request: ForwardRequest) {
    this.calls.push({ postId: request.trace!.postId!, at: performance.timeOrigin + performance.now() });
    return this.inner.forward(request);
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

async function openEngine(
  engine: Engine,
): Promise<{ runtime: RuntimeStore; store: Store | null; close(): Promise<void> }> {
  if (engine === 'memory') return { runtime: new MemoryRuntimeStore(), store: null, close: async () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-bench-'));
  const pg = engine === 'postgres' ? await createTestDatabase() : null;
  const store = await openStore({ dataDir, url: pg?.url, poolSize: 10 });
  return {
    runtime: store.runtime,
    store,
    async close() {
      await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function addBots(
  engine: Awaited<ReturnType<typeof openEngine>>,
  count: number,
  groups: number,
  rate: number,
) {
  const ids: string[] = [];
  const keys = (b: number) => Array.from({ length: groups }, (_, i) => `-100${1_000_000_000 + b * 1000 + i}`);
  // One cycle covers the measured window (the next would begin a minute after it).
  const settings = { delayBetweenPosts: 1 / rate, delayBetweenCycles: 60, minGroupGapSeconds: 0 };
  for (let b = 0; b < count; b++) {
    if (engine.store) {
      const { botId } = await seedBot(engine.store, {
        name: `bench ${b}`,
        sessions: 1,
        groups: keys(b),
        settings,
      });
      await engine.store.bots.start(botId, 'enterprise', null);
      ids.push(botId);
    } else {
      ids.push(
        (engine.runtime as MemoryRuntimeStore).addBot({
          mode: 'enterprise',
          settings,
          sessions: [{}],
          groups: keys(b),
        }),
      );
    }
  }
  return ids;
}

async function plannedAt(
  engine: Awaited<ReturnType<typeof openEngine>>,
  ids: string[],
): Promise<Map<string, number>> {
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

async function run(s: Scenario) {
  const engine = await openEngine(s.store);
  const clock = new SystemClock();
  // One cycle per bot covers the whole run: `rate × seconds` posts, one session each.
  const groups = Math.ceil(s.rate * s.seconds) + 1;
  const ids = await addBots(engine, s.bots, groups, s.rate);
  const gateway = new TimingGateway(
    new SandboxGateway({
      clock,
      store: new MemorySandboxStore(),
      flood: { burst: 1e9, refillPerSecond: 1e9 },
    }),
  );
  // Every bot plans its cycle within the lead (they start over one second); posting is then measured in the
  // steady state. Starting many bots at once is measured on its own: `plan_all_s`.
  const leadMs = 5_000;
  const runtime = new Runtime({ clock, gateway, store: engine.runtime, options: { planningLeadMs: leadMs } });
  let planned = 0;
  let allPlannedAt = 0;
  runtime.events.on((e) => {
    if (e.type === 'cycle.started' && ++planned === ids.length) allPlannedAt = Date.now();
  });
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  // Bots start spread over one second, as customers do: the load is steady, not one burst per second.
  await Promise.all(
    ids.map(
      (id, i) =>
        new Promise<void>((resolve) =>
          setTimeout(
            () => {
              runtime.startBot(id);
              resolve();
            },
            (i * 1000) / ids.length,
          ),
        ),
    ),
  );
  // Heap once every bot has planned its cycle (no forced GC here: a pause would shift lanes for the whole run).
  await new Promise((r) => setTimeout(r, Math.min(2000, (s.seconds * 1000) / 3)));
  const heapRunning = process.memoryUsage().heapUsed;
  const elu0 = performance.eventLoopUtilization();
  await new Promise((r) => setTimeout(r, Math.max(0, leadMs + s.seconds * 1000 - (Date.now() - t0))));
  const elapsed = (Date.now() - t0 - leadMs) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  // Only what was sent in the measured window counts (not calls that finish during shutdown).
  const windowEnd = performance.timeOrigin + performance.now();
  await runtime.close();
  gateway.calls.splice(0, gateway.calls.length, ...gateway.calls.filter((c) => c.at <= windowEnd));
  const plannedTimes = await plannedAt(engine, ids);
  const lateness = gateway.calls
    .map((c) => c.at - plannedTimes.get(c.postId)!)
    .filter((x) => Number.isFinite(x));
  if (process.env.BENCH_DEBUG) {
    const bySecond = new Map<number, number[]>();
    for (const c of gateway.calls) {
      const sec = Math.floor((c.at - t0) / 1000);
      bySecond.set(sec, [...(bySecond.get(sec) ?? []), c.at - plannedTimes.get(c.postId)!]);
    }
    const late = gateway.calls.filter((c) => c.at - plannedTimes.get(c.postId)! > 50);
    console.error(
      'late posts by bot index:',
      late
        .slice(0, 20)
        .map((c) => c.postId)
        .join(' '),
    );
    for (const [sec, l] of [...bySecond].sort((a, b) => a[0] - b[0])) {
      console.error(
        sec,
        l.length,
        percentile(l, 50).toFixed(1),
        percentile(l, 99).toFixed(1),
        Math.max(...l).toFixed(1),
      );
    }
  }
  const result = {
    store: s.store,
    bots: s.bots,
    target_posts_per_s: s.bots * s.rate,
    posts: gateway.calls.length,
    // Steady throughput: the median of whole seconds (the first and the last are partly start-up and shutdown).
    posts_per_s: steadyRate(gateway.calls.map((c) => c.at)),
    lateness_p50_ms: percentile(lateness, 50),
    lateness_p99_ms: percentile(lateness, 99),
    lateness_max_ms: Math.max(...lateness),
    cpu_percent: ((cpu.user + cpu.system) / 1000 / (elapsed * 1000 + leadMs)) * 100,
    // How busy the main thread was while posting (1 = saturated).
    event_loop_utilization: elu.utilization,
    plan_all_s: allPlannedAt > 0 ? (allPlannedAt - t0) / 1000 : Number.NaN,
    heap_growth_per_bot_kb: (heapRunning - heapBefore) / s.bots / 1024,
    posts_per_bot_plan: groups,
    commits: runtime.batcher.stats.commits,
    items_per_commit: runtime.batcher.stats.items / Math.max(1, runtime.batcher.stats.commits),
  };
  await engine.close();
  return result;
}

function steadyRate(times: number[]): number {
  if (times.length === 0) return 0;
  const first = Math.min(...times);
  const buckets = new Map<number, number>();
  for (const t of times) {
    const k = Math.floor((t - first) / 1000);
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b).slice(1, -1);
  return keys.length === 0 ? times.length : median(keys.map((k) => buckets.get(k)!));
}

/** Memory per running bot beyond its plan: two plan sizes, extrapolated to a plan of zero posts. */
async function memoryPerBot() {
  const sample = async (groups: number) => {
    const store = new MemoryRuntimeStore();
    const clock = new SystemClock();
    const ids = Array.from({ length: 1000 }, (_, b) =>
      store.addBot({
        mode: 'enterprise',
        settings: { delayBetweenPosts: 3600, minGroupGapSeconds: 0 },
        sessions: [{}],
        groups: Array.from({ length: groups }, (_, i) => `-100${1_000_000_000 + b * 1000 + i}`),
      }),
    );
    const runtime = new Runtime({
      clock,
      store,
      gateway: new SandboxGateway({ clock, store: new MemorySandboxStore() }),
    });
    const heaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      gc?.();
      const before = process.memoryUsage().heapUsed;
      for (const id of ids) runtime.startBot(id);
      await new Promise((r) => setTimeout(r, 500));
      gc?.();
      heaps.push((process.memoryUsage().heapUsed - before) / ids.length);
      await Promise.all(ids.map((id) => runtime.stopBot(id, 'suspend')));
    }
    await runtime.close();
    return median(heaps);
  };
  const small = await sample(10);
  const large = await sample(110);
  const perPost = (large - small) / 100;
  return {
    bots: 1000,
    bytes_per_plan_post: perPost,
    kb_per_bot_beyond_plan: (small - 10 * perPost) / 1024,
    target_kb: 20,
  };
}

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    bots: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
  },
});

if (values.store) {
  report('runtime', [
    await run({
      store: values.store as Engine,
      bots: Number(values.bots ?? 1000),
      rate: Number(values.rate ?? 1),
      seconds: Number(values.seconds ?? 10),
    }),
  ]);
} else {
  // Shared machines are noisy: each scenario runs RUNS times; the table shows the median of each figure.
  const RUNS = Number(process.env.BENCH_RUNS ?? 3);
  const scenarios: Scenario[] = [
    { store: 'memory', bots: 1000, rate: 1, seconds: 15 },
    { store: 'sqlite', bots: 1000, rate: 1, seconds: 15 },
    { store: 'postgres', bots: 1000, rate: 1, seconds: 15 },
    { store: 'sqlite', bots: 1000, rate: 5, seconds: 10 },
  ];
  const rows: Record<string, unknown>[] = [];
  for (const scenario of scenarios) {
    const runs: Record<string, unknown>[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await run(scenario));
    rows.push(medianRow(runs));
  }
  report('runtime', rows);
  report('runtime-memory', [await memoryPerBot()]);
}

/** The median of every numeric figure over the runs (other fields from the first run). */
function medianRow(runs: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...runs[0], runs: runs.length };
  for (const [key, value] of Object.entries(runs[0]!)) {
    if (typeof value === 'number') out[key] = median(runs.map((r) => r[key] as number));
  }
  return out;
}
process.exit(0);
