/**
 * The runtime's persistence on SQLite or PostgreSQL. The writes of exactly-once posting are batched: one
 * transaction a batch (`commit`) holds the outcomes of finished calls and the `sending` marks of new ones, written
 * by the engine's committer (sqlite-commit.ts, postgres-commit.ts).
 */
import type { Kysely, Selectable } from 'kysely';
import type { GroupFacts } from '../core/group-facts.js';
import {
  DEFAULT_BOT_SETTINGS,
  type BotSnapshot,
  type CounterDelta,
  type CycleRecord,
  type CycleStatus,
  type PairState,
  type PostRecord,
  type PostStatus,
  type SessionDriver,
  type SessionInfo,
  type SessionStatus,
} from '../core/model.js';
import type { ExecutionMode } from '../core/plan.js';
import {
  withPostDefaults,
  type BotRuntimePatch,
  type CommitBatch,
  type NewCycle,
  type NewPost,
  type PostPatch,
  type RuntimeStore,
  type SendingMark,
  type SessionPatch,
} from '../runtime/store.js';
import { bindInt64, bool, int64, json, num, numOrNull, type DbInt } from './codec.js';
import { chunks } from './sql-helpers.js';
import type { Dialect } from './database.js';
import type { CyclesTable, GroupFactsTable, PostsTable, Schema, TelegramSessionsTable } from './schema.js';
import { PostgresCommitter } from './postgres-commit.js';
import { SqliteCommitter } from './sqlite-commit.js';
import type { WalDurability } from './sqlite-durability.js';
import { SqliteSync } from './sqlite-sync.js';
import { SqlRepository } from './repository.js';
import type BetterSqlite3 from 'better-sqlite3';

export function cycleFromRow(row: Selectable<CyclesTable>): CycleRecord {
  return {
    id: int64(row.id),
    botId: int64(row.bot_id),
    number: num(row.number),
    mode: row.mode as ExecutionMode,
    slot: numOrNull(row.slot),
    cycleSeconds: numOrNull(row.cycle_seconds),
    plannedStartAt: num(row.planned_start_at),
    deadlineAt: num(row.deadline_at),
    expectedEndAt: num(row.expected_end_at),
    finishedAt: numOrNull(row.finished_at),
    status: row.status as CycleStatus,
    reason: row.reason,
    warnings: json(row.warnings, []),
    source:
      row.source_link === null || row.source_message_ids === null
        ? null
        : { link: row.source_link, messageIds: json<number[]>(row.source_message_ids, []) },
  };
}

export function postFromRow(row: Selectable<PostsTable>): PostRecord {
  const randomId = int64(row.random_id);
  return {
    id: int64(row.id),
    cycleId: int64(row.cycle_id),
    botId: int64(row.bot_id),
    seq: num(row.seq),
    sessionId: int64(row.session_id),
    plannedSessionId: int64(row.planned_session_id),
    groupKey: row.group_key,
    plannedAt: num(row.planned_at),
    randomId,
    status: row.status as PostStatus,
    reason: row.reason,
    error: row.error,
    attempts: num(row.attempts),
    sentAt: numOrNull(row.sent_at),
    randomIds: row.random_ids === null ? [randomId] : json<string[]>(row.random_ids, [randomId]),
    sentMessageIds: json<number[]>(row.sent_message_ids, []),
  };
}

/** A stored boolean that may be unknown (null). */
function flag(value: unknown): boolean | null {
  return value === null || value === undefined ? null : bool(value);
}

const flagValue = (value: boolean | null) => (value === null ? null : value ? 1 : 0);

export function groupFactsFromRow(row: Selectable<GroupFactsTable>): GroupFacts {
  return {
    sessionId: int64(row.session_id),
    groupKey: row.group_key,
    checkedAt: num(row.checked_at),
    member: flag(row.member),
    canWrite: flag(row.can_write),
    slowmodeSeconds: numOrNull(row.slowmode_seconds),
    paidStars: numOrNull(row.paid_stars),
    topicClosed: flag(row.topic_closed),
    username: row.username,
    error: row.error,
  };
}

