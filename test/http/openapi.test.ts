/**
 * The OpenAPI document tells the truth. (a) Its shape: every operation has a summary, a 2xx answer with a schema,
 * its error statuses with their codes, and examples that match their schemas; the start body is optional and
 * typed; the groups limit is the core's. (b) Real answers match it: every operation is driven through the real app
 * (in-process, a real server on 127.0.0.1 for the event stream, the sandbox and the offline Telegram harness), at
 * its success and error statuses, and each answer is validated with Ajv against the schema the document gives for
 * that status — and what the route handed Fastify against the same schema closed to undeclared fields, so that no
 * field a route returns is silently dropped by its response schema. The cases are checked against the document:
 * an operation or a documented status without an exercised case fails.
 */
import { get, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_GROUP_TARGETS } from '../../src/core/group-targets.js';
import { LIMITS } from '../../src/core/limits.js';
import { STATUS, type ErrorCode } from '../../src/http/errors.js';
import { LocalBotControl } from '../../src/runtime/bot-control.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { storedMtcuteGateway } from '../../src/service.js';
import { LeaseRepository } from '../../src/storage/leases.js';
import { GatewayRouter } from '../../src/telegram/gateway.js';
import type { ClientParams } from '../../src/telegram/mtcute/client-factory.js';
import { LoginManager } from '../../src/telegram/mtcute/login.js';
import type { MtcuteGateway } from '../../src/telegram/mtcute/mtcute-gateway.js';
import { checkSession } from '../../src/telegram/mtcute/session-check.js';
import { SandboxGateway } from '../../src/telegram/sandbox/sandbox-gateway.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';
import {
  API_HASH,
  API_ID,
  authKey,
  telethonSessionFile,
  telethonString,
} from '../support/mtcute/fixtures.js';
import {
  answerLogin,
  LOGIN_ACCOUNT,
  LOGIN_CODE,
  LOGIN_PASSWORD,
  LOGIN_PHONE,
} from '../support/mtcute/login-answers.js';
import { OfflineTelegram, PASS_THROUGH, rpcError } from '../support/mtcute/offline-telegram.js';
import {
  call,
  closedSchema,
  documentPath,
  examplesOf,
  operationsOf,
  parseEventStream,
  SchemaChecker,
  watchPayloads,
  type CallOptions,
  type DocOperation,
  type Exchange,
  type Media,
  type OpenApiDocument,
  type Schema,
} from '../support/openapi.js';
import {
  createTestDatabase,
  postgresAvailable,
  requirePostgres,
  type TestDatabase,
} from '../support/postgres.js';

const API_ENV = { TELEGRAM_API_ID: String(API_ID), TELEGRAM_API_HASH: API_HASH };
const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const LOGIN_CALL_TIMEOUT_MS = 30_000;

/** The document as a fresh app serves it (read before the cases are built: they are built from it). */
async function servedDocument(): Promise<{ doc: OpenApiDocument; apiRoutes: string[] }> {
  const api = await testApi();
  try {
    const doc = (await api.request('GET', '/api/openapi.json')).json() as OpenApiDocument;
    const apiRoutes = api.app
      .routeTable()
      .filter((r) => r.url.startsWith('/api/') && r.url !== '/api/openapi.json')
      .map((r) => `${r.method} ${documentPath(r.url)}`);
    return { doc, apiRoutes };
  } finally {
    await api.close();
  }
}

const { doc, apiRoutes } = await servedDocument();
const operations = operationsOf(doc);
const checker = new SchemaChecker();

const jsonMedia = (media: Record<string, Media> | undefined) => media?.['application/json'];
const successStatuses = (op: DocOperation) =>
  Object.keys(op.operation.responses).filter((s) => /^2\d\d$/.test(s));
const errorStatuses = (op: DocOperation) =>
  Object.keys(op.operation.responses).filter((s) => /^[45]\d\d$/.test(s));
