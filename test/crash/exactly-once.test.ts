/**
 * Crash tests with real processes: a bot runs on the sandbox (real clock, short delays); the process is killed
 * with SIGKILL at each point of the exactly-once protocol — before the `sending` write, between it and the call,
 * after the call before the outcome write — and at random moments from outside; after a restart, the sandbox's
 * delivery records show every planned post arrived exactly once. On SQLite and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { PostRecord } from '../../src/core/model.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../support/postgres.js';
import { runTs, until } from '../support/processes.js';
import { seedBot } from '../support/seed.js';

const engines: ('sqlite' | 'postgres')[] = ['sqlite'];
if (await requirePostgres('crash tests')) engines.push('postgres');

const GROUPS = Array.from({ length: 12 }, (_, i) => `-100${3_000_000_000 + i}`);

interface Setup {
  env: Record<string, string | undefined>;
  botId: string;
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** The bot's post; with `album`, one photo of an album of three (each forward sends all three). */
const POST_LINK = 'https://t.me/stagger_demo/1';
const ALBUM = [1, 2, 3];

async function setup(engine: 'sqlite' | 'postgres', o: { album?: boolean } = {}): Promise<Setup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-crash-'));
  const pgdb: TestDatabase | null = engine === 'postgres' ? await createTestDatabase() : null;
  const env = {
    STAGGER_DATA_DIR: dataDir,
    DATABASE_URL: pgdb?.url,
    STAGGER_SECRET_KEY: randomBytes(32).toString('base64'),
    STAGGER_SANDBOX_FLOOD_BURST: '1000',
    STAGGER_SANDBOX_FLOOD_PER_SECOND: '1000',
  };
  const open = () => openStore({ dataDir, url: pgdb?.url, secretKey: env.STAGGER_SECRET_KEY });
  const store = await open();
  // 4 posts per session, 0.3 s apart; the next cycle is an hour away, so the test sees exactly one cycle.
  const { botId } = await seedBot(store, {
    name: 'crash customer',
    sessions: 3,
    groups: GROUPS,
    settings: { delayBetweenPosts: 0.3, delayBetweenCycles: 3600, minGroupGapSeconds: 0 },
  });
  if (o.album) await store.sandbox.putSourceAlbum(POST_LINK, ALBUM);
  await store.bots.start(botId, 'enterprise', null);
  await store.close();
  return {
    env,
    botId,
    open,
    async cleanup() {
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the process until the first cycle is finished, then stops it gracefully. */
async function runToCompletion(s: Setup): Promise<void> {
  const child = runTs('test/fixtures/crash-run.ts', [], s.env);
  await child.waitFor(/ready/);
  const store = await s.open();
  try {
    await until(async () => {
      const cycle = await store.runtime.getLastCycle(s.botId);
      return cycle !== null && cycle.status === 'finished';
    });
  } finally {
    await store.close();
  }
  expect(await child.kill('SIGTERM')).toMatchObject({ code: 0 });
}

/** Every planned post arrived, once: one delivery per random_id (an album: one per photo), `messages` per group. */
async function expectExactlyOnce(s: Setup, messages = 1): Promise<{ posts: PostRecord[] }> {
  const store = await s.open();
  try {
    const cycles = await store.db.selectFrom('cycles').selectAll().execute();
    expect(cycles).toHaveLength(1);
    const posts = (await store.runtime.getLastCycle(s.botId))!;
    const all = await store.bots.cyclePosts(posts.id);
    expect(all).toHaveLength(GROUPS.length);
    expect(all.every((p) => p.randomIds.length === messages)).toBe(true);
    const deliveries = await store.sandbox.listDeliveries();
    expect(deliveries.map((d) => d.randomId).sort()).toEqual(all.flatMap((p) => p.randomIds).sort());
    expect(deliveries.map((d) => d.groupKey).sort()).toEqual(
      GROUPS.flatMap((g) => Array<string>(messages).fill(g)).sort(),
    );
    expect(all.every((p) => p.status === 'sent' || p.status === 'duplicate')).toBe(true);
    return { posts: all };
  } finally {
    await store.close();
  }
}

describe.each(engines)('exactly-once across crashes on %s', (engine) => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.cleanup();
    s = null;
  });

  it.each([
    ['before the sending write', 'before_mark:5'],
    ['between the sending write and the call', 'after_mark:5'],
    ['after the call, before the outcome write', 'after_call:5'],
  ])('kill -9 %s', async (_label, crashAt) => {
    s = await setup(engine);
    const crashing = runTs('test/fixtures/crash-run.ts', [], { ...s.env, CRASH_AT: crashAt });
    expect(await crashing.exited).toMatchObject({ signal: 'SIGKILL' });
    await runToCompletion(s);
    const { posts } = await expectExactlyOnce(s);
    if (crashAt.startsWith('after_mark')) {
      // A post committed as `sending` whose call never happened was retried with its random_id and arrived.
      expect(posts.some((p) => p.status === 'sent' && p.attempts >= 2)).toBe(true);
    }
    if (crashAt.startsWith('after_call')) {
      // The call that reached Telegram before the crash: its retry met RANDOM_ID_DUPLICATE, counted as sent.
      expect(posts.some((p) => p.status === 'duplicate' && p.attempts >= 2)).toBe(true);
    }
  });

  it.each([
    [
      'while the commit holding the mark is on its way (one statement: all of the batch or none)',
      'in_commit:5',
    ],
    ['between the two steps of a forward in the sandbox (read, nothing written)', 'sandbox_read:5'],
    ['while the sandbox’s batched write (the delivery) is on its way', 'in_sandbox_write:5'],
  ])('kill -9 between batch steps: %s', async (_label, crashAt) => {
    s = await setup(engine);
    const crashing = runTs('test/fixtures/crash-run.ts', [], { ...s.env, CRASH_AT: crashAt });
    expect(await crashing.exited).toMatchObject({ signal: 'SIGKILL' });
    await runToCompletion(s);
    const { posts } = await expectExactlyOnce(s);
    if (crashAt.startsWith('sandbox_read')) {
      // Marked `sending`, read by the sandbox, never delivered: retried with its random_id, and it arrived.
      expect(posts.some((p) => p.status === 'sent' && p.attempts >= 2)).toBe(true);
    }
    if (crashAt.startsWith('in_sandbox_write')) {
      // Delivered or not, the post was retried with its random_id: sent then, or a duplicate of the first try.
      expect(posts.some((p) => p.attempts >= 2)).toBe(true);
    }
  });

  it.each([
    ['between the sending write and the call', 'after_mark:5'],
    ['after the call, before the outcome write', 'after_call:5'],
  ])('an album of 3: kill -9 %s; every photo arrives once', async (_label, crashAt) => {
    s = await setup(engine, { album: true });
    const crashing = runTs('test/fixtures/crash-run.ts', [], { ...s.env, CRASH_AT: crashAt });
    expect(await crashing.exited).toMatchObject({ signal: 'SIGKILL' });
    await runToCompletion(s);
    const { posts } = await expectExactlyOnce(s, ALBUM.length);
    const retried = posts.filter((p) => p.attempts >= 2);
    expect(retried.length).toBeGreaterThan(0);
    if (crashAt.startsWith('after_call')) {
      // The album reached Telegram before the crash: the retry's three random_ids were all duplicates.
      expect(retried.some((p) => p.status === 'duplicate')).toBe(true);
    }
    // A post sent at its first attempt kept the three messages' ids from the answer; a replay keeps those of the
    // photos it delivered (a crash may have cut an album short: the rest were Telegram's duplicates).
    for (const p of posts.filter((x) => x.status === 'sent')) {
      if (p.attempts === 1) expect(p.sentMessageIds).toHaveLength(3);
      else expect(p.sentMessageIds.length).toBeGreaterThan(0);
    }
  });

  it('kill -9 at random moments, three times in a row', async () => {
    s = await setup(engine);
    for (let i = 0; i < 3; i++) {
      const child = runTs('test/fixtures/crash-run.ts', [], s.env);
      await child.waitFor(/ready/);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 700));
      expect(await child.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    }
    await runToCompletion(s);
    await expectExactlyOnce(s);
  });

  it('a restart resumes running bots and keeps stopped ones stopped', async () => {
    s = await setup(engine);
    const store = await s.open();
    const other = await store.users.create({ name: 'stopped customer' });
    await store.sessions.create({ ownerUserId: other.id, label: 'x', driver: 'sandbox' });
    const stoppedBot = await store.bots.ensureForUser(other.id);
    await store.bots.setPostLink(stoppedBot, 'https://t.me/stagger_demo/1');
    await store.bots.setGroups(stoppedBot, ['-1009999999999']);
    await store.close();
    await runToCompletion(s);
    const after = await s.open();
    try {
      expect(await after.runtime.getLastCycle(stoppedBot)).toBeNull();
      expect((await after.bots.get(s.botId))!.desiredState).toBe('running');
    } finally {
      await after.close();
    }
  });
});
