/**
 * Cluster throughput benchmark: three `stagger worker` processes on PostgreSQL with the PostgreSQL-backed sandbox
 * Telegram, thirty bots of four sessions each posting every 0.1 s (1,200 posts a second offered). Over a measured
 * window after a warm-up it reports what was offered (posts planned in the window) and delivered, how late the
 * deliveries were, the statements sent to PostgreSQL per post delivered — all of them, and by path: the runtime's
 * commits (its own per-post path), the sandbox, the lease keeper, the rest — and the CPU per post of the workers
 * and of their PostgreSQL backends.
 *
 *   npm run bench:cluster       (needs PostgreSQL at 127.0.0.1:5432; BENCH_SECONDS=20, BENCH_WARMUP_SECONDS=5)
 */
import { sql } from 'kysely';
import { STATEMENT_PATHS } from '../src/storage/statement-stats.js';
import { NotifyBotControl } from '../src/storage/pg-channel.js';
import { until } from '../test/support/processes.js';
import { groupIds, seedBot } from '../test/support/seed.js';
import { startCluster, sleep } from './cluster-kit.js';
import { percentile, report } from './report.js';

const WORKERS = 3;
const BOTS = 30;
const SESSIONS = 4;
const DELAY_S = 0.1;
/** 100 posts a session a cycle: 10 s cycles, so that the planning between cycles is a small part of the load. */
const GROUPS = 400;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

const cluster = await startCluster();
const { store } = cluster;
const botIds: string[] = [];
for (let b = 0; b < BOTS; b++) {
  const { botId } = await seedBot(store, {
    name: `throughput ${b}`,
    sessions: SESSIONS,
    groups: groupIds(GROUPS, 2_000_000_000 + b * 1000),
    settings: { delayBetweenPosts: DELAY_S, delayBetweenCycles: 0, minGroupGapSeconds: 0 },
  });
  botIds.push(botId);
}
for (let i = 0; i < WORKERS; i++) await cluster.startWorker();
for (const id of botIds) await store.bots.start(id, 'enterprise', null);
await until(async () => (await cluster.owners()).size === BOTS, 30_000, 100);
// The first cycle of each bot reads its groups' facts first (once an hour a pair): the window starts once every
// bot posts, after a warm-up.
await until(
  async () => {
    const row = await sql<{ n: string }>`
      select count(distinct bot_id) as n from posts where status in ('sent', 'duplicate')`.execute(store.db);
    return Number(row.rows[0]!.n) === BOTS;
  },
  300_000,
  500,
);
await sleep(WARMUP * 1000);
const before = await cluster.sample();
const from = Date.now();
await sleep(SECONDS * 1000);
const to = Date.now();
const after = await cluster.sample();

const control = new NotifyBotControl(store.db);
for (const id of botIds) if (await store.bots.stop(id)) await control.stopped(id);
await until(async () => (await cluster.owners()).size === 0, 30_000, 200);

const seconds = (to - from) / 1000;
// Each delivery against its post's planned time (the sandbox records the post's id beside the message).
const delivered = await sql<{ late: string }>`
  select d.at - p.planned_at as late from sandbox_deliveries d
  join posts p on p.id = (d.trace::json ->> 'postId')::bigint
  where d.at >= ${from} and d.at < ${to}`.execute(store.db);
const lateness = delivered.rows.map((r) => Number(r.late));
const planned = await store.db
  .selectFrom('posts')
  .select((eb) => eb.fn.countAll<string>().as('n'))
  .where('planned_at', '>=', from)
  .where('planned_at', '<', to)
  .executeTakeFirstOrThrow();
const posts = lateness.length;
const statements = Object.fromEntries(
  STATEMENT_PATHS.map((p) => [p, after.statements[p] - before.statements[p]]),
) as Record<(typeof STATEMENT_PATHS)[number], number>;
const total = STATEMENT_PATHS.reduce((n, p) => n + statements[p], 0);
const workerCpu = after.workerCpuMs - before.workerCpuMs;
const postgresCpu = after.postgresCpuMs - before.postgresCpuMs;
const perPost = (n: number): number => (posts === 0 ? Number.NaN : n / posts);

report('cluster', [
  {
    workers: WORKERS,
    bots: BOTS,
    seconds,
    offered_posts_per_s: BOTS * SESSIONS * (1 / DELAY_S),
    planned_posts_per_s: Math.round(Number(planned.n) / seconds),
    delivered_posts_per_s: Math.round(posts / seconds),
    late_p50_ms: percentile(lateness, 50),
    late_p99_ms: percentile(lateness, 99),
    late_max_ms: Math.max(...lateness),
    statements_per_post: perPost(total),
    commit_statements_per_post: perPost(statements.commit),
    sandbox_statements_per_post: perPost(statements.sandbox),
    lease_statements_per_post: perPost(statements.leases),
    other_statements_per_post: perPost(statements.other),
    worker_cpu_ms_per_post: perPost(workerCpu),
    postgres_cpu_ms_per_post: perPost(postgresCpu),
    cpu_ms_per_post: perPost(workerCpu + postgresCpu),
    targets: 'delivered = offered (1,200/s), commit statements ≤ 2 a post',
  },
]);

await cluster.close();
process.exit(0);
