import { describe, expect, it } from 'vitest';
import { readConfig } from './config.js';

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const c = readConfig({});
    expect(c).toMatchObject({
      databaseUrl: undefined,
      databasePoolSize: 10,
      port: 8080,
      host: '127.0.0.1',
      retentionDays: 30,
      logLevel: 'info',
      logFormat: 'auto',
      lease: { seconds: 2.75, renewSeconds: 0.2 },
      demo: true,
      metricsPublic: false,
      auth: {
        jwtSecret: undefined,
        jwksUrl: undefined,
        autocreate: false,
        trustPlanClaims: false,
        trustRoleClaim: false,
        issuer: undefined,
        audience: undefined,
        requireExp: true,
      },
    });
    expect(c.dataDir).toMatch(/data$/);
  });

  it('reads every setting', () => {
    const c = readConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      DATABASE_POOL_SIZE: '25',
      PORT: '0',
      HOST: '0.0.0.0',
      STAGGER_LEASE_SECONDS: '10',
      STAGGER_LEASE_RENEW_SECONDS: '2',
      AUTH_JWT_AUTOCREATE: '1',
      AUTH_TRUST_PLAN_CLAIMS: 'true',
      TELEGRAM_API_ID: '12345',
      TELEGRAM_API_HASH: 'abc',
      STAGGER_DEMO: '0',
      STAGGER_METRICS_PUBLIC: '1',
      AUTH_TRUST_ROLE_CLAIM: '1',
      AUTH_JWT_ISSUER: 'https://frontend.example',
      AUTH_JWT_AUDIENCE: 'stagger',
      AUTH_JWT_REQUIRE_EXP: '0',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'JSON',
    });
    expect(c).toMatchObject({
      databaseUrl: 'postgres://u:p@db:5432/x',
      databasePoolSize: 25,
      port: 0,
      host: '0.0.0.0',
      lease: { seconds: 10, renewSeconds: 2 },
      demo: false,
      metricsPublic: true,
      auth: {
        autocreate: true,
        trustPlanClaims: true,
        trustRoleClaim: true,
        issuer: 'https://frontend.example',
        audience: 'stagger',
        requireExp: false,
      },
      telegram: { apiId: 12345, apiHash: 'abc' },
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres/],
    [{ DATABASE_POOL_SIZE: '0' }, /DATABASE_POOL_SIZE must be ≥ 1/],
    [{ DATABASE_POOL_SIZE: 'many' }, /DATABASE_POOL_SIZE must be a number/],
    [{ PORT: '70000' }, /PORT must be ≤ 65535/],
    [{ PORT: '80.5' }, /PORT must be a whole number/],
    [{ AUTH_JWT_AUTOCREATE: 'maybe' }, /AUTH_JWT_AUTOCREATE must be 1 or 0/],
    [{ AUTH_JWKS_URL: 'ftp://keys' }, /AUTH_JWKS_URL must be an http/],
    [
      { STAGGER_LEASE_SECONDS: '2', STAGGER_LEASE_RENEW_SECONDS: '1.5' },
      /at most half of STAGGER_LEASE_SECONDS/,
    ],
    [{ TELEGRAM_API_ID: '-3' }, /TELEGRAM_API_ID must be ≥ 1/],
    [
      { LOG_LEVEL: 'loud' },
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/,
    ],
    [{ LOG_FORMAT: 'fancy' }, /LOG_FORMAT must be one of auto, json, pretty, got "fancy"/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(message);
  });
});