/** Null for a single message: its random_id is the row's random_id (and rows planned before albums read the same). */
function randomIdsColumn(p: NewPost): string | null {
  const ids = p.randomIds ?? [p.randomId];
  if (ids[0] !== p.randomId) throw new Error(`post ${p.seq}: its first random_id must be its random_id`);
  // Checked as the random_id column is: each one a signed 64-bit integer, kept as its exact decimal text.
  return ids.length > 1 ? JSON.stringify(ids.map((id) => bindInt64(id).toString())) : null;
}

/** How an id is bound: a bigint on SQLite, its decimal text on PostgreSQL (SqlRepository.bind). */
type Bind = (value: string) => DbInt;

/** A cycle's row, as both engines insert it. */
function cycleRow(cycle: NewCycle, bind: Bind) {
  return {
    bot_id: bind(cycle.botId),
    number: cycle.number,
    mode: cycle.mode,
    slot: cycle.slot,
    cycle_seconds: cycle.cycleSeconds,
    planned_start_at: cycle.plannedStartAt,
    deadline_at: cycle.deadlineAt,
    expected_end_at: cycle.expectedEndAt,
    finished_at: cycle.finishedAt,
    status: cycle.status,
    reason: cycle.reason,
    warnings: JSON.stringify(cycle.warnings),
    source_link: cycle.source?.link ?? null,
    source_message_ids: cycle.source ? JSON.stringify(cycle.source.messageIds) : null,
  };
}

const CYCLE_COLUMNS: readonly (keyof ReturnType<typeof cycleRow>)[] = [
  'bot_id',
  'number',
  'mode',
  'slot',
  'cycle_seconds',
  'planned_start_at',
  'deadline_at',
  'expected_end_at',
  'finished_at',
  'status',
  'reason',
  'warnings',
  'source_link',
  'source_message_ids',
];

/** A planned post's row, as both engines insert it. */
function postRow(p: NewPost, cycleId: DbInt, bind: Bind) {
  return {
    cycle_id: cycleId,
    bot_id: bind(p.botId),
    seq: p.seq,
    session_id: bind(p.sessionId),
    planned_session_id: bind(p.plannedSessionId),
    group_key: p.groupKey,
    planned_at: p.plannedAt,
    random_id: bind(p.randomId),
    status: p.status,
    reason: p.reason,
    error: p.error,
    attempts: p.attempts,
    sent_at: p.sentAt,
    random_ids: randomIdsColumn(p),
    sent_message_ids: p.sentMessageIds?.length ? JSON.stringify(p.sentMessageIds) : null,
  };
}

const POST_COLUMNS: readonly (keyof ReturnType<typeof postRow>)[] = [
  'cycle_id',
  'bot_id',
  'seq',
  'session_id',
  'planned_session_id',
  'group_key',
  'planned_at',
  'random_id',
  'status',
  'reason',
  'error',
  'attempts',
  'sent_at',
  'random_ids',
  'sent_message_ids',
];

/** A (session, group)'s facts row, as both engines upsert it. */
function factsRow(f: GroupFacts, bind: Bind) {
  return {
    session_id: bind(f.sessionId),
    group_key: f.groupKey,
    checked_at: f.checkedAt,
    member: flagValue(f.member),
    can_write: flagValue(f.canWrite),
    slowmode_seconds: f.slowmodeSeconds,
    paid_stars: f.paidStars,
    topic_closed: flagValue(f.topicClosed),
    username: f.username,
    error: f.error,
  };
}

const FACTS_COLUMNS: readonly (keyof ReturnType<typeof factsRow>)[] = [
  'session_id',
  'group_key',
  'checked_at',
  'member',
  'can_write',
  'slowmode_seconds',
  'paid_stars',
  'topic_closed',
  'username',
  'error',
];

