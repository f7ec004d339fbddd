/**
 * Real Telegram sessions through the HTTP API, offline: the app runs with real `SessionServices` (LoginManager,
 * checkSession) and a real `MtcuteGateway`, all on clients of the network-middleware harness (real mtcute request
 * path, a stub instead of Telegram). Login, import of every format, the session check and the preflight — with
 * the status codes of src/http/errors.ts, nothing stored on failure, and no secret in any response or log.
 */
import { readStringSession } from '@mtcute/core/utils.js';
import type { tl } from '@mtcute/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../src/config.js';
import { StaggerError } from '../../src/core/errors.js';
import type { AppDeps } from '../../src/http/deps.js';
import { statusOf } from '../../src/http/errors.js';
import { createLogger } from '../../src/logger.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import { Service, storedMtcuteGateway } from '../../src/service.js';
import { GatewayRouter } from '../../src/telegram/gateway.js';
import type { ClientParams } from '../../src/telegram/mtcute/client-factory.js';
import { LoginErrorCode } from '../../src/telegram/mtcute/login-errors.js';
import { LoginManager } from '../../src/telegram/mtcute/login.js';
import type { MtcuteGateway } from '../../src/telegram/mtcute/mtcute-gateway.js';
import { checkSession } from '../../src/telegram/mtcute/session-check.js';
import { OfflineTelegram, PASS_THROUGH, rpcError, transportOf } from '../support/mtcute/offline-telegram.js';
import {
  API_HASH,
  API_ID,
  authKey,
  channel,
  channelChatId,
  channelFull,
  channelMessages,
  chats,
  dialogs,
  frozenAppConfig,
  gramjsString,
  message,
  mtcuteString,
  pyrogramString,
  resolvedPeer,
  telethonSessionFile,
  telethonString,
  urlsafeBase64,
  user,
} from '../support/mtcute/fixtures.js';
import {
  answerLogin,
  LOGIN_ACCOUNT,
  LOGIN_CODE,
  LOGIN_PASSWORD,
  LOGIN_PHONE,
  paymentRequired,
} from '../support/mtcute/login-answers.js';
import { SandboxGateway } from '../../src/telegram/sandbox/sandbox-gateway.js';
import { testApi, type TestApi } from '../support/api.js';

const API_ENV = { TELEGRAM_API_ID: String(API_ID), TELEGRAM_API_HASH: API_HASH };
const PHONE = LOGIN_PHONE;
const CODE = LOGIN_CODE;
const PASSWORD = LOGIN_PASSWORD;
const LOGIN_TTL_MS = 10 * 60_000;
const ME = LOGIN_ACCOUNT;

// ---- the app: real session services and a real mtcute gateway on the harness ----------------------------------

/** The harness of the current test (a fresh one per test; the app's clients are made through it). */
let telegram: OfflineTelegram;
/** The LoginManager's clock: pending logins expire and calls to Telegram time out on it. */
const loginClock = new VirtualClock();
const LOGIN_CALL_TIMEOUT_MS = 30_000;

interface TelegramApp {
  api: TestApi;
  gateway: () => MtcuteGateway;
  login: () => LoginManager;
}

