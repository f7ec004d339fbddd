/**
 * The storage of one Stagger installation: the database, its migrations, the secret box, and every repository.
 * `openStore` is what `serve`, `worker`, `migrate` and the tests call.
 */
import type { Kysely } from 'kysely';
import { BotRepository } from './bots.js';
import { openDatabase, type Database, type DatabaseConfig, type Dialect } from './database.js';
import { migrate, type MigrationReport } from './migrations.js';
import { SqlRuntimeStore } from './runtime-store.js';
import { SqlSandboxStore } from './sandbox-store.js';
import type { Schema } from './schema.js';
import { SecretBox } from './secret-box.js';
import { countingAs, type StatementCounter } from './statement-stats.js';
import { SessionRepository } from './sessions.js';
import { UserRepository } from './users.js';
import { StaggerError } from '../core/errors.js';

export interface StoreConfig extends DatabaseConfig {
  /** STAGGER_SECRET_KEY, if set. */
  secretKey?: string | undefined;
  /** Run migrations on open (default true). */
  migrate?: boolean;
  now?: () => number;
}

export class Store {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  readonly description: string;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly bots: BotRepository;
  readonly runtime: SqlRuntimeStore;
  readonly sandbox: SqlSandboxStore;
  /** Statements sent to PostgreSQL by path (null on SQLite). */
  readonly statements: StatementCounter | null;

  constructor(
    private readonly database: Database,
    readonly secrets: SecretBox,
    readonly migrations: MigrationReport | null,
    now: () => number,
  ) {
    this.db = database.db;
    this.dialect = database.dialect;
    this.description = database.description;
    this.statements = database.statements;
    this.users = new UserRepository(this.db, this.dialect, now);
    this.sessions = new SessionRepository(this.db, this.dialect, secrets, now);
    this.bots = new BotRepository(this.db, this.dialect, now);
    this.runtime = new SqlRuntimeStore(this.db, this.dialect, database.sqlite, database.walDurability);
    this.sandbox = countingAs('sandbox', new SqlSandboxStore(this.db, this.dialect));
  }

  close(): Promise<void> {
    return this.database.close();
  }
}

export async function openStore(config: StoreConfig): Promise<Store> {
  const database = await openDatabase(config);
  try {
    let report: MigrationReport | null = null;
    if (config.migrate !== false) {
      report = await migrate(database.db as Kysely<unknown>, database.dialect);
      if (!report.ok) {
        throw new StaggerError(
          'MIGRATION_FAILED',
          `database migration failed (nothing was applied): ${report.error}`,
          {
            details: report,
          },
        );
      }
    }
    const secrets = await SecretBox.open({
      db: database.db,
      dataDir: config.dataDir,
      envKey: config.secretKey,
    });
    return new Store(database, secrets, report, config.now ?? Date.now);
  } catch (error) {
    await database.close();
    throw error;
  }
}
