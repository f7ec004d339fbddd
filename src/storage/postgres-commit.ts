/**
 * The runtime's commit on PostgreSQL: outcomes, counters and `sending` marks of a batch in one transaction, each in
 * as few statements as the batch allows (an inline table of values joined in UPDATE … FROM), so a batch of a
 * thousand posts costs a handful of round trips, not a thousand. The lease fence is checked in the statement that
 * marks, against the database's clock. The commit does not wait for the WAL flush (the random_ids were committed
 * synchronously when the cycle was planned; Telegram deduplicates a re-send).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CounterDelta } from '../core/model.js';
import {
  POST_PATCH_COLUMNS,
  POST_PATCH_FIELDS,
  patchValue,
  type CommitBatch,
  type PatchValue,
  type PostPatch,
  type PostPatchField,
  type SendingMark,
} from '../runtime/store.js';
import { COUNTER_COLUMNS, COUNTER_FIELDS } from './bot-counters.js';
import { int64, type DbInt } from './codec.js';
import type { Schema } from './schema.js';
import { countedAs } from './statement-stats.js';
import { chunks, dbNowMs, valuesTable, type SqlType } from './sql-helpers.js';

/** Parameters per statement: far below PostgreSQL's 65,535, small enough to plan fast. */
const MAX_PARAMETERS = 2000;

const SQL_TYPES: Record<PatchValue, SqlType> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  id: 'bigint',
  json: 'text',
};

export class PostgresCommitter {
  constructor(private readonly db: Kysely<Schema>) {}

  commit(batch: CommitBatch): Promise<Set<string>> {
    return countedAs('commit', () =>
      this.db.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        await applyPatches(trx, batch.patches);
        await applyCounters(trx, batch.counters);
        return applyMarks(trx, batch.marks);
      }),
    );
  }
}

/** Patches of one post in one batch apply in order: merged first, then one statement per set of fields. */
async function applyPatches(trx: Kysely<Schema>, patches: readonly PostPatch[]): Promise<void> {
  const merged = new Map<string, PostPatch>();
  for (const p of patches)
    merged.set(p.postId, { ...merged.get(p.postId), ...stripUndefined(p) } as PostPatch);
  const shapes = new Map<string, { fields: PostPatchField[]; patches: PostPatch[] }>();
  for (const p of merged.values()) {
    const fields = POST_PATCH_FIELDS.filter((f) => p[f] !== undefined);
    if (fields.length === 0) continue;
    const key = fields.join(',');
    const shape = shapes.get(key) ?? { fields, patches: [] };
    shape.patches.push(p);
    shapes.set(key, shape);
  }
  for (const { fields, patches: list } of shapes.values()) {
    const columns = fields.map((f) => POST_PATCH_COLUMNS[f]);
    for (const part of chunks(list, Math.floor(MAX_PARAMETERS / (fields.length + 1)))) {
      const v = valuesTable(
        'postgres',
        [
          { name: 'id', type: 'bigint' },
          ...columns.map((c) => ({ name: c.column, type: SQL_TYPES[c.value] })),
        ],
        // pg binds a 64-bit id as its decimal string, exactly.
        part.map((p) => [p.postId, ...fields.map((f) => patchValue(f, p[f]))]),
      );
      const sets = sql.join(columns.map((c) => sql`${sql.ref(c.column)} = ${sql.ref(`v.${c.column}`)}`));
      await sql`update posts set ${sets} from ${v} where posts.id = v.id`.execute(trx);
    }
  }
}

/** All bots' counters in one statement. */
async function applyCounters(
  trx: Kysely<Schema>,
  counters: ReadonlyMap<string, CounterDelta>,
): Promise<void> {
  const deltas = [...counters].filter(([, d]) => Object.values(d).some((n) => n !== 0));
  if (deltas.length === 0) return;
  const v = valuesTable(
    'postgres',
    [{ name: 'id', type: 'bigint' }, ...COUNTER_FIELDS.map((k) => ({ name: k, type: 'bigint' as const }))],
    deltas.map(([botId, d]) => [botId, ...COUNTER_FIELDS.map((k) => d[k] ?? 0)]),
  );
  const sets = sql.join(
    COUNTER_FIELDS.map(
      (k) => sql`${sql.ref(COUNTER_COLUMNS[k])} = ${sql.ref(COUNTER_COLUMNS[k])} + ${sql.ref(`v.${k}`)}`,
    ),
  );
  await sql`update bots set ${sets} from ${v} where bots.id = v.id`.execute(trx);
}

const MARK_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'attempts', type: 'integer' },
] as const;

const FENCED_MARK_COLUMNS = [
  ...MARK_COLUMNS,
  { name: 'owner_id', type: 'text' },
  { name: 'epoch', type: 'bigint' },
] as const;

/** The mark succeeds only while the bot's lease is held by this owner with this epoch, by the database's clock. */
const FENCE_HOLDS = sql`and exists (select 1 from leases l where l.bot_id = posts.bot_id and l.owner_id = v.owner_id
                       and l.epoch = v.epoch and l.expires_at > ${dbNowMs('postgres')})`;

/**
 * Fencing is checked in the statement that marks. Unfenced marks (a process running bots without leases: tests,
 * the benchmark) have a statement of their own: folding them into the fenced one (a null owner skipping the
 * check) cost them a quarter more per commit.
 */
async function applyMarks(trx: Kysely<Schema>, marks: readonly SendingMark[]): Promise<Set<string>> {
  const accepted = new Set<string>();
  const mark = async (v: RawBuilder<unknown>, condition: RawBuilder<unknown>): Promise<void> => {
    const rows = await sql<{ id: DbInt }>`
      update posts set status = 'sending', attempts = v.attempts from ${v}
      where posts.id = v.id and posts.status in ('planned', 'sending') ${condition}
      returning posts.id`.execute(trx);
    for (const r of rows.rows) accepted.add(int64(r.id));
  };
  const unfenced = marks.filter((m) => m.fence === null);
  const fenced = marks.filter((m) => m.fence !== null);
  for (const part of chunks(unfenced, 500)) {
    const rows = part.map((m) => [m.postId, m.attempts]);
    await mark(valuesTable('postgres', MARK_COLUMNS, rows), sql``);
  }
  for (const part of chunks(fenced, 250)) {
    const rows = part.map((m) => [m.postId, m.attempts, m.fence!.ownerId, m.fence!.epoch]);
    await mark(valuesTable('postgres', FENCED_MARK_COLUMNS, rows), FENCE_HOLDS);
  }
  return accepted;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