/** An API whose Telegram parts are wired as `Service` wires them, on the harness. */
async function telegramApp(
  env: Record<string, string> = API_ENV,
  deps: Partial<AppDeps> = {},
): Promise<TelegramApp> {
  let login: LoginManager | undefined;
  let gateway: MtcuteGateway | undefined;
  const createClient = (params: ClientParams) => telegram.createClient(params);
  const api = await testApi({
    env,
    deps,
    depsFrom: ({ store, clock, config }) => {
      login = new LoginManager({
        createClient,
        clock: loginClock,
        ttlMs: LOGIN_TTL_MS,
        callTimeoutMs: LOGIN_CALL_TIMEOUT_MS,
        sweepIntervalMs: 0,
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
  return { api, gateway: () => gateway!, login: () => login! };
}

/** Telegram's side of a session check: the account, and an app config without a freeze. */
function answerCheck(t: OfflineTelegram, me: tl.RawUser = ME): void {
  t.on('users.getUsers', [me]);
  t.on('help.getAppConfig', { _: 'help.appConfig', hash: 1, config: { _: 'jsonObject', value: [] } });
}

function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (secret.length >= 8) expect(text, 'a secret leaked').not.toContain(secret.slice(0, 24));
  }
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagger-tg-api-'));
  dirs.push(dir);
  return dir;
}

/** A multipart body as a browser would send it (real FormData serialisation). */
async function multipart(
  fields: Record<string, string>,
  file?: { name: string; bytes: Uint8Array },
): Promise<{ body: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type')! },
  };
}

let app: TelegramApp;
let api: TestApi;

beforeAll(async () => {
  telegram = new OfflineTelegram();
  app = await telegramApp();
  api = app.api;
});

beforeEach(() => {
  telegram = new OfflineTelegram();
  answerLogin(telegram);
  answerCheck(telegram);
});

afterEach(async () => {
  // Clients the gateway keeps belong to this test's harness: close them with it.
  await Promise.all((await api.store.sessions.listAll()).map((s) => app.gateway().release(s.id)));
  await telegram.destroyAll();
});

afterAll(async () => {
  await api.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function customer(maxSessions = 3) {
  return api.user({ name: 'customer', maxSessions, planType: 'ENTERPRISE' });
}

/** Telegram receives `method` and never answers it; resolves when the request has gone out. */
function unanswered(method: string): Promise<void> {
  return new Promise((reached) =>
    telegram.on(method, () => {
      reached();
      return PASS_THROUGH;
    }),
  );
}

async function startLogin(token: string, body: object = { phone: PHONE }) {
  return api.request('POST', '/api/sessions/login', { token, body });
}

// ---- login ---------------------------------------------------------------------------------------------------

describe('POST /api/sessions/login', () => {
  it('phone → code → done: stored encrypted with driver mtcute, listed with its account and never its secret', async () => {
    const c = await customer();
    const logsBefore = api.logs.length;
    const started = await startLogin(c.token, { phone: PHONE, label: 'main account' });
    expect(started.statusCode).toBe(201);
    expect(started.json()).toEqual({
      loginId: expect.any(String),
      codeType: 'app',
      expiresAt: expect.any(String),
    });
    const { loginId } = started.json();
    const sendCode = telegram.calls('auth.sendCode')[0]!;
    expect(sendCode.phoneNumber).toBe('447700900123');
    // the server's TELEGRAM_API_ID/HASH are the default
    expect(sendCode.apiId).toBe(API_ID);
    expect(sendCode.apiHash).toBe(API_HASH);

    const done = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({
      status: 'done',
      session: expect.objectContaining({
        id: expect.any(String),
        label: 'main account',
        driver: 'mtcute',
        state: 'active',
        account: { id: '5000000001', username: 'ada', name: 'Ada Lovelace' },
      }),
    });
    const sessionId = done.json().session.id as string;
    // the login's client is closed once the session string is exported
    expect(telegram.isDestroyed(0)).toBe(true);

    // at rest: encrypted; through credentials(): the session string of the logged-in account and the API pair
    const credentials = (await api.store.sessions.credentials(sessionId))!;
    expect(readStringSession(credentials.authString).self?.userId).toBe(5_000_000_001);
    expect(credentials).toMatchObject({ apiId: API_ID, apiHash: API_HASH });
    const raw = await api.store.sessions.rawSecretColumns(sessionId);
    expect(raw.auth).toMatch(/^v1:/);
    expect(raw.auth).not.toContain(credentials.authString.slice(0, 24));
    expect(raw.apiHash).not.toContain(API_HASH);
    expect(await api.store.sessions.get(sessionId)).toMatchObject({
      driver: 'mtcute',
      ownerUserId: c.id,
      tgUserId: '5000000001',
      tgUsername: 'ada',
      tgName: 'Ada Lovelace',
      hasCredentials: true,
    });

    const listed = await api.request('GET', '/api/sessions', { token: c.token });
    expect(listed.json().sessions).toEqual([done.json().session]);
    const secrets = [credentials.authString, API_HASH, raw.auth!.slice(3)];
    expectNoSecret(started.body + done.body + listed.body, secrets);
    expectNoSecret(api.logs.slice(logsBefore).join(''), [...secrets, 'hash-abc']);
    expect(api.logs.slice(logsBefore).join('')).not.toContain('7700900123');

    // the login is over
    const again = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('LOGIN_NOT_FOUND');
  });

  it('code → {passwordRequired: true} → password → done', async () => {
    answerLogin(telegram, { password: true });
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    const code = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(code.statusCode).toBe(200);
    expect(code.json()).toEqual({ passwordRequired: true, hint: 'pet name' });
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);

    // the code again: this login now waits for the password
    const twice = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'LOGIN_NOT_WAITING_FOR_CODE']);

    const done = await api.request('POST', `/api/sessions/login/${loginId}/password`, {
      token: c.token,
      body: { password: PASSWORD },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({
      status: 'done',
      session: { driver: 'mtcute', label: '@ada', account: { id: '5000000001' } },
    });
    expect(telegram.count('auth.checkPassword')).toBe(1);
    expectNoSecret(done.body, [PASSWORD]);
    expect(await api.store.sessions.listByOwner(c.id)).toHaveLength(1);
  });

  it('a wrong code or password keeps the login (400); the right one then works', async () => {
    answerLogin(telegram, { password: true });
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    const wrongCode = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: '99999' },
    });
    expect(wrongCode.statusCode).toBe(400);
    expect(wrongCode.json().error).toMatchObject({ code: 'LOGIN_CODE_INVALID', message: expect.any(String) });
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);

    await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    const wrongPassword = await api.request('POST', `/api/sessions/login/${loginId}/password`, {
      token: c.token,
      body: { password: 'Tr0ub4dor&3' },
    });
    expect(wrongPassword.statusCode).toBe(400);
    expect(wrongPassword.json().error.code).toBe('LOGIN_PASSWORD_INVALID');
    expectNoSecret(wrongPassword.body, ['Tr0ub4dor&3', PASSWORD]);
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);

    const done = await api.request('POST', `/api/sessions/login/${loginId}/password`, {
      token: c.token,
      body: { password: PASSWORD },
    });
    expect(done.json().status).toBe('done');
  });

  const failures: [
    string,
    (t: OfflineTelegram) => void,
    'start' | 'code' | 'password',
    number,
    string,
    Record<string, unknown>?,
  ][] = [
    [
      'an expired code',
      (t) => t.on('auth.signIn', rpcError(400, 'PHONE_CODE_EXPIRED')),
      'code',
      400,
      'LOGIN_CODE_EXPIRED',
    ],
    [
      'a banned number',
      (t) => t.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_BANNED')),
      'start',
      403,
      'LOGIN_PHONE_BANNED',
    ],
    [
      'a flood wait on sending the code',
      (t) => t.on('auth.sendCode', rpcError(420, 'FLOOD_WAIT_1800')),
      'start',
      429,
      'LOGIN_FLOOD_WAIT',
      { retryAfterSeconds: 1800, loginUsable: false },
    ],
    [
      'too many codes for the number',
      (t) => t.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_FLOOD')),
      'start',
      429,
      'LOGIN_PHONE_FLOOD',
    ],
    [
      'a number Telegram calls invalid',
      (t) => t.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_INVALID')),
      'start',
      400,
      'LOGIN_PHONE_INVALID',
    ],
    [
      'a number without an account',
      (t) => t.on('auth.signIn', { _: 'auth.authorizationSignUpRequired' }),
      'code',
      409,
      'LOGIN_SIGNUP_REQUIRED',
    ],
    [
      'API credentials Telegram refuses',
      (t) => t.on('auth.sendCode', rpcError(400, 'API_ID_INVALID')),
      'start',
      400,
      'LOGIN_API_CREDENTIALS_INVALID',
    ],
    [
      'Telegram asking for a payment to send the code',
      (t) => t.on('auth.sendCode', paymentRequired()),
      'start',
      409,
      'LOGIN_PAYMENT_REQUIRED',
    ],
    [
      'a data-center move that did not work out',
      (t) => t.on('auth.sendCode', rpcError(303, 'PHONE_MIGRATE_4')),
      'start',
      502,
      'LOGIN_MIGRATE_FAILED',
      { dcId: 4 },
    ],
    ['a password before the code', () => undefined, 'password', 409, 'LOGIN_NOT_WAITING_FOR_PASSWORD'],
  ];
  const RETRYABLE = new Set(['LOGIN_FLOOD_WAIT', 'LOGIN_PHONE_FLOOD', 'LOGIN_MIGRATE_FAILED']);
  const failureCases = failures.map(([name, arrange, step, status, code, details]) => ({
    name,
    arrange,
    step,
    status,
    code,
    details,
  }));
  it.each(failureCases)(
    '$name → $status $code, nothing stored',
    async ({ arrange, step, status, code, details }) => {
      arrange(telegram);
      const c = await customer();
      let res = await startLogin(c.token);
      if (step !== 'start') {
        expect(res.statusCode).toBe(201);
        const { loginId } = res.json();
        res = await api.request('POST', `/api/sessions/login/${loginId}/${step}`, {
          token: c.token,
          body: step === 'code' ? { code: CODE } : { password: PASSWORD },
        });
      }
      expect(res.statusCode).toBe(status);
      expect(res.json().error).toMatchObject({ code, message: expect.any(String) });
      if (details) expect(res.json().error.details).toEqual(details);
      // A step that may succeed later says so; one that needs a change does not.
      expect(res.json().error.retryable ?? false).toBe(RETRYABLE.has(code));
      // A flood wait also says when to come back, in the standard header.
      if (details?.retryAfterSeconds)
        expect(res.headers['retry-after']).toBe(String(details.retryAfterSeconds));
      expectNoSecret(res.body, [PASSWORD, 'hash-abc']);
      expect(res.body).not.toContain('7700900123');
      expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
      // every client of a login that ended is closed
      if (step !== 'password') expect(telegram.clients.every((_, i) => telegram.isDestroyed(i))).toBe(true);
    },
  );

  it('a flood wait on the code: 429 with Retry-After; the login stays when the wait ends in time, else it ends', async () => {
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    telegram.on('auth.signIn', rpcError(420, 'FLOOD_WAIT_60'));
    const code = () =>
      api.request('POST', `/api/sessions/login/${loginId}/code`, { token: c.token, body: { code: CODE } });
    const waited = await code();
    expect([waited.statusCode, waited.json().error.code]).toEqual([429, 'LOGIN_FLOOD_WAIT']);
    expect(waited.headers['retry-after']).toBe('60');
    expect(waited.json().error).toMatchObject({
      details: { retryAfterSeconds: 60, loginUsable: true },
      retryable: true,
      message: expect.stringMatching(/this login stays open/),
    });
    await loginClock.advance(60_000);
    answerLogin(telegram);
    expect((await code()).json().status).toBe('done');

    const other = (await startLogin(c.token)).json().loginId;
    telegram.on('auth.signIn', rpcError(420, 'FLOOD_WAIT_3600'));
    const closed = await api.request('POST', `/api/sessions/login/${other}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect([closed.statusCode, closed.json().error.code]).toEqual([429, 'LOGIN_FLOOD_WAIT']);
    expect(closed.json().error.details).toEqual({ retryAfterSeconds: 3600, loginUsable: false });
    expect(closed.json().error.retryable).toBeUndefined();
    expect(telegram.isDestroyed(1)).toBe(true);
    const gone = await api.request('POST', `/api/sessions/login/${other}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(gone.statusCode).toBe(404);
  });

  it('an expired code ends the login: the next try is 404', async () => {
    telegram.on('auth.signIn', rpcError(400, 'PHONE_CODE_EXPIRED'));
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    answerLogin(telegram);
    const again = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect([again.statusCode, again.json().error.code]).toEqual([404, 'LOGIN_NOT_FOUND']);
    expect(telegram.count('auth.signIn')).toBe(1);
  });

  it('a phone number that is none → 400 before Telegram is asked', async () => {
    const c = await customer();
    const res = await startLogin(c.token, { phone: 'call me maybe' });
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'LOGIN_PHONE_INVALID']);
    expect(telegram.count('auth.sendCode')).toBe(0);
  });

  it('another customer cannot continue someone else’s login (404); the owner still can', async () => {
    const a = await customer();
    const b = await customer();
    const { loginId } = (await startLogin(a.token)).json();
    for (const step of ['code', 'password'] as const) {
      const res = await api.request('POST', `/api/sessions/login/${loginId}/${step}`, {
        token: b.token,
        body: step === 'code' ? { code: CODE } : { password: PASSWORD },
      });
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'LOGIN_NOT_FOUND']);
    }
    expect(telegram.count('auth.signIn')).toBe(0);
    expect(await api.store.sessions.listByOwner(b.id)).toEqual([]);
    const done = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: a.token,
      body: { code: CODE },
    });
    expect(done.json().status).toBe('done');
    expect(await api.store.sessions.listByOwner(a.id)).toHaveLength(1);
  });

  it('pending logins expire: 404 afterwards, their client closed, nothing stored', async () => {
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    loginClock.jump(LOGIN_TTL_MS - 1_000);
    expect(app.login().has(loginId)).toBe(true);
    loginClock.jump(1_001);
    const res = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'LOGIN_NOT_FOUND']);
    expect(res.json().error.message).toMatch(/expired/);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(telegram.count('auth.signIn')).toBe(0);
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
  });

  it('a code request Telegram never answers → 504 LOGIN_TIMEOUT at the bound; nothing left pending', async () => {
    const reached = unanswered('auth.sendCode');
    const c = await customer();
    const started = startLogin(c.token);
    await reached;
    await loginClock.advance(LOGIN_CALL_TIMEOUT_MS);
    const res = await started;
    expect([res.statusCode, res.json().error.code]).toEqual([504, 'LOGIN_TIMEOUT']);
    expect(res.json().error).toMatchObject({
      message: expect.stringMatching(/did not answer in 30 s/),
      details: { timeoutSeconds: 30 },
      retryable: true,
    });
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(app.login().size).toBe(0);
  });

  it('a code check Telegram never answers → 504 LOGIN_TIMEOUT; the login is over (404 next)', async () => {
    const c = await customer();
    const { loginId } = (await startLogin(c.token)).json();
    const reached = unanswered('auth.signIn');
    const checked = api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    await reached;
    await loginClock.advance(LOGIN_CALL_TIMEOUT_MS);
    const res = await checked;
    expect([res.statusCode, res.json().error.code]).toEqual([504, 'LOGIN_TIMEOUT']);
    expect(res.json().error.retryable).toBeUndefined();
    expect(telegram.isDestroyed(0)).toBe(true);
    const again = await api.request('POST', `/api/sessions/login/${loginId}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect([again.statusCode, again.json().error.code]).toEqual([404, 'LOGIN_NOT_FOUND']);
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
  });

  it('the plan’s max_sessions: 409 before a code is sent; a new login supersedes an abandoned one', async () => {
    const full = await customer(1);
    await api.store.sessions.create({ ownerUserId: full.id, label: 'old', driver: 'sandbox' });
    const res = await startLogin(full.token);
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'SESSION_LIMIT']);
    expect(telegram.count('auth.sendCode')).toBe(0);

    // room for one: a second login replaces the first (which could otherwise finish past the limit)
    const c = await customer(1);
    const first = (await startLogin(c.token)).json().loginId;
    const second = (await startLogin(c.token)).json().loginId;
    expect(telegram.isDestroyed(0)).toBe(true);
    const stale = await api.request('POST', `/api/sessions/login/${first}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(stale.statusCode).toBe(404);
    const done = await api.request('POST', `/api/sessions/login/${second}/code`, {
      token: c.token,
      body: { code: CODE },
    });
    expect(done.json().status).toBe('done');
    expect(await api.store.sessions.listByOwner(c.id)).toHaveLength(1);
  });

  it('every LoginErrorCode has a deliberate HTTP status (none falls through to 500)', () => {
    const status = (code: string) => statusOf(new StaggerError(code, 'x'));
    for (const code of Object.values(LoginErrorCode)) {
      expect(status(code), code).toBeGreaterThanOrEqual(400);
      expect(status(code), code).not.toBe(500);
    }
    expect(
      Object.fromEntries(Object.values(LoginErrorCode).map((code) => [code, status(code)] as const)),
    ).toEqual({
      LOGIN_NOT_FOUND: 404,
      LOGIN_BUSY: 409,
      LOGIN_TOO_MANY_PENDING: 503,
      LOGIN_API_CREDENTIALS_MISSING: 400,
      LOGIN_API_CREDENTIALS_INVALID: 400,
      LOGIN_PHONE_INVALID: 400,
      LOGIN_PHONE_BANNED: 403,
      LOGIN_PHONE_FLOOD: 429,
      LOGIN_FLOOD_WAIT: 429,
      LOGIN_CODE_INVALID: 400,
      LOGIN_CODE_EXPIRED: 400,
      LOGIN_PASSWORD_REQUIRED: 409,
      LOGIN_PASSWORD_INVALID: 400,
      LOGIN_NOT_WAITING_FOR_CODE: 409,
      LOGIN_NOT_WAITING_FOR_PASSWORD: 409,
      LOGIN_SIGNUP_REQUIRED: 409,
      LOGIN_NETWORK_ERROR: 502,
      LOGIN_FAILED: 502,
      LOGIN_MIGRATE_FAILED: 502,
      LOGIN_PAYMENT_REQUIRED: 409,
      LOGIN_TIMEOUT: 504,
    });
    expect(status('SESSION_IMPORT_INVALID')).toBe(400);
  });
});

