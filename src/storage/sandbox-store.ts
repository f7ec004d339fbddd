/**
 * The sandbox's state in the project database, so that several processes (workers on PostgreSQL) share one
 * simulated Telegram — its dedup of random_ids and its delivery records included.
 *
 * A forward is one read and one write (`readForward`, `writeForward`). On PostgreSQL the forwards of one instant
 * share them: one statement reads what all of them meet, one writes what all of them change (tick-batch.ts) —
 * two round trips for a batch of posts instead of a dozen a post. The write is optimistic: it applies only where the
 * world is as read (a fault's use not taken, an account's flood bucket unmoved), atomically per account, and a
 * forward whose write did not apply reads again.
 */
import { sql, type Kysely } from 'kysely';
import type {
  FloodDecision,
  FloodPolicy,
  ForwardQuery,
  ForwardView,
  ForwardWrite,
  SandboxAccount,
  SandboxAccountStatus,
  SandboxDelivery,
  SandboxFault,
  SandboxGroup,
  SandboxInsert,
  SandboxMethod,
  SandboxSourceState,
  SandboxStore,
} from '../telegram/sandbox/sandbox-store.js';
import { refillBucket, sourceViewKey } from '../telegram/sandbox/sandbox-store.js';
import { bool, int64, json, num, numOrNull } from './codec.js';
import type { Dialect } from './database.js';
import { SqlRepository } from './repository.js';
import type { Schema } from './schema.js';
import { valuesTable } from './sql-helpers.js';
import { TickBatch } from './tick-batch.js';

interface GroupRow {
  key: string;
  is_channel: unknown;
  members: string | null;
  read_only: string;
  banned: string;
  slowmode_seconds: unknown;
  paid_stars: unknown;
  closed_topics: string;
}

function groupFromRow(row: GroupRow): SandboxGroup {
  return {
    key: row.key,
    isChannel: bool(row.is_channel),
    members: json<string[] | null>(row.members, null),
    readOnly: json<string[]>(row.read_only, []),
    banned: json<string[]>(row.banned, []),
    slowmodeSeconds: num(row.slowmode_seconds),
    paidStars: num(row.paid_stars),
    closedTopics: json<number[]>(row.closed_topics, []),
  };
}

export class SqlSandboxStore extends SqlRepository implements SandboxStore {
  /** PostgreSQL: the forwards of one instant share one read and one write (null on SQLite: no round trips). */
  private readonly reads: TickBatch<ForwardQuery, ForwardView> | null;
  private readonly writes: TickBatch<ForwardWrite, SandboxInsert[] | null> | null;

  constructor(db: Kysely<Schema>, dialect: Dialect) {
    super(db, dialect);
    this.reads = dialect === 'postgres' ? new TickBatch((q) => this.readForwards(q)) : null;
    this.writes =
      dialect === 'postgres' ? new TickBatch((w) => this.writeForwards(w), oneWritePerAccount) : null;
  }

