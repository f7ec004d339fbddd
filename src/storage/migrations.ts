/**
 * One migration set for both engines (a dialect branch only where SQL differs: identity columns). Each
 * migration runs in a transaction — on SQLite too (see database.ts) — so a failure never leaves a half-applied
 * schema; `migrate()` reports a result per migration instead of throwing halfway.
 */
import {
  sql,
  Migrator,
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
} from 'kysely';
import type { Dialect } from './database.js';

/**
 * LIMITS.totalCycleMinutes.max when migration 0002 was written — a literal, since a migration must do the same
 * thing whenever it runs, whatever the limits become.
 */
const MAX_CYCLE_MINUTES = 525_600;

type AnyDb = Kysely<unknown>;

function migrations(dialect: Dialect): Record<string, Migration> {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const id = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  const real = 'double precision';

  return {
    '0001_initial': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('users')
          .addColumn('id', idType, id)
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull().defaultTo('user'))
          .addColumn('plan_type', 'text')
          .addColumn('plan_status', 'text', (c) => c.notNull().defaultTo('active'))
          .addColumn('max_sessions', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('external_id', 'text', (c) => c.unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('api_tokens')
          .addColumn('id', idType, id)
          .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('label', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_used_at', 'bigint')
          .addColumn('revoked_at', 'bigint')
          .execute();

        await db.schema
          .createTable('telegram_sessions')
          .addColumn('id', idType, id)
          .addColumn('owner_user_id', 'bigint', (c) => c.references('users.id').onDelete('set null'))
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('driver', 'text', (c) => c.notNull())
          .addColumn('auth_encrypted', 'text')
          .addColumn('api_id', 'bigint')
          .addColumn('api_hash_encrypted', 'text')
          .addColumn('tg_user_id', 'bigint')
          .addColumn('tg_username', 'text')
          .addColumn('tg_name', 'text')
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
          .addColumn('status_reason', 'text')
          .addColumn('cooldown_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('telegram_sessions_owner')
          .on('telegram_sessions')
          .column('owner_user_id')
          .execute();

        await db.schema
          .createTable('bots')
          .addColumn('id', idType, id)
          .addColumn('user_id', 'bigint', (c) =>
            c.notNull().unique().references('users.id').onDelete('cascade'),
          )
          .addColumn('post_link', 'text')
          .addColumn('execution_mode', 'text')
          .addColumn('total_cycle_minutes', 'integer')
          .addColumn('delay_between_posts', real, (c) => c.notNull())
          .addColumn('delay_between_cycles', real, (c) => c.notNull())
          .addColumn('min_group_gap_seconds', real, (c) => c.notNull())
          .addColumn('silent', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('hide_sender', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('desired_state', 'text', (c) => c.notNull().defaultTo('stopped'))
          .addColumn('anchor_at', 'bigint')
          .addColumn('anchor_cycle_seconds', real)
          .addColumn('needs_attention', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('sent_count', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('duplicate_count', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('failed_count', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('skipped_count', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('flood_wait_count', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('bots_desired_state').on('bots').column('desired_state').execute();

        await db.schema
          .createTable('bot_groups')
          .addColumn('bot_id', 'bigint', (c) => c.notNull().references('bots.id').onDelete('cascade'))
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('slowmode_seconds', 'integer')
          .addPrimaryKeyConstraint('bot_groups_pk', ['bot_id', 'key'])
          .execute();

        await db.schema
          .createTable('cycles')
          .addColumn('id', idType, id)
          .addColumn('bot_id', 'bigint', (c) => c.notNull().references('bots.id').onDelete('cascade'))
          .addColumn('number', 'integer', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('slot', 'integer')
          .addColumn('cycle_seconds', real)
          .addColumn('planned_start_at', 'bigint', (c) => c.notNull())
          .addColumn('deadline_at', 'bigint', (c) => c.notNull())
          .addColumn('expected_end_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('warnings', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        await db.schema.createIndex('cycles_bot').on('cycles').columns(['bot_id', 'id']).execute();

        await db.schema
          .createTable('posts')
          .addColumn('id', idType, id)
          .addColumn('cycle_id', 'bigint', (c) => c.notNull().references('cycles.id').onDelete('cascade'))
          .addColumn('bot_id', 'bigint', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('session_id', 'bigint', (c) => c.notNull())
          .addColumn('planned_session_id', 'bigint', (c) => c.notNull())
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('planned_at', 'bigint', (c) => c.notNull())
          .addColumn('random_id', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('error', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('sent_at', 'bigint')
          .execute();
        await db.schema.createIndex('posts_cycle').on('posts').columns(['cycle_id', 'seq']).execute();
        await db.schema.createIndex('posts_bot').on('posts').columns(['bot_id', 'id']).execute();
        await db.schema
          .createIndex('posts_bot_group')
          .on('posts')
          .columns(['bot_id', 'group_key', 'sent_at'])
          .execute();

        await db.schema
          .createTable('pair_states')
          .addColumn('bot_id', 'bigint', (c) => c.notNull().references('bots.id').onDelete('cascade'))
          .addColumn('session_id', 'bigint', (c) => c.notNull())
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('cooldown_until', 'bigint')
          .addColumn('parked_until', 'bigint')
          .addColumn('parked_reason', 'text')
          .addColumn('unknown_failures', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('skip_through_cycle', 'integer')
          .addColumn('last_error', 'text')
          .addPrimaryKeyConstraint('pair_states_pk', ['bot_id', 'session_id', 'group_key'])
          .execute();

        await db.schema
          .createTable('peer_cache')
          .addColumn('session_id', 'bigint', (c) =>
            c.notNull().references('telegram_sessions.id').onDelete('cascade'),
          )
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('peer_cache_pk', ['session_id', 'key'])
          .execute();

        await db.schema
          .createTable('leases')
          .addColumn('bot_id', 'bigint', (c) => c.primaryKey().references('bots.id').onDelete('cascade'))
          .addColumn('owner_id', 'text')
          .addColumn('epoch', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('expires_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();

        await db.schema
          .createTable('workers')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('sandbox_accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('ok'))
          .addColumn('flood_tokens', real)
          .addColumn('flood_updated_at', 'bigint')
          .execute();
        await db.schema
          .createTable('sandbox_groups')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('is_channel', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('members', 'text')
          .addColumn('read_only', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('banned', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('slowmode_seconds', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable('sandbox_sources')
          .addColumn('link', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sandbox_faults')
          .addColumn('id', idType, id)
          .addColumn('account_id', 'text')
          .addColumn('group_key', 'text')
          .addColumn('method', 'text')
          .addColumn('from_at', 'bigint', (c) => c.notNull())
          .addColumn('error', 'text', (c) => c.notNull())
          .addColumn('remaining', 'integer', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sandbox_deliveries')
          .addColumn('id', idType, id)
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('random_id', 'bigint', (c) => c.notNull())
          .addColumn('source_link', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('trace', 'text', (c) => c.notNull().defaultTo('{}'))
          .addUniqueConstraint('sandbox_deliveries_dedup', ['account_id', 'random_id'])
          .execute();
        await db.schema
          .createIndex('sandbox_deliveries_pair')
          .on('sandbox_deliveries')
          .columns(['account_id', 'group_key', 'at'])
          .execute();
      },
    },
    '0002_session_origin_and_bounds': {
      async up(db: AnyDb) {
        // Who a session belongs to, recorded explicitly: `customer` (logged in or imported by the customer: theirs,
        // deleted with them) or `pool` (the operator's, lent to customers). Sessions without an owner were the pool.
        await db.schema
          .alterTable('telegram_sessions')
          .addColumn('origin', 'text', (c) => c.notNull().defaultTo('customer'))
          .execute();
        await sql`update telegram_sessions set origin = 'pool' where owner_user_id is null`.execute(db);
        // A cycle length beyond the accepted range (stored before the range was enforced) crash-looped the runtime;
        // it becomes the longest accepted one (src/core/limits.ts).
        await sql`update bots set total_cycle_minutes = ${MAX_CYCLE_MINUTES} where total_cycle_minutes > ${MAX_CYCLE_MINUTES}`.execute(
          db,
        );
      },
    },
    '0003_albums_and_sent_messages': {
      async up(db: AnyDb) {
        // The source post as read when the cycle was planned: the link read and its message ids (JSON; an album: all
        // of it). Null: not read (a cycle planned before this migration, or no session could read the source then).
        await db.schema.alterTable('cycles').addColumn('source_link', 'text').execute();
        await db.schema.alterTable('cycles').addColumn('source_message_ids', 'text').execute();
        // One random_id per message of an album (JSON of decimal int64 strings, the first is random_id); null: the
        // post is one message, random_id alone. The ids of the messages the forward created (JSON); null: unknown.
        await db.schema.alterTable('posts').addColumn('random_ids', 'text').execute();
        await db.schema.alterTable('posts').addColumn('sent_message_ids', 'text').execute();
        // The sandbox's albums: the message ids (JSON) of the album a source post is one message of.
        await db.schema.alterTable('sandbox_sources').addColumn('message_ids', 'text').execute();
      },
    },
    '0004_session_reachability_and_freeze': {
      async up(db: AnyDb) {
        // Failed connects in a row: the wait before the next connect and "unreachable" follow from it
        // (src/core/reachability.ts). A frozen account, as Telegram's app config says (src/core/freeze.ts):
        // frozen since, deleted at `frozen_until` unless the appeal lifts it first (epoch ms), and the appeal link.
        // One column per statement: SQLite adds one column per ALTER TABLE.
        await db.schema
          .alterTable('telegram_sessions')
          .addColumn('connect_failures', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('telegram_sessions').addColumn('frozen_since', 'bigint').execute();
        await db.schema.alterTable('telegram_sessions').addColumn('frozen_until', 'bigint').execute();
        await db.schema.alterTable('telegram_sessions').addColumn('freeze_appeal_url', 'text').execute();
      },
    },
    '0005_group_facts': {
      async up(db: AnyDb) {
        // What each session knows about each group before posting (src/core/group-facts.ts): read from Telegram at
        // a preflight and when a cycle is planned, at most once per pair per refresh interval. Null: not known.
        await db.schema
          .createTable('group_facts')
          .addColumn('session_id', 'bigint', (c) =>
            c.notNull().references('telegram_sessions.id').onDelete('cascade'),
          )
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('checked_at', 'bigint', (c) => c.notNull())
          .addColumn('member', 'integer')
          .addColumn('can_write', 'integer')
          .addColumn('slowmode_seconds', 'integer')
          .addColumn('paid_stars', 'bigint')
          .addColumn('topic_closed', 'integer')
          .addColumn('username', 'text')
          .addColumn('error', 'text')
          .addPrimaryKeyConstraint('group_facts_pk', ['session_id', 'group_key'])
          .execute();
        // The sandbox's groups may charge stars a message and have closed forum topics (the demo, the tests).
        await db.schema
          .alterTable('sandbox_groups')
          .addColumn('paid_stars', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable('sandbox_groups')
          .addColumn('closed_topics', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
      },
    },
  };
}

/** The migrations in this file; with `until`, only those up to that one (to build an older release's database). */
export class CodeMigrations implements MigrationProvider {
  constructor(
    private readonly dialect: Dialect,
    private readonly until?: string,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const all = migrations(this.dialect);
    if (this.until === undefined) return all;
    return Object.fromEntries(Object.entries(all).filter(([name]) => name <= this.until!));
  }
}

export interface MigrationReport {
  ok: boolean;
  results: { name: string; status: MigrationResult['status'] }[];
  error: string | null;
}

export async function migrate(
  db: Kysely<unknown>,
  dialect: Dialect,
  provider: MigrationProvider = new CodeMigrations(dialect),
): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  return {
    ok: error === undefined,
    results: (results ?? []).map((r) => ({ name: r.migrationName, status: r.status })),
    error: error === undefined ? null : error instanceof Error ? error.message : String(error),
  };
}

/** For tests and `stagger migrate --status`: every known migration and whether it is applied. */
export async function migrationStatus(
  db: Kysely<unknown>,
  dialect: Dialect,
): Promise<{ name: string; applied: boolean }[]> {
  const migrator = new Migrator({ db, provider: new CodeMigrations(dialect) });
  return (await migrator.getMigrations()).map((m) => ({ name: m.name, applied: m.executedAt !== undefined }));
}
