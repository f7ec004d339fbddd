/**
 * A customer's bot: its configuration (post, groups, mode, delays), its desired state, its counters, and the
 * queries behind status and history. One bot per customer, created on first use.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { SourcePost } from '../core/album.js';
import {
  DEFAULT_BOT_SETTINGS,
  FINAL_POST_STATUSES,
  POST_STATUSES,
  postStatusesOf,
  type PostView,
  type BotSettings,
  type BotSnapshot,
  type CycleRecord,
  type PostRecord,
  type PostStatus,
} from '../core/model.js';
import type { ExecutionMode } from '../core/plan.js';
import { bool, int64, json, num, numOrNull, type DbInt } from './codec.js';
import type { Dialect } from './database.js';
import { cycleFromRow, postFromRow } from './runtime-store.js';
import { dbNowMs } from './sql-helpers.js';
import { SqlRepository } from './repository.js';
import type { BotsTable, Schema } from './schema.js';

export interface BotCounters {
  sent: number;
  duplicates: number;
  failed: number;
  skipped: number;
  floodWaits: number;
}

/** A bot as its customer configured it (the API's view), with the runtime's flags and counters. */
export interface BotConfig extends Pick<
  BotSnapshot,
  | 'id'
  | 'userId'
  | 'postLink'
  | 'mode'
  | 'totalCycleMinutes'
  | 'settings'
  | 'desiredState'
  | 'anchorAt'
  | 'anchorCycleSeconds'
> {
  needsAttention: boolean;
  lastError: string | null;
  counters: BotCounters;
  /** The group targets as the customer wrote them. */
  groups: string[];
}

function configFromRow(row: Selectable<BotsTable>, groups: string[]): BotConfig {
  return {
    id: int64(row.id),
    userId: int64(row.user_id),
    postLink: row.post_link,
    mode: row.execution_mode as ExecutionMode | null,
    totalCycleMinutes: numOrNull(row.total_cycle_minutes),
    settings: {
      delayBetweenPosts: num(row.delay_between_posts),
      delayBetweenCycles: num(row.delay_between_cycles),
      minGroupGapSeconds: num(row.min_group_gap_seconds),
      silent: bool(row.silent),
      hideSender: bool(row.hide_sender),
    },
    desiredState: row.desired_state === 'running' ? 'running' : 'stopped',
    needsAttention: bool(row.needs_attention),
    lastError: row.last_error,
    anchorAt: numOrNull(row.anchor_at),
    anchorCycleSeconds: row.anchor_cycle_seconds === null ? null : num(row.anchor_cycle_seconds),
    counters: {
      sent: num(row.sent_count),
      duplicates: num(row.duplicate_count),
      failed: num(row.failed_count),
      skipped: num(row.skipped_count),
      floodWaits: num(row.flood_wait_count),
    },
    groups,
  };
}

export interface PostPage {
  posts: (PostRecord & { cycleNumber: number; happenedAt: number | null })[];
  nextCursor: string | null;
}

/**
 * When a post's result came about, as far as the history knows: its sent time; else its planned time, or its
 * cycle's end when that came first (a stop cancels the rest, a deadline ends it). The `done` view is ordered by it.
 */
const happenedAt = sql<DbInt>`coalesce(posts.sent_at, case when cycles.finished_at is not null and cycles.finished_at < posts.planned_at then cycles.finished_at else posts.planned_at end)`;

export class BotRepository extends SqlRepository {
  constructor(
    db: Kysely<Schema>,
    dialect: Dialect,
    private readonly now: () => number,
  ) {
    super(db, dialect);
  }

  /** The customer's bot id, creating the bot with the default settings on first use. */
  async ensureForUser(userId: string): Promise<string> {
    const existing = await this.db
      .selectFrom('bots')
      .select('id')
      .where('user_id', '=', this.bind(userId))
      .executeTakeFirst();
    if (existing) return int64(existing.id);
    await this.db
      .insertInto('bots')
      .values({
        user_id: this.bind(userId),
        delay_between_posts: DEFAULT_BOT_SETTINGS.delayBetweenPosts,
        delay_between_cycles: DEFAULT_BOT_SETTINGS.delayBetweenCycles,
        min_group_gap_seconds: DEFAULT_BOT_SETTINGS.minGroupGapSeconds,
        silent: 0,
        hide_sender: 0,
        desired_state: 'stopped',
        needs_attention: 0,
        sent_count: 0,
        duplicate_count: 0,
        failed_count: 0,
        skipped_count: 0,
        flood_wait_count: 0,
        updated_at: this.now(),
      })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('bots')
      .select('id')
      .where('user_id', '=', this.bind(userId))
      .executeTakeFirstOrThrow();
    return int64(row.id);
  }