/** The codes a documented error answer lists (its `code` enum; at 5xx a string whose description names them). */
function documentedCodes(op: DocOperation, status: string): string[] {
  const schema = jsonMedia(op.operation.responses[status]?.content)?.schema as
    { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
  return schema?.properties?.error?.properties?.code?.enum ?? [];
}

// ---- (a) the document's shape ---------------------------------------------------------------------------------

describe('the OpenAPI document', () => {
  it('documents every API route, and nothing else', () => {
    expect(operations.map((o) => o.key).sort()).toEqual([...apiRoutes].sort());
    expect(operations.length).toBeGreaterThan(30);
  });

  it.each(operations)(
    '$key: a summary, tags, a 2xx answer with a schema and an example, its errors',
    (op) => {
      const { operation } = op;
      expect(operation.summary?.trim()).toBeTruthy();
      expect(operation.tags?.length).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(doc.tags?.map((t) => t.name)).toContain(tag);

      const successes = successStatuses(op);
      expect(successes.length, 'a 2xx answer').toBeGreaterThan(0);
      for (const status of successes) {
        const response = operation.responses[status]!;
        expect(response.description).not.toBe('Default Response');
        if (status === '204') {
          expect(response.content, '204 has no body').toBeUndefined();
          continue;
        }
        const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
        expect(type, 'a content type').toBeDefined();
        expect(media?.schema, 'a schema').toBeDefined();
        const examples = examplesOf(media!);
        expect(examples.length, 'an example').toBeGreaterThan(0);
        for (const example of examples) expect(checker.problems(media!.schema!, example)).toEqual([]);
      }

      const errors = errorStatuses(op);
      expect(errors.length, 'documented error answers').toBeGreaterThan(0);
      for (const status of errors) {
        const response = operation.responses[status]!;
        const media = jsonMedia(response.content);
        expect(media?.schema, `${status} has the error schema`).toBeDefined();
        for (const example of examplesOf(media!))
          expect(checker.problems(media!.schema!, example)).toEqual([]);
        // every code listed is one the error table answers with this status, and each is explained
        for (const code of documentedCodes(op, status)) {
          expect(STATUS[code as ErrorCode], code).toBe(Number(status));
          expect(response.description).toContain(`\`${code}\``);
        }
      }
    },
  );

  it('every request body is documented with its schema and examples that match it', () => {
    for (const op of operations) {
      for (const [type, media] of Object.entries(op.operation.requestBody?.content ?? {})) {
        expect(media.schema, `${op.key} ${type}`).toBeDefined();
        for (const example of examplesOf(media)) expect(checker.problems(media.schema!, example)).toEqual([]);
        if (type === 'application/json')
          expect(examplesOf(media).length, `${op.key}: an example`).toBeGreaterThan(0);
      }
    }
  });

  it('routes of customers document 401, operator routes 401 and 403 FORBIDDEN; health is public', () => {
    for (const op of operations) {
      const isPublic = op.operation.security !== undefined && op.operation.security.length === 0;
      if (isPublic) expect(op.operation.responses['401']).toBeUndefined();
      else expect(documentedCodes(op, '401')).toEqual(['UNAUTHORIZED']);
      expect(documentedCodes(op, '403').includes('FORBIDDEN')).toBe(op.path.startsWith('/api/admin/'));
      expect(documentedCodes(op, '429')).toContain('RATE_LIMITED');
    }
    expect(doc.paths['/api/health']!.get!.security).toEqual([]);
  });

  it('POST /api/bot/start: the body is optional and its fields typed; its original status codes are listed', () => {
    const start = doc.paths['/api/bot/start']!.post!;
    expect(start.requestBody?.required).toBe(false);
    const schema = jsonMedia(start.requestBody?.content)!.schema as {
      additionalProperties: boolean;
      properties: Record<string, Schema>;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(['execution_mode', 'total_cycle_minutes']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.execution_mode).toMatchObject({
      type: 'string',
      enum: ['starter', 'enterprise', null],
      nullable: true,
    });
    expect(schema.properties.total_cycle_minutes).toMatchObject({
      type: 'integer',
      nullable: true,
      minimum: LIMITS.totalCycleMinutes.min,
      maximum: LIMITS.totalCycleMinutes.max,
    });
    expect(Object.keys(start.responses).sort()).toEqual(
      ['200', '400', '401', '403', '409', '413', '415', '429', '500'].sort(),
    );
    expect(documentedCodes({ key: '', method: 'post', path: '', operation: start }, '409').sort()).toEqual(
      ['NO_GROUPS', 'NO_POST_LINK', 'NO_USABLE_SESSION', 'SESSION_POOL_EMPTY'].sort(),
    );
    expect(documentedCodes({ key: '', method: 'post', path: '', operation: start }, '400')).toEqual(
      expect.arrayContaining([
        'INVALID_EXECUTION_MODE',
        'STARTER_REQUIRES_CYCLE_MINUTES',
        'VALIDATION_FAILED',
      ]),
    );
  });

  it('the groups accept as many lines as the core’s limit of groups', () => {
    const schema = jsonMedia(doc.paths['/api/bot/groups']!.put!.requestBody?.content)!.schema as {
      properties: { groups: { maxItems: number } };
    };
    expect(schema.properties.groups.maxItems).toBe(MAX_GROUP_TARGETS);
  });
});

// ---- (b) the apps the real answers come from ------------------------------------------------------------------

/** The Telegram harness of the current case (a fresh one per case; the apps' clients are made through it). */
let telegram = new OfflineTelegram();
const createClient = (params: ClientParams) => telegram.createClient(params);
/** The LoginManagers' clock: calls to Telegram time out on it. */
const loginClock = new VirtualClock();

/** An API with real session services and a real mtcute gateway on the harness, wired as `Service` wires them. */
async function telegramApi(options: { env?: Record<string, string>; maxPendingLogins?: number } = {}) {
  let login: LoginManager | undefined;
  let gateway: MtcuteGateway | undefined;
  const api = await testApi({
    env: { ...API_ENV, ...options.env },
    depsFrom: ({ store, clock, config }) => {
      login = new LoginManager({
        createClient,
        clock: loginClock,
        callTimeoutMs: LOGIN_CALL_TIMEOUT_MS,
        sweepIntervalMs: 0,
        ...(options.maxPendingLogins === undefined ? {} : { maxPending: options.maxPendingLogins }),
      });
      gateway = storedMtcuteGateway(store, config, { createClient });
      return {
        gateway: new GatewayRouter({
          sandbox: new SandboxGateway({ clock, store: store.sandbox }),
          mtcute: gateway,
        }),
        sessions: {
          login,
          check: (credentials) => checkSession(credentials, createClient, { timeoutMs: 5_000 }),
          defaultApi: config.telegram,
        },
      };
    },
    onClose: async () => {
      await login?.close();
      await gateway?.close();
    },
  });
  watchPayloads(api.app);
  return { api, gateway: () => gateway! };
}

let main: TestApi;
let mainGateway: () => MtcuteGateway;
let admin: { id: string; token: string };
/** Login answers of a server whose LoginManager holds no pending login at all. */
let crowded: TestApi;
/** No real-Telegram adapter in this process. */
let bare: TestApi;
/** Every address over its limit. */
let limited: TestApi;
/** Its database is closed: every authenticated request fails on our side. */
let broken: TestApi;
let brokenToken: string;
/** A runtime on a virtual clock with a real event stream on 127.0.0.1. */
let live: TestApi;
let liveClock: VirtualClock;
let liveRuntime: Runtime;
let liveUrl: string;
/** PostgreSQL, with the cluster view of its leases. */
let pg: TestApi | undefined;
let pgDatabase: TestDatabase | undefined;
let pgAdmin: { id: string; token: string };
const withPostgres = await postgresAvailable();

beforeAll(async () => {
  ({ api: main, gateway: mainGateway } = await telegramApi({
    env: { AUTH_JWT_SECRET: JWT_SECRET, AUTH_JWT_AUTOCREATE: '1' },
  }));
  admin = await main.user({ name: 'operator', role: 'admin' });
  ({ api: crowded } = await telegramApi({ maxPendingLogins: 0 }));
  // The server's API pair is set: a check gets as far as asking for the missing adapter.
  bare = await testApi({ env: API_ENV });
  watchPayloads(bare.app);
  // One request a day from an address: the first one (here) passes, every case's is over the limit.
  limited = await testApi({ deps: { rateLimits: { perAddress: { max: 1, windowMs: 86_400_000 } } } });
  watchPayloads(limited.app);
  await limited.request('GET', '/api/health');
  broken = await testApi();
  watchPayloads(broken.app);
  brokenToken = (await broken.user({ name: 'operator', role: 'admin' })).token;
  await broken.app.ready();
  await broken.store.close();

  liveClock = new VirtualClock();
  live = await testApi({
    deps: { rateLimits: { streamsPerUser: 1 } },
    depsFrom: ({ store }) => {
      const gateway = new SandboxGateway({ clock: liveClock, store: store.sandbox });
      liveRuntime = new Runtime({
        clock: liveClock,
        gateway,
        store: store.runtime,
        options: { planningLeadMs: 0 },
      });
      return {
        clock: liveClock,
        gateway,
        control: new LocalBotControl(liveRuntime),
        events: liveRuntime.events,
      };
    },
    onClose: async () => liveRuntime.close(),
  });
  watchPayloads(live.app);
  liveUrl = await live.app.listen({ port: 0, host: '127.0.0.1' });

  if (await requirePostgres('OpenAPI answers on PostgreSQL (cluster view)')) {
    pgDatabase = await createTestDatabase();
    pg = await testApi({
      storeUrl: pgDatabase.url,
      depsFrom: ({ store }) => {
        const leases = new LeaseRepository(store.db, store.dialect);
        return { cluster: () => leases.clusterView(30_000) };
      },
    });
    watchPayloads(pg.app);
    pgAdmin = await pg.user({ name: 'operator', role: 'admin' });
    await new LeaseRepository(pg.store.db, pg.store.dialect).registerWorker('worker-1', '127.0.0.1', 4242);
  }
}, 60_000);

afterAll(async () => {
  await main?.close();
  await crowded?.close();
  await bare?.close();
  await limited?.close();
  await live?.close();
  await pg?.close();
  await pgDatabase?.drop();
  // The broken app's store is closed already.
  await broken?.app.close();
  rmSync(broken.config.dataDir, { recursive: true, force: true });
});

// ---- the cases -------------------------------------------------------------------------------------------------

interface Case {
  /** The operation, as the document names it. */
  op: string;
  name: string;
  status: number;
  send: () => Promise<Exchange>;
  /** Runs only with PostgreSQL. */
  postgres?: boolean;
}

const cases: Case[] = [];
function exercise(op: string, status: number, name: string, send: () => Promise<Exchange>, postgres = false) {
  cases.push({ op, name, status, send, postgres });
}

const on = (api: () => TestApi) => (method: InjectOptions['method'], url: string, options?: CallOptions) =>
  call(api().app, method, url, options);
const inMain = on(() => main);

async function customer(spec: Parameters<TestApi['user']>[0] = undefined) {
  return main.user(spec);
}
const ready = (spec?: Parameters<typeof readyCustomer>[1]) => readyCustomer(main, spec);

/** A session imported (real mtcute driver) for `token`; its id. */
async function importedSession(token: string): Promise<string> {
  const res = await main.request('POST', '/api/sessions/import', {
    token,
    body: { session: telethonString(2, [149, 154, 167, 51], 443, authKey()) },
  });
  expect(res.statusCode).toBe(201);
  return res.json().session.id;
}

async function startLogin(token: string): Promise<string> {
  const res = await main.request('POST', '/api/sessions/login', { token, body: { phone: LOGIN_PHONE } });
  expect(res.statusCode).toBe(201);
  return res.json().loginId;
}

/** A login waiting for the 2FA password: its id. */
async function loginAtPassword(token: string): Promise<string> {
  answerLogin(telegram, { password: true });
  const loginId = await startLogin(token);
  const code = await main.request('POST', `/api/sessions/login/${loginId}/code`, {
    token,
    body: { code: LOGIN_CODE },
  });
  expect(code.json()).toMatchObject({ passwordRequired: true });
  return loginId;
}

/** Telegram receives `method` and never answers; the login step times out on the login clock. */
async function timedOut(method: string, send: () => Promise<Exchange>): Promise<Exchange> {
  const reached = new Promise<void>((resolve) =>
    telegram.on(method, () => {
      resolve();
      return PASS_THROUGH;
    }),
  );
  const answer = send();
  await reached;
  await loginClock.advance(LOGIN_CALL_TIMEOUT_MS);
  return answer;
}

async function multipart(fields: Record<string, string>, file?: { name: string; bytes: Uint8Array }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type')! },
  };
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function telethonFile(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'stagger-openapi-'));
  tempDirs.push(dir);
  return telethonSessionFile(join(dir, 'account.session'), [
    { dcId: 4, address: '149.154.167.91', port: 443, authKey: authKey() },
  ]);
}