/** SQLite's insert of one row by named parameters (`@column`). */
function insertSql(table: string, columns: readonly string[]): string {
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`;
}

/** What createCycle returns: the records as stored, with their ids. */
function created(
  cycle: NewCycle,
  posts: readonly NewPost[],
  cycleId: string,
  postIds: ReadonlyMap<number, string>,
): { cycle: CycleRecord; posts: PostRecord[] } {
  return {
    cycle: { ...cycle, source: cycle.source ?? null, id: cycleId },
    posts: posts.map((p) => ({ ...withPostDefaults(p), id: postIds.get(p.seq)!, cycleId })),
  };
}

export function sessionFromRow(row: Selectable<TelegramSessionsTable>): SessionInfo {
  return {
    id: int64(row.id),
    label: row.label,
    driver: row.driver as SessionDriver,
    status: row.status as SessionStatus,
    cooldownUntil: numOrNull(row.cooldown_until),
    statusReason: row.status_reason,
    connectFailures: num(row.connect_failures),
    frozen:
      row.frozen_since === null
        ? null
        : {
            since: num(row.frozen_since),
            until: numOrNull(row.frozen_until),
            appealUrl: row.freeze_appeal_url,
          },
  };
}

export class SqlRuntimeStore extends SqlRepository implements RuntimeStore {
  /** The engine's writer of `commit` batches. */
  private readonly committer: Pick<RuntimeStore, 'commit'>;
  /** SQLite: the switch for commits that do not wait for the disk (null on PostgreSQL). */
  private readonly sqliteSync: SqliteSync | null = null;
  /** SQLite's prepared writes of a plan and of group facts, made on first use. */
  private sqliteInsertCycle:
    ((cycle: NewCycle, posts: NewPost[]) => { cycleId: string; postIds: Map<number, string> }) | null = null;
  private sqliteUpsertFacts: ((facts: readonly GroupFacts[]) => void) | null = null;

  /**
   * `sqlite`: the handle SQLite's committer runs its prepared statements on (null on PostgreSQL). `durability`:
   * SQLite's plans then commit without waiting for the disk and are on disk before their posts
   * (sqlite-durability.ts); without it they commit with FULL.
   */
  constructor(
    db: Kysely<Schema>,
    dialect: Dialect,
    private readonly sqlite: BetterSqlite3.Database | null,
    private readonly durability: WalDurability | null = null,
  ) {
    super(db, dialect);
    if (dialect === 'postgres') this.committer = new PostgresCommitter(db);
    else if (sqlite) {
      this.sqliteSync = new SqliteSync(sqlite);
      this.committer = new SqliteCommitter(db, sqlite, this.sqliteSync, durability);
    } else throw new Error('the SQLite runtime store needs the better-sqlite3 handle for its commits');
  }

  /**
   * A write that need not wait for the disk: on SQLite it commits with `synchronous = NORMAL` (no fsync holding
   * the main thread, and with it every timer of the process); PostgreSQL's commit is unchanged. Lost only if the
   * machine loses power before the next fsync — then it is redone: facts read again, a finished cycle found
   * running with every post final and closed again.
   */
  private relaxed<T>(write: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
    const sync = this.sqliteSync;
    if (!sync) return write(this.db);
    return this.db.connection().execute((db) => sync.relaxed(() => write(db)));
  }

  async loadBot(botId: string): Promise<BotSnapshot | null> {
    const bot = await this.db
      .selectFrom('bots')
      .selectAll()
      .where('id', '=', this.bind(botId))
      .executeTakeFirst();
    if (!bot) return null;
    const [sessions, groups] = await Promise.all([
      this.db
        .selectFrom('telegram_sessions')
        .selectAll()
        .where('owner_user_id', '=', bot.user_id)
        .orderBy('id')
        .execute(),
      this.db.selectFrom('bot_groups').selectAll().where('bot_id', '=', bot.id).orderBy('position').execute(),
    ]);
    return {
      id: int64(bot.id),
      userId: int64(bot.user_id),
      postLink: bot.post_link,
      mode: bot.execution_mode as ExecutionMode | null,
      totalCycleMinutes: numOrNull(bot.total_cycle_minutes),
      settings: {
        ...DEFAULT_BOT_SETTINGS,
        delayBetweenPosts: num(bot.delay_between_posts),
        delayBetweenCycles: num(bot.delay_between_cycles),
        minGroupGapSeconds: num(bot.min_group_gap_seconds),
        silent: bool(bot.silent),
        hideSender: bool(bot.hide_sender),
      },
      desiredState: bot.desired_state === 'running' ? 'running' : 'stopped',
      anchorAt: numOrNull(bot.anchor_at),
      anchorCycleSeconds: numOrNull(bot.anchor_cycle_seconds),
      sessions: sessions.map(sessionFromRow),
      groups: groups.map((g) => ({ key: g.key, slowmodeSeconds: numOrNull(g.slowmode_seconds) })),
    };
  }

  async listRunningBotIds(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('bots')
      .select('id')
      .where('desired_state', '=', 'running')
      .orderBy('id')
      .execute();
    return rows.map((r) => int64(r.id));
  }

  async updateBotRuntime(botId: string, patch: BotRuntimePatch): Promise<void> {
    const values: Partial<Record<keyof Schema['bots'], unknown>> = {};
    if (patch.anchorAt !== undefined) values.anchor_at = patch.anchorAt;
    if (patch.anchorCycleSeconds !== undefined) values.anchor_cycle_seconds = patch.anchorCycleSeconds;
    if (patch.lastError !== undefined) values.last_error = patch.lastError;
    if (patch.needsAttention !== undefined) values.needs_attention = patch.needsAttention ? 1 : 0;
    if (Object.keys(values).length === 0) return;
    await this.db
      .updateTable('bots')
      .set(values as never)
      .where('id', '=', this.bind(botId))
      .execute();
  }

  async getActiveCycle(botId: string): Promise<{ cycle: CycleRecord; posts: PostRecord[] } | null> {
    const row = await this.db
      .selectFrom('cycles')
      .selectAll()
      .where('bot_id', '=', this.bind(botId))
      .where('status', '=', 'running')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return null;
    const posts = await this.db
      .selectFrom('posts')
      .selectAll()
      .where('cycle_id', '=', row.id)
      .orderBy('seq')
      .execute();
    return { cycle: cycleFromRow(row), posts: posts.map(postFromRow) };
  }

  async getLastCycle(botId: string): Promise<CycleRecord | null> {
    const row = await this.db
      .selectFrom('cycles')
      .selectAll()
      .where('bot_id', '=', this.bind(botId))
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? cycleFromRow(row) : null;
  }

  /**
   * One transaction for the cycle and all its posts, on disk before any of them is sent: a post never goes out with
   * a random_id a power loss could take back. PostgreSQL: the commit is synchronous. SQLite: the commit does not
   * wait for the disk; the checkpointer's thread fsyncs it, and the commit that marks posts `sending` makes sure
   * of it first (sqlite-durability.ts).
   */
  async createCycle(cycle: NewCycle, posts: NewPost[]): Promise<{ cycle: CycleRecord; posts: PostRecord[] }> {
    const { sqlite, durability } = this;
    if (!sqlite) return this.insertCycle(cycle, posts);
    // SQLite: one synchronous transaction of prepared statements (through Kysely, building and compiling the
    // inserts of a plan cost more than running them — paid by a thousand bots at once after a restart).
    const ids = await this.db
      .connection()
      .execute(async () =>
        durability
          ? this.sqliteSync!.relaxed(() => this.sqliteCycle()(cycle, posts))
          : this.sqliteCycle()(cycle, posts),
      );
    durability?.committed(cycle.botId);
    return created(cycle, posts, ids.cycleId, ids.postIds);
  }

  private insertCycle(
    cycle: NewCycle,
    posts: NewPost[],
  ): Promise<{ cycle: CycleRecord; posts: PostRecord[] }> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('cycles')
        .values(cycleRow(cycle, (v) => this.bind(v)))
        .returning('id')
        .executeTakeFirstOrThrow();
      const cycleId = inserted.id;
      const ids = new Map<number, string>();
      // 15 columns a row: 400 rows stay well under both engines' parameter limits.
      for (const part of chunks(posts, 400)) {
        const rows = await trx
          .insertInto('posts')
          .values(part.map((p) => postRow(p, cycleId, (v) => this.bind(v))))
          .returning(['id', 'seq'])
          .execute();
        // Matched by seq: neither engine promises RETURNING rows in insertion order.
        for (const r of rows) ids.set(num(r.seq), int64(r.id));
      }
      return created(cycle, posts, int64(cycleId), ids);
    });
  }

  /** SQLite's plan insert: a better-sqlite3 transaction, prepared once (after the migrations made its tables). */
  private sqliteCycle(): (
    cycle: NewCycle,
    posts: NewPost[],
  ) => { cycleId: string; postIds: Map<number, string> } {
    const sqlite = this.sqlite!;
    this.sqliteInsertCycle ??= (() => {
      const insertCycle = sqlite.prepare(`${insertSql('cycles', CYCLE_COLUMNS)} returning id`);
      const insertPost = sqlite.prepare(`${insertSql('posts', POST_COLUMNS)} returning id`);
      return sqlite.transaction((cycle: NewCycle, posts: NewPost[]) => {
        const cycleId = (insertCycle.get(cycleRow(cycle, BigInt)) as { id: bigint }).id;
        const postIds = new Map<number, string>();
        for (const p of posts) {
          postIds.set(p.seq, int64((insertPost.get(postRow(p, cycleId, BigInt)) as { id: bigint }).id));
        }
        return { cycleId: int64(cycleId), postIds };
      });
    })();
    return this.sqliteInsertCycle;
  }

  async finishCycle(
    cycleId: string,
    status: CycleStatus,
    reason: string | null,
    finishedAt: number,
  ): Promise<void> {
    await this.relaxed((db) =>
      db
        .updateTable('cycles')
        .set({ status, reason, finished_at: finishedAt })
        .where('id', '=', this.bind(cycleId))
        .execute(),
    );
  }

  markSending(marks: readonly SendingMark[]): Promise<Set<string>> {
    return this.commit({ marks, patches: [], counters: new Map() });
  }

  async writeResults(
    patches: readonly PostPatch[],
    counters: ReadonlyMap<string, CounterDelta>,
  ): Promise<void> {
    await this.commit({ marks: [], patches, counters });
  }

  /** One transaction per batch: outcomes of finished calls first, then the marks of new ones. */
  async commit(batch: CommitBatch): Promise<Set<string>> {
    if (batch.marks.length === 0 && batch.patches.length === 0 && batch.counters.size === 0) return new Set();
    // These commits need not wait for the disk (fsync): were the machine to lose this batch, its posts would go
    // out again with the same random_ids, which Telegram deduplicates. What must be on disk first — the
    // random_ids (createCycle) — is, before any mark. A crash of this process loses nothing either way.
    return this.committer.commit(batch);
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const values: Partial<Record<keyof Schema['telegram_sessions'], unknown>> = {};
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.cooldownUntil !== undefined) values.cooldown_until = patch.cooldownUntil;
    if (patch.statusReason !== undefined) values.status_reason = patch.statusReason;
    if (patch.connectFailures !== undefined) values.connect_failures = patch.connectFailures;
    if (Object.keys(values).length === 0) return;
    await this.db
      .updateTable('telegram_sessions')
      .set(values as never)
      .where('id', '=', this.bind(sessionId))
      .execute();
  }

  async loadPairStates(botId: string): Promise<PairState[]> {
    const rows = await this.db
      .selectFrom('pair_states')
      .selectAll()
      .where('bot_id', '=', this.bind(botId))
      .execute();
    return rows.map((r) => ({
      sessionId: int64(r.session_id),
      groupKey: r.group_key,
      cooldownUntil: numOrNull(r.cooldown_until),
      parkedUntil: numOrNull(r.parked_until),
      parkedReason: r.parked_reason,
      unknownFailures: num(r.unknown_failures),
      skipThroughCycle: numOrNull(r.skip_through_cycle),
      lastError: r.last_error,
    }));
  }

  async savePairState(botId: string, state: PairState): Promise<void> {
    const values = {
      cooldown_until: state.cooldownUntil,
      parked_until: state.parkedUntil,
      parked_reason: state.parkedReason,
      unknown_failures: state.unknownFailures,
      skip_through_cycle: state.skipThroughCycle,
      last_error: state.lastError,
    };
    await this.db
      .insertInto('pair_states')
      .values({
        bot_id: this.bind(botId),
        session_id: this.bind(state.sessionId),
        group_key: state.groupKey,
        ...values,
      })
      .onConflict((oc) => oc.columns(['bot_id', 'session_id', 'group_key']).doUpdateSet(values))
      .execute();
  }

  async lastSentByGroup(botId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('posts')
      .select(['group_key', (eb) => eb.fn.max('sent_at').as('last')])
      .where('bot_id', '=', this.bind(botId))
      .where('status', 'in', ['sent', 'duplicate'])
      .groupBy('group_key')
      .execute();
    const out = new Map<string, number>();
    for (const r of rows) if (r.last !== null) out.set(r.group_key, num(r.last));
    return out;
  }

  async setGroupSlowmode(botId: string, groupKey: string, seconds: number): Promise<void> {
    await this.db
      .updateTable('bot_groups')
      .set({ slowmode_seconds: seconds })
      .where('bot_id', '=', this.bind(botId))
      .where('key', '=', groupKey)
      .execute();
  }

  async loadGroupFacts(sessionIds: readonly string[]): Promise<GroupFacts[]> {
    if (sessionIds.length === 0) return [];
    const out: GroupFacts[] = [];
    for (const part of chunks(sessionIds, 500)) {
      const rows = await this.db
        .selectFrom('group_facts')
        .selectAll()
        .where(
          'session_id',
          'in',
          part.map((id) => this.bind(id)),
        )
        .execute();
      out.push(...rows.map(groupFactsFromRow));
    }
    return out;
  }

  async saveGroupFacts(facts: readonly GroupFacts[]): Promise<void> {
    // One row per pair (the last read wins): PostgreSQL refuses a statement that updates a row twice.
    const latest = new Map(facts.map((f) => [`${f.sessionId}\u0000${f.groupKey}`, f]));
    const list = [...latest.values()];
    if (list.length === 0) return;
    // Facts are a cache: they need not wait for the disk. SQLite: prepared once, one synchronous transaction.
    if (this.sqlite) {
      const upsert = this.sqliteFacts();
      await this.relaxed(async () => upsert(list));
      return;
    }
    // 10 columns a row: 400 rows stay well under PostgreSQL's parameter limit.
    for (const part of chunks(list, 400)) {
      await this.db
        .insertInto('group_facts')
        .values(part.map((f) => factsRow(f, (v) => this.bind(v))))
        .onConflict((oc) =>
          oc.columns(['session_id', 'group_key']).doUpdateSet((eb) => ({
            checked_at: eb.ref('excluded.checked_at'),
            member: eb.ref('excluded.member'),
            can_write: eb.ref('excluded.can_write'),
            slowmode_seconds: eb.ref('excluded.slowmode_seconds'),
            paid_stars: eb.ref('excluded.paid_stars'),
            topic_closed: eb.ref('excluded.topic_closed'),
            username: eb.ref('excluded.username'),
            error: eb.ref('excluded.error'),
          })),
        )
        .execute();
    }
  }

  private sqliteFacts(): (facts: readonly GroupFacts[]) => void {
    const sqlite = this.sqlite!;
    this.sqliteUpsertFacts ??= (() => {
      const updated = FACTS_COLUMNS.filter((c) => c !== 'session_id' && c !== 'group_key');
      const upsert = sqlite.prepare(
        `${insertSql('group_facts', FACTS_COLUMNS)} on conflict (session_id, group_key) do update ` +
          `set ${updated.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      );
      return sqlite.transaction((facts: readonly GroupFacts[]) => {
        for (const f of facts) upsert.run(factsRow(f, BigInt));
      });
    })();
    return this.sqliteUpsertFacts;
  }
}