  async get(botId: string): Promise<BotConfig | null> {
    const row = await this.db
      .selectFrom('bots')
      .selectAll()
      .where('id', '=', this.bind(botId))
      .executeTakeFirst();
    if (!row) return null;
    return configFromRow(row, await this.groups(botId));
  }

  async forUser(userId: string): Promise<BotConfig> {
    const botId = await this.ensureForUser(userId);
    return (await this.get(botId))!;
  }

  async listAll(): Promise<BotConfig[]> {
    const rows = await this.db.selectFrom('bots').selectAll().orderBy('id').execute();
    return Promise.all(rows.map(async (row) => configFromRow(row, await this.groups(int64(row.id)))));
  }

  async groups(botId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('bot_groups')
      .select('key')
      .where('bot_id', '=', this.bind(botId))
      .orderBy('position')
      .execute();
    return rows.map((r) => r.key);
  }

  async setPostLink(botId: string, link: string | null): Promise<void> {
    await this.db
      .updateTable('bots')
      .set({ post_link: link, updated_at: this.now() })
      .where('id', '=', this.bind(botId))
      .execute();
  }

  /** Replaces the group list (order kept); what is known of a group that stays (its slow mode) is kept. */
  async setGroups(botId: string, keys: readonly string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const known = await trx
        .selectFrom('bot_groups')
        .select(['key', 'slowmode_seconds'])
        .where('bot_id', '=', this.bind(botId))
        .execute();
      const slowmode = new Map(known.map((k) => [k.key, k.slowmode_seconds]));
      await trx.deleteFrom('bot_groups').where('bot_id', '=', this.bind(botId)).execute();
      for (let i = 0; i < keys.length; i += 500) {
        await trx
          .insertInto('bot_groups')
          .values(
            keys.slice(i, i + 500).map((key, j) => ({
              bot_id: this.bind(botId),
              position: i + j,
              key,
              slowmode_seconds: slowmode.get(key) ?? null,
            })),
          )
          .execute();
      }
      await trx
        .updateTable('bots')
        .set({ updated_at: this.now() })
        .where('id', '=', this.bind(botId))
        .execute();
    });
  }

  async setSettings(botId: string, settings: Partial<BotSettings>): Promise<void> {
    const values: Partial<Record<keyof BotsTable, unknown>> = { updated_at: this.now() };
    if (settings.delayBetweenPosts !== undefined) values.delay_between_posts = settings.delayBetweenPosts;
    if (settings.delayBetweenCycles !== undefined) values.delay_between_cycles = settings.delayBetweenCycles;
    if (settings.minGroupGapSeconds !== undefined) values.min_group_gap_seconds = settings.minGroupGapSeconds;
    if (settings.silent !== undefined) values.silent = settings.silent ? 1 : 0;
    if (settings.hideSender !== undefined) values.hide_sender = settings.hideSender ? 1 : 0;
    await this.db
      .updateTable('bots')
      .set(values as never)
      .where('id', '=', this.bind(botId))
      .execute();
  }

  /**
   * Sets the bot running with this mode. Only a stopped bot changes: starting a running bot is a no-op (false).
   * A fresh start drops the old starter anchor, and a cycle left `running` by a crash while stopped is closed.
   */
  async start(botId: string, mode: ExecutionMode, totalCycleMinutes: number | null): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('bots')
        .set({
          desired_state: 'running',
          execution_mode: mode,
          total_cycle_minutes: totalCycleMinutes,
          anchor_at: null,
          anchor_cycle_seconds: null,
          needs_attention: 0,
          last_error: null,
          updated_at: this.now(),
        })
        .where('id', '=', this.bind(botId))
        .where('desired_state', '!=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await this.closeStaleCycles(trx, botId);
      return true;
    });
  }

  /**
   * Sets the bot stopped. The process that runs it cancels the rest of its cycle. With workers (PostgreSQL), a
   * bot nobody holds a live lease on has no such process: its cycle is closed here, in the same transaction that
   * stops it (no worker can claim a stopped bot, and one that lost its lease can no longer mark a post `sending`).
   */
  async stop(botId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('bots')
        .set({ desired_state: 'stopped', updated_at: this.now() })
        .where('id', '=', this.bind(botId))
        .where('desired_state', '=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      if (this.dialect === 'postgres') {
        const live = await sql<{ n: string }>`
          select count(*) as n from leases
          where bot_id = ${botId} and owner_id is not null and expires_at > ${dbNowMs(this.dialect)}`.execute(
          trx,
        );
        if (num(live.rows[0]!.n) === 0) await this.closeStaleCycles(trx, botId);
      }
      return true;
    });
  }

  private closeStaleCycles(trx: Kysely<Schema>, botId: string): Promise<void> {
    return closeStaleCycles(trx, this.bind(botId), this.now());
  }

  async latestCycle(botId: string): Promise<CycleRecord | null> {
    const row = await this.db
      .selectFrom('cycles')
      .selectAll()
      .where('bot_id', '=', this.bind(botId))
      .where('status', '!=', 'skipped')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? cycleFromRow(row) : null;
  }

  /** The last read of the source post (the latest cycle planned with one): for the preview's "album of N". */
  async lastSourceRead(botId: string): Promise<SourcePost | null> {
    const row = await this.db
      .selectFrom('cycles')
      .select(['source_link', 'source_message_ids'])
      .where('bot_id', '=', this.bind(botId))
      .where('source_link', 'is not', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row || row.source_link === null) return null;
    return { link: row.source_link, messageIds: json<number[]>(row.source_message_ids, []) };
  }

  async cyclePostCounts(cycleId: string): Promise<Partial<Record<PostStatus, number>>> {
    const rows = await this.db
      .selectFrom('posts')
      .select(['status', (eb) => eb.fn.countAll().as('n')])
      .where('cycle_id', '=', this.bind(cycleId))
      .groupBy('status')
      .execute();
    const out: Partial<Record<PostStatus, number>> = {};
    for (const r of rows) out[r.status as PostStatus] = num(r.n);
    return out;
  }

  /** The bot's cycle with this number (skipped ones included), or null. */
  async cycleByNumber(botId: string, number: number): Promise<CycleRecord | null> {
    const row = await this.db
      .selectFrom('cycles')
      .selectAll()
      .where('bot_id', '=', this.bind(botId))
      .where('number', '=', number)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? cycleFromRow(row) : null;
  }

  /** What a cycle's posts became, counted per (status, reason): the status's conditions (core/condition.ts). */
  async cycleOutcomes(
    cycleId: string,
  ): Promise<{ status: PostStatus; reason: string | null; count: number }[]> {
    const rows = await this.db
      .selectFrom('posts')
      .select(['status', 'reason', (eb) => eb.fn.countAll().as('n')])
      .where('cycle_id', '=', this.bind(cycleId))
      .groupBy(['status', 'reason'])
      .execute();
    return rows.map((r) => ({ status: r.status as PostStatus, reason: r.reason, count: num(r.n) }));
  }

  /**
   * The cycle's latest post that ended with an error or a reason other than a stop (failed, or skipped for a cause),
   * by planned time: the status's "last error" while the bot's own message is empty.
   */
  async latestPostProblem(cycleId: string): Promise<PostRecord | null> {
    const row = await this.db
      .selectFrom('posts')
      .selectAll()
      .where('cycle_id', '=', this.bind(cycleId))
      .where('status', 'in', ['failed', 'skipped', 'missed', 'not_attempted'])
      .orderBy('planned_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? postFromRow(row) : null;
  }

  /** A cycle's posts in plan order; at most `limit` of them when given (a cycle may hold 100,000). */
  async cyclePosts(cycleId: string, limit?: number): Promise<PostRecord[]> {
    let query = this.db
      .selectFrom('posts')
      .selectAll()
      .where('cycle_id', '=', this.bind(cycleId))
      .orderBy('seq');
    if (limit !== undefined) query = query.limit(limit);
    return (await query.execute()).map(postFromRow);
  }

  /**
   * Post history, paged by an opaque cursor (the last id seen). `all` (the default): every post, newest first.
   * `done`: what happened, latest first (see `happenedAt`). `planned`: what is still to come, soonest first.
   */
  async posts(
    botId: string,
    filter: {
      cycle?: number | undefined;
      status?: PostStatus | undefined;
      view?: PostView | undefined;
      limit: number;
      cursor?: string | undefined;
    },
  ): Promise<PostPage> {
    const view = filter.view ?? 'all';
    const statuses = postStatusesOf(view).filter((s) => filter.status === undefined || s === filter.status);
    if (statuses.length === 0) return { posts: [], nextCursor: null };
    if (view === 'done') return this.donePosts(botId, { ...filter, statuses });
    let query = this.db
      .selectFrom('posts')
      .innerJoin('cycles', 'cycles.id', 'posts.cycle_id')
      .selectAll('posts')
      .select('cycles.number as cycle_number')
      .select(happenedAt.as('happened_at'))
      .where('posts.bot_id', '=', this.bind(botId));
    if (statuses.length < POST_STATUSES.length) query = query.where('posts.status', 'in', statuses);
    if (filter.cycle !== undefined) query = query.where('cycles.number', '=', filter.cycle);
    if (view === 'planned') {
      // Only an unfinished cycle has posts still to come: finished cycles need not be read at all.
      query = query.where('cycles.bot_id', '=', this.bind(botId)).where('cycles.finished_at', 'is', null);
      if (filter.cursor !== undefined) {
        const at = await this.db
          .selectFrom('posts')
          .select('planned_at')
          .where('id', '=', this.bind(filter.cursor))
          .where('bot_id', '=', this.bind(botId))
          .executeTakeFirst();
        if (!at) return { posts: [], nextCursor: null };
        const cursor = this.bind(filter.cursor);
        query = query.where((eb) =>
          eb.or([
            eb('posts.planned_at', '>', at.planned_at),
            eb.and([eb('posts.planned_at', '=', at.planned_at), eb('posts.id', '>', cursor)]),
          ]),
        );
      }
      query = query.orderBy('posts.planned_at', 'asc').orderBy('posts.id', 'asc');
    } else {
      if (filter.cursor !== undefined) query = query.where('posts.id', '<', this.bind(filter.cursor));
      query = query.orderBy('posts.id', 'desc');
    }
    return this.page(await query.limit(filter.limit + 1).execute(), filter.limit);
  }

  /**
   * What happened, latest first. Cycles never overlap (the next starts once the previous has finished), so the
   * history is the cycles newest first, each one's posts latest first: a page reads the cycles it needs one at a
   * time (sorting one cycle's posts, never the whole history).
   */
  private async donePosts(
    botId: string,
    filter: {
      cycle?: number | undefined;
      statuses: PostStatus[];
      limit: number;
      cursor?: string | undefined;
    },
  ): Promise<PostPage> {
    const bot = this.bind(botId);
    let after: { cycleId: DbInt; at: DbInt; id: DbInt } | null = null;
    if (filter.cursor !== undefined) {
      const row = await this.db
        .selectFrom('posts')
        .innerJoin('cycles', 'cycles.id', 'posts.cycle_id')
        .select(['posts.cycle_id', 'posts.id', happenedAt.as('happened_at')])
        .where('posts.id', '=', this.bind(filter.cursor))
        .where('posts.bot_id', '=', bot)
        .executeTakeFirst();
      // A cursor the bot does not have (pruned since, or never its own) has nothing after it.
      if (!row) return { posts: [], nextCursor: null };
      after = { cycleId: row.cycle_id, at: row.happened_at as DbInt, id: row.id };
    }
    const rows: Awaited<ReturnType<typeof this.cyclePage>> = [];
    let before: DbInt | null = null;
    while (rows.length <= filter.limit) {
      let cycles = this.db
        .selectFrom('cycles')
        .select('cycles.id')
        .where('cycles.bot_id', '=', bot)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('posts')
              .select(sql`1`.as('one'))
              .whereRef('posts.cycle_id', '=', 'cycles.id')
              .where('posts.status', 'in', filter.statuses),
          ),
        );
      if (filter.cycle !== undefined) cycles = cycles.where('cycles.number', '=', filter.cycle);
      if (before !== null) cycles = cycles.where('cycles.id', '<', before);
      else if (after) cycles = cycles.where('cycles.id', '<=', after.cycleId);
      const cycle = await cycles.orderBy('cycles.id', 'desc').limit(1).executeTakeFirst();
      if (!cycle) break;
      const from = after && before === null && String(cycle.id) === String(after.cycleId) ? after : null;
      rows.push(...(await this.cyclePage(cycle.id, filter.statuses, from, filter.limit + 1 - rows.length)));
      before = cycle.id;
    }
    return this.page(rows, filter.limit);
  }

  /** One cycle's finished posts, latest first, after `from` (a position in this cycle) when given. */
  private cyclePage(
    cycleId: DbInt,
    statuses: PostStatus[],
    from: { at: DbInt; id: DbInt } | null,
    limit: number,
  ) {
    let query = this.db
      .selectFrom('posts')
      .innerJoin('cycles', 'cycles.id', 'posts.cycle_id')
      .selectAll('posts')
      .select('cycles.number as cycle_number')
      .select(happenedAt.as('happened_at'))
      .where('posts.cycle_id', '=', cycleId)
      .where('posts.status', 'in', statuses);
    if (from) {
      query = query.where((eb) =>
        eb.or([
          eb(happenedAt, '<', from.at),
          eb.and([eb(happenedAt, '=', from.at), eb('posts.id', '<', from.id)]),
        ]),
      );
    }
    return query.orderBy(happenedAt, 'desc').orderBy('posts.id', 'desc').limit(limit).execute();
  }

  private page(
    rows: (Selectable<Schema['posts']> & { cycle_number: unknown; happened_at: unknown })[],
    limit: number,
  ): PostPage {
    const page = rows.slice(0, limit).map((r) => ({
      ...postFromRow(r),
      cycleNumber: num(r.cycle_number),
      happenedAt: FINAL_POST_STATUSES.has(r.status as PostStatus) ? num(r.happened_at) : null,
    }));
    return { posts: page, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
  }

  /** Retention: drops posts older than `olderThan` (by planned time) of finished cycles; counters stay. */
  async prunePosts(olderThan: number): Promise<number> {
    const result = await this.db
      .deleteFrom('posts')
      .where('planned_at', '<', olderThan)
      .where('status', 'not in', ['planned', 'sending'])
      .executeTakeFirst();
    await this.db
      .deleteFrom('cycles')
      .where('finished_at', '<', olderThan)
      .where('status', '!=', 'running')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('posts')
              .select(sql`1`.as('one'))
              .whereRef('posts.cycle_id', '=', 'cycles.id'),
          ),
        ),
      )
      // Each bot's latest cycle stays: it carries the numbering and the starter anchor's slot.
      .where('id', 'not in', (eb) =>
        eb
          .selectFrom('cycles as c')
          .select((e) => e.fn.max('c.id').as('id'))
          .groupBy('c.bot_id'),
      )
      .execute();
    return Number(result.numDeletedRows);
  }
}