  async getAccount(id: string): Promise<SandboxAccount | null> {
    const row = await this.db
      .selectFrom('sandbox_accounts')
      .select(['id', 'status'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { id: row.id, status: row.status as SandboxAccountStatus } : null;
  }

  async putAccount(account: SandboxAccount): Promise<void> {
    await this.db
      .insertInto('sandbox_accounts')
      .values({ id: account.id, status: account.status })
      .onConflict((oc) => oc.column('id').doUpdateSet({ status: account.status }))
      .execute();
  }

  async getGroup(key: string): Promise<SandboxGroup | null> {
    const row = await this.db
      .selectFrom('sandbox_groups')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? groupFromRow(row) : null;
  }

  async putGroup(group: SandboxGroup): Promise<void> {
    const values = {
      is_channel: group.isChannel ? 1 : 0,
      members: group.members === null ? null : JSON.stringify(group.members),
      read_only: JSON.stringify(group.readOnly),
      banned: JSON.stringify(group.banned),
      slowmode_seconds: group.slowmodeSeconds,
      paid_stars: group.paidStars ?? 0,
      closed_topics: JSON.stringify(group.closedTopics ?? []),
    };
    await this.db
      .insertInto('sandbox_groups')
      .values({ key: group.key, ...values })
      .onConflict((oc) => oc.column('key').doUpdateSet(values))
      .execute();
  }

  async getSourceState(link: string): Promise<SandboxSourceState | null> {
    const row = await this.db
      .selectFrom('sandbox_sources')
      .select('state')
      .where('link', '=', link)
      .executeTakeFirst();
    return row ? (row.state as SandboxSourceState) : null;
  }

  async putSourceState(link: string, state: SandboxSourceState): Promise<void> {
    await this.db
      .insertInto('sandbox_sources')
      .values({ link, state })
      .onConflict((oc) => oc.column('link').doUpdateSet({ state }))
      .execute();
  }

  async getSourceAlbum(link: string): Promise<number[] | null> {
    const row = await this.db
      .selectFrom('sandbox_sources')
      .select('message_ids')
      .where('link', '=', link)
      .executeTakeFirst();
    return json<number[] | null>(row?.message_ids, null);
  }

  async putSourceAlbum(link: string, messageIds: readonly number[]): Promise<void> {
    const ids = JSON.stringify(messageIds);
    await this.db
      .insertInto('sandbox_sources')
      .values({ link, state: 'ok', message_ids: ids })
      .onConflict((oc) => oc.column('link').doUpdateSet({ message_ids: ids }))
      .execute();
  }

  async addFault(fault: SandboxFault): Promise<void> {
    await this.db
      .insertInto('sandbox_faults')
      .values({
        account_id: fault.accountId,
        group_key: fault.groupKey,
        method: fault.method,
        from_at: fault.fromAt,
        error: fault.error,
        remaining: fault.remaining,
      })
      .execute();
  }

  async takeFault(
    accountId: string,
    groupKey: string | null,
    method: SandboxMethod,
    now: number,
  ): Promise<string | null> {
    // Consume one use atomically: a fault for "the next call" is taken by exactly one call, across processes.
    const rows = await sql<{ error: string }>`
      update sandbox_faults set remaining = case when remaining > 0 then remaining - 1 else remaining end
      where id = (
        select id from sandbox_faults
        where remaining <> 0 and from_at <= ${now}
          and (account_id is null or account_id = ${accountId})
          and (group_key is null or group_key = ${groupKey})
          and (method is null or method = ${method})
        order by id limit 1
      ) and remaining <> 0
      returning error`.execute(this.db);
    return rows.rows[0]?.error ?? null;
  }

  async takeFloodToken(accountId: string, now: number, policy: FloodPolicy): Promise<FloodDecision> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sandbox_accounts')
        .values({ id: accountId, status: 'ok', flood_tokens: policy.burst, flood_updated_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      let query = trx
        .selectFrom('sandbox_accounts')
        .select(['flood_tokens', 'flood_updated_at'])
        .where('id', '=', accountId);
      if (this.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirstOrThrow();
      const { tokens, decision } = refillBucket(
        row.flood_tokens ?? policy.burst,
        numOrNull(row.flood_updated_at) ?? now,
        now,
        policy,
      );
      await trx
        .updateTable('sandbox_accounts')
        .set({ flood_tokens: tokens, flood_updated_at: now })
        .where('id', '=', accountId)
        .execute();
      return decision;
    });
  }

  async lastDeliveryAt(accountId: string, groupKey: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('sandbox_deliveries')
      .select((eb) => eb.fn.max('at').as('last'))
      .where('account_id', '=', accountId)
      .where('group_key', '=', groupKey)
      .executeTakeFirst();
    return numOrNull(row?.last);
  }

  insertDelivery(delivery: Omit<SandboxDelivery, 'id'>): Promise<SandboxInsert> {
    return this.insertDeliveryOn(this.db, delivery);
  }

  private async insertDeliveryOn(
    db: Kysely<Schema>,
    delivery: Omit<SandboxDelivery, 'id'>,
  ): Promise<SandboxInsert> {
    const result = await db
      .insertInto('sandbox_deliveries')
      .values({
        account_id: delivery.accountId,
        group_key: delivery.groupKey,
        random_id: this.bind(delivery.randomId),
        source_link: delivery.sourceLink,
        at: delivery.at,
        trace: JSON.stringify(delivery.trace),
      })
      .onConflict((oc) => oc.columns(['account_id', 'random_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return result ? { status: 'inserted', id: num(result.id) } : { status: 'duplicate' };
  }

  readForward(query: ForwardQuery): Promise<ForwardView> {
    return this.reads ? this.reads.submit(query) : this.readOneForward(query);
  }

  writeForward(write: ForwardWrite): Promise<SandboxInsert[] | null> {
    return this.writes ? this.writes.submit(write) : this.writeOneForward(write);
  }

  /** SQLite: the read as a few queries in this process. */
  private async readOneForward(q: ForwardQuery): Promise<ForwardView> {
    const fault = await this.db
      .selectFrom('sandbox_faults')
      .select(['id', 'error'])
      .where('remaining', '<>', 0)
      .where('from_at', '<=', q.now)
      .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', q.accountId)]))
      .where((eb) => eb.or([eb('group_key', 'is', null), eb('group_key', '=', q.groupKey)]))
      .where((eb) => eb.or([eb('method', 'is', null), eb('method', '=', 'forward')]))
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    const account = await this.db
      .selectFrom('sandbox_accounts')
      .select(['status', 'flood_tokens', 'flood_updated_at'])
      .where('id', '=', q.accountId)
      .executeTakeFirst();
    const sourceState =
      (await this.getSourceState(sourceViewKey(q.sourceLink, q.accountId))) ??
      (await this.getSourceState(q.sourceLink));
    const group = (await this.getGroup(q.groupKey)) ?? (await this.getGroup(q.baseKey));
    return {
      fault: fault ? { id: num(fault.id), error: fault.error } : null,
      status: (account?.status as SandboxAccountStatus | undefined) ?? null,
      bucket: account
        ? { tokens: numOrNull(account.flood_tokens), updatedAt: numOrNull(account.flood_updated_at) }
        : null,
      sourceState,
      group,
      lastDeliveryAt:
        group && group.slowmodeSeconds > 0 ? await this.lastDeliveryAt(q.accountId, q.groupKey) : null,
    };
  }

  /** SQLite: the write in one transaction. */
  private async writeOneForward(w: ForwardWrite): Promise<SandboxInsert[] | null> {
    if (w.kind === 'fault') return (await this.takeFaultUse(w.faultId)) ? [] : null;
    return this.db.transaction().execute(async (trx) => {
      const moved =
        w.read === null
          ? await trx
              .insertInto('sandbox_accounts')
              .values({
                id: w.accountId,
                status: 'ok',
                flood_tokens: w.bucket.tokens,
                flood_updated_at: w.bucket.updatedAt,
              })
              .onConflict((oc) => oc.column('id').doNothing())
              .executeTakeFirst()
          : await trx
              .updateTable('sandbox_accounts')
              .set({ flood_tokens: w.bucket.tokens, flood_updated_at: w.bucket.updatedAt })
              .where('id', '=', w.accountId)
              .where(sql<boolean>`flood_tokens is ${w.read.tokens}`)
              .where(sql<boolean>`flood_updated_at is ${w.read.updatedAt}`)
              .executeTakeFirst();
      const changed =
        'numInsertedOrUpdatedRows' in moved ? moved.numInsertedOrUpdatedRows : moved.numUpdatedRows;
      if (Number(changed ?? 0) !== 1) return null;
      const results: SandboxInsert[] = [];
      for (const d of w.deliveries) results.push(await this.insertDeliveryOn(trx, d));
      return results;
    });
  }

  /** One use of a fault, if it still has one. */
  private async takeFaultUse(id: number): Promise<boolean> {
    const rows = await sql<{ id: unknown }>`
      update sandbox_faults set remaining = case when remaining > 0 then remaining - 1 else remaining end
      where id = ${id} and remaining <> 0 returning id`.execute(this.db);
    return rows.rows.length === 1;
  }

  /** PostgreSQL: the reads of a batch of forwards in one statement. */
  private async readForwards(queries: readonly ForwardQuery[]): Promise<ForwardView[]> {
    const v = valuesTable(
      'postgres',
      [
        { name: 'i', type: 'integer' },
        { name: 'account_id', type: 'text' },
        { name: 'group_key', type: 'text' },
        { name: 'base_key', type: 'text' },
        { name: 'source_link', type: 'text' },
        { name: 'view_link', type: 'text' },
        { name: 'now', type: 'bigint' },
      ],
      queries.map((q, i) => [
        i,
        q.accountId,
        q.groupKey,
        q.baseKey,
        q.sourceLink,
        sourceViewKey(q.sourceLink, q.accountId),
        q.now,
      ]),
    );
    const rows = await sql<
      GroupRow & {
        i: number;
        fault_id: unknown;
        fault_error: string | null;
        known: boolean;
        status: string | null;
        flood_tokens: unknown;
        flood_updated_at: unknown;
        source_state: string | null;
        last_at: unknown;
      }
    >`
      select v.i, f.id as fault_id, f.error as fault_error,
        a.id is not null as known, a.status, a.flood_tokens, a.flood_updated_at,
        coalesce(own.state, src.state) as source_state,
        g.key, g.is_channel, g.members, g.read_only, g.banned, g.slowmode_seconds, g.paid_stars, g.closed_topics,
        case when g.slowmode_seconds > 0 then (select max(d.at) from sandbox_deliveries d
          where d.account_id = v.account_id and d.group_key = v.group_key) end as last_at
      from ${v}
      left join lateral (
        select id, error from sandbox_faults f
        where f.remaining <> 0 and f.from_at <= v.now
          and (f.account_id is null or f.account_id = v.account_id)
          and (f.group_key is null or f.group_key = v.group_key)
          and (f.method is null or f.method = 'forward')
        order by f.id limit 1) f on true
      left join sandbox_accounts a on a.id = v.account_id
      left join sandbox_sources own on own.link = v.view_link
      left join sandbox_sources src on src.link = v.source_link
      left join lateral (
        select * from sandbox_groups g where g.key = v.group_key or g.key = v.base_key
        order by g.key = v.group_key desc limit 1) g on true`.execute(this.db);
    const views: ForwardView[] = [];
    for (const r of rows.rows) {
      views[num(r.i)] = {
        fault: r.fault_id === null ? null : { id: num(r.fault_id), error: r.fault_error! },
        status: (r.status as SandboxAccountStatus | null) ?? null,
        bucket: r.known
          ? { tokens: numOrNull(r.flood_tokens), updatedAt: numOrNull(r.flood_updated_at) }
          : null,
        sourceState: (r.source_state as SandboxSourceState | null) ?? null,
        group: r.key === null ? null : groupFromRow(r),
        lastDeliveryAt: numOrNull(r.last_at),
      };
    }
    return views;
  }

  /**
   * PostgreSQL: the writes of a batch of forwards (at most one per account and per fault: oneWritePerAccount) in
   * one statement. An account's bucket moves only if it is as read, and its deliveries are inserted only if it
   * moved: per account, all or nothing.
   */
  private async writeForwards(writes: readonly ForwardWrite[]): Promise<(SandboxInsert[] | null)[]> {
    const faults = writes.flatMap((w) => (w.kind === 'fault' ? [w.faultId] : []));
    const calls = writes.flatMap((w) => (w.kind === 'call' ? [w] : []));
    const known = calls.filter((c) => c.read !== null);
    const fresh = calls.filter((c) => c.read === null);
    const deliveries = calls.flatMap((c) => c.deliveries);
    const parts = [];
    const answers = [
      sql`select null::text as kind, null::text as id, null::text as account_id, null::text as random_id where false`,
    ];
    if (faults.length > 0) {
      const v = valuesTable(
        'postgres',
        [{ name: 'id', type: 'bigint' }],
        faults.map((id) => [id]),
      );
      parts.push(sql`f as (update sandbox_faults s
        set remaining = case when s.remaining > 0 then s.remaining - 1 else s.remaining end
        from ${v} where s.id = v.id and s.remaining <> 0 returning s.id)`);
      answers.push(sql`select 'fault', id::text, null, null from f`);
    }
    const moved = [];
    if (known.length > 0) {
      const v = valuesTable(
        'postgres',
        [
          { name: 'account_id', type: 'text' },
          { name: 'tokens', type: 'double precision' },
          { name: 'at', type: 'bigint' },
          { name: 'read_tokens', type: 'double precision' },
          { name: 'read_at', type: 'bigint' },
        ],
        known.map((c) => [
          c.accountId,
          c.bucket.tokens,
          c.bucket.updatedAt,
          c.read!.tokens,
          c.read!.updatedAt,
        ]),
      );
      parts.push(sql`bu as (update sandbox_accounts a set flood_tokens = v.tokens, flood_updated_at = v.at
        from ${v} where a.id = v.account_id and a.flood_tokens is not distinct from v.read_tokens
          and a.flood_updated_at is not distinct from v.read_at returning a.id)`);
      moved.push(sql`select id from bu`);
    }
    if (fresh.length > 0) {
      const v = valuesTable(
        'postgres',
        [
          { name: 'account_id', type: 'text' },
          { name: 'tokens', type: 'double precision' },
          { name: 'at', type: 'bigint' },
        ],
        fresh.map((c) => [c.accountId, c.bucket.tokens, c.bucket.updatedAt]),
      );
      parts.push(sql`bi as (insert into sandbox_accounts (id, status, flood_tokens, flood_updated_at)
        select account_id, 'ok', tokens, at from ${v} on conflict (id) do nothing returning id)`);
      moved.push(sql`select id from bi`);
    }
    if (moved.length > 0) {
      parts.push(sql`b as (${sql.join(moved, sql` union all `)})`);
      answers.push(sql`select 'bucket', null, id, null from b`);
    }
    if (deliveries.length > 0) {
      const v = valuesTable(
        'postgres',
        [
          { name: 'k', type: 'integer' },
          { name: 'account_id', type: 'text' },
          { name: 'group_key', type: 'text' },
          { name: 'random_id', type: 'bigint' },
          { name: 'source_link', type: 'text' },
          { name: 'at', type: 'bigint' },
          { name: 'trace', type: 'text' },
        ],
        deliveries.map((d, k) => [
          k,
          d.accountId,
          d.groupKey,
          d.randomId,
          d.sourceLink,
          d.at,
          JSON.stringify(d.trace),
        ]),
      );
      // In order: a delivery's id is the message's id in the group, increasing.
      parts.push(sql`d as (insert into sandbox_deliveries (account_id, group_key, random_id, source_link, at, trace)
        select account_id, group_key, random_id, source_link, at, trace from ${v}
        where v.account_id in (select id from b) order by v.k
        on conflict (account_id, random_id) do nothing returning id, account_id, random_id)`);
      answers.push(sql`select 'delivery', id::text, account_id, random_id::text from d`);
    }
    const rows = await sql<{
      kind: string;
      id: string | null;
      account_id: string | null;
      random_id: string | null;
    }>`
      with ${sql.join(parts)} ${sql.join(answers, sql` union all `)}`.execute(this.db);
    const faultsTaken = new Set<number>();
    const bucketsMoved = new Set<string>();
    const delivered = new Map<string, number>();
    for (const r of rows.rows) {
      if (r.kind === 'fault') faultsTaken.add(Number(r.id));
      else if (r.kind === 'bucket') bucketsMoved.add(r.account_id!);
      else delivered.set(`${r.account_id}\u0000${r.random_id}`, Number(r.id));
    }
    return writes.map((w) => {
      if (w.kind === 'fault') return faultsTaken.has(w.faultId) ? [] : null;
      if (!bucketsMoved.has(w.accountId)) return null;
      return w.deliveries.map((d): SandboxInsert => {
        const id = delivered.get(`${d.accountId}\u0000${d.randomId}`);
        return id === undefined ? { status: 'duplicate' } : { status: 'inserted', id };
      });
    });
  }

  async listDeliveries(): Promise<SandboxDelivery[]> {
    const rows = await this.db.selectFrom('sandbox_deliveries').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: num(r.id),
      accountId: r.account_id,
      groupKey: r.group_key,
      randomId: int64(r.random_id),
      sourceLink: r.source_link,
      at: num(r.at),
      trace: json<Record<string, string>>(r.trace, {}),
    }));
  }
}

/**
 * The writes that may share a statement: one per account (its bucket is compared and moved once) and one per fault
 * (a use is taken once); the others wait for the next statement — and then find the world moved, and read again.
 */
function oneWritePerAccount(writes: readonly ForwardWrite[]): number[] {
  const accounts = new Set<string>();
  const faults = new Set<number>();
  const chosen: number[] = [];
  writes.forEach((w, i) => {
    if (w.kind === 'fault') {
      if (faults.has(w.faultId)) return;
      faults.add(w.faultId);
    } else {
      if (accounts.has(w.accountId)) return;
      accounts.add(w.accountId);
    }
    chosen.push(i);
  });
  return chosen;
}
