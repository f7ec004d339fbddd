/**
 * Telegram sessions: a customer's own, or the operator's pool (owner null). The auth string and the API hash are
 * encrypted at rest and leave this module only through `credentials()`, for the gateway — never to the API.
 */
import type { Kysely, Selectable } from 'kysely';
import type { FreezeState } from '../core/freeze.js';
import { isRecordId } from '../core/limits.js';
import type { SessionDriver, SessionInfo, SessionStatus } from '../core/model.js';
import { int64, int64OrNull, numOrNull, num } from './codec.js';
import type { Dialect } from './database.js';
import { sessionFromRow } from './runtime-store.js';
import { SqlRepository } from './repository.js';
import type { Schema, TelegramSessionsTable } from './schema.js';
import type { SecretBox } from './secret-box.js';

/**
 * Who a session belongs to. `customer`: an account the customer logged in or imported — theirs alone, deleted
 * (secrets and all) when the customer is. `pool`: the operator's, lent to customers and returned to the pool.
 */
export type SessionOrigin = 'customer' | 'pool';

export interface SessionRecord extends SessionInfo {
  ownerUserId: string | null;
  origin: SessionOrigin;
  apiId: number | null;
  tgUserId: string | null;
  tgUsername: string | null;
  tgName: string | null;
  hasCredentials: boolean;
  createdAt: number;
}

export interface NewSession {
  ownerUserId: string | null;
  /** Default: `pool` without an owner, `customer` with one. */
  origin?: SessionOrigin;
  label: string;
  driver: SessionDriver;
  authString?: string | null;
  apiId?: number | null;
  apiHash?: string | null;
  tgUserId?: string | null;
  tgUsername?: string | null;
  tgName?: string | null;
}

/** The reasons a session is stored dead for when it was frozen: the runtime's, and Telegram's errors. */
const FROZEN_REASONS: ReadonlySet<string> = new Set([
  'frozen',
  'FROZEN_METHOD_INVALID',
  'FROZEN_PARTICIPANT_MISSING',
]);

export interface SessionCredentials {
  authString: string;
  apiId: number | null;
  apiHash: string | null;
}

function recordFromRow(row: Selectable<TelegramSessionsTable>): SessionRecord {
  return {
    ...sessionFromRow(row),
    ownerUserId: int64OrNull(row.owner_user_id),
    origin: row.origin === 'pool' ? 'pool' : 'customer',
    apiId: numOrNull(row.api_id),
    tgUserId: int64OrNull(row.tg_user_id),
    tgUsername: row.tg_username,
    tgName: row.tg_name,
    hasCredentials: row.auth_encrypted !== null,
    createdAt: num(row.created_at),
  };
}

export class SessionRepository extends SqlRepository {
  constructor(
    db: Kysely<Schema>,
    dialect: Dialect,
    private readonly secrets: SecretBox,
    private readonly now: () => number,
  ) {
    super(db, dialect);
  }