/**
 * Closes a stopped bot's cycles left `running` with nobody to finish them (a crash, a stop while no worker held
 * the bot, a stop that raced a hand-over): planned posts are cancelled, `sending` ones failed as of unknown
 * delivery (never retried after a stop). The caller holds the bot's row or has just written it, in `trx`.
 */
export async function closeStaleCycles(trx: Kysely<Schema>, botId: DbInt, finishedAt: number): Promise<void> {
  const stale = await trx
    .selectFrom('cycles')
    .select('id')
    .where('bot_id', '=', botId)
    .where('status', '=', 'running')
    .execute();
  for (const { id } of stale) {
    await trx
      .updateTable('posts')
      .set({ status: 'cancelled', reason: 'stopped' })
      .where('cycle_id', '=', id)
      .where('status', '=', 'planned')
      .execute();
    // A post left `sending` by a crash may or may not have arrived; it is not retried after a stop.
    await trx
      .updateTable('posts')
      .set({ status: 'failed', reason: 'stopped', error: 'DELIVERY_UNKNOWN' })
      .where('cycle_id', '=', id)
      .where('status', '=', 'sending')
      .execute();
    await trx
      .updateTable('cycles')
      .set({ status: 'stopped', reason: 'stopped by the customer', finished_at: finishedAt })
      .where('id', '=', id)
      .execute();
  }
}