// health
exercise('GET /api/health', 200, 'up', () => inMain('GET', '/api/health'));
exercise('GET /api/health', 503, 'the database does not answer', () =>
  call(broken.app, 'GET', '/api/health'),
);

// the bot: the original's start contract
exercise('POST /api/bot/start', 200, 'no body: the plan decides', async () =>
  inMain('POST', '/api/bot/start', { token: (await ready()).token }),
);
exercise('POST /api/bot/start', 200, 'starter with minutes', async () =>
  inMain('POST', '/api/bot/start', {
    token: (await ready()).token,
    body: { execution_mode: 'starter', total_cycle_minutes: 30 },
  }),
);
exercise('POST /api/bot/start', 400, 'INVALID_EXECUTION_MODE', async () =>
  inMain('POST', '/api/bot/start', { token: (await ready()).token, body: { execution_mode: 'rotational' } }),
);
exercise('POST /api/bot/start', 400, 'INVALID_CYCLE_MINUTES', async () =>
  inMain('POST', '/api/bot/start', {
    token: (await ready()).token,
    body: { execution_mode: 'starter', total_cycle_minutes: 10 ** 9 },
  }),
);
exercise('POST /api/bot/start', 403, 'PLAN_INACTIVE', async () => {
  const c = await ready();
  await main.store.users.update(c.id, { planStatus: 'expired' });
  return inMain('POST', '/api/bot/start', { token: c.token });
});
exercise('POST /api/bot/start', 409, 'NO_POST_LINK', async () =>
  inMain('POST', '/api/bot/start', { token: (await customer()).token }),
);
exercise('POST /api/bot/start', 409, 'SESSION_POOL_EMPTY', async () => {
  const c = await ready({ sessions: 0 });
  for (const s of await main.store.sessions.listPool()) await main.store.sessions.assign(s.id, admin.id);
  return inMain('POST', '/api/bot/start', { token: c.token });
});
exercise('POST /api/bot/stop', 200, 'a running bot', async () => {
  const c = await ready();
  await main.request('POST', '/api/bot/start', { token: c.token });
  return inMain('POST', '/api/bot/stop', { token: c.token });
});
exercise('GET /api/bot/status', 200, 'a bot never started', async () =>
  inMain('GET', '/api/bot/status', { token: (await ready()).token }),
);
exercise('GET /api/me', 200, 'a customer', async () =>
  inMain('GET', '/api/me', { token: (await customer()).token }),
);
exercise('POST /api/me/tokens/rotate', 201, 'an API token', async () =>
  inMain('POST', '/api/me/tokens/rotate', { token: (await customer()).token }),
);
exercise('POST /api/me/tokens/rotate', 409, 'a JWT has no API token to rotate', async () => {
  const jwt = await new SignJWT({ sub: 'frontend-user-1' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
  return inMain('POST', '/api/me/tokens/rotate', { token: jwt });
});
exercise('GET /api/bot/plan', 200, 'a ready bot', async () =>
  inMain('GET', '/api/bot/plan', { token: (await ready()).token }),
);
exercise('GET /api/bot/plan', 200, 'a starter preview', async () =>
  inMain('GET', '/api/bot/plan?execution_mode=starter&total_cycle_minutes=10', {
    token: (await ready()).token,
  }),
);
exercise('GET /api/bot/plan', 400, 'STARTER_REQUIRES_CYCLE_MINUTES', async () =>
  inMain('GET', '/api/bot/plan?execution_mode=starter', { token: (await customer()).token }),
);

// configuration
exercise('PUT /api/bot/post', 200, 'a public post', async () =>
  inMain('PUT', '/api/bot/post', {
    token: (await customer()).token,
    body: { post_link: 'https://t.me/stagger_demo/42' },
  }),
);
exercise('PUT /api/bot/post', 400, 'INVALID_POST_LINK', async () =>
  inMain('PUT', '/api/bot/post', {
    token: (await customer()).token,
    body: { post_link: 'https://t.me/+invite' },
  }),
);
exercise('GET /api/bot/post', 200, 'none set', async () =>
  inMain('GET', '/api/bot/post', { token: (await customer()).token }),
);
exercise('GET /api/bot/post', 200, 'set', async () =>
  inMain('GET', '/api/bot/post', { token: (await ready()).token }),
);
exercise('PUT /api/bot/groups', 200, 'with a repeated line', async () =>
  inMain('PUT', '/api/bot/groups', {
    token: (await customer()).token,
    body: { groups: ['-1001234567890', '@my_group', '', '# a comment', '@My_Group', 't.me/other_group/42'] },
  }),
);
exercise('PUT /api/bot/groups', 400, 'INVALID_GROUP_TARGETS', async () =>
  inMain('PUT', '/api/bot/groups', { token: (await customer()).token, body: { groups: ['-1001', '12345'] } }),
);
exercise('PUT /api/bot/groups', 400, 'TOO_MANY_GROUPS', async () =>
  inMain('PUT', '/api/bot/groups', {
    token: (await customer()).token,
    body: { groups: Array.from({ length: MAX_GROUP_TARGETS + 1 }, (_, i) => `-100${2_000_000_000 + i}`) },
  }),
);
exercise('GET /api/bot/groups', 200, 'with the facts a preflight read', async () => {
  const c = await ready();
  expect((await main.request('GET', '/api/bot/preflight', { token: c.token })).statusCode).toBe(200);
  return inMain('GET', '/api/bot/groups', { token: c.token });
});
exercise('PUT /api/bot/settings', 200, 'two settings', async () =>
  inMain('PUT', '/api/bot/settings', {
    token: (await customer()).token,
    body: { delay_between_posts: 2.5, silent: true },
  }),
);
exercise('GET /api/bot/settings', 200, 'the defaults', async () =>
  inMain('GET', '/api/bot/settings', { token: (await customer()).token }),
);
exercise('GET /api/bot/posts', 200, 'no history yet', async () =>
  inMain('GET', '/api/bot/posts?limit=10', { token: (await customer()).token }),
);
exercise('GET /api/bot/preflight', 200, 'sandbox sessions', async () =>
  inMain('GET', '/api/bot/preflight', { token: (await ready()).token }),
);
exercise('GET /api/bot/preflight', 200, 'nothing to check', async () =>
  inMain('GET', '/api/bot/preflight', { token: (await customer()).token }),
);
exercise(
  'GET /api/bot/preflight',
  409,
  'SESSION_IN_USE: a running bot’s real sessions in a cluster',
  async () => {
    const c = await readyCustomer(pg!, { sessions: 0 });
    await pg!.store.sessions.create({ ownerUserId: c.id, label: 'real', driver: 'mtcute' });
    await pg!.store.bots.start(c.botId, 'enterprise', null);
    return call(pg!.app, 'GET', '/api/bot/preflight', { token: c.token });
  },
  true,
);

// the live runtime: a cycle's events, and the answers about it
async function liveCustomer() {
  const c = await readyCustomer(live, { sessions: 2 });
  await live.store.bots.setGroups(c.botId, ['-1001000000001', '-1001000000002']);
  await live.store.bots.setSettings(c.botId, { delayBetweenPosts: 1, minGroupGapSeconds: 0 });
  return c;
}
let liveBot: { token: string; botId: string } | undefined;

/** An open event stream of `token`, read as text. */
function openStream(
  token: string,
): Promise<{ response: IncomingMessage; text: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const request = get(
      `${liveUrl}/api/bot/events`,
      { headers: { authorization: `Bearer ${token}` } },
      (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        resolve({ response, text: () => text, close: () => request.destroy() });
      },
    );
    request.on('error', reject);
  });
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) {
    await liveClock.runUntil(liveClock.now() + 500);
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!done()) throw new Error(`never happened: ${what}`);
}

