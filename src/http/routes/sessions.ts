/**
 * The caller's Telegram sessions: list (never with secrets), delete, sandbox sessions for demos and tests, and
 * real accounts — interactive login (phone → code → 2FA) and import (Telethon file or string, Pyrogram string,
 * mtcute string) — plus a check that connects and reads the account.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { frozenAt } from '../../core/freeze.js';
import { explain } from '../../core/outcome.js';
import { count } from '../../core/words.js';
import type { SessionRecord } from '../../storage/sessions.js';
import type { User } from '../../storage/users.js';
import type { LoginManager } from '../../telegram/mtcute/login.js';
import {
  parseSessionString,
  parseTelethonSessionFile,
  type ImportedSession,
  type SessionFormat,
} from '../../telegram/mtcute/session-formats.js';
import { storeImportedSession } from '../../telegram/session-import.js';
import { requireCaller } from '../auth.js';
import type { AppDeps, SessionServices } from '../deps.js';
import { ApiError, type ErrorCode } from '../errors.js';
import { FreezeView, presentFreeze, presentSession, SESSION_EXAMPLE, SessionView } from '../presenters.js';
import { bodyAjv, DateTime, IdParams, Nullable, StringEnum } from '../schemas.js';

/**
 * The fields and the file of a multipart upload. The multipart parser (busboy, under @fastify/multipart) reports a
 * body that ends before its closing boundary, and a multipart content type without a boundary, as plain errors
 * (no status): they are the client's, so 400 INVALID_MULTIPART rather than a 500.
 */
async function readUpload(
  request: FastifyRequest,
): Promise<{ fields: Record<string, string>; file: Buffer | null }> {
  const fields: Record<string, string> = {};
  let file: Buffer | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        file = await part.toBuffer();
        if (part.file.truncated)
          throw new ApiError('PAYLOAD_TOO_LARGE', 'the session file is larger than 1 MB');
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    const message = error instanceof Error && !(error instanceof ApiError) ? error.message : '';
    if (/unexpected end of multipart data/i.test(message)) {
      throw new ApiError(
        'INVALID_MULTIPART',
        'the upload was incomplete: the multipart body ended before its closing boundary; send it again',
      );
    }
    if (/boundary not found/i.test(message)) {
      throw new ApiError('INVALID_MULTIPART', 'the multipart content type has no boundary');
    }
    throw error;
  }
  return { fields, file };
}

const SandboxBody = Type.Object(
  { count: Type.Integer({ minimum: 1, maximum: 50, description: 'how many simulated accounts to add' }) },
  { additionalProperties: false, examples: [{ count: 2 }] },
);
const ApiPair = {
  api_id: Type.Optional(
    Type.Integer({ minimum: 1, description: 'from my.telegram.org; default: the server’s' }),
  ),
  api_hash: Type.Optional(
    Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: 'from my.telegram.org; default: the server’s' }),
  ),
};
const LoginBody = Type.Object(
  {
    phone: Type.String({
      minLength: 5,
      maxLength: 32,
      description: 'the account’s phone number, international form',
    }),
    ...ApiPair,
    label: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'default: the @username or name' }),
    ),
  },
  { additionalProperties: false, examples: [{ phone: '+44 7700 900123', label: 'main account' }] },
);
const CodeBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 16, description: 'the code Telegram sent' }) },
  { additionalProperties: false, examples: [{ code: '12345' }] },
);
const PasswordBody = Type.Object(
  {
    password: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'the two-step verification password',
    }),
  },
  { additionalProperties: false, examples: [{ password: 'correct horse battery staple' }] },
);
const SESSION_STRING = 'a Telethon, GramJS, Pyrogram or mtcute session string';
const ImportJsonBody = Type.Object(
  {
    // Some character other than white space: a blank string is no session.
    session: Type.String({ minLength: 1, maxLength: 8192, pattern: '\\S', description: SESSION_STRING }),
    label: Type.Optional(Type.String({ maxLength: 100 })),
    ...ApiPair,
  },
  { additionalProperties: false, examples: [{ session: '1BVtsOK4Bu…', label: 'imported' }] },
);
/** The fields of a multipart import (text, as forms send them); the file is the `file` part. */
const ImportForm = Type.Object(
  {
    file: Type.Optional(
      Type.String({ format: 'binary', description: 'a Telethon .session file, at most 1 MB' }),
    ),
    session: Type.Optional(Type.String({ maxLength: 8192, description: `or ${SESSION_STRING}` })),
    label: Type.Optional(Type.String({ maxLength: 100 })),
    api_id: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,15}$',
        description: 'a positive whole number; default: the server’s',
      }),
    ),
    api_hash: Type.Optional(
      Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: 'default: the server’s' }),
    ),
  },
  { description: 'A session file or a session string (a blank field counts as absent).' },
);
const checkImportForm = bodyAjv.compile(ImportForm);
const LoginParams = Type.Object({ loginId: Type.String({ minLength: 1, maxLength: 64 }) });