// ---- import --------------------------------------------------------------------------------------------------

describe('POST /api/sessions/import', () => {
  async function importJson(token: string, body: unknown) {
    return api.request('POST', '/api/sessions/import', { token, body });
  }

  async function storedKey(sessionId: string): Promise<Buffer> {
    const credentials = (await api.store.sessions.credentials(sessionId))!;
    return Buffer.from(readStringSession(credentials.authString).authKey);
  }

  it('a Telethon .session file (multipart upload): stored as mtcute, format reported, no secret back', async () => {
    const c = await customer();
    const key = authKey();
    const bytes = telethonSessionFile(join(tempDir(), 'account.session'), [
      { dcId: 4, address: '149.154.167.91', port: 443, authKey: key },
    ]);
    const form = await multipart({ label: 'from telethon' }, { name: 'account.session', bytes });
    const res = await api.request('POST', '/api/sessions/import', {
      token: c.token,
      body: form.body,
      headers: form.headers,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      format: 'telethon-file',
      session: expect.objectContaining({ label: 'from telethon', driver: 'mtcute', state: 'active' }),
    });
    const sessionId = res.json().session.id;
    expect((await storedKey(sessionId)).equals(Buffer.from(key))).toBe(true);
    const credentials = (await api.store.sessions.credentials(sessionId))!;
    expect(readStringSession(credentials.authString).primaryDcs.main).toMatchObject({
      id: 4,
      ipAddress: '149.154.167.91',
      port: 443,
    });
    // no API pair given: the server's defaults
    expect(credentials).toMatchObject({ apiId: API_ID, apiHash: API_HASH });
    expectNoSecret(res.body, [Buffer.from(key).toString('hex'), Buffer.from(key).toString('base64')]);
    expect((await api.store.sessions.rawSecretColumns(sessionId)).auth).toMatch(/^v1:/);
  });

  it('a session string as a multipart field, with the API pair as fields', async () => {
    const c = await customer();
    const key = authKey();
    const form = await multipart({
      session: telethonString(2, [149, 154, 167, 51], 443, key),
      api_id: '777',
      api_hash: 'ffffffffffffffffffffffffffffffff',
    });
    const res = await api.request('POST', '/api/sessions/import', {
      token: c.token,
      body: form.body,
      headers: form.headers,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().format).toBe('telethon-string');
    expect(await api.store.sessions.credentials(res.json().session.id)).toMatchObject({
      apiId: 777,
      apiHash: 'ffffffffffffffffffffffffffffffff',
    });
  });

  const strings: [string, (key: Uint8Array) => string, string, Record<string, unknown>][] = [
    [
      'a Telethon string (IPv4)',
      (key) => telethonString(2, [149, 154, 167, 51], 443, key),
      'telethon-string',
      { id: 2, ipAddress: '149.154.167.51', port: 443 },
    ],
    [
      'a Telethon string (IPv6)',
      (key) =>
        telethonString(
          5,
          [0x20, 0x01, 0x0b, 0x28, 0xf2, 0x3f, 0xf0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x0a],
          443,
          key,
        ),
      'telethon-string',
      { id: 5, ipAddress: '2001:0b28:f23f:f005:0000:0000:0000:000a', port: 443, ipv6: true },
    ],
    [
      'a GramJS string (a 14-character address: 275 bytes, like a Telethon IPv6 string)',
      (key) => gramjsString(2, '149.154.167.51', 443, key),
      'gramjs-string',
      { id: 2, ipAddress: '149.154.167.51', port: 443 },
    ],
    [
      'a Pyrogram string',
      (key) => pyrogramString({ dcId: 3, apiId: 123456, authKey: key, userId: 5_123_456_789n }),
      'pyrogram-string',
      { id: 3, ipAddress: '149.154.175.100', port: 443 },
    ],
    [
      'an mtcute string',
      (key) => mtcuteString(key, 2, 42),
      'mtcute-string',
      { id: 2, ipAddress: '149.154.167.51', port: 443 },
    ],
  ];
  it.each(strings)('%s: stored as mtcute, format reported', async (_name, make, format, dc) => {
    const c = await customer();
    const key = authKey();
    const input = make(key);
    const res = await importJson(c.token, { session: `  ${input}\n` });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ format, session: { driver: 'mtcute' } });
    expect(res.json().session.label).toMatch(new RegExp(`^imported ${format}`));
    const sessionId = res.json().session.id;
    expect((await storedKey(sessionId)).equals(Buffer.from(key))).toBe(true);
    const credentials = (await api.store.sessions.credentials(sessionId))!;
    expect(readStringSession(credentials.authString).primaryDcs.main).toMatchObject(dc);
    expectNoSecret(res.body, [input.slice(1), Buffer.from(key).toString('hex'), API_HASH]);
    const listed = await api.request('GET', '/api/sessions', { token: c.token });
    expect(listed.json().sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);
    expectNoSecret(listed.body, [input.slice(1), credentials.authString, API_HASH]);
  });

  it('a Pyrogram string brings its api_id (and the user id); the hash is the server’s', async () => {
    const c = await customer();
    const res = await importJson(c.token, {
      session: pyrogramString({ dcId: 2, apiId: 123456, authKey: authKey(), userId: 5_123_456_789n }),
    });
    const id = res.json().session.id;
    expect(await api.store.sessions.credentials(id)).toMatchObject({ apiId: 123456, apiHash: API_HASH });
    expect(await api.store.sessions.get(id)).toMatchObject({ tgUserId: '5123456789' });
    expect(res.json().session.label).toBe('imported pyrogram-string 5123456789');
  });

  describe('corrupt or truncated input of each kind → 400 SESSION_IMPORT_INVALID, nothing stored', () => {
    const key = authKey();
    const telethon = telethonString(2, [149, 154, 167, 51], 443, key);
    const pyrogram = pyrogramString({ dcId: 2, apiId: 1, authKey: key, userId: 1n });
    const mtcute = Buffer.from(mtcuteString(key), 'base64url');
    const badFlag = Buffer.from(pyrogram, 'base64url');
    badFlag[5] = 7;
    const secrets = [
      telethon.slice(1),
      pyrogram,
      mtcute.toString('base64url'),
      Buffer.from(key).toString('hex'),
      Buffer.from(key).toString('base64'),
      urlsafeBase64(key),
    ];
    const cases: [string, string, RegExp][] = [
      ['a truncated Telethon string', telethon.slice(0, 200), /truncated/],
      [
        'a Telethon string with a bad character',
        `${telethon.slice(0, 100)}!${telethon.slice(101)}`,
        /base64/,
      ],
      ['a Telethon string of a wrong version', `2${telethon.slice(1)}`, /version "2"/],
      ['a truncated Pyrogram string', pyrogram.slice(0, 300), /unrecognised|truncated/],
      ['a Pyrogram string with a broken flag', badFlag.toString('base64url'), /test mode flag/],
      [
        'a truncated mtcute string',
        mtcute.subarray(0, mtcute.length - 40).toString('base64url'),
        /mtcute|unrecognised/,
      ],
      [
        'an mtcute string with bytes added',
        Buffer.concat([mtcute, Buffer.alloc(8, 1)]).toString('base64url'),
        /mtcute/,
      ],
      ['text that is no session', 'hello-this-is-not-a-session', /not valid base64|unrecognised/],
      [
        'a Pyrogram string of a bot',
        pyrogramString({ dcId: 2, apiId: 1, authKey: key, userId: 1n, isBot: true }),
        /bots cannot forward into groups the way Stagger needs; import a user account/,
      ],
      [
        'an mtcute string of a bot',
        mtcuteString(key, 2, 7_000_000_001, true),
        /bots cannot forward into groups the way Stagger needs; import a user account/,
      ],
      [
        'a string broken over two lines',
        `${telethon.slice(0, 80)}\n${telethon.slice(80)}`,
        /one unbroken line/,
      ],
    ];
    it.each(cases)('%s', async (_name, input, pattern) => {
      const c = await customer();
      const res = await importJson(c.token, { session: input });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('SESSION_IMPORT_INVALID');
      expect(res.json().error.message).toMatch(pattern);
      expectNoSecret(res.body, secrets);
      expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
    });

    const files: [string, () => Uint8Array, RegExp][] = [
      [
        'a file that is no database',
        () => new TextEncoder().encode('not a database at all'),
        /not an SQLite/,
      ],
      [
        'a truncated .session file',
        () =>
          telethonSessionFile(join(tempDir(), 'cut.session'), [
            { dcId: 2, address: '149.154.167.51', port: 443, authKey: key },
          ]).subarray(0, 3000),
        /could not be read|damaged/,
      ],
      [
        'a .session file with garbage after the header',
        () => {
          const bytes = new Uint8Array(4096).fill(0xab);
          bytes.set(new TextEncoder().encode('SQLite format 3\0'));
          return bytes;
        },
        /could not be read/,
      ],
      [
        'a .session file never logged in',
        () => telethonSessionFile(join(tempDir(), 'empty.session'), []),
        /no session in it/,
      ],
      [
        'a .session file with a short key',
        () =>
          telethonSessionFile(join(tempDir(), 'short.session'), [
            { dcId: 2, address: '149.154.167.51', port: 443, authKey: key.subarray(0, 100) },
          ]),
        /100 bytes/,
      ],
    ];
    it.each(files)('%s', async (_name, make, pattern) => {
      const c = await customer();
      const form = await multipart({}, { name: 'x.session', bytes: make() });
      const res = await api.request('POST', '/api/sessions/import', {
        token: c.token,
        body: form.body,
        headers: form.headers,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('SESSION_IMPORT_INVALID');
      expect(res.json().error.message).toMatch(pattern);
      expectNoSecret(res.body, secrets);
      expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
    });
  });

  it('a multipart body cut short (no closing boundary, cut in a part) → 400 INVALID_MULTIPART, nothing stored', async () => {
    const c = await customer();
    const bytes = telethonSessionFile(join(tempDir(), 'account.session'), [
      { dcId: 2, address: '149.154.167.51', port: 443, authKey: authKey() },
    ]);
    const form = await multipart({ label: 'cut short' }, { name: 'account.session', bytes });
    const closing = form.body.lastIndexOf('--\r\n');
    expect(closing).toBeGreaterThan(0);
    const cuts = {
      'closing boundary missing': form.body.subarray(0, closing - 2),
      'cut inside the file': form.body.subarray(0, form.body.indexOf('filename=') + 400),
      'cut inside the first field': form.body.subarray(0, form.body.indexOf('cut short') + 3),
    };
    const logsBefore = api.logs.length;
    for (const [name, body] of Object.entries(cuts)) {
      const res = await api.request('POST', '/api/sessions/import', {
        token: c.token,
        body,
        headers: form.headers,
      });
      expect([res.statusCode, res.json().error.code], name).toEqual([400, 'INVALID_MULTIPART']);
      expect(res.json().error.message, name).toMatch(/upload was incomplete/);
    }
    // a multipart content type without its boundary
    const unbounded = await api.request('POST', '/api/sessions/import', {
      token: c.token,
      body: form.body,
      headers: { 'content-type': 'multipart/form-data' },
    });
    expect([unbounded.statusCode, unbounded.json().error.code]).toEqual([400, 'INVALID_MULTIPART']);
    expect(statusOf(new StaggerError('INVALID_MULTIPART', 'x'))).toBe(400);
    expect(await api.store.sessions.listByOwner(c.id)).toEqual([]);
    // the client's mistake, not ours: nothing logged as a failed request
    expect(api.logs.slice(logsBefore).filter((l) => l.includes('request failed'))).toEqual([]);
  });

  it('the plan’s max_sessions → 409, nothing stored', async () => {
    const c = await customer(1);
    expect((await importJson(c.token, { session: mtcuteString(authKey()) })).statusCode).toBe(201);
    const res = await importJson(c.token, { session: mtcuteString(authKey()) });
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'SESSION_LIMIT']);
    expect(res.json().error.message).toMatch(/allows 1 session/);
    expect(await api.store.sessions.listByOwner(c.id)).toHaveLength(1);
  });

  it('the same session twice (in any format) → 409 SESSION_DUPLICATE: one key on two clients gets revoked', async () => {
    const c = await customer();
    const key = authKey();
    expect(
      (await importJson(c.token, { session: telethonString(2, [149, 154, 167, 51], 443, key) })).statusCode,
    ).toBe(201);
    const again = await importJson(c.token, { session: mtcuteString(key) });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'SESSION_DUPLICATE']);
    expect(await api.store.sessions.listByOwner(c.id)).toHaveLength(1);
  });

  it('bad request shapes → 400 VALIDATION_FAILED', async () => {
    const c = await customer();
    for (const body of [
      {},
      { session: '' },
      { session: 42 },
      { session: 'x', api_hash: 'nothex' },
      { session: 'x', turbo: 1 },
    ]) {
      const res = await importJson(c.token, body);
      expect([res.statusCode, res.json().error.code], JSON.stringify(body)).toEqual([
        400,
        'VALIDATION_FAILED',
      ]);
    }
    const empty = await multipart({ label: 'nothing' });
    const res = await api.request('POST', '/api/sessions/import', {
      token: c.token,
      body: empty.body,
      headers: empty.headers,
    });
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('without TELEGRAM_API_ID/TELEGRAM_API_HASH on the server', () => {
  let bare: TelegramApp;
  beforeAll(async () => {
    bare = await telegramApp({});
  });
  afterAll(async () => {
    await bare.api.close();
  });

  it('login and import without an API pair → 400 LOGIN_API_CREDENTIALS_MISSING, nothing sent or stored', async () => {
    const c = await bare.api.user({ name: 'no api', maxSessions: 3, planType: 'ENTERPRISE' });
    const login = await bare.api.request('POST', '/api/sessions/login', {
      token: c.token,
      body: { phone: PHONE },
    });
    expect([login.statusCode, login.json().error.code]).toEqual([400, 'LOGIN_API_CREDENTIALS_MISSING']);
    expect(login.json().error.message).toMatch(/my\.telegram\.org/);
    expect(telegram.count('auth.sendCode')).toBe(0);

    for (const session of [
      mtcuteString(authKey()),
      // a Pyrogram string carries the api_id, never the hash
      pyrogramString({ dcId: 2, apiId: 99, authKey: authKey(), userId: 1n }),
    ]) {
      const res = await bare.api.request('POST', '/api/sessions/import', {
        token: c.token,
        body: { session },
      });
      expect([res.statusCode, res.json().error.code]).toEqual([400, 'LOGIN_API_CREDENTIALS_MISSING']);
    }
    expect(await bare.api.store.sessions.listByOwner(c.id)).toEqual([]);

    // given in the request, they are used
    const given = await bare.api.request('POST', '/api/sessions/login', {
      token: c.token,
      body: { phone: PHONE, api_id: 4242, api_hash: API_HASH },
    });
    expect(given.statusCode).toBe(201);
    expect(telegram.calls('auth.sendCode')[0]!.apiId).toBe(4242);
    const imported = await bare.api.request('POST', '/api/sessions/import', {
      token: c.token,
      body: { session: mtcuteString(authKey()), api_id: 4242, api_hash: API_HASH },
    });
    expect(imported.statusCode).toBe(201);
  });
});

// ---- check ---------------------------------------------------------------------------------------------------

describe('POST /api/sessions/:id/check', () => {
  async function imported(token: string, key = authKey()): Promise<string> {
    const res = await api.request('POST', '/api/sessions/import', {
      token,
      body: { session: telethonString(2, [149, 154, 167, 51], 443, key) },
    });
    expect(res.statusCode).toBe(201);
    return res.json().session.id;
  }

  it('alive: the account is reported and stored (id, name, username); the stored string gains the user id', async () => {
    const c = await customer();
    const id = await imported(c.token);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ok: true,
      account: { id: '5000000001', name: 'Ada Lovelace', username: 'ada' },
      limited: false,
      limitReasons: [],
      frozen: null,
    });
    expect(await api.store.sessions.get(id)).toMatchObject({
      status: 'active',
      tgUserId: '5000000001',
      tgUsername: 'ada',
      tgName: 'Ada Lovelace',
    });
    const credentials = (await api.store.sessions.credentials(id))!;
    expect(readStringSession(credentials.authString).self?.userId).toBe(5_000_000_001);
    const listed = await api.request('GET', '/api/sessions', { token: c.token });
    expect(listed.json().sessions[0].account).toEqual({
      id: '5000000001',
      username: 'ada',
      name: 'Ada Lovelace',
    });
    // the check's client is closed again
    expect(telegram.clients.every((_, i) => telegram.isDestroyed(i))).toBe(true);
  });

  it('a limited account is reported limited, with the reasons', async () => {
    answerCheck(telegram, user({ id: 7, firstName: 'Spam', restricted: true }));
    const c = await customer();
    const id = await imported(c.token);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(res.json()).toMatchObject({
      ok: true,
      limited: true,
      limitReasons: ['restricted', 'restricted:spam'],
    });
  });

  it('a dead session (AUTH_KEY_UNREGISTERED) is marked dead, with the reason in plain words', async () => {
    telegram.on('users.getUsers', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
    const c = await customer();
    const id = await imported(c.token);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ok: false,
      dead: true,
      error: 'AUTH_KEY_UNREGISTERED',
      errorText: expect.stringMatching(/log in again/),
    });
    expect(await api.store.sessions.get(id)).toMatchObject({
      status: 'dead',
      statusReason: 'AUTH_KEY_UNREGISTERED',
    });
    const listed = await api.request('GET', '/api/sessions', { token: c.token });
    expect(listed.json().sessions[0]).toMatchObject({ state: 'dead', stateReason: 'AUTH_KEY_UNREGISTERED' });
  });

  it('a frozen account: reported with its appeal link, stored and listed as frozen; a check without the freeze clears it', async () => {
    telegram.on('help.getAppConfig', frozenAppConfig({ since: 1_760_000_000, until: 4_000_000_000 }));
    const c = await customer();
    const id = await imported(c.token);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(res.statusCode).toBe(200);
    const frozen = {
      since: new Date(1_760_000_000_000).toISOString(),
      until: new Date(4_000_000_000_000).toISOString(),
      appealUrl: 'https://t.me/spambot?start=frozen_appeal',
    };
    expect(res.json()).toEqual({
      ok: true,
      account: { id: '5000000001', name: 'Ada Lovelace', username: 'ada' },
      limited: true,
      limitReasons: ['frozen'],
      frozen,
    });
    expect(await api.store.sessions.get(id)).toMatchObject({
      frozen: { since: 1_760_000_000_000, until: 4_000_000_000_000 },
    });
    const listed = (await api.request('GET', '/api/sessions', { token: c.token })).json().sessions[0];
    expect(listed).toMatchObject({
      state: 'dead',
      stateReason: 'frozen',
      stateText: expect.stringContaining('frozen'),
      frozen,
    });
    // frozen is no session to start a bot with (and the pool has none to lend)
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.setPostLink(botId, 'https://t.me/sourcechan/42');
    await api.store.bots.setGroups(botId, ['-1001000000001']);
    const start = await api.request('POST', '/api/bot/start', { token: c.token, body: {} });
    expect([start.statusCode, start.json().error.code]).toEqual([409, 'SESSION_POOL_EMPTY']);

    // the appeal worked: the next check finds no freeze, and the session is in use again
    answerCheck(telegram);
    const again = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(again.json()).toMatchObject({ ok: true, limited: false, frozen: null });
    expect((await api.store.sessions.get(id))!.frozen).toBeNull();
    const relisted = (await api.request('GET', '/api/sessions', { token: c.token })).json().sessions[0];
    expect(relisted).toMatchObject({ state: 'active', stateReason: null, frozen: null });
  });

  it('a session the runtime retired for a freeze comes back when a check finds the freeze lifted', async () => {
    const c = await customer();
    const id = await imported(c.token);
    await api.store.runtime.updateSession(id, { status: 'dead', statusReason: 'frozen' });
    expect((await api.request('POST', `/api/sessions/${id}/check`, { token: c.token })).json().ok).toBe(true);
    expect(await api.store.sessions.get(id)).toMatchObject({ status: 'active', statusReason: null });
  });

  it('a flood wait is reported, and the session is not marked dead', async () => {
    telegram.on('users.getUsers', rpcError(420, 'FLOOD_WAIT_30'));
    const c = await customer();
    const id = await imported(c.token);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect(res.json()).toMatchObject({ ok: false, dead: false, error: 'FLOOD_WAIT_30' });
    expect((await api.store.sessions.get(id))!.status).toBe('active');
  });

  it('409 while the bot is running (the key must not run on two clients); nothing is asked of Telegram', async () => {
    const c = await customer();
    const id = await imported(c.token);
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.start(botId, 'enterprise', null);
    const res = await api.request('POST', `/api/sessions/${id}/check`, { token: c.token });
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'SESSION_IN_USE']);
    expect(telegram.requests).toEqual([]);
    await api.store.bots.stop(botId);
    expect((await api.request('POST', `/api/sessions/${id}/check`, { token: c.token })).json().ok).toBe(true);
  });

  it('a client the gateway still holds for the session (a preflight ran) is closed before the check opens its own', async () => {
    const c = await customer();
    const id = await imported(c.token);
    await preflightOpensClients(c);
    // the preflight's client stays connected in the gateway
    expect(telegram.clients).toHaveLength(1);
    expect(telegram.isDestroyed(0)).toBe(false);
    let gatewayClientClosed: boolean | null = null;
    telegram.on('users.getUsers', () => {
      gatewayClientClosed = telegram.isDestroyed(0);
      return [ME];
    });
    expect((await api.request('POST', `/api/sessions/${id}/check`, { token: c.token })).json().ok).toBe(true);
    expect(telegram.clients).toHaveLength(2);
    expect(gatewayClientClosed).toBe(true);
  });

  /** Points the customer's bot at a readable post and runs a preflight, which leaves its clients connected. */
  async function preflightOpensClients(c: { id: string; token: string }): Promise<void> {
    const source = channel(1_111_111_111, { username: 'sourcechan', broadcast: true });
    telegram.on('contacts.resolveUsername', resolvedPeer(source));
    telegram.on('channels.getMessages', channelMessages([message(source.id, 42)], [source]));
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.setPostLink(botId, 'https://t.me/sourcechan/42');
    expect((await api.request('GET', '/api/bot/preflight', { token: c.token })).json().source.ok).toBe(true);
  }

  it('…also for the second of several sessions a preflight opened', async () => {
    const c = await customer();
    const first = await imported(c.token);
    const second = await imported(c.token);
    await preflightOpensClients(c);
    expect(telegram.clients).toHaveLength(2);
    let liveGatewayClients: number | null = null;
    telegram.on('users.getUsers', () => {
      liveGatewayClients = [0, 1].filter((i) => !telegram.isDestroyed(i)).length;
      return [ME];
    });
    expect((await api.request('POST', `/api/sessions/${second}/check`, { token: c.token })).json().ok).toBe(
      true,
    );
    // only the first session's client may still be connected while the second's key is checked
    expect(liveGatewayClients).toBe(1);
    expect(first).not.toBe(second);
  });
});