  async create(session: NewSession): Promise<SessionRecord> {
    const now = this.now();
    const row = await this.db
      .insertInto('telegram_sessions')
      .values({
        owner_user_id: session.ownerUserId === null ? null : this.bind(session.ownerUserId),
        origin: session.origin ?? (session.ownerUserId === null ? 'pool' : 'customer'),
        label: session.label,
        driver: session.driver,
        auth_encrypted: session.authString ? this.secrets.encrypt(session.authString) : null,
        api_id: session.apiId ?? null,
        api_hash_encrypted: session.apiHash ? this.secrets.encrypt(session.apiHash) : null,
        tg_user_id: session.tgUserId ? this.bind(session.tgUserId) : null,
        tg_username: session.tgUsername ?? null,
        tg_name: session.tgName ?? null,
        status: 'active',
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return recordFromRow(row);
  }

  async get(id: string): Promise<SessionRecord | null> {
    if (!isRecordId(id)) return null;
    const row = await this.db
      .selectFrom('telegram_sessions')
      .selectAll()
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    return row ? recordFromRow(row) : null;
  }

  async listByOwner(userId: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('telegram_sessions')
      .selectAll()
      .where('owner_user_id', '=', this.bind(userId))
      .orderBy('id')
      .execute();
    return rows.map(recordFromRow);
  }

  /** The operator's pool: pool sessions assigned to no customer. */
  async listPool(): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('telegram_sessions')
      .selectAll()
      .where('owner_user_id', 'is', null)
      .where('origin', '=', 'pool')
      .orderBy('id')
      .execute();
    return rows.map(recordFromRow);
  }

  async listAll(): Promise<SessionRecord[]> {
    return (await this.db.selectFrom('telegram_sessions').selectAll().orderBy('id').execute()).map(
      recordFromRow,
    );
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('telegram_sessions')
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Before a customer is deleted: their own sessions are deleted (the encrypted secrets with them) and pool
   * sessions lent to them go back to the pool. The ids of both, so that their clients can be released.
   */
  async releaseOwner(userId: string): Promise<{ deleted: string[]; returned: string[] }> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('telegram_sessions')
        .select(['id', 'origin'])
        .where('owner_user_id', '=', this.bind(userId))
        .execute();
      const own = rows.filter((r) => r.origin !== 'pool').map((r) => r.id);
      const lent = rows.filter((r) => r.origin === 'pool').map((r) => r.id);
      if (own.length > 0) await trx.deleteFrom('telegram_sessions').where('id', 'in', own).execute();
      if (lent.length > 0) {
        await trx
          .updateTable('telegram_sessions')
          .set({ owner_user_id: null, updated_at: this.now() })
          .where('id', 'in', lent)
          .execute();
      }
      return { deleted: own.map(int64), returned: lent.map(int64) };
    });
  }

  /** Lends a pool session to a customer, or (null) returns it to the pool. Customers' own sessions never move. */
  async assign(id: string, userId: string | null): Promise<void> {
    await this.db
      .updateTable('telegram_sessions')
      .set({ owner_user_id: userId === null ? null : this.bind(userId), updated_at: this.now() })
      .where('id', '=', this.bind(id))
      .where('origin', '=', 'pool')
      .execute();
  }

  /** Takes up to `count` usable pool sessions for a customer, atomically (two customers never get the same one). */
  async assignFromPool(userId: string, count: number): Promise<SessionRecord[]> {
    if (count <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom('telegram_sessions')
        .select('id')
        .where('owner_user_id', 'is', null)
        .where('origin', '=', 'pool')
        .where('status', '!=', 'dead')
        // A frozen account posts nothing: lending it would give the customer a session that cannot work.
        .where('frozen_since', 'is', null)
        .orderBy('id')
        .limit(count);
      if (this.dialect === 'postgres') query = query.forUpdate().skipLocked();
      const ids = (await query.execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      await trx
        .updateTable('telegram_sessions')
        .set({ owner_user_id: this.bind(userId), updated_at: this.now() })
        .where('id', 'in', ids)
        .execute();
      const rows = await trx
        .selectFrom('telegram_sessions')
        .selectAll()
        .where('id', 'in', ids)
        .orderBy('id')
        .execute();
      return rows.map(recordFromRow);
    });
  }

  async setStatus(id: string, status: SessionStatus, reason: string | null = null): Promise<void> {
    await this.db
      .updateTable('telegram_sessions')
      .set({ status, status_reason: reason, cooldown_until: null, updated_at: this.now() })
      .where('id', '=', this.bind(id))
      .execute();
  }

  /**
   * What Telegram last said of a freeze of the account (null: none). A lifted freeze also revives a session that
   * was retired for being frozen: the freeze was the only thing wrong with it. Writes only what changed.
   */
  async setFreeze(id: string, freeze: FreezeState | null): Promise<void> {
    if (!isRecordId(id)) return;
    const row = await this.db
      .selectFrom('telegram_sessions')
      .select(['frozen_since', 'frozen_until', 'freeze_appeal_url', 'status', 'status_reason'])
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    if (!row) return;
    const since = numOrNull(row.frozen_since);
    const until = numOrNull(row.frozen_until);
    const retiredFrozen = row.status === 'dead' && FROZEN_REASONS.has(row.status_reason ?? '');
    const same =
      freeze === null
        ? since === null
        : since === freeze.since && until === freeze.until && row.freeze_appeal_url === freeze.appealUrl;
    if (same && !(freeze === null && retiredFrozen)) return;
    await this.db
      .updateTable('telegram_sessions')
      .set({
        frozen_since: freeze?.since ?? null,
        frozen_until: freeze?.until ?? null,
        freeze_appeal_url: freeze?.appealUrl ?? null,
        ...(freeze === null && retiredFrozen
          ? { status: 'active', status_reason: null, cooldown_until: null }
          : {}),
        updated_at: this.now(),
      })
      .where('id', '=', this.bind(id))
      .execute();
  }

  async setAccount(
    id: string,
    account: { tgUserId: string | null; tgUsername: string | null; tgName: string | null },
  ) {
    await this.db
      .updateTable('telegram_sessions')
      .set({
        tg_user_id: account.tgUserId ? this.bind(account.tgUserId) : null,
        tg_username: account.tgUsername,
        tg_name: account.tgName,
        updated_at: this.now(),
      })
      .where('id', '=', this.bind(id))
      .execute();
  }

  async updateAuthString(id: string, authString: string): Promise<void> {
    await this.db
      .updateTable('telegram_sessions')
      .set({ auth_encrypted: this.secrets.encrypt(authString), updated_at: this.now() })
      .where('id', '=', this.bind(id))
      .execute();
  }

  /** Decrypted credentials, for the Telegram gateway only. */
  async credentials(id: string): Promise<SessionCredentials | null> {
    const row = await this.db
      .selectFrom('telegram_sessions')
      .select(['auth_encrypted', 'api_id', 'api_hash_encrypted'])
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    if (!row || row.auth_encrypted === null) return null;
    return {
      authString: this.secrets.decrypt(row.auth_encrypted),
      apiId: numOrNull(row.api_id),
      apiHash: row.api_hash_encrypted === null ? null : this.secrets.decrypt(row.api_hash_encrypted),
    };
  }

  /** Raw stored columns, for tests that prove secrets are encrypted at rest. */
  async rawSecretColumns(id: string): Promise<{ auth: string | null; apiHash: string | null }> {
    const row = await this.db
      .selectFrom('telegram_sessions')
      .select(['auth_encrypted', 'api_hash_encrypted'])
      .where('id', '=', this.bind(id))
      .executeTakeFirstOrThrow();
    return { auth: row.auth_encrypted, apiHash: row.api_hash_encrypted };
  }

  async peerCacheGet(sessionId: string, key: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('peer_cache')
      .select('value')
      .where('session_id', '=', this.bind(sessionId))
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value ?? null;
  }

  async peerCachePut(sessionId: string, key: string, value: string): Promise<void> {
    await this.db
      .insertInto('peer_cache')
      .values({ session_id: this.bind(sessionId), key, value })
      .onConflict((oc) => oc.columns(['session_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
}
