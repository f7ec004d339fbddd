/**
 * The caller's Telegram sessions: list (never with secrets), delete, sandbox sessions for demos and tests, and
 * real accounts — interactive login (phone → code → 2FA) and import (Telethon file or string, Pyrogram string,
 * mtcute string) — plus a check that connects and reads the account.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
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
} from '../../telegram/mtcute/session-formats.js';
import { storeImportedSession } from '../../telegram/session-import.js';
import { requireCaller } from '../auth.js';
import type { AppDeps, SessionServices } from '../deps.js';
import { ApiError } from '../errors.js';
import { presentFreeze, presentSession } from '../presenters.js';
import { IdParams } from '../schemas.js';

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
  { count: Type.Integer({ minimum: 1, maximum: 50 }) },
  { additionalProperties: false },
);
const LoginBody = Type.Object(
  {
    phone: Type.String({ minLength: 5, maxLength: 32 }),
    api_id: Type.Optional(Type.Integer({ minimum: 1 })),
    api_hash: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const CodeBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 16 }) },
  { additionalProperties: false },
);
const PasswordBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
interface ImportJson {
  session: string;
  label?: string;
  api_id?: number;
  api_hash?: string;
}
const LoginParams = Type.Object({ loginId: Type.String({ minLength: 1, maxLength: 64 }) });

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
    app.get('/api/sessions', { schema: { tags: ['sessions'] } }, async (request) => {
      const { user } = requireCaller(request);
      return {
        sessions: (await store.sessions.listByOwner(user.id)).map((s) => presentSession(s, deps.clock.now())),
      };
    });

    app.delete(
      '/api/sessions/:id',
      { schema: { tags: ['sessions'], params: IdParams } },
      async (request, reply) => {
        const session = await ownSession(request, request.params.id);
        // A pool session lent to the customer goes back to the operator's pool; the customer's own is deleted.
        if (session.origin === 'pool') await store.sessions.assign(session.id, null);
        else await store.sessions.delete(session.id);
        await deps.gateway.release(session.id);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/sessions/sandbox',
      { schema: { tags: ['sessions'], body: SandboxBody } },
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
      { schema: { tags: ['sessions'], body: LoginBody } },
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
    ) {
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
      { schema: { tags: ['sessions'], params: LoginParams, body: CodeBody } },
      (request) => finishLogin(request, request.params.loginId, request.body),
    );
    app.post(
      '/api/sessions/login/:loginId/password',
      { schema: { tags: ['sessions'], params: LoginParams, body: PasswordBody } },
      (request) => finishLogin(request, request.params.loginId, request.body),
    );

    app.post('/api/sessions/import', { schema: { tags: ['sessions'] } }, async (request, reply) => {
      const { user } = requireCaller(request);
      if (request.isMultipart()) {
        const { fields, file } = await readUpload(request);
        const extra = {
          ...(fields.api_id ? { api_id: Number(fields.api_id) } : {}),
          ...(fields.api_hash ? { api_hash: fields.api_hash } : {}),
        };
        if (extra.api_id !== undefined && !(Number.isInteger(extra.api_id) && extra.api_id > 0)) {
          throw new ApiError('VALIDATION_FAILED', 'api_id must be a positive whole number');
        }
        const imported = file
          ? parseTelethonSessionFile(new Uint8Array(file))
          : fields.session
            ? parseSessionString(fields.session)
            : null;
        if (!imported)
          throw new ApiError(
            'VALIDATION_FAILED',
            'send a session file (field "file") or a session string (field "session")',
          );
        return reply.status(201).send(await storeImported(user, imported, fields.label, extra));
      }
      const body = request.body as ImportJson | undefined;
      if (!body || typeof body !== 'object')
        throw new ApiError('VALIDATION_FAILED', 'send {"session": "<string>"} or a multipart upload');
      const errors = importJsonErrors(body as unknown as Record<string, unknown>);
      if (errors) throw new ApiError('VALIDATION_FAILED', errors);
      return reply
        .status(201)
        .send(await storeImported(user, parseSessionString(body.session), body.label, body));
    });

    app.post(
      '/api/sessions/:id/check',
      { schema: { tags: ['sessions'], params: IdParams } },
      async (request) => {
        const session = await ownSession(request, request.params.id);
        if (session.driver === 'sandbox') {
          const account = await store.sandbox.getAccount(session.id);
          const dead = account !== null && account.status !== 'ok' && account.status !== 'limited';
          if (dead) await store.sessions.setStatus(session.id, 'dead', account.status);
          return dead
            ? { ok: false, dead: true, error: account.status }
            : {
                ok: true,
                account: { id: null, name: session.label, username: null },
                limited: account?.status === 'limited',
                limitReasons: [],
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

/** JSON imports are validated here (the route also takes multipart, so it has no body schema). */
function importJsonErrors(body: Record<string, unknown>): string | null {
  const allowed = new Set(['session', 'label', 'api_id', 'api_hash']);
  const unknown = Object.keys(body).filter((k) => !allowed.has(k));
  if (unknown.length > 0) return `body: unknown field "${unknown[0]}"`;
  if (typeof body.session !== 'string' || body.session.trim() === '')
    return 'body.session must be a non-empty string';
  if (body.session.length > 8192) return 'body.session is too long';
  if (body.label !== undefined && (typeof body.label !== 'string' || body.label.length > 100))
    return 'body.label must be a short string';
  if (
    body.api_id !== undefined &&
    !(typeof body.api_id === 'number' && Number.isInteger(body.api_id) && body.api_id > 0)
  ) {
    return 'body.api_id must be a positive whole number';
  }
  if (
    body.api_hash !== undefined &&
    !(typeof body.api_hash === 'string' && /^[0-9a-fA-F]{32}$/.test(body.api_hash))
  ) {
    return 'body.api_hash must be 32 hex digits';
  }
  return null;
}