exercise('GET /api/bot/events', 200, 'a cycle from start to stop', async () => {
  liveBot = await liveCustomer();
  const stream = await openStream(liveBot.token);
  expect((await live.request('POST', '/api/bot/start', { token: liveBot.token, body: {} })).statusCode).toBe(
    200,
  );
  await until(() => stream.text().includes('event: cycle.finished'), 'a finished cycle');
  expect((await live.request('POST', '/api/bot/stop', { token: liveBot.token })).statusCode).toBe(200);
  await until(() => stream.text().includes('event: bot.stopped'), 'the stop event');
  stream.close();
  // A whole cycle went by: its start, each post, its end, and the stop.
  const types = parseEventStream(stream.text()).map((e) => e.event);
  expect(types).toEqual(
    expect.arrayContaining(['bot.started', 'cycle.started', 'post.sent', 'cycle.finished', 'bot.stopped']),
  );
  return {
    status: stream.response.statusCode ?? 0,
    headers: stream.response.headers,
    text: stream.text(),
    raw: undefined,
  };
});
exercise('GET /api/bot/events', 429, 'TOO_MANY_STREAMS', async () => {
  const c = await liveCustomer();
  const first = await openStream(c.token);
  try {
    return await call(live.app, 'GET', '/api/bot/events', { token: c.token });
  } finally {
    first.close();
  }
});
exercise('GET /api/bot/status', 200, 'after a cycle', async () =>
  call(live.app, 'GET', '/api/bot/status', { token: liveBot!.token }),
);
exercise('GET /api/bot/posts', 200, 'a cycle’s posts', async () =>
  call(live.app, 'GET', '/api/bot/posts', { token: liveBot!.token }),
);
exercise('GET /api/bot/groups', 200, 'with the facts the planning read', async () =>
  call(live.app, 'GET', '/api/bot/groups', { token: liveBot!.token }),
);
exercise('GET /api/bot/plan', 200, 'after a cycle', async () =>
  call(live.app, 'GET', '/api/bot/plan', { token: liveBot!.token }),
);
exercise('GET /api/bot/cycles/{number}', 200, 'a cycle as it ran', async () =>
  call(live.app, 'GET', '/api/bot/cycles/1', { token: liveBot!.token }),
);
exercise('GET /api/bot/cycles/{number}', 404, 'NOT_FOUND', async () =>
  call(live.app, 'GET', '/api/bot/cycles/999', { token: liveBot!.token }),
);

