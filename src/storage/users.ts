/** Users (customers and operators) and their API tokens. Tokens are shown once and stored as SHA-256 hashes. */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { int64, num } from './codec.js';
import type { Dialect } from './database.js';
import { SqlRepository } from './repository.js';
import type { Schema, UsersTable } from './schema.js';

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
    if (!/^\d{1,19}$/.test(id)) return null;
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
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .selectAll('users')
      .where('api_tokens.token_hash', '=', hashToken(token))
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? userFromRow(row) : null;
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
