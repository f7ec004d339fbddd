/**
 * Scale-out with real processes on real PostgreSQL: three `stagger worker`s and an API node (`serve
 * --no-worker`), thirty bots on sandbox sessions (the sandbox state in the same database). A worker is killed with
 * SIGKILL mid-cycle, another is frozen with SIGSTOP for 15 s, a fourth joins, and bots are stopped and started
 * through the API while workers churn. Every claim is checked against the sandbox's delivery records.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_SECONDS } from '../../src/config.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../support/postgres.js';
import { runStagger, until, type Child } from '../support/processes.js';
import { groupIds, seedBot } from '../support/seed.js';

const run = await requirePostgres('cluster (scale-out)');
const BOTS = 30;

interface Worker {
  child: Child;
  id: string;
}

describe.runIf(run)('a cluster of workers on PostgreSQL', () => {
  let db: TestDatabase;
  let store: Store;
  let dataDir: string;
  let env: Record<string, string>;
  let api: Child;
  let apiUrl = '';
  let adminToken = '';
  const tokens = new Map<string, string>();
  const workers: Worker[] = [];
  const children: Child[] = [];

  async function startWorker(): Promise<Worker> {
    const child = runStagger(['worker'], env);
    children.push(child);
    const [, id] = await child.waitFor(/worker (\S+) running/, 30_000);
    const worker = { child, id: id! };
    workers.push(worker);
    return worker;
  }

  async function cluster(): Promise<{
    workers: { id: string; alive: boolean; bots: { botId: string; epoch: number }[] }[];
    unowned: unknown[];
  }> {
    const res = await fetch(`${apiUrl}/api/admin/cluster`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  }

  async function owners(): Promise<Map<string, string>> {
    const view = await cluster();
    const out = new Map<string, string>();
    for (const w of view.workers) for (const b of w.bots) out.set(b.botId, w.id);
    return out;
  }

  async function deliveries() {
    return (await store.sandbox.listDeliveries()).map((d) => ({
      ...d,
      ownerId: d.trace.ownerId!,
      epoch: Number(d.trace.epoch),
      botId: d.trace.botId!,
    }));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'stagger-cluster-'));
    env = {
      DATABASE_URL: db.url,
      STAGGER_DATA_DIR: dataDir,
      STAGGER_SECRET_KEY: randomBytes(32).toString('base64'),
      STAGGER_SANDBOX_FLOOD_BURST: '1000',
      STAGGER_SANDBOX_FLOOD_PER_SECOND: '1000',
      LOG_LEVEL: 'warn',
      PORT: '0',
    };
    store = await openStore({ dataDir, url: db.url, secretKey: env.STAGGER_SECRET_KEY });
    const admin = await store.users.create({ name: 'op', role: 'admin' });
    adminToken = (await store.users.issueToken(admin.id)).token;
    for (let b = 0; b < BOTS; b++) {
      // A 10 s cycle (10 posts a session, 1 s apart); the next one 20 s after: a failover lands mid-cycle and
      // every late post is still within its cycle.
      const { botId, token } = await seedBot(store, {
        name: `customer ${b}`,
        sessions: 2,
        planType: 'ENTERPRISE',
        groups: groupIds(20, 1_000_000_000 + b * 100),
        settings: { delayBetweenPosts: 1, delayBetweenCycles: 20, minGroupGapSeconds: 0 },
      });
      tokens.set(botId, token);
    }
    api = runStagger(['serve', '--no-worker'], env);
    children.push(api);
    apiUrl = (await api.waitFor(/Stagger is running at (http:\/\/\S+)/, 30_000))[1]!;
    for (let i = 0; i < 3; i++) await startWorker();
  }, 120_000);

  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await store?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('spreads thirty bots over three workers', async () => {
    for (const botId of tokens.keys()) await store.bots.start(botId, 'enterprise', null);
    // The workers notice the running bots at their next renewal (no NOTIFY needed).
    const spread = await until(
      async () => {
        const o = await owners();
        if (o.size !== BOTS) return null;
        const counts = workers.map((w) => [...o.values()].filter((id) => id === w.id).length);
        return counts.every((n) => n >= 8 && n <= 11) ? counts : null;
      },
      20_000,
      200,
    );
    expect(spread.reduce((a, b) => a + b, 0)).toBe(BOTS);
  });

  it('kill -9 of a worker mid-cycle: its bots resume elsewhere within 10 s, every post exactly once', async () => {
    await until(async () => (await deliveries()).length > 60, 20_000, 200);
    const victim = workers[0]!;
    const before = await owners();
    const itsBots = [...before].filter(([, owner]) => owner === victim.id).map(([botId]) => botId);
    expect(itsBots.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim.child.kill('SIGKILL');
    workers.splice(0, 1);
    // Each of its bots delivers again from another worker, under a new epoch, within 10 s.
    const resumed = await until(
      async () => {
        const d = await deliveries();
        const times = itsBots.map(
          (botId) => d.find((x) => x.botId === botId && x.at > killedAt && x.ownerId !== victim.id)?.at,
        );
        return times.every((t) => t !== undefined) ? (times as number[]) : null;
      },
      15_000,
      200,
    );
    expect(Math.max(...resumed) - killedAt).toBeLessThan(10_000);
    const d = await deliveries();
    expect(d.filter((x) => x.ownerId === victim.id && x.at > killedAt)).toEqual([]);
  });

  it('SIGSTOP for 15 s: the frozen worker sends nothing after its deadline, its bots are taken over, and it rejoins', async () => {
    const frozen = workers[0]!;
    const before = await owners();
    const itsBots = [...before].filter(([, owner]) => owner === frozen.id).map(([botId]) => botId);
    expect(itsBots.length).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    frozen.child.process.kill('SIGSTOP');
    await until(
      async () => {
        const o = await owners();
        return itsBots.every((b) => o.has(b) && o.get(b) !== frozen.id) ? true : null;
      },
      15_000,
      200,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 15_000 - (Date.now() - stoppedAt))));
    frozen.child.process.kill('SIGCONT');
    const resumedAt = Date.now();
    // Its lease deadline is at most the lease length after its last renewal, which was before the freeze.
    const late = (await deliveries()).filter(
      (x) => x.ownerId === frozen.id && x.at > stoppedAt + DEFAULT_LEASE_SECONDS * 1000,
    );
    expect(late).toEqual([]);
    // It rejoins and takes a fair share again.
    const share = await until(
      async () => {
        const view = await cluster();
        const mine = view.workers.find((w) => w.id === frozen.id);
        return mine?.alive && mine.bots.length >= 10 ? mine.bots.length : null;
      },
      25_000,
      250,
    );
    expect(share).toBeGreaterThanOrEqual(10);
    const after = (await deliveries()).filter(
      (x) => x.ownerId === frozen.id && x.at > stoppedAt + 5_000 && x.at < resumedAt,
    );
    expect(after).toEqual([]);
  });

  it('another worker joins: bots spread out, and no bot ever ran in two places in one lease epoch', async () => {
    const newcomer = await startWorker();
    // Fair share: ceil(30 / n) plus a slack of one; the newcomer fills up to it as the others give bots back.
    const n = workers.length;
    const share = Math.ceil(BOTS / n);
    const counts = await until(
      async () => {
        const view = await cluster();
        const alive = view.workers.filter((w) => w.alive);
        if (alive.length !== n) return null;
        const held = alive.map((w) => w.bots.length);
        return held.reduce((a, b) => a + b, 0) === BOTS && held.every((x) => x >= share - 2 && x <= share + 1)
          ? held
          : null;
      },
      30_000,
      250,
    );
    expect(counts).toHaveLength(n);
    expect((await cluster()).workers.find((w) => w.id === newcomer.id)!.bots.length).toBeGreaterThanOrEqual(
      share - 2,
    );
    const byEpoch = new Map<string, Set<string>>();
    for (const d of await deliveries()) {
      const key = `${d.botId}#${d.epoch}`;
      byEpoch.set(key, (byEpoch.get(key) ?? new Set()).add(d.ownerId));
    }
    for (const ownersOfEpoch of byEpoch.values()) expect(ownersOfEpoch.size).toBe(1);
  });

  it('stop and start through the API while workers churn: each takes effect within a second', async () => {
    const churn = startWorker().then((w) => w.child.kill('SIGTERM'));
    const sample = [...tokens].slice(0, 5);
    for (const [botId, token] of sample) {
      const stopAt = Date.now();
      const res = await fetch(`${apiUrl}/api/bot/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await res.json()).toEqual({ status: 'stopped' });
      await until(async () => !(await owners()).has(botId), 3_000, 50).catch((e) => {
        throw new Error(`bot ${botId} still owned after stop: ${JSON.stringify([...(e ? [] : [])])}`);
      });
      const released = Date.now() - stopAt;
      expect(released).toBeLessThan(1_500);
      await new Promise((r) => setTimeout(r, 1_000));
      const afterStop = (await deliveries()).filter((d) => d.botId === botId && d.at > stopAt + 1_000);
      expect(afterStop).toEqual([]);
      const startAt = Date.now();
      const started = await fetch(`${apiUrl}/api/bot/start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ execution_mode: 'enterprise' }),
      });
      expect(started.status).toBe(200);
      await until(async () => (await owners()).has(botId), 3_000, 50).catch(async () => {
        throw new Error(`bot ${botId} not owned after start: ${JSON.stringify(await cluster())}`);
      });
      expect(Date.now() - startAt).toBeLessThan(1_500);
    }
    await churn;
  });

  it('after it all, every delivered post arrived exactly once', async () => {
    // Stop everything through the API and let the calls on the wire finish.
    for (const token of tokens.values())
      await fetch(`${apiUrl}/api/bot/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    await until(async () => (await owners()).size === 0, 10_000, 200);
    await new Promise((r) => setTimeout(r, 1_000));
    const d = await deliveries();
    const perPost = new Map<string, number>();
    for (const x of d) perPost.set(x.trace.postId!, (perPost.get(x.trace.postId!) ?? 0) + 1);
    expect([...perPost.values()].every((n) => n === 1)).toBe(true);
    const posts = await store.db.selectFrom('posts').select(['id', 'status', 'reason']).execute();
    const status = new Map(posts.map((p) => [String(p.id), p]));
    // Every delivery is a post the store knows as delivered; no post was lost to a failover.
    for (const postId of perPost.keys()) expect(['sent', 'duplicate']).toContain(status.get(postId)!.status);
    const delivered = posts.filter((p) => p.status === 'sent' || p.status === 'duplicate');
    expect(delivered.length).toBe(perPost.size);
    const stuck = posts.filter(
      (p) => p.status === 'missed' || p.status === 'sending' || p.status === 'planned',
    );
    if (stuck.length)
      console.log(
        'stuck posts',
        JSON.stringify(stuck.slice(0, 5), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
    expect(stuck).toEqual([]);
    expect(posts.filter((p) => p.status === 'failed')).toEqual([]);
  });
});