// sessions
exercise('GET /api/sessions', 200, 'sandbox and real', async () => {
  const c = await ready();
  await importedSession(c.token);
  return inMain('GET', '/api/sessions', { token: c.token });
});
exercise('DELETE /api/sessions/{id}', 204, 'an own session', async () => {
  const c = await ready();
  const [s] = await main.store.sessions.listByOwner(c.id);
  return inMain('DELETE', `/api/sessions/${s!.id}`, { token: c.token });
});
exercise('DELETE /api/sessions/{id}', 404, 'someone else’s', async () => {
  const other = await ready();
  const [s] = await main.store.sessions.listByOwner(other.id);
  return inMain('DELETE', `/api/sessions/${s!.id}`, { token: (await customer()).token });
});
exercise('POST /api/sessions/sandbox', 201, 'two', async () =>
  inMain('POST', '/api/sessions/sandbox', { token: (await customer()).token, body: { count: 2 } }),
);
exercise('POST /api/sessions/sandbox', 409, 'SESSION_LIMIT', async () =>
  inMain('POST', '/api/sessions/sandbox', {
    token: (await customer({ name: 'one', maxSessions: 1 })).token,
    body: { count: 2 },
  }),
);

// login
const login = (token: string, body: object = { phone: LOGIN_PHONE }) =>
  inMain('POST', '/api/sessions/login', { token, body });
exercise('POST /api/sessions/login', 201, 'a code is sent', async () =>
  login((await customer()).token, { phone: LOGIN_PHONE, label: 'main account' }),
);
exercise('POST /api/sessions/login', 400, 'LOGIN_PHONE_INVALID', async () => {
  telegram.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_INVALID'));
  return login((await customer()).token);
});
exercise('POST /api/sessions/login', 403, 'LOGIN_PHONE_BANNED', async () => {
  telegram.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_BANNED'));
  return login((await customer()).token);
});
exercise('POST /api/sessions/login', 409, 'SESSION_LIMIT', async () =>
  login((await customer({ name: 'none', maxSessions: 0 })).token),
);
exercise('POST /api/sessions/login', 429, 'LOGIN_FLOOD_WAIT', async () => {
  telegram.on('auth.sendCode', rpcError(420, 'FLOOD_WAIT_1800'));
  return login((await customer()).token);
});
exercise('POST /api/sessions/login', 501, 'TELEGRAM_UNAVAILABLE', async () =>
  call(bare.app, 'POST', '/api/sessions/login', {
    token: (await bare.user()).token,
    body: { phone: LOGIN_PHONE },
  }),
);
exercise('POST /api/sessions/login', 502, 'LOGIN_FAILED', async () => {
  telegram.on('auth.sendCode', rpcError(400, 'SOMETHING_TELEGRAM_NEVER_SAID'));
  return login((await customer()).token);
});
exercise('POST /api/sessions/login', 503, 'LOGIN_TOO_MANY_PENDING', async () =>
  call(crowded.app, 'POST', '/api/sessions/login', {
    token: (await crowded.user()).token,
    body: { phone: LOGIN_PHONE },
  }),
);
exercise('POST /api/sessions/login', 504, 'LOGIN_TIMEOUT', async () => {
  const { token } = await customer();
  return timedOut('auth.sendCode', () => login(token));
});

const code = (token: string, loginId: string, value = LOGIN_CODE) =>
  inMain('POST', `/api/sessions/login/${loginId}/code`, { token, body: { code: value } });
