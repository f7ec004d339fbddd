/**
 * Failover benchmark: three `stagger worker` processes on PostgreSQL run thirty busy bots (each posting every
 * 0.5 s from two sessions, 10 s cycles 15 s apart).
 *
 * Kills: a random worker is killed with SIGKILL (BENCH_KILLS times; a replacement is started right after each).
 * Per kill: the takeover (kill → every bot of the dead worker owned again), split into the wait for its leases to
 * expire (kill → the last of them expires, by the database's clock) and the takeover after expiry (the survivors'
 * next tick and the claim); and the resume (kill → each of its busy bots' first delivery from its new owner).
 *
 * Stalls: a random worker is frozen (SIGSTOP … SIGCONT) for BENCH_STALL_MS (2,000 ms), BENCH_STALLS times, at a
 * random phase of its renewal. A stall must cost nothing: no bot of the frozen worker changes owner or epoch (no
 * false failover). Per stall: the headroom — how much life its leases had left when its first renewal after the
 * stall reached the database (the margin the lease length leaves over the stall).
 *
 * Over the whole run: posts delivered twice (by the sandbox's records) and posts lost.
 *
 *   npm run bench:failover      (needs PostgreSQL at 127.0.0.1:5432; BENCH_KILLS=20 BENCH_STALLS=10)
 */
import { sql } from 'kysely';
import { DEFAULT_LEASE_SECONDS } from '../src/config.js';
import { NotifyBotControl } from '../src/storage/pg-channel.js';
import { until } from '../test/support/processes.js';
import { groupIds, seedBot } from '../test/support/seed.js';
import { startCluster, sleep, type BenchWorker } from './cluster-kit.js';
import { median, percentile, report } from './report.js';

const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const STALLS = Number(process.env.BENCH_STALLS ?? 10);
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 2_000);
const BOTS = 30;

const cluster = await startCluster();
const { store } = cluster;
const botIds: string[] = [];
for (let b = 0; b < BOTS; b++) {
  // Busy: 20 posts a session, 0.5 s apart, the next cycle 15 s after (late posts stay in their cycle).
  const { botId } = await seedBot(store, {
    name: `bench ${b}`,
    sessions: 2,
    groups: groupIds(40, 1_000_000_000 + b * 100),
    settings: { delayBetweenPosts: 0.5, delayBetweenCycles: 15, minGroupGapSeconds: 0 },
  });
  botIds.push(botId);
}
for (let i = 0; i < 3; i++) await cluster.startWorker();

const t0 = Date.now();
for (const id of botIds) await store.bots.start(id, 'enterprise', null);
await until(async () => (await cluster.owners()).size === BOTS, 30_000, 100);

/** Each live lease: owner, epoch and expiry (database clock). */
async function leaseRows() {
  const rows = await sql<{ bot_id: string; owner_id: string | null; epoch: string; expires_at: string }>`
    select bot_id::text, owner_id, epoch::text, expires_at::text from leases`.execute(store.db);
  return new Map(
    rows.rows.map((r) => [
      r.bot_id,
      { owner: r.owner_id, epoch: Number(r.epoch), expiresAt: Number(r.expires_at) },
    ]),
  );
}

/** A random live worker that holds bots. */
async function pick(): Promise<BenchWorker> {
  const owners = new Set((await cluster.owners()).values());
  const ws = cluster.workers.filter(
    (w) => w.child.process.exitCode === null && w.child.process.signalCode === null && owners.has(w.id),
  );
  return ws[Math.floor(Math.random() * ws.length)]!;
}

const takeovers: number[] = [];
const expiryWaits: number[] = [];
const afterExpiry: number[] = [];
const resumes: number[] = [];
for (let k = 0; k < KILLS; k++) {
  await sleep(1_000 + Math.random() * 2_000);
  const victim = await pick();
  const before = await leaseRows();
  const itsBots = [...before].filter(([, l]) => l.owner === victim.id).map(([b]) => b);
  const killedAt = Date.now();
  await victim.child.kill('SIGKILL');
  const expiredAt = Math.max(...itsBots.map((b) => before.get(b)!.expiresAt));
  void cluster.startWorker();
  await until(
    async () => {
      const o = await cluster.owners();
      return itsBots.every((b) => o.has(b) && o.get(b) !== victim.id);
    },
    60_000,
    20,
  );
  const takenAt = Date.now();
  takeovers.push(takenAt - killedAt);
  expiryWaits.push(expiredAt - killedAt);
  afterExpiry.push(takenAt - expiredAt);
  // The first post each of its busy bots delivered after the kill, from its new owner.
  await sleep(2_000);
  const first = await sql<{ bot_id: string; at: string }>`
    select d.trace::json ->> 'botId' as bot_id, min(d.at)::text as at from sandbox_deliveries d
    where d.at > ${killedAt} and d.trace::json ->> 'ownerId' <> ${victim.id}
      and d.trace::json ->> 'botId' in (${sql.join(itsBots)})
    group by 1`.execute(store.db);
  // Busy: it had a post due within the first second after the kill.
  const busy = await sql<{ bot_id: string }>`
    select distinct bot_id::text from posts
    where planned_at > ${killedAt} and planned_at < ${killedAt + 1_000} and bot_id in (${sql.join(itsBots)})`.execute(
    store.db,
  );
  const busyIds = new Set(busy.rows.map((r) => r.bot_id));
  for (const r of first.rows) if (busyIds.has(r.bot_id)) resumes.push(Number(r.at) - killedAt);
  process.stderr.write(
    `kill ${k + 1}/${KILLS}: ${itsBots.length} bots taken over in ${takenAt - killedAt} ms ` +
      `(leases expired ${expiredAt - killedAt} ms after the kill)\n`,
  );
}