const SessionList = Type.Object(
  { sessions: Type.Array(SessionView) },
  { description: 'Your sessions, never with their secrets.', examples: [{ sessions: [SESSION_EXAMPLE] }] },
);
const CreatedSessions = Type.Object(
  { sessions: Type.Array(SessionView) },
  {
    description: 'The sessions added.',
    examples: [
      {
        sessions: [
          {
            ...SESSION_EXAMPLE,
            label: 'sandbox 1',
            driver: 'sandbox',
            state: 'active',
            stateReason: null,
            stateText: null,
            cooldownUntil: null,
            account: null,
          },
        ],
      },
    ],
  },
);
const LoginStarted = Type.Object(
  {
    loginId: Type.String({ description: 'name it in the next step' }),
    codeType: Type.String({
      description: 'how Telegram sends the code: app, sms, call, flash_call, fragment, email…',
    }),
    expiresAt: DateTime('when the login is forgotten'),
  },
  {
    description: 'Telegram sent a code; send it to …/code.',
    examples: [{ loginId: 'f3c1…', codeType: 'app', expiresAt: '2026-01-01T12:10:00.000Z' }],
  },
);
const LoginStep = Type.Union(
  [
    Type.Object(
      {
        passwordRequired: Type.Literal(true),
        hint: Nullable(Type.String({ description: 'the password’s hint' })),
      },
      { description: 'the account has two-step verification: send the password to …/password' },
    ),
    Type.Object(
      { status: Type.Literal('done'), session: SessionView },
      { description: 'logged in: the session is stored' },
    ),
  ],
  {
    description: 'The next step of the login, or its end.',
    examples: [
      { status: 'done', session: SESSION_EXAMPLE },
      { passwordRequired: true, hint: 'pet name' },
    ],
  },
);
const Imported = Type.Object(
  {
    session: SessionView,
    format: StringEnum([
      'telethon-string',
      'gramjs-string',
      'pyrogram-string',
      'mtcute-string',
      'telethon-file',
    ] as const satisfies readonly SessionFormat[]),
  },
  {
    description: 'The session is stored.',
    examples: [{ session: SESSION_EXAMPLE, format: 'telethon-file' }],
  },
);
const CheckAnswer = Type.Union(
  [
    Type.Object(
      {
        ok: Type.Literal(true),
        account: Type.Object({
          id: Nullable(Type.String({ description: 'the Telegram user id (null for a sandbox account)' })),
          name: Type.String(),
          username: Nullable(Type.String()),
        }),
        limited: Type.Boolean({ description: 'Telegram limits the account (spam, restricted, frozen…)' }),
        limitReasons: Type.Array(Type.String(), {
          description: 'why limited: restricted, scam, fake, frozen…',
        }),
        frozen: Nullable(FreezeView, { description: 'the freeze, while it lasts' }),
      },
      { description: 'the session works' },
    ),
    Type.Object(
      {
        ok: Type.Literal(false),
        dead: Type.Boolean({ description: 'the session is no longer valid (it is marked dead)' }),
        error: Type.String({ description: 'what Telegram answered' }),
        errorText: Type.String({ description: 'the error in plain words' }),
      },
      { description: 'the session does not work now' },
    ),
  ],
  {
    description: 'What connecting with the session found (a dead or limited one is stored as such).',
    examples: [
      {
        ok: true,
        account: { id: '5000000001', name: 'Ada Lovelace', username: 'ada' },
        limited: false,
        limitReasons: [],
        frozen: null,
      },
    ],
  },
);
const Deleted = Type.Null({ description: 'Deleted (a pool session goes back to the operator’s pool).' });