exercise('POST /api/sessions/login/{loginId}/code', 200, 'done', async () => {
  const { token } = await customer();
  return code(token, await startLogin(token));
});
exercise('POST /api/sessions/login/{loginId}/code', 200, 'the password is next', async () => {
  answerLogin(telegram, { password: true });
  const { token } = await customer();
  return code(token, await startLogin(token));
});
exercise('POST /api/sessions/login/{loginId}/code', 400, 'LOGIN_CODE_INVALID', async () => {
  const { token } = await customer();
  return code(token, await startLogin(token), '99999');
});
exercise('POST /api/sessions/login/{loginId}/code', 404, 'LOGIN_NOT_FOUND', async () =>
  code((await customer()).token, 'no-such-login'),
);
exercise('POST /api/sessions/login/{loginId}/code', 409, 'LOGIN_NOT_WAITING_FOR_CODE', async () => {
  const { token } = await customer();
  return code(token, await loginAtPassword(token));
});
exercise('POST /api/sessions/login/{loginId}/code', 429, 'LOGIN_FLOOD_WAIT', async () => {
  const { token } = await customer();
  const loginId = await startLogin(token);
  telegram.on('auth.signIn', rpcError(420, 'FLOOD_WAIT_60'));
  return code(token, loginId);
});
exercise('POST /api/sessions/login/{loginId}/code', 502, 'LOGIN_FAILED', async () => {
  const { token } = await customer();
  const loginId = await startLogin(token);
  telegram.on('auth.signIn', rpcError(400, 'SOMETHING_TELEGRAM_NEVER_SAID'));
  return code(token, loginId);
});
exercise('POST /api/sessions/login/{loginId}/code', 504, 'LOGIN_TIMEOUT', async () => {
  const { token } = await customer();
  const loginId = await startLogin(token);
  return timedOut('auth.signIn', () => code(token, loginId));
});

const password = (token: string, loginId: string, value = LOGIN_PASSWORD) =>
  inMain('POST', `/api/sessions/login/${loginId}/password`, { token, body: { password: value } });
exercise('POST /api/sessions/login/{loginId}/password', 200, 'done', async () => {
  const { token } = await customer();
  return password(token, await loginAtPassword(token));
});
exercise('POST /api/sessions/login/{loginId}/password', 400, 'LOGIN_PASSWORD_INVALID', async () => {
  const { token } = await customer();
  return password(token, await loginAtPassword(token), 'Tr0ub4dor&3');
});
exercise('POST /api/sessions/login/{loginId}/password', 404, 'LOGIN_NOT_FOUND', async () =>
  password((await customer()).token, 'no-such-login'),
);
exercise('POST /api/sessions/login/{loginId}/password', 409, 'LOGIN_NOT_WAITING_FOR_PASSWORD', async () => {
  const { token } = await customer();
  return password(token, await startLogin(token));
});
exercise('POST /api/sessions/login/{loginId}/password', 429, 'LOGIN_FLOOD_WAIT', async () => {
  const { token } = await customer();
  const loginId = await loginAtPassword(token);
  telegram.on('auth.checkPassword', rpcError(420, 'FLOOD_WAIT_60'));
  return password(token, loginId);
});
exercise('POST /api/sessions/login/{loginId}/password', 502, 'LOGIN_FAILED', async () => {
  const { token } = await customer();
  const loginId = await loginAtPassword(token);
  telegram.on('auth.checkPassword', rpcError(400, 'SOMETHING_TELEGRAM_NEVER_SAID'));
  return password(token, loginId);
});
exercise('POST /api/sessions/login/{loginId}/password', 504, 'LOGIN_TIMEOUT', async () => {
  const { token } = await customer();
  const loginId = await loginAtPassword(token);
  return timedOut('auth.checkPassword', () => password(token, loginId));
});

// import
exercise('POST /api/sessions/import', 201, 'a session string as JSON', async () =>
  inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: { session: telethonString(2, [149, 154, 167, 51], 443, authKey()), label: 'imported' },
  }),
);
exercise('POST /api/sessions/import', 201, 'a Telethon file as multipart', async () => {
  const form = await multipart(
    { label: 'from telethon', api_id: '' },
    { name: 'account.session', bytes: telethonFile() },
  );
  return inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: form.body,
    headers: form.headers,
  });
});
exercise('POST /api/sessions/import', 400, 'SESSION_IMPORT_INVALID', async () =>
  inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: { session: 'not a session' },
  }),
);
exercise('POST /api/sessions/import', 400, 'VALIDATION_FAILED: a bad form field', async () => {
  const form = await multipart({ session: 'x', api_id: 'seven' });
  return inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: form.body,
    headers: form.headers,
  });
});
exercise('POST /api/sessions/import', 400, 'VALIDATION_FAILED: plain text', async () =>
  inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: 'a session string',
    headers: { 'content-type': 'text/plain' },
  }),
);
exercise('POST /api/sessions/import', 400, 'INVALID_MULTIPART', async () =>
  inMain('POST', '/api/sessions/import', {
    token: (await customer()).token,
    body: 'no parts',
    headers: { 'content-type': 'multipart/form-data' },
  }),
);
exercise('POST /api/sessions/import', 409, 'SESSION_DUPLICATE', async () => {
  const { token } = await customer();
  const session = telethonString(2, [149, 154, 167, 51], 443, authKey());
  await main.request('POST', '/api/sessions/import', { token, body: { session } });
  return inMain('POST', '/api/sessions/import', { token, body: { session } });
});

