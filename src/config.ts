/**
 * Configuration from the environment, read and checked in one place. Every bad value is a clear error naming the
 * variable; nothing falls back silently.
 */
import { resolve } from 'node:path';
import { StaggerError } from './core/errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormatSetting } from './logger.js';

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  secretKey: string | undefined;
  port: number;
  host: string;
  logLevel: string;
  /** LOG_FORMAT: `auto` (default: readable lines on a terminal, JSON otherwise), `json` or `pretty`. */
  logFormat: LogFormatSetting;
  retentionDays: number;
  /** STAGGER_DEMO (default on): a fresh installation gets the demo operator and customer. */
  demo: boolean;
  /** STAGGER_METRICS_PUBLIC: /metrics without a token (default off: an operator token is needed). */
  metricsPublic: boolean;
  telegram: { apiId: number | undefined; apiHash: string | undefined };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    autocreate: boolean;
    trustPlanClaims: boolean;
    /** AUTH_TRUST_ROLE_CLAIM: honour a JWT's `role` claim for that request (never stored). */
    trustRoleClaim: boolean;
    /** AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: checked when set. */
    issuer: string | undefined;
    audience: string | undefined;
    /** AUTH_JWT_REQUIRE_EXP (default on): a JWT without `exp` is refused. */
    requireExp: boolean;
  };
  lease: { seconds: number; renewSeconds: number };
  sandbox: { latencyMs: number; floodBurst: number; floodPerSecond: number };
}

type Env = Record<string, string | undefined>;

function bad(name: string, message: string): never {
  throw new StaggerError('CONFIG_INVALID', `${name} ${message}`);
}

function number(
  env: Env,
  name: string,
  fallback: number,
  rule: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) bad(name, `must be a number, got ${JSON.stringify(raw)}`);
  if (rule.integer && !Number.isInteger(value)) bad(name, `must be a whole number, got ${raw}`);
  if (rule.min !== undefined && value < rule.min) bad(name, `must be ≥ ${rule.min}, got ${raw}`);
  if (rule.max !== undefined && value > rule.max) bad(name, `must be ≤ ${rule.max}, got ${raw}`);
  return value;
}

function flag(env: Env, name: string, fallback = false): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  return bad(name, `must be 1 or 0, got ${JSON.stringify(raw)}`);
}

function choice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    bad(name, `must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return value as T;
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export const DEFAULT_LEASE_SECONDS = 2.75;
export const DEFAULT_LEASE_RENEW_SECONDS = 0.2;

export function readConfig(env: Env = process.env): Config {
  const databaseUrl = text(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    bad('DATABASE_URL', 'must be a postgres:// URL (leave it unset for the embedded SQLite database)');
  }
  const apiIdRaw = text(env, 'TELEGRAM_API_ID');
  // Failover takes about the lease length; the lease outlives a stall of its length less the renewal period and a
  // round trip (runtime/lease-keeper.ts). 2.75 s renewed every 0.2 s: a killed worker's bots are taken over in
  // ~2.7 s, and a 2 s event-loop stall leaves its leases ~0.6 s to spare (bench/failover; see the README).
  const leaseSeconds = number(env, 'STAGGER_LEASE_SECONDS', DEFAULT_LEASE_SECONDS, { min: 1, max: 600 });
  const renewSeconds = number(env, 'STAGGER_LEASE_RENEW_SECONDS', DEFAULT_LEASE_RENEW_SECONDS, {
    min: 0.05,
    max: 300,
  });
  if (renewSeconds * 2 > leaseSeconds) {
    bad('STAGGER_LEASE_RENEW_SECONDS', `must be at most half of STAGGER_LEASE_SECONDS (${leaseSeconds})`);
  }
  const jwksUrl = text(env, 'AUTH_JWKS_URL');
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) bad('AUTH_JWKS_URL', 'must be an http(s) URL');
  return {
    dataDir: resolve(text(env, 'STAGGER_DATA_DIR') ?? './data'),
    databaseUrl,
    databasePoolSize: number(env, 'DATABASE_POOL_SIZE', 10, { min: 1, max: 500, integer: true }),
    secretKey: text(env, 'STAGGER_SECRET_KEY'),
    port: number(env, 'PORT', 8080, { min: 0, max: 65535, integer: true }),
    host: text(env, 'HOST') ?? '127.0.0.1',
    logLevel: choice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: choice(env, 'LOG_FORMAT', LOG_FORMATS, 'auto'),
    retentionDays: number(env, 'STAGGER_RETENTION_DAYS', 30, { min: 1, max: 3650 }),
    demo: flag(env, 'STAGGER_DEMO', true),
    metricsPublic: flag(env, 'STAGGER_METRICS_PUBLIC'),
    telegram: {
      apiId:
        apiIdRaw === undefined ? undefined : number(env, 'TELEGRAM_API_ID', 0, { min: 1, integer: true }),
      apiHash: text(env, 'TELEGRAM_API_HASH'),
    },
    auth: {
      jwtSecret: text(env, 'AUTH_JWT_SECRET'),
      jwksUrl,
      autocreate: flag(env, 'AUTH_JWT_AUTOCREATE'),
      trustPlanClaims: flag(env, 'AUTH_TRUST_PLAN_CLAIMS'),
      trustRoleClaim: flag(env, 'AUTH_TRUST_ROLE_CLAIM'),
      issuer: text(env, 'AUTH_JWT_ISSUER'),
      audience: text(env, 'AUTH_JWT_AUDIENCE'),
      requireExp: flag(env, 'AUTH_JWT_REQUIRE_EXP', true),
    },
    lease: { seconds: leaseSeconds, renewSeconds },
    sandbox: {
      latencyMs: number(env, 'STAGGER_SANDBOX_LATENCY_MS', 0, { min: 0, max: 60_000 }),
      floodBurst: number(env, 'STAGGER_SANDBOX_FLOOD_BURST', 30, { min: 1 }),
      floodPerSecond: number(env, 'STAGGER_SANDBOX_FLOOD_PER_SECOND', 1, { min: 0.001 }),
    },
  };
}
