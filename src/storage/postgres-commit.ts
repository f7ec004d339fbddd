/**
 * The runtime's commit on PostgreSQL: the outcomes, counters and `sending` marks of a batch in ONE statement — one
 * round trip — made of data-modifying CTEs over inline tables of values. A single statement is its own
 * transaction: the batch is written whole or not at all, as the BEGIN … COMMIT it replaces (five to seven round
 * trips a batch) was. Whatever the batch size, a post costs at most two statements on this path: the commit that
 * marks it `sending` before its call, and the one that records its outcome after (fewer when posts fall due
 * together and share commits).
 *
 * Fencing is checked in the statement itself, against the database's clock: a mark needs the bot's lease held by
 * its owner and epoch and not expired; a bot's outcomes and counters need only that nobody took the bot over since
 * (they record calls that already happened). All CTEs of a statement see one snapshot, so a bot's outcomes and its
 * counters are accepted or refused together.
 *
 * The commit does not wait for the WAL flush (`synchronous_commit` off for this transaction only): the random_ids
 * were committed synchronously when the cycle was planned, and Telegram deduplicates a re-send.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CounterDelta } from '../core/model.js';
import {
  POST_PATCH_COLUMNS,
  POST_PATCH_FIELDS,
  patchValue,
  type CommitBatch,
  type Fence,
  type PatchValue,
  type PostPatch,
  type SendingMark,
} from '../runtime/store.js';
import { COUNTER_COLUMNS, COUNTER_FIELDS } from './bot-counters.js';
import { int64, type DbInt } from './codec.js';
import type { Schema } from './schema.js';
import { dbNowMs, valuesTable, type SqlType } from './sql-helpers.js';
import { countedAs } from './statement-stats.js';

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
    return countedAs('commit', async () => {
      const patches = mergePatches(batch.patches);
      // A post both patched and marked in one batch (two runners of one bot, an old lease's finishing while a new
      // one starts) would be two updates of one row in one statement, of which PostgreSQL applies one: then the
      // outcomes go first, in a statement of their own, as the batch's order says.
      const patched = new Set(patches.map((p) => p.postId));
      if (batch.marks.some((m) => patched.has(m.postId))) {
        await this.run({ ...batch, patches, marks: [] });
        return this.run({ ...batch, patches: [], counters: new Map(), marks: batch.marks });
      }
      return this.run({ ...batch, patches });
    });
  }

  private async run(batch: CommitBatch): Promise<Set<string>> {
    const fences = batch.fences ?? new Map<string, Fence>();
    const parts: RawBuilder<unknown>[] = [];
    const marked: string[] = [];
    if (batch.patches.length > 0) parts.push(sql`p as (${patchStatement(batch.patches, fences)})`);
    const counters = [...batch.counters].filter(([, d]) => Object.values(d).some((n) => n !== 0));
    if (counters.length > 0) parts.push(sql`c as (${counterStatement(counters, fences)})`);
    const unfenced = batch.marks.filter((m) => m.fence === null);
    const fenced = batch.marks.filter((m) => m.fence !== null);
    if (unfenced.length > 0) {
      parts.push(sql`m0 as (${markStatement(unfenced)})`);
      marked.push('m0');
    }
    if (fenced.length > 0) {
      parts.push(sql`m1 as (${markStatement(fenced)})`);
      marked.push('m1');
    }
    if (parts.length === 0) return new Set();
    const ids =
      marked.length === 0
        ? sql`select null::bigint as id where false`
        : sql.join(
            marked.map((name) => sql`select id from ${sql.table(name)}`),
            sql` union all `,
          );
    // One row at least, so that set_config runs (in this statement's own transaction: its commit is not flushed).
    const rows = await sql<{ id: DbInt | null }>`
      with ${sql.join(parts)}
      select m.id from (select set_config('synchronous_commit', 'off', true)) s
      left join (${ids}) m on true`.execute(this.db);
    const accepted = new Set<string>();
    for (const r of rows.rows) if (r.id !== null) accepted.add(int64(r.id));
    return accepted;
  }
}

/** Patches of one post in one batch apply in order: merged into one. */
function mergePatches(patches: readonly PostPatch[]): PostPatch[] {
  const merged = new Map<string, PostPatch>();
  for (const p of patches)
    merged.set(p.postId, { ...merged.get(p.postId), ...stripUndefined(p) } as PostPatch);
  return [...merged.values()].filter((p) => POST_PATCH_FIELDS.some((f) => p[f] !== undefined));
}