// check
exercise('POST /api/sessions/{id}/check', 200, 'a live real account', async () => {
  const { token } = await customer();
  return inMain('POST', `/api/sessions/${await importedSession(token)}/check`, { token });
});
exercise('POST /api/sessions/{id}/check', 200, 'a dead real account', async () => {
  telegram.on('users.getUsers', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
  const { token } = await customer();
  return inMain('POST', `/api/sessions/${await importedSession(token)}/check`, { token });
});
exercise('POST /api/sessions/{id}/check', 200, 'a sandbox account', async () => {
  const c = await ready();
  const [s] = await main.store.sessions.listByOwner(c.id);
  return inMain('POST', `/api/sessions/${s!.id}/check`, { token: c.token });
});
exercise('POST /api/sessions/{id}/check', 404, 'someone else’s', async () => {
  const other = await ready();
  const [s] = await main.store.sessions.listByOwner(other.id);
  return inMain('POST', `/api/sessions/${s!.id}/check`, { token: (await customer()).token });
});
exercise('POST /api/sessions/{id}/check', 409, 'SESSION_IN_USE', async () => {
  const c = await ready({ sessions: 0 });
  const id = await importedSession(c.token);
  await main.store.bots.start(c.botId, 'enterprise', null);
  return inMain('POST', `/api/sessions/${id}/check`, { token: c.token });
});
exercise('POST /api/sessions/{id}/check', 501, 'TELEGRAM_UNAVAILABLE', async () => {
  const c = await bare.user();
  const s = await bare.store.sessions.create({
    ownerUserId: c.id,
    label: 'real',
    driver: 'mtcute',
    authString: telethonString(2, [149, 154, 167, 51], 443, authKey()),
  });
  return call(bare.app, 'POST', `/api/sessions/${s.id}/check`, { token: c.token });
});

// operators
const asAdmin = (method: InjectOptions['method'], url: string, body?: unknown) =>
  inMain(method, url, { token: admin.token, ...(body === undefined ? {} : { body }) });
exercise('GET /api/admin/users', 200, 'every user', () => asAdmin('GET', '/api/admin/users'));
exercise('POST /api/admin/users', 201, 'a customer', () =>
  asAdmin('POST', '/api/admin/users', { name: 'Ada', plan_type: 'STARTER', max_sessions: 3 }),
);
exercise('GET /api/admin/users/{id}', 200, 'with sessions', async () =>
  asAdmin('GET', `/api/admin/users/${(await ready()).id}`),
);
exercise('GET /api/admin/users/{id}', 404, 'no such user', () =>
  asAdmin('GET', '/api/admin/users/9000000000'),
);
exercise('PATCH /api/admin/users/{id}', 200, 'suspended', async () =>
  asAdmin('PATCH', `/api/admin/users/${(await customer()).id}`, { plan_status: 'suspended' }),
);
exercise('PATCH /api/admin/users/{id}', 404, 'no such user', () =>
  asAdmin('PATCH', '/api/admin/users/9000000000', { name: 'x' }),
);
exercise('DELETE /api/admin/users/{id}', 204, 'a customer', async () =>
  asAdmin('DELETE', `/api/admin/users/${(await ready()).id}`),
);
exercise('DELETE /api/admin/users/{id}', 404, 'no such user', () =>
  asAdmin('DELETE', '/api/admin/users/9000000000'),
);
exercise('DELETE /api/admin/users/{id}', 409, 'yourself', () =>
  asAdmin('DELETE', `/api/admin/users/${admin.id}`),
);
exercise('GET /api/admin/users/{id}/tokens', 200, 'with a revoked one', async () => {
  const c = await customer();
  await main.request('POST', '/api/me/tokens/rotate', { token: c.token });
  return asAdmin('GET', `/api/admin/users/${c.id}/tokens`);
});
exercise('GET /api/admin/users/{id}/tokens', 404, 'no such user', () =>
  asAdmin('GET', '/api/admin/users/9000000000/tokens'),
);
exercise('POST /api/admin/users/{id}/tokens', 201, 'a new token', async () =>
  asAdmin('POST', `/api/admin/users/${(await customer()).id}/tokens`),
);
exercise('POST /api/admin/users/{id}/tokens', 404, 'no such user', () =>
  asAdmin('POST', '/api/admin/users/9000000000/tokens'),
);
exercise('DELETE /api/admin/tokens/{id}', 204, 'revoked', async () => {
  const c = await customer();
  const [token] = await main.store.users.listTokens(c.id);
  return asAdmin('DELETE', `/api/admin/tokens/${token!.id}`);
});
exercise('DELETE /api/admin/tokens/{id}', 404, 'no such token', () =>
  asAdmin('DELETE', '/api/admin/tokens/9000000000'),
);
exercise('GET /api/admin/sessions', 200, 'customers’ and the pool’s', async () => {
  await ready();
  await main.store.sessions.create({ ownerUserId: null, label: 'pool', driver: 'sandbox' });
  return asAdmin('GET', '/api/admin/sessions');
});
exercise('POST /api/admin/sessions', 201, 'pool sandboxes', () =>
  asAdmin('POST', '/api/admin/sessions', { driver: 'sandbox', count: 2 }),
);
async function poolSession(): Promise<string> {
  return (await main.store.sessions.create({ ownerUserId: null, label: 'pool', driver: 'sandbox' })).id;
}
async function ownSession(): Promise<string> {
  const c = await ready();
  return (await main.store.sessions.listByOwner(c.id))[0]!.id;
}
exercise('POST /api/admin/sessions/{id}/assign', 200, 'to a customer', async () =>
  asAdmin('POST', `/api/admin/sessions/${await poolSession()}/assign`, { userId: (await customer()).id }),
);
exercise('POST /api/admin/sessions/{id}/assign', 404, 'no such session', async () =>
  asAdmin('POST', '/api/admin/sessions/9000000000/assign', { userId: admin.id }),
);
exercise('POST /api/admin/sessions/{id}/assign', 409, 'SESSION_NOT_POOLED', async () =>
  asAdmin('POST', `/api/admin/sessions/${await ownSession()}/assign`, { userId: admin.id }),
);
exercise('POST /api/admin/sessions/{id}/unassign', 200, 'back to the pool', async () => {
  const id = await poolSession();
  await main.store.sessions.assign(id, (await customer()).id);
  return asAdmin('POST', `/api/admin/sessions/${id}/unassign`);
});
exercise('POST /api/admin/sessions/{id}/unassign', 404, 'no such session', () =>
  asAdmin('POST', '/api/admin/sessions/9000000000/unassign'),
);
exercise('POST /api/admin/sessions/{id}/unassign', 409, 'SESSION_NOT_POOLED', async () =>
  asAdmin('POST', `/api/admin/sessions/${await ownSession()}/unassign`),
);
exercise('GET /api/admin/bots', 200, 'running and stopped', async () => {
  const c = await ready();
  await main.request('POST', '/api/bot/start', { token: c.token });
  return asAdmin('GET', '/api/admin/bots');
});
exercise(
  'GET /api/admin/cluster',
  200,
  'a worker on PostgreSQL',
  () => call(pg!.app, 'GET', '/api/admin/cluster', { token: pgAdmin.token }),
  true,
);
exercise('GET /api/admin/cluster', 409, 'CLUSTER_NOT_AVAILABLE', () => asAdmin('GET', '/api/admin/cluster'));
exercise('GET /api/admin/installation', 200, 'one process', () => asAdmin('GET', '/api/admin/installation'));

// ---- the cases every operation gets from what the document says of it -----------------------------------------

/** The operation's path with its parameters filled in (`value` for each). */
const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, value);
const ID = '1';

