/**
 * Who is calling. `Authorization: Bearer <token>` on every API route but the public ones. Opaque API tokens
 * (stored as hashes) out of the box; optionally JWTs from an existing frontend (HS256 secret or a JWKS URL): the
 * user from `sub` or `user_id`, the role from `role`; unknown users created on first sight only with
 * AUTH_JWT_AUTOCREATE=1; plan claims honoured only with AUTH_TRUST_PLAN_CLAIMS=1. There is no default secret.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import {
  PLAN_STATUSES,
  PLAN_TYPES,
  type PlanStatus,
  type PlanType,
  type Role,
  type User,
  type UserRepository,
} from '../storage/users.js';
import { HttpError } from './errors.js';

export interface Caller {
  user: User;
  via: 'token' | 'jwt';
  /** A stable key for rate limits (never the token itself). */
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const unauthorized = (message: string) => new HttpError(401, 'UNAUTHORIZED', message);

export class Authenticator {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;

  constructor(
    private readonly users: UserRepository,
    private readonly config: Config['auth'],
  ) {
    this.secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : null;
    this.jwks = config.jwksUrl
      ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000 })
      : null;
  }

  get jwtEnabled(): boolean {
    return this.secret !== null || this.jwks !== null;
  }

  async authenticate(request: FastifyRequest): Promise<Caller> {
    const header = request.headers.authorization;
    if (!header) throw unauthorized('missing Authorization: Bearer <token>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    if (token.split('.').length === 3 && this.jwtEnabled) return this.fromJwt(token);
    const user = await this.users.authenticate(token);
    if (!user) throw unauthorized('unknown or revoked token');
    return { user, via: 'token', key: `user:${user.id}` };
  }

  private async fromJwt(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      payload = this.secret
        ? (await jwtVerify(token, this.secret, { algorithms: ['HS256'] })).payload
        : (await jwtVerify(token, this.jwks!)).payload;
    } catch (error) {
      throw unauthorized(`invalid token: ${(error as Error).message}`);
    }
    const subject =
      typeof payload.sub === 'string'
        ? payload.sub
        : typeof payload.user_id === 'string'
          ? payload.user_id
          : null;
    if (!subject) throw unauthorized('the token names no user (sub or user_id)');
    const role: Role = payload.role === 'admin' ? 'admin' : 'user';
    const plan = this.config.trustPlanClaims ? planClaims(payload) : {};
    let user = await this.users.findByExternalId(subject);
    if (!user) {
      if (!this.config.autocreate)
        throw unauthorized('unknown user (set AUTH_JWT_AUTOCREATE=1 to create users on first sight)');
      const name =
        typeof payload.name === 'string'
          ? payload.name
          : typeof payload.email === 'string'
            ? payload.email
            : subject;
      user = await this.users.create({
        name,
        role,
        externalId: subject,
        // Without trusted plan claims, a new user starts inactive until an operator gives it a plan.
        planStatus: plan.planStatus ?? 'inactive',
        planType: plan.planType ?? null,
        maxSessions: plan.maxSessions ?? 0,
      });
    } else {
      const changes = { ...plan, ...(user.role !== role ? { role } : {}) };
      if (Object.entries(changes).some(([k, v]) => (user as unknown as Record<string, unknown>)[k] !== v)) {
        user = (await this.users.update(user.id, changes)) ?? user;
      }
    }
    return { user, via: 'jwt', key: `user:${user.id}` };
  }
}

function planClaims(payload: JWTPayload): {
  planStatus?: PlanStatus;
  planType?: PlanType;
  maxSessions?: number;
} {
  const out: { planStatus?: PlanStatus; planType?: PlanType; maxSessions?: number } = {};
  if (
    typeof payload.plan_status === 'string' &&
    (PLAN_STATUSES as readonly string[]).includes(payload.plan_status)
  ) {
    out.planStatus = payload.plan_status as PlanStatus;
  }
  const limits = payload.plan_limits;
  if (limits && typeof limits === 'object') {
    const l = limits as Record<string, unknown>;
    if (typeof l.plan_type === 'string' && (PLAN_TYPES as readonly string[]).includes(l.plan_type)) {
      out.planType = l.plan_type as PlanType;
    }
    if (typeof l.max_sessions === 'number' && Number.isInteger(l.max_sessions) && l.max_sessions >= 0) {
      out.maxSessions = l.max_sessions;
    }
  }
  return out;
}

export function requireCaller(request: FastifyRequest): Caller {
  if (!request.caller) throw unauthorized('missing Authorization: Bearer <token>');
  return request.caller;
}

export function requireAdmin(request: FastifyRequest): Caller {
  const caller = requireCaller(request);
  if (caller.user.role !== 'admin')
    throw new HttpError(403, 'FORBIDDEN', 'this route is for operators (role admin)');
  return caller;
}
