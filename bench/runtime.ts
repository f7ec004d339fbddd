/**
 * Runtime benchmark: many bots on the sandbox (zero latency) on the real clock, against the floor measured in the
 * same run — bare Node timers at the same load, with the same Node flags. Reports dispatch lateness (the time the
 * forward started − the time it was due) p50/p99/p99.9/max and each as a ratio to the floor, throughput, CPU per
 * post (and PostgreSQL's, from /proc of its backends), GC, and memory per running bot beyond its plan — in memory
 * and on the durable paths (SQLite, PostgreSQL). Every run is a process of its own (a fresh heap, the same flags).
 *
 *   npm run bench:runtime                          the standard scenarios (15 s, 3 runs each, BENCH_RUNS)
 *   npm run bench:runtime -- --side-by-side        1,000 timed events a second for 60 s after a 5 s warm-up:
 *                                                  the floor, memory, SQLite, PostgreSQL
 *   npm run bench:runtime -- --soak                10 minutes (--minutes, BENCH_SOAK_MINUTES) of one-minute
 *                                                  cycles on SQLite (--store): p99 per minute
 *   npm run bench:runtime -- --store sqlite --bots 1000 --rate 5 --seconds 10 [--warmup 5] [--runs 3]
 *
 * One run alone (to profile it): `--child '{"contender":"sqlite","bots":1000,"rate":1,"warmupSeconds":5,
 * "seconds":20,"leadMs":5000,"cycles":"cycle"}'`.
 * `--store` takes a list (`memory,sqlite,postgres`); `--no-floor` leaves the floor out. BENCH_DEBUG=1 prints the
 * figures of every second to stderr. The sandbox answers from memory and keeps no record of deliveries: what is
 * measured is Stagger (its timers, its persistence), not the harness.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SystemClock } from '../src/runtime/clock.js';
import { MemoryRuntimeStore } from '../src/runtime/memory-store.js';
import { Runtime } from '../src/runtime/runtime.js';
import { SandboxGateway } from '../src/telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore } from '../src/telegram/sandbox/sandbox-store.js';
import { median, report } from './report.js';
import { runOne, type Contender, type RunResult, type RunSpec } from './runtime-run.js';

const gc = (globalThis as { gc?: () => void }).gc;

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    'side-by-side': { type: 'boolean' },
    soak: { type: 'boolean' },
    minutes: { type: 'string' },
    store: { type: 'string' },
    bots: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    'no-floor': { type: 'boolean' },
  },
});

/** Runs one spec in a child process with this process's Node flags. */
function runInChild(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url)),
      [fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)],
      { execArgv: process.execArgv, stdio: ['ignore', 2, 2, 'ipc'] },
    );
    let result: RunResult | null = null;
    child.on('message', (m) => (result = m as RunResult));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`benchmark run ${spec.contender} exited with ${code}`)),
    );
  });
}

interface Group {
  /** The load every contender of the group gets (the floor is measured at it). */
  load: Omit<RunSpec, 'contender'>;
  contenders: Contender[];
}

/** The table's columns (the JSON has every figure). */
const TABLE = [
  'contender',
  'bots',
  'rate',
  'warmup_s',
  'window_s',
  'posts_per_s',
  'unsent',
  'p50_ms',
  'p99_ms',
  'p99_9_ms',
  'max_ms',
  'p50_x_floor',
  'p99_x_floor',
  'p99_9_x_floor',
  'max_x_floor',
  'cpu_ms_per_post',
  'server_cpu_ms_per_post',
  'major_gcs',
  'max_gc_pause_ms',
  'minor_gcs_per_1k_posts',
  'heap_end_mb',
  'runs',
];

/** Which lateness figures get a ratio to the floor. */
const LATENESS = ['p50_ms', 'p99_ms', 'p99_9_ms', 'max_ms'] as const;

