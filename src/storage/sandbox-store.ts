/**
 * The sandbox's state in the project database, so that several processes (workers on PostgreSQL) share one
 * simulated Telegram — its dedup of random_ids and its delivery records included.
 */
import { sql, type Kysely } from 'kysely';
import type {
  FloodDecision,
  FloodPolicy,
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
import { refillBucket } from '../telegram/sandbox/sandbox-store.js';
import { bool, int64, json, num, numOrNull } from './codec.js';
import type { Dialect } from './database.js';
import { SqlRepository } from './repository.js';
import type { Schema } from './schema.js';

export class SqlSandboxStore extends SqlRepository implements SandboxStore {
  constructor(db: Kysely<Schema>, dialect: Dialect) {
    super(db, dialect);
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
    if (!row) return null;
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

  async insertDelivery(delivery: Omit<SandboxDelivery, 'id'>): Promise<SandboxInsert> {
    const result = await this.db
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
