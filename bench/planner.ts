/**
 * Planner benchmark: time and peak memory to plan a starter cycle of 100 sessions × 10,000 groups (1,000,000
 * posts) and an enterprise cycle of 1,000 sessions × 100,000 groups. Target: each under 1 s on this machine.
 * Run: `npm run bench:planner` (node is started with --expose-gc for clean memory figures).
 */
import { planCycle } from '../src/core/plan.js';
import { runSimulation } from '../src/runtime/simulation.js';
import { median, report } from './report.js';

const gc = (globalThis as { gc?: () => void }).gc;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function scenario(name: string, mode: 'starter' | 'enterprise', sessions: number, groups: number) {
  const sessionIds = Array.from({ length: sessions }, (_, i) => `s${i}`);
  const groupIds = Array.from({ length: groups }, (_, i) => `-100${1_000_000_000 + i}`);
  const times: number[] = [];
  const heaps: number[] = [];
  let posts = 0;
  for (let run = 0; run < RUNS; run++) {
    gc?.();
    const before = process.memoryUsage();
    const t0 = process.hrtime.bigint();
    const plan = planCycle({
      mode,
      sessions: sessionIds,
      groups: groupIds,
      delayBetweenPosts: 5,
      totalCycleMinutes: 60,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = process.memoryUsage();
    posts = plan.posts.length;
    times.push(ms);
    // Memory the plan holds on to (heap growth while it is alive).
    heaps.push((after.heapUsed - before.heapUsed) / 1024 / 1024);
  }
  return {
    scenario: name,
    posts,
    runs: RUNS,
    median_ms: median(times),
    max_ms: Math.max(...times),
    heap_mb_median: median(heaps),
    // The process's peak resident memory so far (monotonic across scenarios).
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    target_ms: 1000,
    ok: median(times) < 1000,
  };
}

/** `stagger simulate` of an hour: the real runtime on the sandbox and a virtual clock. */
async function simulateHour() {
  const times: number[] = [];
  let deliveries = 0;
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint();
    const result = await runSimulation({
      mode: 'starter',
      sessions: 6,
      groups: Array.from({ length: 20 }, (_, i) => `g${i}`),
      delayBetweenPosts: 5,
      totalCycleMinutes: 60,
      cycles: 1,
      seed: run,
      faults: [],
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    deliveries = result.deliveries.length;
  }
  return {
    scenario: 'simulate 1 h (starter 6 × 20)',
    posts: deliveries,
    runs: RUNS,
    median_ms: median(times),
    max_ms: Math.max(...times),
    target_ms: 1000,
    ok: median(times) < 1000,
  };
}

report('planner', [
  scenario('starter 100 × 10,000', 'starter', 100, 10_000),
  scenario('enterprise 1,000 × 100,000', 'enterprise', 1_000, 100_000),
  await simulateHour(),
]);