// ---- preflight -----------------------------------------------------------------------------------------------

describe('GET /api/bot/preflight through mtcute', () => {
  const SOURCE = channel(1_111_111_111, { username: 'sourcechan', broadcast: true, accessHash: '-5' });
  const OPEN = channel(1_600_000_001, { accessHash: '11' });
  const MUTED = channel(1_600_000_002, { accessHash: '12', defaultBannedRights: { sendMessages: true } });
  const LEFT = channel(1_600_000_003, { accessHash: '13', left: true });
  const GROUPS = [OPEN, MUTED, LEFT];

  function answerTelegram(t: OfflineTelegram, o: { deleted?: boolean } = {}): void {
    t.on('contacts.resolveUsername', resolvedPeer(SOURCE));
    t.on('channels.getChannels', (req) => {
      const ids = (req as tl.channels.RawGetChannelsRequest).id.map((c) =>
        c._ === 'inputChannel' ? c.channelId : 0,
      );
      return chats(GROUPS.filter((g) => ids.includes(g.id)));
    });
    t.on('messages.getDialogs', (req) =>
      (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty'
        ? dialogs(GROUPS)
        : dialogs([]),
    );
    t.on(
      'channels.getMessages',
      channelMessages([o.deleted ? { _: 'messageEmpty', id: 42 } : message(SOURCE.id, 42)], [SOURCE]),
    );
    t.on('channels.getFullChannel', (req) => {
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      const c = GROUPS.find((g) => g.id === input.channelId)!;
      return channelFull(c, c === OPEN ? 30 : 0);
    });
  }

  async function mtcuteCustomer(sessions = 2) {
    const c = await customer(5);
    const ids: string[] = [];
    for (let i = 0; i < sessions; i++) {
      const s = await api.store.sessions.create({
        ownerUserId: c.id,
        label: `account ${i}`,
        driver: 'mtcute',
        authString: mtcuteString(authKey()),
        apiId: API_ID,
        apiHash: API_HASH,
      });
      ids.push(s.id);
    }
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.setPostLink(botId, 'https://t.me/sourcechan/42');
    await api.store.bots.setGroups(
      botId,
      GROUPS.map((g) => channelChatId(g.id)),
    );
    return { ...c, sessionIds: ids };
  }

  it('answers member/canWrite/slow mode per (session, group) and the source state; cached for a minute; 429 after 6 a minute', async () => {
    answerTelegram(telegram);
    const c = await mtcuteCustomer(2);
    const first = await api.request('GET', '/api/bot/preflight', { token: c.token });
    expect(first.statusCode).toBe(200);
    const report = first.json();
    expect(report.source).toEqual({ ok: true, error: null, errorText: null });
    expect(report.summary).toEqual({ sessions: 2, groups: 3, problems: 4 });
    const rows = report.rows.map((r: any) => [
      r.sessionId,
      r.groupKey,
      r.member,
      r.canWrite,
      r.slowmodeSeconds,
      r.error,
    ]);
    const expected = c.sessionIds.flatMap((s) => [
      [s, channelChatId(OPEN.id), true, true, 30, null],
      [s, channelChatId(MUTED.id), true, false, 0, null],
      [s, channelChatId(LEFT.id), false, false, 0, null],
    ]);
    expect(rows).toEqual(expected);
    // one source check and one full-chat read per (session, group), through the real library
    expect(telegram.count('channels.getMessages')).toBe(2);
    expect(telegram.count('channels.getFullChannel')).toBe(6);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
    // the gateway's clients (one per session) run on the harness's transport: no socket
    expect(telegram.clients.map((tg) => transportOf(tg) === telegram.transport)).toEqual([true, true]);
    expect(telegram.transport.connections.length).toBeGreaterThanOrEqual(2);
    const seen = telegram.requests.length;

    // repeated within the minute: the same report, and Telegram is not asked again
    const second = await api.request('GET', '/api/bot/preflight', { token: c.token });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(report);
    expect(telegram.requests.length).toBe(seen);

    for (let i = 3; i <= 6; i++) {
      expect((await api.request('GET', '/api/bot/preflight', { token: c.token })).statusCode).toBe(200);
    }
    const limited = await api.request('GET', '/api/bot/preflight', { token: c.token });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(telegram.requests.length).toBe(seen);
  });

  it('a changed group list is checked afresh; a deleted source post is reported', async () => {
    answerTelegram(telegram, { deleted: true });
    const c = await mtcuteCustomer(1);
    const report = (await api.request('GET', '/api/bot/preflight', { token: c.token })).json();
    expect(report.source).toEqual({
      ok: false,
      error: 'MSG_ID_INVALID',
      errorText: expect.stringMatching(/does not exist/),
    });
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.setGroups(botId, [channelChatId(OPEN.id)]);
    const calls = telegram.count('channels.getFullChannel');
    const again = (await api.request('GET', '/api/bot/preflight', { token: c.token })).json();
    expect(again.rows).toHaveLength(1);
    expect(telegram.count('channels.getFullChannel')).toBe(calls + 1);
  });

  it('no group and no post: answered without Telegram — no client made, no connection opened', async () => {
    const c = await customer(5);
    for (const label of ['account 0', 'account 1']) {
      await api.store.sessions.create({
        ownerUserId: c.id,
        label,
        driver: 'mtcute',
        authString: mtcuteString(authKey()),
        apiId: API_ID,
        apiHash: API_HASH,
      });
    }
    const asked = vi.spyOn(app.gateway(), 'preflight');
    try {
      const res = await api.request('GET', '/api/bot/preflight', { token: c.token });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        checkedAt: expect.any(String),
        source: { ok: false, error: null, errorText: null },
        rows: [],
        summary: { sessions: 2, groups: 0, problems: 0 },
      });
      expect(asked).not.toHaveBeenCalled();
    } finally {
      asked.mockRestore();
    }
    expect(telegram.clients).toHaveLength(0);
    expect(telegram.transport.connections).toHaveLength(0);
    expect(telegram.requests).toEqual([]);
  });

  it('while the bot runs in this process, the preflight shares the runtime’s clients and goes ahead', async () => {
    answerTelegram(telegram);
    const c = await mtcuteCustomer(1);
    await api.store.bots.start(await api.store.bots.ensureForUser(c.id), 'enterprise', null);
    const res = await api.request('GET', '/api/bot/preflight', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json().rows).toHaveLength(3);
  });

  describe('in a cluster (the bot may run on another worker)', () => {
    let clustered: TelegramApp;
    beforeAll(async () => {
      clustered = await telegramApp(API_ENV, {
        cluster: async () => ({ now: 0, workers: [], unowned: [], runningBots: 0 }),
      });
    });
    afterAll(async () => {
      await clustered.api.close();
    });

    it('a running bot’s real sessions are not checked from here: 409 SESSION_IN_USE, Telegram not asked', async () => {
      answerTelegram(telegram);
      const capi = clustered.api;
      const c = await capi.user({ name: 'clustered', maxSessions: 3, planType: 'ENTERPRISE' });
      await capi.store.sessions.create({
        ownerUserId: c.id,
        label: 'real',
        driver: 'mtcute',
        authString: mtcuteString(authKey()),
        apiId: API_ID,
        apiHash: API_HASH,
      });
      const botId = await capi.store.bots.ensureForUser(c.id);
      await capi.store.bots.setPostLink(botId, 'https://t.me/sourcechan/42');
      await capi.store.bots.setGroups(botId, [channelChatId(OPEN.id)]);
      await capi.store.bots.start(botId, 'enterprise', null);
      const res = await capi.request('GET', '/api/bot/preflight', { token: c.token });
      expect([res.statusCode, res.json().error.code]).toEqual([409, 'SESSION_IN_USE']);
      expect(telegram.requests).toEqual([]);
      // stopped, it runs
      await capi.store.bots.stop(botId);
      const ok = await capi.request('GET', '/api/bot/preflight', { token: c.token });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().rows[0]).toMatchObject({ member: true, canWrite: true, slowmodeSeconds: 30 });
      await Promise.all((await capi.store.sessions.listAll()).map((s) => clustered.gateway().release(s.id)));
    });
  });
});