let falseFailovers = 0;
const headrooms: number[] = [];
// The workers' lease length: this process's environment, which they inherit, or the default.
const leaseMs = Number(process.env.STAGGER_LEASE_SECONDS ?? DEFAULT_LEASE_SECONDS) * 1000;
for (let k = 0; k < STALLS; k++) {
  await sleep(1_000 + Math.random() * 1_000);
  const frozen = await pick();
  const before = await leaseRows();
  const itsBots = [...before].filter(([, l]) => l.owner === frozen.id).map(([b]) => b);
  const stoppedAt = Date.now();
  frozen.child.process.kill('SIGSTOP');
  // Its leases as they are while it is frozen (none of them can be renewed meanwhile, nor expire yet).
  await sleep(STALL_MS / 2);
  const frozenRows = await leaseRows();
  await sleep(stoppedAt + STALL_MS - Date.now());
  frozen.child.process.kill('SIGCONT');
  const resumedAt = Date.now();
  // Its first renewal after the stall: the expiries move on (renewed at `new expiry − lease`, database time).
  const renewed = await until(
    async () => {
      const now = await leaseRows();
      const moved = itsBots.filter((b) => now.get(b)!.expiresAt !== frozenRows.get(b)!.expiresAt);
      return moved.length === itsBots.length || Date.now() > resumedAt + 3_000 ? now : null;
    },
    10_000,
    10,
  );
  for (const b of itsBots) {
    const was = before.get(b)!;
    const now = renewed.get(b)!;
    if (now.owner !== was.owner || now.epoch !== was.epoch) falseFailovers++;
    else headrooms.push(frozenRows.get(b)!.expiresAt - (now.expiresAt - leaseMs));
  }
  process.stderr.write(
    `stall ${k + 1}/${STALLS} (${STALL_MS} ms): ${itsBots.length} bots, ` +
      `${itsBots.filter((b) => renewed.get(b)!.epoch !== before.get(b)!.epoch).length} moved, ` +
      `least headroom ${Math.min(...itsBots.map((b) => frozenRows.get(b)!.expiresAt - (renewed.get(b)!.expiresAt - leaseMs)))} ms\n`,
  );
}
const loadSeconds = (Date.now() - t0) / 1000;

// Stop everything and let the calls on the wire finish.
const control = new NotifyBotControl(store.db);
for (const id of botIds) if (await store.bots.stop(id)) await control.stopped(id);
await until(async () => (await cluster.owners()).size === 0, 30_000, 200);
await sleep(1_500);

const deliveries = await store.sandbox.listDeliveries();
const perPost = new Map<string, number>();
for (const d of deliveries) perPost.set(d.trace.postId!, (perPost.get(d.trace.postId!) ?? 0) + 1);
const posts = await store.db.selectFrom('posts').select(['id', 'status', 'reason']).execute();
const perSecond = new Map<number, number>();
for (const d of deliveries)
  perSecond.set(Math.floor(d.at / 1000), (perSecond.get(Math.floor(d.at / 1000)) ?? 0) + 1);
const seconds = [...perSecond.keys()].sort((a, b) => a - b).slice(1, -1);

report('failover', [
  {
    workers: 3,
    bots: BOTS,
    lease_s: leaseMs / 1000,
    kills: KILLS,
    takeover_median_s: median(takeovers) / 1000,
    takeover_max_s: Math.max(...takeovers) / 1000,
    expiry_wait_median_s: median(expiryWaits) / 1000,
    after_expiry_median_s: median(afterExpiry) / 1000,
    after_expiry_max_s: Math.max(...afterExpiry) / 1000,
    resume_median_s: median(resumes) / 1000,
    resume_max_s: Math.max(...resumes) / 1000,
    stalls: STALLS,
    stall_s: STALL_MS / 1000,
    false_failovers: falseFailovers,
    stall_headroom_min_ms: Math.min(...headrooms),
    stall_headroom_p50_ms: percentile(headrooms, 50),
    duplicates: [...perPost.values()].filter((n) => n > 1).length,
    // Posts that were due but not delivered: missed, left planned or sending, or failed with an unknown fate.
    losses: posts.filter(
      (p) =>
        p.status === 'missed' ||
        p.status === 'sending' ||
        (p.status === 'failed' && p.reason !== 'transient'),
    ).length,
    delivered: deliveries.length,
    posts_per_s: median(seconds.map((s) => perSecond.get(s)!)),
    load_seconds: loadSeconds,
    targets: 'takeover median ≤ 3 s, max ≤ 5 s; no false failover in a 2 s stall; 0 duplicates, 0 losses',
  },
]);

await cluster.close();
process.exit(0);