/** The codes any step of a login answers when Telegram fails it or does not answer. */
const TELEGRAM_LOGIN_ERRORS = [
  'LOGIN_FLOOD_WAIT',
  'LOGIN_NETWORK_ERROR',
  'LOGIN_FAILED',
  'LOGIN_MIGRATE_FAILED',
  'LOGIN_TIMEOUT',
] as const satisfies readonly ErrorCode[];

export function sessionRoutes(deps: AppDeps) {
  const { store } = deps;
  /**
   * Pending logins belong to the caller who started them (in start order). An entry lives as long as the login
   * does in the LoginManager: it is dropped when the login is done, fails for good, or expires.
   */
  const loginOwner = new Map<
    string,
    { userId: string; label: string | null; apiId: number; apiHash: string }
  >();

  function forgetEndedLogins(login: LoginManager): void {
    for (const id of [...loginOwner.keys()]) if (!login.has(id)) loginOwner.delete(id);
  }

  /**
   * Room for one more session from a new login: the plan's limit counts the sessions and the caller's pending
   * logins. A new login supersedes the caller's oldest pending ones when they would not fit (abandoned attempts
   * must not lock a customer out), so a login that finishes always fits.
   */
  async function makeRoomForLogin(user: User, login: LoginManager): Promise<void> {
    forgetEndedLogins(login);
    await ensureRoom(user, 1);
    if (user.role === 'admin') return;
    const have = (await store.sessions.listByOwner(user.id)).length;
    const mine = [...loginOwner].filter(([, o]) => o.userId === user.id).map(([id]) => id);
    const excess = have + mine.length + 1 - user.maxSessions;
    for (const id of mine.slice(0, Math.max(0, excess))) {
      loginOwner.delete(id);
      await login.cancel(id);
    }
  }

  function services(): SessionServices {
    if (!deps.sessions)
      throw new ApiError('TELEGRAM_UNAVAILABLE', 'real Telegram sessions are not enabled in this process');
    return deps.sessions;
  }

  async function ownSession(request: FastifyRequest, id: string): Promise<SessionRecord> {
    const { user } = requireCaller(request);
    const session = await store.sessions.get(id);
    // Another customer's session is answered like one that does not exist: ids tell nothing about other tenants.
    if (!session || (session.ownerUserId !== user.id && user.role !== 'admin')) {
      throw new ApiError('NOT_FOUND', `no session ${id}`);
    }
    return session;
  }

  async function ensureRoom(user: User, adding: number): Promise<void> {
    if (user.role === 'admin') return;
    const have = (await store.sessions.listByOwner(user.id)).length;
    if (have + adding > user.maxSessions) {
      // Said with what to do about it: the limit is the plan's, raised by the operator.
      const more = adding > 1 ? `; adding ${adding} would make ${have + adding}` : '';
      throw new ApiError(
        'SESSION_LIMIT',
        `your plan allows ${count(user.maxSessions, 'session')} and you have ${have}${more}: delete a session you no longer need on the Sessions page (DELETE /api/sessions/:id), or ask your operator for a plan with more sessions`,
      );
    }
  }

  function apiCredentials(
    body: { api_id?: number | undefined; api_hash?: string | undefined },
    fromSession?: number | null,
  ) {
    const defaults = deps.sessions?.defaultApi ?? {
      apiId: deps.config.telegram.apiId,
      apiHash: deps.config.telegram.apiHash,
    };
    const apiId = body.api_id ?? fromSession ?? defaults.apiId;
    const apiHash = body.api_hash ?? defaults.apiHash;
    if (!apiId || !apiHash) {
      throw new ApiError(
        'LOGIN_API_CREDENTIALS_MISSING',
        'give api_id and api_hash (from my.telegram.org), or set TELEGRAM_API_ID and TELEGRAM_API_HASH on the server',
      );
    }
    return { apiId, apiHash };
  }

  async function storeImported(
    user: User,
    imported: ImportedSession,
    label: string | undefined,
    body: { api_id?: number; api_hash?: string },
  ) {
    const { apiId, apiHash } = apiCredentials(body, imported.apiId);
    await ensureRoom(user, 1);
    const created = await storeImportedSession(store, {
      ownerUserId: user.id,
      imported,
      label,
      apiId,
      apiHash,
    });
    return { session: presentSession(created, deps.clock.now()), format: imported.format };
  }

  return async (plugin: FastifyInstance) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/sessions',
      { schema: { tags: ['sessions'], summary: 'My Telegram sessions', response: { 200: SessionList } } },
      async (request) => {
        const { user } = requireCaller(request);
        return {
          sessions: (await store.sessions.listByOwner(user.id)).map((s) =>
            presentSession(s, deps.clock.now()),
          ),
        };
      },
    );

    app.delete(
      '/api/sessions/:id',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Delete a session',
          description:
            'Your own session is deleted with its secret; one lent from the pool goes back to the pool.',
          params: IdParams,
          errors: ['NOT_FOUND'],
          response: { 204: Deleted },
        },
      },
      async (request, reply) => {
        const session = await ownSession(request, request.params.id);
        // A pool session lent to the customer goes back to the operator's pool; the customer's own is deleted.
        if (session.origin === 'pool') await store.sessions.assign(session.id, null);
        else await store.sessions.delete(session.id);
        await deps.gateway.release(session.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/sessions/sandbox',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Add sandbox sessions',
          description: 'Simulated accounts, for demos and tests: they post to a simulated Telegram.',
          body: SandboxBody,
          errors: ['SESSION_LIMIT'],
          response: { 201: CreatedSessions },
        },
      },
      async (request, reply) => {
        const { user } = requireCaller(request);
        const { count } = request.body;
        await ensureRoom(user, count);
        const have = (await store.sessions.listByOwner(user.id)).length;
        const created: SessionRecord[] = [];
        for (let i = 0; i < count; i++) {
          created.push(
            await store.sessions.create({
              ownerUserId: user.id,
              label: `sandbox ${have + i + 1}`,
              driver: 'sandbox',
            }),
          );
        }
        return reply.status(201).send({ sessions: created.map((s) => presentSession(s, deps.clock.now())) });
      },
    );

    app.post(
      '/api/sessions/login',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Log a Telegram account in: send the code',
          description:
            'Step 1 of an interactive login: Telegram sends a code to the account. A new login replaces your oldest ' +
            'pending ones when they would not fit max_sessions. The phone number, code and password are never ' +
            'stored or logged.',
          body: LoginBody,
          errors: [
            'LOGIN_API_CREDENTIALS_MISSING',
            'LOGIN_API_CREDENTIALS_INVALID',
            'LOGIN_PHONE_INVALID',
            'LOGIN_PHONE_BANNED',
            'SESSION_LIMIT',
            'LOGIN_SIGNUP_REQUIRED',
            'LOGIN_PAYMENT_REQUIRED',
            'LOGIN_PHONE_FLOOD',
            ...TELEGRAM_LOGIN_ERRORS,
            'TELEGRAM_UNAVAILABLE',
            'LOGIN_TOO_MANY_PENDING',
          ],
          response: { 201: LoginStarted },
        },
      },
      async (request, reply) => {
        const { user } = requireCaller(request);
        const { body } = request;
        const { login } = services();
        await makeRoomForLogin(user, login);
        const { apiId, apiHash } = apiCredentials(body);
        const started = await login.start({ phone: body.phone, apiId, apiHash });
        loginOwner.set(started.loginId, { userId: user.id, label: body.label ?? null, apiId, apiHash });
        return reply.status(201).send({
          loginId: started.loginId,
          codeType: started.codeType,
          expiresAt: new Date(started.expiresAt).toISOString(),
        });
      },
    );

    /** The next step of a login: the code Telegram sent, or the account's 2FA password. */
    async function finishLogin(
      request: FastifyRequest,
      loginId: string,
      answer: { code: string } | { password: string },
    ): Promise<Static<typeof LoginStep>> {
      const { user } = requireCaller(request);
      const owner = loginOwner.get(loginId);
      if (!owner || owner.userId !== user.id)
        throw new ApiError('LOGIN_NOT_FOUND', 'no such login in progress (it may have expired)');
      const login = services().login;
      let result;
      try {
        result =
          'code' in answer
            ? await login.submitCode(loginId, answer.code)
            : await login.submitPassword(loginId, answer.password);
      } finally {
        // Done, failed for good or expired: the login is gone from the manager, so from here too.
        if (!login.has(loginId)) loginOwner.delete(loginId);
      }
      if (result.status === 'password_required') return { passwordRequired: true, hint: result.hint };
      const name = [result.account.firstName, result.account.lastName].filter(Boolean).join(' ');
      const created = await store.sessions.create({
        ownerUserId: user.id,
        label:
          owner.label ??
          (result.account.username ? `@${result.account.username}` : name || `account ${result.account.id}`),
        driver: 'mtcute',
        authString: result.authString,
        apiId: owner.apiId,
        apiHash: owner.apiHash,
        tgUserId: result.account.id,
        tgUsername: result.account.username,
        tgName: name || null,
      });
      return { status: 'done', session: presentSession(created, deps.clock.now()) };
    }

    app.post(
      '/api/sessions/login/:loginId/code',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Log in: send the code',
          description:
            'Step 2: the code Telegram sent. Logged in, the session is stored; an account with two-step ' +
            'verification asks for its password next. A wrong code keeps the login open for another try.',
          params: LoginParams,
          body: CodeBody,
          errors: [
            'LOGIN_CODE_INVALID',
            'LOGIN_CODE_EXPIRED',
            'LOGIN_NOT_FOUND',
            'LOGIN_NOT_WAITING_FOR_CODE',
            'LOGIN_BUSY',
            'LOGIN_SIGNUP_REQUIRED',
            ...TELEGRAM_LOGIN_ERRORS,
          ],
          response: { 200: LoginStep },
        },
      },
      (request) => finishLogin(request, request.params.loginId, request.body),
    );
    app.post(
      '/api/sessions/login/:loginId/password',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Log in: send the two-step verification password',
          description:
            'Step 3, for an account with two-step verification. A wrong password keeps the login open.',
          params: LoginParams,
          body: PasswordBody,
          errors: [
            'LOGIN_PASSWORD_INVALID',
            'LOGIN_NOT_FOUND',
            'LOGIN_NOT_WAITING_FOR_PASSWORD',
            'LOGIN_BUSY',
            ...TELEGRAM_LOGIN_ERRORS,
          ],
          response: { 200: LoginStep },
        },
      },
      (request) => finishLogin(request, request.params.loginId, request.body),
    );

    app.post(
      '/api/sessions/import',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Import a Telegram session',
          description:
            'A session string as JSON, or a multipart upload of a Telethon `.session` file (field `file`) or a ' +
            'string (field `session`). Stored encrypted as an mtcute session; never shown again. A session already ' +
            'stored is refused (one key used from two places gets revoked by Telegram).',
          // Multipart bodies are read part by part by the handler (checked with ImportForm there).
          body: { content: { 'application/json': { schema: ImportJsonBody } } },
          formBody: ImportForm,
          errors: [
            'SESSION_IMPORT_INVALID',
            'INVALID_MULTIPART',
            'LOGIN_API_CREDENTIALS_MISSING',
            'SESSION_LIMIT',
            'SESSION_DUPLICATE',
          ],
          response: { 201: Imported },
        },
      },
      async (request, reply) => {
        const { user } = requireCaller(request);
        if (request.isMultipart()) {
          const { fields, file } = await readUpload(request);
          // A blank form field is no value (forms send their empty inputs).
          const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
          if (!checkImportForm(given)) {
            const [problem] = checkImportForm.errors ?? [];
            throw new ApiError(
              'VALIDATION_FAILED',
              `body${problem?.instancePath.replaceAll('/', '.') ?? ''} ${problem?.message ?? 'is invalid'}`,
            );
          }
          const form = given as Static<typeof ImportForm>;
          const extra = {
            ...(form.api_id ? { api_id: Number(form.api_id) } : {}),
            ...(form.api_hash ? { api_hash: form.api_hash } : {}),
          };
          const imported = file
            ? parseTelethonSessionFile(new Uint8Array(file))
            : form.session
              ? parseSessionString(form.session)
              : null;
          if (!imported)
            throw new ApiError(
              'VALIDATION_FAILED',
              'send a session file (field "file") or a session string (field "session")',
            );
          return reply.status(201).send(await storeImported(user, imported, form.label, extra));
        }
        // JSON bodies were checked against ImportJsonBody; any other type (text/plain) has no schema to meet.
        if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
          throw new ApiError(
            'VALIDATION_FAILED',
            'send {"session": "<string>"} as JSON, or a multipart upload',
          );
        const body = request.body as Static<typeof ImportJsonBody>;
        return reply
          .status(201)
          .send(await storeImported(user, parseSessionString(body.session), body.label, body));
      },
    );

    app.post(
      '/api/sessions/:id/check',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Check a session with Telegram',
          description:
            'Connects with the session and reads the account: alive, limited (and why), frozen, or dead. What it ' +
            'finds is stored. Not while the bot runs with the session (one key on two clients gets revoked).',
          params: IdParams,
          errors: ['NOT_FOUND', 'SESSION_IN_USE', 'LOGIN_API_CREDENTIALS_MISSING', 'TELEGRAM_UNAVAILABLE'],
          response: { 200: CheckAnswer },
        },
      },
      async (request): Promise<Static<typeof CheckAnswer>> => {
        const session = await ownSession(request, request.params.id);
        if (session.driver === 'sandbox') {
          const account = await store.sandbox.getAccount(session.id);
          const dead = account !== null && account.status !== 'ok' && account.status !== 'limited';
          if (dead) await store.sessions.setStatus(session.id, 'dead', account.status);
          return dead
            ? { ok: false, dead: true, error: account.status, errorText: explain(account.status) }
            : {
                ok: true,
                account: { id: null, name: session.label, username: null },
                limited: account?.status === 'limited',
                limitReasons: [],
                frozen: null,
              };
        }
        const owner = session.ownerUserId ? await store.users.get(session.ownerUserId) : null;
        if (owner) {
          const bot = await store.bots.forUser(owner.id);
          if (bot.desiredState === 'running') {
            // One auth key on two clients at once gets the session revoked (AUTH_KEY_DUPLICATED).
            throw new ApiError(
              'SESSION_IN_USE',
              'the bot is running with this session: stop it before checking',
            );
          }
        }
        // This process's gateway may still hold a client on the key (a bot that ran and stopped): close it
        // first, so that the check never runs the key on a second client at the same time.
        await deps.gateway.release(session.id);
        const credentials = await store.sessions.credentials(session.id);
        if (!credentials)
          return {
            ok: false,
            dead: true,
            error: 'AUTH_KEY_UNREGISTERED',
            errorText: explain('AUTH_KEY_UNREGISTERED'),
          };
        const { apiId, apiHash } = apiCredentials({}, credentials.apiId);
        const result = await services().check({
          authString: credentials.authString,
          apiId,
          apiHash: credentials.apiHash ?? apiHash,
        });
        if (!result.ok) {
          if (result.dead) await store.sessions.setStatus(session.id, 'dead', result.error);
          return { ok: false, dead: result.dead, error: result.error, errorText: explain(result.error) };
        }
        await store.sessions.setAccount(session.id, {
          tgUserId: result.account.id,
          tgUsername: result.account.username,
          tgName: result.account.name,
        });
        if (result.authString !== credentials.authString)
          await store.sessions.updateAuthString(session.id, result.authString);
        // A frozen account is stored as such (out of use while it lasts); a lifted freeze clears it.
        await store.sessions.setFreeze(session.id, result.frozen);
        const frozen = frozenAt(result.frozen, deps.clock.now());
        if (session.status === 'dead' && !frozen) await store.sessions.setStatus(session.id, 'active', null);
        return {
          ok: true,
          account: result.account,
          limited: result.limited,
          limitReasons: result.limitReasons,
          frozen: frozen ? presentFreeze(result.frozen) : null,
        };
      },
    );
  };
}
