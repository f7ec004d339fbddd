/**
 * Who is calling. `Authorization: Bearer <token>` on every route not marked public. Opaque API tokens (stored as
 * hashes, revocable) out of the box; optionally JWTs from an existing frontend (HS256 secret or a JWKS URL): the
 * user from `sub` or `user_id`; `exp` required (AUTH_JWT_REQUIRE_EXP), issuer and audience checked when set.
 * Claims never change what is stored: a trusted `role` (AUTH_TRUST_ROLE_CLAIM) or trusted plan claims
 * (AUTH_TRUST_PLAN_CLAIMS) apply to that request only. Unknown users are created on first sight only with
 * AUTH_JWT_AUTOCREATE=1, always as customers. There is no default secret.
 */
import {
  createRemoteJWKSet,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { LIMITS, rangeProblem } from '../core/limits.js';
import {
  PLAN_STATUSES,
  PLAN_TYPES,
  type PlanStatus,
  type PlanType,
  type Role,
  type User,
  type UserRepository,
} from '../storage/users.js';
import { ApiError } from './errors.js';

export interface Caller {
  /** The user as this request sees it: the stored user, with trusted claims of the token applied. */
  user: User;
  via: 'token' | 'jwt';
  /** The API token the request came with (null for a JWT). */
  tokenId: string | null;
  /** A stable key for rate limits (never the token itself). */
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const unauthorized = (message: string) => new ApiError('UNAUTHORIZED', message);

type PlanClaims = Partial<Pick<User, 'planStatus' | 'planType' | 'maxSessions'>>;

export class Authenticator {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly verifyOptions: JWTVerifyOptions;

  constructor(
    private readonly users: UserRepository,
    private readonly config: Config['auth'],
  ) {
    this.secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : null;
    this.jwks = config.jwksUrl
      ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000 })
      : null;
    this.verifyOptions = {
      ...(this.secret ? { algorithms: ['HS256'] } : {}),
      ...(config.issuer ? { issuer: config.issuer } : {}),
      ...(config.audience ? { audience: config.audience } : {}),
      ...(config.requireExp ? { requiredClaims: ['exp'] } : {}),
    };
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
    const found = await this.users.authenticateToken(token);
    if (!found) throw unauthorized('unknown or revoked token');
    return { user: found.user, via: 'token', tokenId: found.tokenId, key: `user:${found.user.id}` };
  }

  private async fromJwt(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      payload = this.secret
        ? (await jwtVerify(token, this.secret, this.verifyOptions)).payload
        : (await jwtVerify(token, this.jwks!, this.verifyOptions)).payload;
    } catch (error) {
      throw unauthorized(`invalid token: ${(error as Error).message}`);
    }
    const subject = jwtSubject(payload);
    if (!subject) throw unauthorized('the token names no user (sub or user_id)');
    const plan: PlanClaims = this.config.trustPlanClaims ? planClaims(payload) : {};
    let user = await this.users.findByExternalId(subject);
    if (!user) {
      if (!this.config.autocreate)
        throw unauthorized('unknown user (set AUTH_JWT_AUTOCREATE=1 to create users on first sight)');
      user = await this.users.create({
        name: jwtDisplayName(payload) ?? subject,
        // A token never makes an operator in the database; a trusted role claim applies per request only.
        role: 'user',
        externalId: subject,
        // Without trusted plan claims, a new user starts inactive until an operator gives it a plan.
        planStatus: plan.planStatus ?? 'inactive',
        planType: plan.planType ?? null,
        maxSessions: plan.maxSessions ?? 0,
      });
    }
    const role = this.config.trustRoleClaim ? roleClaim(payload) : null;
    return {
      user: { ...user, ...plan, ...(role ? { role } : {}) },
      via: 'jwt',
      tokenId: null,
      key: `user:${user.id}`,
    };
  }
}

/** The user a JWT names: `sub`, else `user_id` (the original frontend's claim). */
function jwtSubject(payload: JWTPayload): string | null {
  for (const claim of [payload.sub, payload.user_id]) {
    if (typeof claim === 'string' && claim.trim() !== '') return claim;
    if (typeof claim === 'number' && Number.isSafeInteger(claim)) return String(claim);
  }
  return null;
}

function jwtDisplayName(payload: JWTPayload): string | null {
  for (const claim of [payload.name, payload.email]) if (typeof claim === 'string' && claim) return claim;
  return null;
}

/** A trusted `role` claim, compared case-insensitively (`ADMIN` is `admin`); anything else is a customer. */
function roleClaim(payload: JWTPayload): Role | null {
  if (typeof payload.role !== 'string') return null;
  return payload.role.trim().toLowerCase() === 'admin' ? 'admin' : 'user';
}

function planClaims(payload: JWTPayload): PlanClaims {
  const out: PlanClaims = {};
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
    if (rangeProblem(LIMITS.maxSessions, l.max_sessions) === null) {
      out.maxSessions = l.max_sessions as number;
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
    throw new ApiError('FORBIDDEN', 'this route is for operators (role admin)');
  return caller;
}
