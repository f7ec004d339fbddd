/**
 * Opens the project database: SQLite (better-sqlite3 12, a file in the data directory) by default, or
 * PostgreSQL when DATABASE_URL=postgres://… is set. Both behind one Kysely schema.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type DialectAdapter,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import pg from 'pg';
import type { Schema } from './schema.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { StatementCounter, type StatementPath } from './statement-stats.js';
import { fsyncFile, WalDurability } from './sqlite-durability.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseConfig {
  /** postgres://… selects PostgreSQL; anything else (or nothing) is the embedded SQLite default. */
  url?: string | undefined;
  /** SQLite lives here (created if missing). Default ./data. */
  dataDir: string;
  /** PostgreSQL pool size (DATABASE_POOL_SIZE). */
  poolSize?: number | undefined;
  /** PostgreSQL: counts this database's statements here (default: a counter of its own). */
  statements?: StatementCounter | undefined;
  /** PostgreSQL: every statement of this pool counts under this path (a pool that serves one part only). */
  countAs?: StatementPath | undefined;
}

export interface Database {
  db: Kysely<Schema>;
  dialect: Dialect;
  /** The SQLite handle itself, for the runtime's hot write path (sqlite-commit.ts); null on PostgreSQL. */
  sqlite: BetterSqlite3.Database | null;
  /** Where it is, for logs (never the password). */
  description: string;
  /** Statements sent to PostgreSQL, by path (null on SQLite: an in-process call is no round trip). */
  statements: StatementCounter | null;
  /** SQLite: plans committed without waiting for the disk, on disk before their posts (null on PostgreSQL). */
  walDurability: WalDurability | null;
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

/**
 * Prepared statements, reused by their SQL text. Kysely prepares every query anew; for the hot paths of a
 * running bot (the same few statements thousands of times a second) preparing costs more than running.
 */
function cachingStatements(database: BetterSqlite3.Database, size = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (statement) {
        // Refresh its place: the map's order is the least-recently-used order.
        cache.delete(sqlText);
      } else {
        statement = database.prepare(sqlText);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, statement);
      return statement as unknown as SqliteStatement;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@');
}

/** The data directory, 0700 when this call creates it (on PostgreSQL it still holds the key file). */
export function createPrivateDir(dataDir: string): void {
  // With `recursive`, mkdirSync returns the first directory it created, or undefined when dataDir existed.
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
}

/**
 * The data directory (0700) and the database file (0600), made before SQLite opens the file: it holds session
 * secrets (encrypted, but with their metadata and the key check) and every customer's data. SQLite gives the
 * -wal and -shm files the permissions of the database file, so they are 0600 too. Only what is created here is
 * chmodded (the modes given to mkdir/open are masked by the umask); an existing directory or file keeps the
 * permissions its owner chose.
 */
function createPrivately(dataDir: string, file: string): void {
  createPrivateDir(dataDir);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    chmodSync(file, 0o600);
  } finally {
    closeSync(fd);
  }
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
    const statements = config.statements ?? new StatementCounter();
    statements.attach(pool, config.countAs);
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      sqlite: null,
      walDurability: null,
      description: redactUrl(config.url),
      statements,
      close: () => db.destroy(),
    };
  }
  const file = join(config.dataDir, 'stagger.db');
  createPrivately(config.dataDir, file);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a committed `sending` mark survives power loss, not only a crash; group commit keeps it fast.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoints run in a worker thread (sqlite-checkpointer.ts), not inside a commit on this thread.
  sqlite.pragma('wal_autocheckpoint = 0');
  const checkpointer = new SqliteCheckpointer(file);
  // Plans a previous process committed without waiting for the disk, if it stopped before their fsync: on disk
  // before this one sends anything from them.
  if (existsSync(`${file}-wal`)) fsyncFile(`${file}-wal`);
  // 64-bit ids and random_ids come back as bigint, never as a rounded JS number.
  sqlite.defaultSafeIntegers(true);
  const db = new Kysely<Schema>({
    dialect: new TransactionalSqliteDialect({ database: cachingStatements(sqlite) }),
  });
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    walDurability: new WalDurability(`${file}-wal`, () => checkpointer.sync()),
    description: file,
    statements: null,
    async close() {
      await checkpointer.close();
      await db.destroy();
    },
  };
}
