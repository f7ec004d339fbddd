/**
 * Failover benchmark: three `stagger worker` processes on PostgreSQL run thirty bots under continuous load; a
 * random worker is killed with SIGKILL twenty times (a replacement is started right after each kill). Reports the
 * takeover time (kill → every bot of the dead worker owned again; median and max), duplicates and losses from the
 * sandbox's delivery records, and the cluster's throughput.
 *
 *   npm run bench:failover            (needs PostgreSQL at 127.0.0.1:5432; BENCH_KILLS=20)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseRepository } from '../src/storage/leases.js';
import { NotifyBotControl } from '../src/storage/pg-channel.js';
import { openStore } from '../src/storage/store.js';
import { createTestDatabase } from '../test/support/postgres.js';
import { runStagger, until, type Child } from '../test/support/processes.js';
import { groupIds, seedBot } from '../test/support/seed.js';
import { median, report } from './report.js';

const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const BOTS = 30;

const db = await createTestDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'stagger-failover-'));
const env = {
  DATABASE_URL: db.url,
  STAGGER_DATA_DIR: dataDir,
  STAGGER_SECRET_KEY: randomBytes(32).toString('base64'),
  STAGGER_SANDBOX_FLOOD_BURST: '100000',
  STAGGER_SANDBOX_FLOOD_PER_SECOND: '100000',
  LOG_LEVEL: 'error',
};
const store = await openStore({ dataDir, url: db.url, secretKey: env.STAGGER_SECRET_KEY });
const leases = new LeaseRepository(store.db, store.dialect);
const botIds: string[] = [];
for (let b = 0; b < BOTS; b++) {
  // Continuous load: 20 posts a session, 0.25 s apart, the next cycle 30 s after (late posts stay in their cycle).
  const { botId } = await seedBot(store, {
    name: `bench ${b}`,
    sessions: 2,
    groups: groupIds(40, 1_000_000_000 + b * 100),
    settings: { delayBetweenPosts: 0.25, delayBetweenCycles: 30, minGroupGapSeconds: 0 },
  });
  botIds.push(botId);
}

const workers: { child: Child; id: string }[] = [];
async function startWorker() {
  const child = runStagger(['worker'], env);
  const [, id] = await child.waitFor(/worker (\S+) running/, 30_000);
  workers.push({ child, id: id! });
}
async function owners(): Promise<Map<string, string>> {
  const view = await leases.clusterView(5_000);
  const out = new Map<string, string>();
  for (const w of view.workers) for (const b of w.bots) out.set(b.botId, w.id);
  return out;
}

for (let i = 0; i < 3; i++) await startWorker();

// Throughput first: every bot posting as fast as it may (4 sessions a bot, 0.1 s apart, cycles back to back).
const throughputBots: string[] = [];
for (let b = 0; b < BOTS; b++) {
  const { botId } = await seedBot(store, {
    name: `throughput ${b}`,
    sessions: 4,
    groups: groupIds(100, 2_000_000_000 + b * 1000),
    settings: { delayBetweenPosts: 0.1, delayBetweenCycles: 0, minGroupGapSeconds: 0 },
  });
  throughputBots.push(botId);
}
for (const id of throughputBots) await store.bots.start(id, 'enterprise', null);
await until(async () => (await owners()).size === BOTS, 30_000, 100);
const measureFrom = Date.now() + 3_000;
await new Promise((r) => setTimeout(r, 13_000));
const measureTo = Date.now();
const offered = BOTS * 4 * 10;
const tpControl = new NotifyBotControl(store.db);
for (const id of throughputBots) if (await store.bots.stop(id)) await tpControl.stopped(id);
await until(async () => (await owners()).size === 0, 30_000, 200);
const tpDeliveries = (await store.sandbox.listDeliveries()).filter(
  (d) => d.at >= measureFrom && d.at < measureTo,
);
const throughput = tpDeliveries.length / ((measureTo - measureFrom) / 1000);
process.stderr.write(`throughput: ${throughput.toFixed(0)} posts/s (offered ${offered}/s)\n`);

const t0 = Date.now();
for (const id of botIds) await store.bots.start(id, 'enterprise', null);
await until(async () => (await owners()).size === BOTS, 30_000, 100);

const takeovers: number[] = [];
for (let k = 0; k < KILLS; k++) {
  await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 2_000));
  const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0]!;
  const before = await owners();
  const itsBots = [...before].filter(([, w]) => w === victim.id).map(([b]) => b);
  const killedAt = Date.now();
  await victim.child.kill('SIGKILL');
  void startWorker();
  await until(
    async () => {
      const o = await owners();
      return itsBots.every((b) => o.has(b) && o.get(b) !== victim.id);
    },
    60_000,
    50,
  );
  takeovers.push(Date.now() - killedAt);
  process.stderr.write(
    `kill ${k + 1}/${KILLS}: ${itsBots.length} bots taken over in ${Date.now() - killedAt} ms\n`,
  );
}
const loadSeconds = (Date.now() - t0) / 1000;

// Stop everything and let the calls on the wire finish.
const control = new NotifyBotControl(store.db);
for (const id of botIds) if (await store.bots.stop(id)) await control.stopped(id);
await until(async () => (await owners()).size === 0, 30_000, 200);
await new Promise((r) => setTimeout(r, 1_500));
for (const w of workers) await w.child.kill('SIGTERM');

const tpPostIds = new Set(
  (await store.db.selectFrom('posts').select('id').where('bot_id', 'in', throughputBots).execute()).map((p) =>
    String(p.id),
  ),
);
const deliveries = (await store.sandbox.listDeliveries()).filter((d) => !tpPostIds.has(d.trace.postId!));
const perPost = new Map<string, number>();
for (const d of deliveries) perPost.set(d.trace.postId!, (perPost.get(d.trace.postId!) ?? 0) + 1);
const posts = await store.db
  .selectFrom('posts')
  .select(['id', 'status', 'reason'])
  .where('bot_id', 'in', botIds)
  .execute();
const perSecond = new Map<number, number>();
for (const d of deliveries)
  perSecond.set(Math.floor(d.at / 1000), (perSecond.get(Math.floor(d.at / 1000)) ?? 0) + 1);
const seconds = [...perSecond.keys()].sort((a, b) => a - b).slice(1, -1);

report('failover', [
  {
    workers: 3,
    bots: BOTS,
    kills: KILLS,
    takeover_median_s: median(takeovers) / 1000,
    takeover_max_s: Math.max(...takeovers) / 1000,
    duplicates: [...perPost.values()].filter((n) => n > 1).length,
    // Posts that were due but not delivered: missed, left planned or sending, or failed with an unknown fate.
    losses: posts.filter(
      (p) =>
        p.status === 'missed' ||
        p.status === 'sending' ||
        (p.status === 'failed' && p.reason !== 'transient'),
    ).length,
    delivered: deliveries.length,
    cluster_throughput_posts_per_s: Math.round(throughput),
    offered_posts_per_s: offered,
    posts_per_s_during_kills: median(seconds.map((s) => perSecond.get(s)!)),
    load_seconds: loadSeconds,
    targets: 'median ≤ 6 s, max ≤ 10 s, 0 duplicates, 0 losses',
  },
]);

await store.close();
await db.drop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
