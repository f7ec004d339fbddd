/** Users (customers and operators) and their API tokens. Tokens are shown once and stored as SHA-256 hashes. */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { isRecordId } from '../core/limits.js';
import { int64, num, numOrNull } from './codec.js';
import type { Dialect } from './database.js';
import { SqlRepository } from './repository.js';
import type { ApiTokensTable, Schema, UsersTable } from './schema.js';

export type Role = 'admin' | 'user';
export type PlanType = 'STARTER' | 'ENTERPRISE';
export type PlanStatus = 'active' | 'inactive' | 'expired' | 'suspended';
export const ROLES: readonly Role[] = ['admin', 'user'];
export const PLAN_TYPES: readonly PlanType[] = ['STARTER', 'ENTERPRISE'];
export const PLAN_STATUSES: readonly PlanStatus[] = ['active', 'inactive', 'expired', 'suspended'];

export interface User {
  id: string;
  name: string;
  role: Role;
  planType: PlanType | null;
  planStatus: PlanStatus;
  maxSessions: number;
  externalId: string | null;
  createdAt: number;
}

export interface NewUser {
  name: string;
  role?: Role;
  planType?: PlanType | null;
  planStatus?: PlanStatus;
  maxSessions?: number;
  externalId?: string | null;
}

export type UserPatch = Partial<Pick<User, 'name' | 'role' | 'planType' | 'planStatus' | 'maxSessions'>>;

function userFromRow(row: Selectable<UsersTable>): User {
  return {
    id: int64(row.id),
    name: row.name,
    role: row.role as Role,
    planType: row.plan_type as PlanType | null,
    planStatus: row.plan_status as PlanStatus,
    maxSessions: num(row.max_sessions),
    externalId: row.external_id,
    createdAt: num(row.created_at),
  };
}

export interface ApiTokenInfo {
  id: string;
  userId: string;
  label: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

function tokenFromRow(
  row: Pick<
    Selectable<ApiTokensTable>,
    'id' | 'user_id' | 'label' | 'created_at' | 'last_used_at' | 'revoked_at'
  >,
): ApiTokenInfo {
  return {
    id: int64(row.id),
    userId: int64(row.user_id),
    label: row.label,
    createdAt: num(row.created_at),
    lastUsedAt: numOrNull(row.last_used_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 32 random bytes: guessing is hopeless, so a fast hash at rest is enough (no password stretching needed). */
export function newToken(): string {
  return `stg_${randomBytes(32).toString('base64url')}`;
}

export class UserRepository extends SqlRepository {
  constructor(
    db: Kysely<Schema>,
    dialect: Dialect,
    private readonly now: () => number,
  ) {
    super(db, dialect);
  }

  async create(user: NewUser): Promise<User> {
    const row = await this.db
      .insertInto('users')
      .values({
        name: user.name,
        role: user.role ?? 'user',
        plan_type: user.planType ?? null,
        plan_status: user.planStatus ?? 'active',
        max_sessions: user.maxSessions ?? 0,
        external_id: user.externalId ?? null,
        created_at: this.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return userFromRow(row);
  }

  async get(id: string): Promise<User | null> {
    if (!isRecordId(id)) return null;
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    return row ? userFromRow(row) : null;
  }

  async findByExternalId(externalId: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row ? userFromRow(row) : null;
  }

  async list(): Promise<User[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('id').execute()).map(userFromRow);
  }

  async update(id: string, patch: UserPatch): Promise<User | null> {
    const values: Partial<Record<keyof UsersTable, unknown>> = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.planType !== undefined) values.plan_type = patch.planType;
    if (patch.planStatus !== undefined) values.plan_status = patch.planStatus;
    if (patch.maxSessions !== undefined) values.max_sessions = patch.maxSessions;
    if (Object.keys(values).length > 0) {
      await this.db
        .updateTable('users')
        .set(values as never)
        .where('id', '=', this.bind(id))
        .execute();
    }
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', this.bind(id)).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async issueToken(userId: string, label: string | null = null): Promise<{ id: string; token: string }> {
    const token = newToken();
    const row = await this.db
      .insertInto('api_tokens')
      .values({ user_id: this.bind(userId), token_hash: hashToken(token), label, created_at: this.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: int64(row.id), token };
  }

  /** The user a token belongs to, or null (unknown, revoked, or its user deleted). */
  async authenticate(token: string): Promise<User | null> {
    return (await this.authenticateToken(token))?.user ?? null;
  }

  /** The token's user and the token's id (to revoke the very token a request came with). */
  async authenticateToken(token: string): Promise<{ user: User; tokenId: string } | null> {
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .selectAll('users')
      .select('api_tokens.id as token_id')
      .where('api_tokens.token_hash', '=', hashToken(token))
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? { user: userFromRow(row), tokenId: int64(row.token_id) } : null;
  }

  /** A user's tokens, newest first: ids and dates only (a token is shown once, when it is issued). */
  async listTokens(userId: string): Promise<ApiTokenInfo[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'user_id', 'label', 'created_at', 'last_used_at', 'revoked_at'])
      .where('user_id', '=', this.bind(userId))
      .orderBy('id', 'desc')
      .execute();
    return rows.map(tokenFromRow);
  }

  async getToken(id: string): Promise<ApiTokenInfo | null> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'user_id', 'label', 'created_at', 'last_used_at', 'revoked_at'])
      .where('id', '=', this.bind(id))
      .executeTakeFirst();
    return row ? tokenFromRow(row) : null;
  }

  /** Revokes one token (a revoked token stays revoked: its first revocation time is kept). */
  async revokeToken(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: this.now() })
      .where('id', '=', this.bind(id))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Revokes every live token of a user; the number revoked. */
  async revokeUserTokens(userId: string): Promise<number> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: this.now() })
      .where('user_id', '=', this.bind(userId))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async tokenHashes(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select('token_hash')
      .where('user_id', '=', this.bind(userId))
      .execute();
    return rows.map((r) => r.token_hash);
  }
}
