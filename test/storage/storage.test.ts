/** SQL storage beyond the runtime contract: secrets at rest, migrations, 64-bit values, tokens, retention. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isStaggerError } from '../../src/core/errors.js';
import { openDatabase } from '../../src/storage/database.js';
import { CodeMigrations, migrate, migrationStatus } from '../../src/storage/migrations.js';
import { hashToken } from '../../src/storage/users.js';
import { openStore } from '../../src/storage/store.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../support/postgres.js';
import { sqlFixture, type Fixture } from '../support/store-fixture.js';

const engines: ('sqlite' | 'postgres')[] = ['sqlite'];
if (await requirePostgres('SQL storage')) engines.push('postgres');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagger-storage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe.each(engines)('SQL storage on %s', (engine) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await sqlFixture(engine);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('encrypts session secrets at rest and decrypts them for the gateway only', async () => {
    const store = fx.store!;
    const user = await store.users.create({ name: 'owner' });
    const auth = `1BVtsOK4Bu${randomBytes(40).toString('base64')}`;
    const created = await store.sessions.create({
      ownerUserId: user.id,
      label: 'phone 1',
      driver: 'mtcute',
      authString: auth,
      apiId: 12345,
      apiHash: '0123456789abcdef0123456789abcdef',
      tgUserId: '9223372036854775001',
    });
    const raw = await store.sessions.rawSecretColumns(created.id);
    expect(raw.auth).not.toContain(auth.slice(0, 12));
    expect(raw.auth).toMatch(/^v1:/);
    expect(raw.apiHash).not.toContain('0123456789abcdef');
    expect(await store.sessions.credentials(created.id)).toEqual({
      authString: auth,
      apiId: 12345,
      apiHash: '0123456789abcdef0123456789abcdef',
    });
    // 64-bit Telegram user ids round-trip exactly.
    expect((await store.sessions.get(created.id))!.tgUserId).toBe('9223372036854775001');
    expect(JSON.stringify(await store.sessions.get(created.id))).not.toContain(auth.slice(0, 12));
  });

  it('a session’s failed connects and its freeze round-trip; a lifted freeze revives a session retired for it', async () => {
    const store = fx.store!;
    const user = await store.users.create({ name: 'freeze' });
    const s = await store.sessions.create({ ownerUserId: user.id, label: 'real', driver: 'mtcute' });
    expect(await store.sessions.get(s.id)).toMatchObject({ connectFailures: 0, frozen: null });

    await fx.runtime.updateSession(s.id, {
      status: 'paused',
      statusReason: 'unreachable',
      cooldownUntil: 1_767_225_600_123,
      connectFailures: 7,
    });
    const freeze = {
      since: 1_760_000_000_000,
      until: 1_799_999_999_000,
      appealUrl: 'https://t.me/spambot?start=frozen_appeal',
    };
    await store.sessions.setFreeze(s.id, freeze);
    expect(await store.sessions.get(s.id)).toMatchObject({
      status: 'paused',
      statusReason: 'unreachable',
      cooldownUntil: 1_767_225_600_123,
      connectFailures: 7,
      frozen: freeze,
    });
    // the runtime's view of the bot's sessions carries both
    const botId = await store.bots.ensureForUser(user.id);
    expect((await fx.runtime.loadBot(botId))!.sessions).toEqual([
      expect.objectContaining({ id: s.id, connectFailures: 7, frozen: freeze }),
    ]);
    // a freeze without a deletion date or appeal link
    await store.sessions.setFreeze(s.id, { since: 5, until: null, appealUrl: null });
    expect((await store.sessions.get(s.id))!.frozen).toEqual({ since: 5, until: null, appealUrl: null });

    // retired for the freeze; the freeze lifted: active again, the record cleared
    await fx.runtime.updateSession(s.id, { status: 'dead', statusReason: 'frozen', cooldownUntil: null });
    await store.sessions.setFreeze(s.id, null);
    expect(await store.sessions.get(s.id)).toMatchObject({
      status: 'active',
      statusReason: null,
      frozen: null,
    });
    // a session dead for another reason stays dead when no freeze is reported
    await fx.runtime.updateSession(s.id, { status: 'dead', statusReason: 'revoked' });
    await store.sessions.setFreeze(s.id, null);
    expect(await store.sessions.get(s.id)).toMatchObject({ status: 'dead', statusReason: 'revoked' });
  });

  it('a frozen pool session is not lent', async () => {
    const store = fx.store!;
    const customer = await store.users.create({ name: 'borrower' });
    const frozen = await store.sessions.create({ ownerUserId: null, label: 'frozen pool', driver: 'mtcute' });
    await store.sessions.setFreeze(frozen.id, { since: 1, until: null, appealUrl: null });
    const lent = await store.sessions.assignFromPool(customer.id, 50);
    expect(lent.map((x) => x.id)).not.toContain(frozen.id);
  });

  it('stores API tokens as hashes only', async () => {
    const store = fx.store!;
    const user = await store.users.create({
      name: 'tok',
      role: 'admin',
      planType: 'STARTER',
      maxSessions: 3,
    });
    const { token } = await store.users.issueToken(user.id);
    expect(await store.users.tokenHashes(user.id)).toEqual([hashToken(token)]);
    expect((await store.users.authenticate(token))!.id).toBe(user.id);
    expect(await store.users.authenticate(`${token}x`)).toBeNull();
  });

  it('assigns pool sessions to one customer only', async () => {
    const store = fx.store!;
    const a = await store.users.create({ name: 'a' });
    const b = await store.users.create({ name: 'b' });
    for (let i = 0; i < 3; i++)
      await store.sessions.create({ ownerUserId: null, label: `pool ${i}`, driver: 'sandbox' });
    const [ga, gb] = await Promise.all([
      store.sessions.assignFromPool(a.id, 2),
      store.sessions.assignFromPool(b.id, 2),
    ]);
    const ids = [...ga, ...gb].map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(3);
  });

  it('prunes old posts but keeps the counters and each bot’s latest cycle', async () => {
    const store = fx.store!;
    const { botId, sessionIds } = await fx.addBot({ sessions: 1, groups: ['-1001'] });
    const mk = (at: number) =>
      fx.runtime.createCycle(
        {
          botId,
          number: 1,
          mode: 'enterprise',
          slot: null,
          cycleSeconds: null,
          plannedStartAt: at,
          deadlineAt: at,
          expectedEndAt: at,
          finishedAt: at,
          status: 'finished',
          reason: null,
          warnings: [],
        },
        [
          {
            botId,
            seq: 0,
            sessionId: sessionIds[0]!,
            plannedSessionId: sessionIds[0]!,
            groupKey: '-1001',
            plannedAt: at,
            randomId: '5',
            status: 'sent',
            reason: null,
            error: null,
            attempts: 1,
            sentAt: at,
          },
        ],
      );
    await mk(1_000);
    await mk(2_000);
    await fx.runtime.writeResults([], new Map([[botId, { sent: 2 }]]));
    expect(await store.bots.prunePosts(10_000)).toBeGreaterThanOrEqual(2);
    expect((await store.bots.posts(botId, { limit: 10 })).posts).toEqual([]);
    expect((await store.bots.get(botId))!.counters.sent).toBe(2);
    expect(await fx.runtime.getLastCycle(botId)).toMatchObject({ plannedStartAt: 2_000 });
  });
});

describe('secret key handling', () => {
  it('creates a key file with mode 0600 on first run, and reuses it', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir });
    await store.close();
    const file = join(dataDir, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8');
    const again = await openStore({ dataDir });
    await again.close();
    expect(readFileSync(file, 'utf8')).toBe(key);
  });

  it('refuses a wrong key at start with a clear error, for the env key and the key file', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, secretKey: randomBytes(32).toString('base64') });
    await store.close();
    const wrong = randomBytes(32).toString('hex');
    await expect(openStore({ dataDir, secretKey: wrong })).rejects.toMatchObject({
      code: 'SECRET_KEY_MISMATCH',
    });
    writeFileSync(join(dataDir, 'secret.key'), randomBytes(32).toString('base64'));
    await expect(openStore({ dataDir })).rejects.toThrow(/not the key this database was created with/);
  });

  it('refuses a malformed key', async () => {
    await expect(openStore({ dataDir: tempDir(), secretKey: 'short' })).rejects.toMatchObject({
      code: 'SECRET_KEY_INVALID',
    });
  });
});

describe.each(engines)('migrations on %s', (engine) => {
  let pgdb: TestDatabase | null = null;
  afterEach(async () => {
    await pgdb?.drop();
    pgdb = null;
  });
  async function open() {
    if (engine === 'postgres') pgdb = await createTestDatabase();
    return openDatabase({ dataDir: tempDir(), url: pgdb?.url });
  }

  it('report per migration, and a second run applies nothing', async () => {
    const database = await open();
    const db = database.db as Kysely<unknown>;
    const first = await migrate(db, database.dialect);
    expect(first).toEqual({
      ok: true,
      results: [
        { name: '0001_initial', status: 'Success' },
        { name: '0002_session_origin_and_bounds', status: 'Success' },
        { name: '0003_albums_and_sent_messages', status: 'Success' },
        { name: '0004_session_reachability_and_freeze', status: 'Success' },
        { name: '0005_group_facts', status: 'Success' },
      ],
      error: null,
    });
    expect(await migrate(db, database.dialect)).toEqual({ ok: true, results: [], error: null });
    expect(await migrationStatus(db, database.dialect)).toEqual([
      { name: '0001_initial', applied: true },
      { name: '0002_session_origin_and_bounds', applied: true },
      { name: '0003_albums_and_sent_messages', applied: true },
      { name: '0004_session_reachability_and_freeze', applied: true },
      { name: '0005_group_facts', applied: true },
    ]);
    await database.close();
  });

  it('0002 on a database of the first release: unowned sessions are the pool, owned ones the customers’, and an out-of-range cycle length is clamped', async () => {
    const database = await open();
    const db = database.db as Kysely<unknown>;
    expect(
      (await migrate(db, database.dialect, new CodeMigrations(database.dialect, '0001_initial'))).ok,
    ).toBe(true);
    const raw = sql.raw;
    await sql`insert into users (id, name, role, plan_status, max_sessions, created_at) values (7, 'c', 'user', 'active', 3, 0)`.execute(
      db,
    );
    for (const [id, owner] of [
      [1, 'null'],
      [2, '7'],
    ] as const) {
      await sql`insert into telegram_sessions (id, owner_user_id, label, driver, status, created_at, updated_at) values (${id}, ${raw(owner)}, 's', 'sandbox', 'active', 0, 0)`.execute(
        db,
      );
    }
    await sql`insert into bots (id, user_id, total_cycle_minutes, delay_between_posts, delay_between_cycles, min_group_gap_seconds, silent, hide_sender, desired_state, needs_attention, sent_count, duplicate_count, failed_count, skipped_count, flood_wait_count, updated_at) values (3, 7, 1000000000, 5, 300, 60, 0, 0, 'running', 0, 0, 0, 0, 0, 0, 0)`.execute(
      db,
    );
    expect((await migrate(db, database.dialect)).results).toEqual([
      { name: '0002_session_origin_and_bounds', status: 'Success' },
      { name: '0003_albums_and_sent_messages', status: 'Success' },
      { name: '0004_session_reachability_and_freeze', status: 'Success' },
      { name: '0005_group_facts', status: 'Success' },
    ]);
    const sessions = await sql<{
      id: unknown;
      origin: string;
    }>`select id, origin from telegram_sessions order by id`.execute(db);
    expect(sessions.rows.map((r) => r.origin)).toEqual(['pool', 'customer']);
    const bot = await sql<{ m: unknown }>`select total_cycle_minutes as m from bots where id = 3`.execute(db);
    expect(Number(bot.rows[0]!.m)).toBe(525_600);
    await database.close();
  });

  it('0003 on a database of the previous release: its cycles and posts read as posts of one message', async () => {
    const dataDir = tempDir();
    if (engine === 'postgres') pgdb = await createTestDatabase();
    const database = await openDatabase({ dataDir, url: pgdb?.url });
    const db = database.db as Kysely<unknown>;
    const until = new CodeMigrations(database.dialect, '0002_session_origin_and_bounds');
    expect((await migrate(db, database.dialect, until)).ok).toBe(true);
    await sql`insert into users (id, name, role, plan_status, max_sessions, created_at) values (7, 'c', 'user', 'active', 3, 0)`.execute(
      db,
    );
    await sql`insert into bots (id, user_id, delay_between_posts, delay_between_cycles, min_group_gap_seconds, silent, hide_sender, desired_state, needs_attention, sent_count, duplicate_count, failed_count, skipped_count, flood_wait_count, updated_at) values (3, 7, 5, 300, 60, 0, 0, 'running', 0, 0, 0, 0, 0, 0, 0)`.execute(
      db,
    );
    await sql`insert into cycles (id, bot_id, number, mode, planned_start_at, deadline_at, expected_end_at, status) values (4, 3, 1, 'enterprise', 0, 1, 1, 'running')`.execute(
      db,
    );
    await sql`insert into posts (id, cycle_id, bot_id, seq, session_id, planned_session_id, group_key, planned_at, random_id, status) values (5, 4, 3, 0, 1, 1, '-1001', 0, -9223372036854775807, 'sending')`.execute(
      db,
    );
    expect((await migrate(db, database.dialect)).results).toEqual([
      { name: '0003_albums_and_sent_messages', status: 'Success' },
      { name: '0004_session_reachability_and_freeze', status: 'Success' },
      { name: '0005_group_facts', status: 'Success' },
    ]);
    await database.close();
    // The runtime resumes such a cycle: the link's one message, with the post's random_id.
    const store = await openStore({ dataDir, url: pgdb?.url });
    try {
      const active = (await store.runtime.getActiveCycle('3'))!;
      expect(active.cycle.source).toBeNull();
      expect(active.posts.map((p) => [p.randomId, p.randomIds, p.sentMessageIds])).toEqual([
        ['-9223372036854775807', ['-9223372036854775807'], []],
      ]);
    } finally {
      await store.close();
    }
  });

  it('0004 on an older database: its sessions have no failed connect and no freeze', async () => {
    const database = await open();
    const db = database.db as Kysely<unknown>;
    const before = new CodeMigrations(database.dialect, '0002_session_origin_and_bounds');
    expect((await migrate(db, database.dialect, before)).ok).toBe(true);
    await sql`insert into telegram_sessions (id, label, driver, status, created_at, updated_at) values (1, 's', 'mtcute', 'active', 0, 0)`.execute(
      db,
    );
    expect((await migrate(db, database.dialect)).results).toEqual([
      { name: '0003_albums_and_sent_messages', status: 'Success' },
      { name: '0004_session_reachability_and_freeze', status: 'Success' },
      { name: '0005_group_facts', status: 'Success' },
    ]);
    const rows = await sql<{
      connect_failures: unknown;
      frozen_since: unknown;
      frozen_until: unknown;
      freeze_appeal_url: unknown;
    }>`select connect_failures, frozen_since, frozen_until, freeze_appeal_url from telegram_sessions`.execute(
      db,
    );
    expect(
      rows.rows.map((r) => [Number(r.connect_failures), r.frozen_since, r.frozen_until, r.freeze_appeal_url]),
    ).toEqual([[0, null, null, null]]);
    await database.close();
  });

  it('never leave a half-applied schema when a migration fails', async () => {
    const database = await open();
    const db = database.db as Kysely<unknown>;
    const report = await migrate(db, database.dialect, {
      async getMigrations() {
        return {
          a_creates_a_table: {
            async up(d: Kysely<unknown>) {
              await d.schema.createTable('half').addColumn('x', 'integer').execute();
            },
          },
          b_fails: {
            async up(d: Kysely<unknown>) {
              await d.schema.createTable('half2').addColumn('x', 'integer').execute();
              throw new Error('boom');
            },
          },
        };
      },
    });
    expect(report.ok).toBe(false);
    expect(report.error).toBe('boom');
    expect(report.results.map((r) => r.status)).toEqual(['Success', 'Error']);
    const tables = (await db.introspection.getTables()).map((t) => t.name);
    expect(tables).not.toContain('half');
    expect(tables).not.toContain('half2');
    await database.close();
  });
});

it('codec: values that are not exact integers are refused, not rounded', async () => {
  const { int64, num } = await import('../../src/storage/codec.js');
  expect(int64(9223372036854775807n)).toBe('9223372036854775807');
  expect(() => int64(2 ** 60)).toThrow();
  expect(() => num(2n ** 60n)).toThrow();
  expect(num('1767225600000')).toBe(1_767_225_600_000);
  expect(isStaggerError(new Error('x'))).toBe(false);
});