/** Every bot's lease as its outcomes' writer saw it: the same owner and epoch now (expired or not). */
const outcomeFenceHolds = (botColumn: RawBuilder<unknown>) =>
  sql`(v.owner_id is null or exists (select 1 from leases l where l.bot_id = ${botColumn}
       and l.owner_id = v.owner_id and l.epoch = v.epoch))`;

/**
 * All patches in one UPDATE, whatever fields each sets: a bit of `v.m` per field of POST_PATCH_FIELDS says whether
 * the patch sets it (a field it does not set keeps its value; null is a value a patch may set).
 */
function patchStatement(patches: readonly PostPatch[], fences: ReadonlyMap<string, Fence>) {
  const columns = POST_PATCH_FIELDS.map((f) => POST_PATCH_COLUMNS[f]);
  const v = valuesTable(
    'postgres',
    [
      { name: 'id', type: 'bigint' },
      { name: 'm', type: 'integer' },
      ...columns.map((c) => ({ name: c.column, type: SQL_TYPES[c.value] })),
      { name: 'owner_id', type: 'text' },
      { name: 'epoch', type: 'bigint' },
    ],
    patches.map((p) => {
      const fence = fences.get(p.botId) ?? null;
      let mask = 0;
      POST_PATCH_FIELDS.forEach((f, bit) => {
        if (p[f] !== undefined) mask |= 1 << bit;
      });
      return [
        // pg binds a 64-bit id as its decimal string, exactly.
        p.postId,
        mask,
        ...POST_PATCH_FIELDS.map((f) => (p[f] === undefined ? null : patchValue(f, p[f]))),
        fence?.ownerId ?? null,
        fence?.epoch ?? null,
      ];
    }),
  );
  const sets = sql.join(
    columns.map(
      (c, bit) =>
        sql`${sql.ref(c.column)} = case when v.m & ${sql.lit(1 << bit)} <> 0 then ${sql.ref(`v.${c.column}`)}
            else ${sql.ref(`posts.${c.column}`)} end`,
    ),
  );
  return sql`update posts set ${sets} from ${v} where posts.id = v.id and ${outcomeFenceHolds(sql`posts.bot_id`)}
             returning posts.id`;
}

/** All bots' counters in one UPDATE. */
function counterStatement(counters: readonly [string, CounterDelta][], fences: ReadonlyMap<string, Fence>) {
  const v = valuesTable(
    'postgres',
    [
      { name: 'id', type: 'bigint' },
      ...COUNTER_FIELDS.map((k) => ({ name: k, type: 'bigint' as const })),
      { name: 'owner_id', type: 'text' },
      { name: 'epoch', type: 'bigint' },
    ],
    counters.map(([botId, d]) => {
      const fence = fences.get(botId) ?? null;
      return [botId, ...COUNTER_FIELDS.map((k) => d[k] ?? 0), fence?.ownerId ?? null, fence?.epoch ?? null];
    }),
  );
  const sets = sql.join(
    COUNTER_FIELDS.map(
      (k) => sql`${sql.ref(COUNTER_COLUMNS[k])} = ${sql.ref(COUNTER_COLUMNS[k])} + ${sql.ref(`v.${k}`)}`,
    ),
  );
  return sql`update bots set ${sets} from ${v} where bots.id = v.id and ${outcomeFenceHolds(sql`bots.id`)}`;
}

/**
 * The `sending` marks. A fenced mark succeeds only while the bot's lease is held by this owner with this epoch and
 * has not expired, by the database's clock. Unfenced marks (a process running bots without leases: tests, the
 * benchmark) have a CTE of their own: folding them into the fenced one (a null owner skipping the check) cost them
 * a quarter more per commit.
 */
function markStatement(marks: readonly SendingMark[]) {
  const fenced = marks[0]!.fence !== null;
  const v = fenced
    ? valuesTable(
        'postgres',
        [
          { name: 'id', type: 'bigint' },
          { name: 'attempts', type: 'integer' },
          { name: 'owner_id', type: 'text' },
          { name: 'epoch', type: 'bigint' },
        ],
        marks.map((m) => [m.postId, m.attempts, m.fence!.ownerId, m.fence!.epoch]),
      )
    : valuesTable(
        'postgres',
        [
          { name: 'id', type: 'bigint' },
          { name: 'attempts', type: 'integer' },
        ],
        marks.map((m) => [m.postId, m.attempts]),
      );
  const fence = fenced
    ? sql`and exists (select 1 from leases l where l.bot_id = posts.bot_id and l.owner_id = v.owner_id
          and l.epoch = v.epoch and l.expires_at > ${dbNowMs('postgres')})`
    : sql``;
  return sql`update posts set status = 'sending', attempts = v.attempts from ${v}
             where posts.id = v.id and posts.status in ('planned', 'sending') ${fence}
             returning posts.id`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