async function main(): Promise<void> {
  const stores = values.store?.split(',').map((s) => s.trim() as Contender);
  const floor = values['no-floor'] ? [] : (['floor'] as Contender[]);
  let groups: Group[];
  let runs = Number(values.runs ?? process.env.BENCH_RUNS ?? 3);
  const base = { bots: Number(values.bots ?? 1000), rate: Number(values.rate ?? 1), leadMs: 5_000 };
  if (values.soak) {
    const minutes = Number(values.minutes ?? process.env.BENCH_SOAK_MINUTES ?? 10);
    runs = Number(values.runs ?? 1);
    groups = [
      {
        load: { ...base, warmupSeconds: 5, seconds: minutes * 60, cycles: 'minutes' },
        contenders: [...floor, ...(stores ?? ['sqlite'])],
      },
    ];
  } else if (values['side-by-side']) {
    groups = [
      {
        load: {
          ...base,
          warmupSeconds: Number(values.warmup ?? 5),
          seconds: Number(values.seconds ?? 60),
          cycles: 'cycle',
        },
        contenders: [...floor, ...(stores ?? ['memory', 'sqlite', 'postgres'])],
      },
    ];
  } else if (stores) {
    groups = [
      {
        load: {
          ...base,
          warmupSeconds: Number(values.warmup ?? 0),
          seconds: Number(values.seconds ?? 10),
          cycles: 'cycle',
        },
        contenders: [...floor, ...stores],
      },
    ];
  } else {
    const standard = { ...base, warmupSeconds: 0, cycles: 'cycle' as const };
    groups = [
      { load: { ...standard, seconds: 15 }, contenders: [...floor, 'memory', 'sqlite', 'postgres'] },
      { load: { ...standard, rate: 5, seconds: 10 }, contenders: [...floor, 'sqlite'] },
    ];
  }

  const rows: Record<string, unknown>[] = [];
  const minutes: Record<string, unknown>[] = [];
  for (const group of groups) {
    const results = new Map<Contender, RunResult[]>();
    // Rounds, not one contender after another: a quiet or a busy spell of a shared machine hits them all.
    for (let round = 0; round < runs; round++) {
      for (const contender of group.contenders) {
        const result = await runInChild({ ...group.load, contender });
        results.set(contender, [...(results.get(contender) ?? []), result]);
        if (process.env.BENCH_DEBUG) debugSeconds(result);
      }
    }
    const medians = new Map([...results].map(([c, list]) => [c, medianRow(list.map((r) => r.figures))]));
    const floorRow = medians.get('floor');
    for (const [contender, row] of medians) {
      const ratios = Object.fromEntries(
        LATENESS.map((k) => [
          `${k.replace('_ms', '')}_x_floor`,
          floorRow && contender !== 'floor' ? (row[k] as number) / (floorRow[k] as number) : null,
        ]),
      );
      rows.push({ ...row, ...ratios, rate: group.load.rate, warmup_s: group.load.warmupSeconds });
    }
    if (values.soak) {
      for (const [contender, list] of results) {
        const run = list[0]!;
        for (const m of run.perMinute) {
          minutes.push({
            contender,
            minute: m.slice + 1,
            posts: m.posts,
            p50_ms: m.p50_ms,
            p99_ms: m.p99_ms,
            p99_9_ms: m.p99_9_ms,
            max_ms: m.max_ms,
            late_over_5ms_pct: m.late_over_5ms_pct,
            major_gcs: run.majorGcByMinute[m.slice] ?? 0,
            p99_x_first_minute: m.p99_ms / run.perMinute[0]!.p99_ms,
          });
        }
      }
    }
  }
  report('runtime', rows, TABLE);
  if (minutes.length > 0) {
    process.stdout.write('\n');
    report('runtime-per-minute', minutes);
  }
  if (!values.soak && !values['side-by-side'] && !stores) {
    process.stdout.write('\n');
    report('runtime-memory', [await memoryPerBot()]);
  }
}

function debugSeconds(result: RunResult): void {
  process.stderr.write(`${result.contender}: second posts p50 p99 max late>5ms%\n`);
  for (const s of result.perSecond) {
    process.stderr.write(
      `  ${s.slice} ${s.posts} ${s.p50_ms.toFixed(2)} ${s.p99_ms.toFixed(2)} ${s.max_ms.toFixed(2)} ${s.late_over_5ms_pct.toFixed(1)}\n`,
    );
  }
}

/** The median of every numeric figure over the runs (other fields from the first run). */
function medianRow(runs: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...runs[0], runs: runs.length };
  for (const [key, value] of Object.entries(runs[0]!)) {
    if (typeof value === 'number') out[key] = median(runs.map((r) => r[key] as number));
  }
  return out;
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

if (values.child) {
  // A run in its own process: the result goes back to the parent (started by hand, to profile it: to stdout).
  const result = await runOne(JSON.parse(values.child) as RunSpec);
  if (process.send) process.send(result, () => process.exit(0));
  else {
    report('runtime', [result.figures]);
    process.exit(0);
  }
} else {
  await main();
  process.exit(0);
}
