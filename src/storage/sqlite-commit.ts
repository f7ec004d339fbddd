/**
 * The runtime's commit on SQLite: outcomes, counters and `sending` marks of a batch in one synchronous
 * better-sqlite3 transaction with prepared statements. Through Kysely the same batch cost ~0.5 ms (building and
 * compiling every query, a promise per statement); here it is tens of microseconds, which is what lets one
 * process sustain thousands of posts a second. The commit does not wait for fsync (the random_ids are on disk
 * before it — sqlite-durability.ts —; Telegram deduplicates a re-send).
 *
 * No fence: one process owns every bot on SQLite (leases need PostgreSQL). A fenced mark (or fenced outcomes)
 * arriving here means a lease is in use that nothing checks, so it is refused loudly rather than written.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { CounterDelta } from '../core/model.js';
import {
  POST_PATCH_COLUMNS,
  POST_PATCH_FIELDS,
  patchValue,
  type CommitBatch,
  type PostPatch,
} from '../runtime/store.js';
import { COUNTER_COLUMNS, COUNTER_FIELDS } from './bot-counters.js';
import { int64 } from './codec.js';
import type { Schema } from './schema.js';
import type { WalDurability } from './sqlite-durability.js';
import type { SqliteSync } from './sqlite-sync.js';

const MARK =
  "update posts set status = 'sending', attempts = ? where id = ? and status in ('planned', 'sending')";

const ADD_COUNTERS =
  `update bots set ${COUNTER_FIELDS.map((k) => `${COUNTER_COLUMNS[k]} = ${COUNTER_COLUMNS[k]} + ?`).join(', ')} ` +
  'where id = ?';

/** Prepared on first use: the store may be opened before the migrations that create these tables. */
interface Statements {
  mark: BetterSqlite3.Statement;
  addCounters: BetterSqlite3.Statement;
  /** One statement per set of patched fields, keyed by a bit per field of POST_PATCH_FIELDS. */
  patches: Map<number, BetterSqlite3.Statement>;
}

export class SqliteCommitter {
  private prepared: Statements | null = null;
  private readonly run: (batch: CommitBatch) => Set<string>;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly sqlite: BetterSqlite3.Database,
    private readonly sync: SqliteSync,
    /** Plans committed without waiting for the disk: on disk before posts are marked `sending`. */
    private readonly durability: WalDurability | null = null,
  ) {
    this.run = sqlite.transaction((batch: CommitBatch) => {
      const statements = this.statements();
      for (const patch of batch.patches) this.applyPatch(statements, patch);
      for (const [botId, delta] of batch.counters) applyCounters(statements, botId, delta);
      const accepted = new Set<string>();
      for (const mark of batch.marks) {
        const result = statements.mark.run(mark.attempts, BigInt(mark.postId));
        if (Number(result.changes) === 1) accepted.add(int64(mark.postId));
      }
      return accepted;
    });
  }

  async commit(batch: CommitBatch): Promise<Set<string>> {
    refuseFences(batch);
    // Holding Kysely's one connection keeps every other transaction out while the batch runs synchronously.
    return this.db.connection().execute(async () => {
      // The forwards follow these marks: the plans that fixed their random_ids are on disk first.
      if (batch.marks.length > 0) this.durability?.ensure(batch.marks.map((m) => m.botId));
      return this.sync.relaxed(() => this.run(batch));
    });
  }

  private statements(): Statements {
    this.prepared ??= {
      mark: this.sqlite.prepare(MARK),
      addCounters: this.sqlite.prepare(ADD_COUNTERS),
      patches: new Map(),
    };
    return this.prepared;
  }

  private applyPatch(statements: Statements, patch: PostPatch): void {
    let shape = 0;
    const values: unknown[] = [];
    for (let bit = 0; bit < POST_PATCH_FIELDS.length; bit++) {
      const field = POST_PATCH_FIELDS[bit]!;
      const value = patch[field];
      if (value === undefined) continue;
      shape |= 1 << bit;
      // A 64-bit id travels as a decimal string; safeIntegers binds it exactly as a bigint.
      values.push(
        POST_PATCH_COLUMNS[field].value === 'id' ? BigInt(value as string) : patchValue(field, value),
      );
    }
    if (shape === 0) return;
    let update = statements.patches.get(shape);
    if (!update) {
      const columns = POST_PATCH_FIELDS.filter((_, bit) => shape & (1 << bit)).map(
        (field) => `${POST_PATCH_COLUMNS[field].column} = ?`,
      );
      update = this.sqlite.prepare(`update posts set ${columns.join(', ')} where id = ?`);
      statements.patches.set(shape, update);
    }
    update.run(...values, BigInt(patch.postId));
  }
}

function applyCounters(statements: Statements, botId: string, delta: CounterDelta): void {
  statements.addCounters.run(...COUNTER_FIELDS.map((k) => delta[k] ?? 0), BigInt(botId));
}

function refuseFences(batch: CommitBatch): void {
  const fenced = batch.marks.find((m) => m.fence !== null);
  if (fenced) {
    throw new Error(
      `a fenced sending mark (post ${fenced.postId}, owner ${fenced.fence!.ownerId}) reached SQLite, ` +
        'which holds no leases: leases and their fences need PostgreSQL',
    );
  }
  const [botId, fence] = batch.fences?.entries().next().value ?? [];
  if (fence) {
    throw new Error(
      `fenced outcomes (bot ${botId}, owner ${fence.ownerId}) reached SQLite, ` +
        'which holds no leases: leases and their fences need PostgreSQL',
    );
  }
}