// ---- the composition root ------------------------------------------------------------------------------------

describe('Service.start({ api: true, telegramClientFactory })', () => {
  it('wires login, import and check to the given client factory', async () => {
    const dataDir = tempDir();
    const config = readConfig({ STAGGER_DATA_DIR: dataDir, PORT: '0', ...API_ENV });
    const service = await Service.start(config, {
      api: true,
      runtime: false,
      logger: createLogger({ level: 'silent' }),
      telegramClientFactory: (params) => telegram.createClient(params),
    });
    try {
      const u = await service.store.users.create({ name: 'svc', maxSessions: 3, planType: 'ENTERPRISE' });
      const { token } = await service.store.users.issueToken(u.id);
      const headers = { authorization: `Bearer ${token}` };
      const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
        service.app!.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      const { loginId } = (await inject('POST', '/api/sessions/login', { phone: PHONE })).json();
      const done = await inject('POST', `/api/sessions/login/${loginId}/code`, { code: CODE });
      expect(done.json()).toMatchObject({ status: 'done', session: { driver: 'mtcute' } });
      const check = await inject('POST', `/api/sessions/${done.json().session.id}/check`);
      expect(check.json()).toMatchObject({ ok: true, account: { id: '5000000001' } });
      expect(telegram.count('auth.sendCode')).toBe(1);
      expect(telegram.count('users.getUsers')).toBe(1);
    } finally {
      await service.close();
    }
  });

  it('runs logins on the service’s clock: a code request never answered is 504 after 30 s of that clock', async () => {
    const clock = new VirtualClock();
    const config = readConfig({ STAGGER_DATA_DIR: tempDir(), PORT: '0', ...API_ENV });
    const service = await Service.start(config, {
      api: true,
      runtime: false,
      clock,
      logger: createLogger({ level: 'silent' }),
      telegramClientFactory: (params) => telegram.createClient(params),
    });
    try {
      const u = await service.store.users.create({ name: 'svc', maxSessions: 3, planType: 'ENTERPRISE' });
      const { token } = await service.store.users.issueToken(u.id);
      const reached = unanswered('auth.sendCode');
      const started = service.app!.inject({
        method: 'POST',
        url: '/api/sessions/login',
        headers: { authorization: `Bearer ${token}` },
        payload: { phone: PHONE },
      });
      await reached;
      await clock.advance(30_000);
      const res = await started;
      expect([res.statusCode, res.json().error.code]).toEqual([504, 'LOGIN_TIMEOUT']);
      expect(telegram.isDestroyed(0)).toBe(true);
    } finally {
      await service.close();
    }
  });
});