for (const op of operations) {
  const method = op.method.toUpperCase() as InjectOptions['method'];
  const url = fill(op.path, ID);
  const codes = (status: string) => documentedCodes(op, status);
  const jsonBody = jsonMedia(op.operation.requestBody?.content) !== undefined;

  exercise(op.key, 429, 'RATE_LIMITED: the address is over its limit', () => call(limited.app, method, url));
  if (codes('401').includes('UNAUTHORIZED'))
    exercise(op.key, 401, 'UNAUTHORIZED: no token', () => inMain(method, url));
  if (codes('403').includes('FORBIDDEN'))
    exercise(op.key, 403, 'FORBIDDEN: a customer', async () =>
      inMain(method, url, { token: (await customer()).token }),
    );
  if (op.operation.responses['500'])
    exercise(op.key, 500, 'INTERNAL: the database is closed', () =>
      call(broken.app, method, url, { token: brokenToken }),
    );
  if (codes('400').includes('VALIDATION_FAILED')) {
    if (op.operation.parameters?.some((p) => p.in === 'path'))
      exercise(op.key, 400, 'VALIDATION_FAILED: a bad path parameter', () =>
        inMain(method, fill(op.path, 'x'.repeat(65)), { token: admin.token }),
      );
    else if (op.operation.parameters?.some((p) => p.in === 'query'))
      exercise(op.key, 400, 'VALIDATION_FAILED: an unknown query parameter', () =>
        inMain(method, `${url}?bogus=1`, { token: admin.token }),
      );
    else if (jsonBody)
      exercise(op.key, 400, 'VALIDATION_FAILED: an unknown field', () =>
        inMain(method, url, { token: admin.token, body: { bogus: 1 } }),
      );
  }
  if (codes('400').includes('INVALID_JSON'))
    exercise(op.key, 400, 'INVALID_JSON', () =>
      inMain(method, url, { token: admin.token, body: '{"cut": ' }),
    );
  if (codes('413').includes('PAYLOAD_TOO_LARGE'))
    exercise(op.key, 413, 'PAYLOAD_TOO_LARGE', () =>
      inMain(method, url, { token: admin.token, body: JSON.stringify({ text: 'a'.repeat(1024 * 1024) }) }),
    );
  if (codes('415').includes('UNSUPPORTED_MEDIA_TYPE'))
    exercise(op.key, 415, 'UNSUPPORTED_MEDIA_TYPE', () =>
      inMain(method, url, {
        token: admin.token,
        body: '<a/>',
        headers: { 'content-type': 'application/xml' },
      }),
    );
}

// ---- (b) the real answers --------------------------------------------------------------------------------------

function operationOf(key: string): DocOperation {
  const op = operations.find((o) => o.key === key);
  if (!op) throw new Error(`${key} is not in the document`);
  return op;
}

const closedSchemas = new WeakMap<Schema, Schema>();
/** The schema refusing undeclared fields (one compiled copy per schema). */
function closedOf(schema: Schema): Schema {
  let closed = closedSchemas.get(schema);
  if (!closed) closedSchemas.set(schema, (closed = closedSchema(schema) as Schema));
  return closed;
}

function checkAnswer(c: Case, answer: Exchange): void {
  const op = operationOf(c.op);
  const summary = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, summary).toBe(c.status);
  const response = op.operation.responses[String(answer.status)];
  expect(response, `status ${answer.status} is documented`).toBeDefined();
  if (answer.status === 204) {
    expect(answer.text).toBe('');
    expect(response!.content).toBeUndefined();
    return;
  }
  const type = String(answer.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  const media = response!.content?.[type];
  expect(media?.schema, `${type} is documented for ${answer.status}`).toBeDefined();
  const schema = media!.schema!;
  if (type === 'text/event-stream') {
    const events = parseEventStream(answer.text);
    expect(events.length).toBeGreaterThan(0);
    const closed = closedOf(schema);
    for (const event of events) {
      const data = JSON.parse(event.data) as { type: string };
      expect(event.event).toBe(data.type);
      expect(checker.problems(closed, data), event.data).toEqual([]);
    }
    return;
  }
  expect(type).toBe('application/json');
  const body: unknown = JSON.parse(answer.text);
  expect(checker.problems(schema, body), answer.text.slice(0, 2000)).toEqual([]);
  // What the route returned, before its schema serialized it: nothing undeclared, so nothing was dropped.
  expect(answer.raw, 'the route’s payload was seen before serialization').toBeDefined();
  expect(checker.problems(closedOf(schema), answer.raw), JSON.stringify(answer.raw).slice(0, 2000)).toEqual(
    [],
  );
}

describe('real answers match the documented schema of their status', () => {
  beforeEach(() => {
    telegram = new OfflineTelegram();
    answerLogin(telegram);
    telegram.on('users.getUsers', [LOGIN_ACCOUNT]);
    telegram.on('help.getAppConfig', {
      _: 'help.appConfig',
      hash: 1,
      config: { _: 'jsonObject', value: [] },
    });
  });

  afterEach(async () => {
    // Clients the gateway keeps belong to this case's harness: close them with it.
    await Promise.all(
      (await main.store.sessions.listAll())
        .filter((s) => s.driver === 'mtcute')
        .map((s) => mainGateway().release(s.id)),
    );
    await telegram.destroyAll();
  });

  const runnable = cases.filter((c) => withPostgres || !c.postgres);
  it.each(runnable.map((c) => ({ ...c, title: `${c.op} → ${c.status} (${c.name})` })))(
    '$title',
    async (c) => {
      checkAnswer(c, await c.send());
    },
  );

  it('every operation, and every status it documents, has an exercised case', () => {
    const exercised = new Set(cases.map((c) => `${c.op} ${c.status}`));
    const missing = operations.flatMap((op) =>
      Object.keys(op.operation.responses)
        .map((status) => `${op.key} ${status}`)
        .filter((key) => !exercised.has(key)),
    );
    expect(missing).toEqual([]);
    // …and no case names an operation or a status the document does not have
    const unknown = cases.filter((c) => !operationOf(c.op).operation.responses[String(c.status)]);
    expect(unknown.map((c) => `${c.op} ${c.status}`)).toEqual([]);
  });
});
