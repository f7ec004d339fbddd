/** An API on a real SQLite store in a temp directory, driven in-process with `app.inject()`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { readConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { AppDeps } from '../../src/http/deps.js';
import type { RateLimits } from '../../src/http/rate-limits.js';
import { createLogger } from '../../src/logger.js';
import type { BotControl } from '../../src/runtime/bot-control.js';
import { SystemClock, type Clock } from '../../src/runtime/clock.js';
import { EventBus } from '../../src/runtime/events.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { GatewayRouter } from '../../src/telegram/gateway.js';
import { SandboxGateway } from '../../src/telegram/sandbox/sandbox-gateway.js';

export class RecordingControl implements BotControl {
  readonly calls: string[] = [];
  async started(botId: string) {
    this.calls.push(`start:${botId}`);
  }
  async stopped(botId: string) {
    this.calls.push(`stop:${botId}`);
  }
}

const GENEROUS_LIMITS: RateLimits = {
  perAddress: { max: 1_000_000, windowMs: 60_000 },
  failedAuthPerAddress: { max: 1_000_000, windowMs: 60_000 },
  readsPerCaller: { max: 1_000_000, windowMs: 60_000 },
  writesPerCaller: { max: 1_000_000, windowMs: 60_000 },
  streamsPerUser: 10,
};

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  config: Config;
  control: RecordingControl;
  events: EventBus;
  logs: string[];
  request(
    method: InjectOptions['method'],
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  user(spec?: Parameters<Store['users']['create']>[0]): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export interface TestApiOverrides {
  env?: Record<string, string>;
  /** A postgres:// URL: the store on that database instead of SQLite in the temp directory. */
  storeUrl?: string;
  deps?: Partial<AppDeps>;
  /**
   * Deps built on the API's own store, clock and config (e.g. a real mtcute gateway and `SessionServices`);
   * applied after `deps`.
   */
  depsFrom?: (parts: { store: Store; clock: Clock; config: Config }) => Partial<AppDeps>;
  /** Runs in `close()` after the app closed and before the store does (close gateways, login managers). */
  onClose?: () => Promise<void>;
}

export async function testApi(overrides: TestApiOverrides = {}): Promise<TestApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-api-'));
  const config = readConfig({ STAGGER_DATA_DIR: dataDir, ...overrides.env });
  const store = await openStore({ dataDir, ...(overrides.storeUrl ? { url: overrides.storeUrl } : {}) });
  const clock = new SystemClock();
  const control = new RecordingControl();
  const events = new EventBus();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({
    config,
    store,
    control,
    clock,
    // Suites send hundreds of requests a minute from one address; the limits have their own tests.
    rateLimits: GENEROUS_LIMITS,
    gateway: new GatewayRouter({ sandbox: new SandboxGateway({ clock, store: store.sandbox }) }),
    events,
    logger: createLogger({ level: 'debug', destination: sink }),
    ...overrides.deps,
    ...overrides.depsFrom?.({ store, clock, config }),
  });
  let n = 0;
  return {
    app,
    store,
    config,
    control,
    events,
    logs,
    request(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const inject: InjectOptions = { method, url, headers };
      if (options.body !== undefined) {
        if (typeof options.body === 'string') {
          inject.payload = options.body;
          headers['content-type'] ??= 'application/json';
        } else inject.payload = options.body as object;
      }
      return app.inject(inject);
    },
    async user(spec) {
      const user = await store.users.create(
        spec ?? { name: `customer ${++n}`, maxSessions: 3, planType: 'ENTERPRISE' },
      );
      return { id: user.id, token: (await store.users.issueToken(user.id)).token };
    },
    async close() {
      await app.close();
      await overrides.onClose?.();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A customer with a post, groups and sandbox sessions: ready to start. */
export async function readyCustomer(
  api: TestApi,
  spec: { planType?: 'STARTER' | 'ENTERPRISE' | null; sessions?: number } = {},
) {
  const user = await api.store.users.create({
    name: 'ready',
    maxSessions: 5,
    planType: spec.planType === undefined ? 'ENTERPRISE' : spec.planType,
  });
  const token = (await api.store.users.issueToken(user.id)).token;
  for (let i = 0; i < (spec.sessions ?? 2); i++)
    await api.store.sessions.create({ ownerUserId: user.id, label: `s${i}`, driver: 'sandbox' });
  const botId = await api.store.bots.ensureForUser(user.id);
  await api.store.bots.setPostLink(botId, 'https://t.me/stagger_demo/1');
  await api.store.bots.setGroups(botId, ['-1001000000001', '-1001000000002', '-1001000000003']);
  return { id: user.id, token, botId };
}
