/**
 * Opens the project database: SQLite (better-sqlite3 12, a file in the data directory) by default, or
 * PostgreSQL when DATABASE_URL=postgres://… is set. Both behind one Kysely schema.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';
import pg from 'pg';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseConfig {
  /** postgres://… selects PostgreSQL; anything else (or nothing) is the embedded SQLite default. */
  url?: string | undefined;
  /** SQLite lives here (created if missing). Default ./data. */
  dataDir: string;
  /** PostgreSQL pool size (DATABASE_POOL_SIZE). */
  poolSize?: number | undefined;
}

export interface Database {
  db: Kysely<Schema>;
  dialect: Dialect;
  /** Where it is, for logs (never the password). */
  description: string;
  close(): Promise<void>;
}

/** SQLite supports transactional DDL; Kysely's adapter says no, which would run migrations outside a transaction. */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@');
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (isPostgresUrl(config.url)) {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize ?? 10,
      // A half-dead connection must not look alive for hours (engines.md: ~2 h with default keepalive).
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 30_000,
    });
    // An idle client that errors (server restart) must not crash the process: the pool drops it.
    pool.on('error', () => undefined);
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', description: redactUrl(config.url), close: () => db.destroy() };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'stagger.db');
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a committed `sending` mark survives power loss, not only a crash; group commit keeps it fast.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // 64-bit ids and random_ids come back as bigint, never as a rounded JS number.
  sqlite.defaultSafeIntegers(true);
  const db = new Kysely<Schema>({ dialect: new TransactionalSqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', description: file, close: () => db.destroy() };
}
