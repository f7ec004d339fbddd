/**
 * Interactive login of a Telegram account, step by step over HTTP: phone → code → (2FA password) → an mtcute
 * session string for Stagger's database.
 *
 * Each login has its own client (in-memory storage) from the code request until it is done, fails for good, or
 * expires (default 10 minutes). Every call to Telegram is bounded (default 30 s): one left unanswered ends the
 * login with LOGIN_TIMEOUT and closes its client. Expired logins, and any whose call ran past the bound, are
 * swept on the manager's clock while logins are pending, and on every call. Limits are never waited through: a
 * FLOOD_WAIT comes back at once as LOGIN_FLOOD_WAIT with `retryAfterSeconds` and whether the login is still
 * usable after the wait. A mistyped code or password, and a flood wait the login outlasts, keep it open;
 * everything else ends it.
 *
 * Errors are `StaggerError`s with stable codes (`LoginErrorCode`, login-errors.ts).
 */
import { SentCode, type tl, type User } from '@mtcute/core';
import type { TelegramClient } from '@mtcute/node';
import { randomUUID } from 'node:crypto';
import type { StaggerError } from '../../core/errors.js';
import { describeError, isRpcError, rpcErrorText } from './answers.js';
import {
  buildClient,
  createDefaultClient,
  NO_FLOOD_SLEEP,
  type ClientParams,
  type TelegramLogger,
} from './client-factory.js';
import { boundedCall, LoginCallTimedOut, LoginCancelled } from './login-deadline.js';
import {
  codeNotSentError,
  keepsLogin,
  LoginErrorCode,
  loginError,
  telegramLoginError,
  type LoginErrorContext,
} from './login-errors.js';
import { wallClock, type TelegramClock } from './telegram-clock.js';

export interface LoginAccount {
  /** Decimal user id. */
  id: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  phone: string | null;
}

export type LoginStep =
  | { status: 'done'; authString: string; account: LoginAccount }
  | { status: 'password_required'; hint: string | null };

export interface LoginStart {
  loginId: string;
  /** How Telegram delivers the code: 'app', 'sms', 'call', 'flash_call', 'fragment', 'email', … */
  codeType: string;
  /** Epoch ms after which the login is forgotten. */
  expiresAt: number;
}

export interface LoginManagerOptions {
  /** Default API credentials (the caller reads TELEGRAM_API_ID / TELEGRAM_API_HASH). */
  apiId?: number;
  apiHash?: string;
  createClient?: (params: ClientParams) => TelegramClient;
  /** The time of expiries, of the sweep and of the bound on each call. Default: the wall clock. */
  clock?: TelegramClock;
  /** How long a pending login lives. Default 10 minutes. */
  ttlMs?: number;
  /** How long one call to Telegram may go unanswered before the login is closed. Default 30 s. */
  callTimeoutMs?: number;
  /** At most this many logins at once (code requests under way included). Default 100. */
  maxPending?: number;
  /** How often expired and stuck logins are swept (0: only on calls). Default 30 s. */
  sweepIntervalMs?: number;
  logger?: TelegramLogger;
}

interface PendingLogin {
  id: string;
  tg: TelegramClient;
  phone: string;
  /** `sending`: the code request is under way; the login counts against the cap, its id is not known outside. */
  state: 'sending' | 'code' | 'password';
  phoneCodeHash: string;
  expiresAt: number;
  /** A step (code or password) is being checked. */
  busy: boolean;
  /** The call to Telegram under way: since when (the sweep ends one past the bound), and how to stop it. */
  call: { since: number; controller: AbortController } | null;
}

const NOOP_LOGGER: TelegramLogger = { info() {}, warn() {}, error() {} };

/** `+1 (555) 010-99-88` → `15550109988`. */
function normalizePhone(phone: string): string | null {
  const digits = phone.trim().replace(/[\s().-]/g, '');
  const match = /^\+?([0-9]{7,15})$/.exec(digits);
  return match ? match[1]! : null;
}

function account(user: User): LoginAccount {
  return {
    id: String(user.raw.id),
    firstName: user.firstName,
    lastName: user.lastName,
    username: user.username,
    phone: user.phoneNumber,
  };
}

export class LoginManager {
  private readonly apiId: number | undefined;
  private readonly apiHash: string | undefined;
  private readonly createClient: (params: ClientParams) => TelegramClient;
  private readonly clock: TelegramClock;
  private readonly ttlMs: number;
  private readonly callTimeoutMs: number;
  private readonly maxPending: number;
  private readonly sweepIntervalMs: number;
  private readonly logger: TelegramLogger;
  private readonly pending = new Map<string, PendingLogin>();
  /** Stops the sweep loop; set while it runs. */
  private sweeper: AbortController | undefined;
  private closed = false;

  constructor(options: LoginManagerOptions = {}) {
    this.apiId = options.apiId;
    this.apiHash = options.apiHash;
    const logger = options.logger;
    this.createClient =
      options.createClient ?? (logger ? (p) => buildClient(p, { logger }) : createDefaultClient);
    this.clock = options.clock ?? wallClock;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.maxPending = options.maxPending ?? 100;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    this.logger = options.logger ?? NOOP_LOGGER;
  }

  /** Number of logins in progress (a code being sent, or waiting for a code or a password): what the cap counts. */
  get size(): number {
    return this.pending.size;
  }

  /** Is this login still waiting for a code or a password (not done, not failed for good, not expired)? */
  has(loginId: string): boolean {
    const login = this.pending.get(loginId);
    return login !== undefined && login.state !== 'sending' && login.expiresAt > this.clock.now();
  }

  /** Sends the login code to the phone. */
  async start(params: { phone: string; apiId?: number; apiHash?: string }): Promise<LoginStart> {
    if (this.closed) throw new Error('LoginManager is closed');
    await this.sweepExpired();
    const apiId = params.apiId ?? this.apiId;
    const apiHash = params.apiHash ?? this.apiHash;
    if (apiId === undefined || !apiHash) {
      throw loginError(
        LoginErrorCode.ApiCredentialsMissing,
        'no Telegram API id/hash: give apiId and apiHash, or configure TELEGRAM_API_ID and TELEGRAM_API_HASH',
      );
    }
    if (!Number.isInteger(apiId) || apiId <= 0 || !/^[0-9a-f]{32}$/i.test(apiHash)) {
      throw loginError(
        LoginErrorCode.ApiCredentialsInvalid,
        'the Telegram API id must be a positive integer and the API hash 32 hexadecimal characters (see my.telegram.org)',
      );
    }
    const phone = normalizePhone(params.phone);
    if (phone === null) {
      throw loginError(
        LoginErrorCode.PhoneInvalid,
        'the phone number is not valid: give it in international format, e.g. +44 7700 900123',
      );
    }
    if (this.pending.size >= this.maxPending) {
      throw loginError(
        LoginErrorCode.TooMany,
        'too many logins are in progress; try again in a few minutes',
        {
          retryable: true,
        },
      );
    }

    const login: PendingLogin = {
      id: randomUUID(),
      tg: this.createClient({ apiId, apiHash }),
      phone,
      state: 'sending',
      phoneCodeHash: '',
      expiresAt: this.clock.now() + this.ttlMs,
      busy: false,
      call: null,
    };
    // Counted from here: a code request Telegram never answers holds a client, and the cap is what bounds them.
    this.pending.set(login.id, login);
    this.armSweep();
    let answer: tl.auth.TypeSentCode;
    try {
      // auth.sendCode itself, not mtcute's sendCode: that one turns Telegram's request for a payment into an
      // argument error, which would read here as a network failure.
      answer = await this.call(login, (abortSignal) =>
        login.tg.call(
          { _: 'auth.sendCode', phoneNumber: phone, apiId, apiHash, settings: { _: 'codeSettings' } },
          { ...NO_FLOOD_SLEEP, abortSignal },
        ),
      );
    } catch (error) {
      await this.end(login);
      throw this.mapError(error, { doing: 'sending the code', now: this.clock.now(), openUntil: null });
    }
    if (answer._ !== 'auth.sentCode') {
      await this.end(login);
      throw codeNotSentError(answer);
    }
    const sent = new SentCode(answer);
    login.phoneCodeHash = sent.phoneCodeHash;
    login.state = 'code';
    login.expiresAt = this.clock.now() + this.ttlMs;
    this.logger.info({ loginId: login.id, codeType: sent.type }, 'login code sent');
    return { loginId: login.id, codeType: String(sent.type), expiresAt: login.expiresAt };
  }

  /** Signs in with the code. Done, or a 2FA password is needed. */
  async submitCode(loginId: string, code: string): Promise<LoginStep> {
    return this.step(loginId, 'code', async (login) => {
      const phoneCode = code.trim().replace(/[\s-]/g, '');
      if (phoneCode === '' || phoneCode.length > 32) {
        throw loginError(
          LoginErrorCode.CodeInvalid,
          'the login code is empty or too long; type the code Telegram sent',
        );
      }
      try {
        const user = await this.call(login, (abortSignal) =>
          login.tg.signIn({ phone: login.phone, phoneCodeHash: login.phoneCodeHash, phoneCode, abortSignal }),
        );
        return await this.finish(login, user);
      } catch (error) {
        if (isRpcError(error) && rpcErrorText(error) === 'SESSION_PASSWORD_NEEDED') {
          const hint = await this.passwordHint(login);
          login.state = 'password';
          login.expiresAt = this.clock.now() + this.ttlMs;
          return { status: 'password_required', hint };
        }
        throw error;
      }
    });
  }

  /** Checks the 2FA password and finishes the login. */
  async submitPassword(loginId: string, password: string): Promise<LoginStep> {
    return this.step(loginId, 'password', async (login) => {
      if (password === '') {
        throw loginError(LoginErrorCode.PasswordInvalid, 'the two-step verification password is empty');
      }
      const user = await this.call(login, (abortSignal) => login.tg.checkPassword({ password, abortSignal }));
      return this.finish(login, user);
    });
  }

  /** Forgets a pending login (stopping its call to Telegram, closing its client). Idempotent. */
  async cancel(loginId: string): Promise<void> {
    const login = this.pending.get(loginId);
    if (login) await this.end(login, new LoginCancelled());
  }

  /** Closes every pending login and stops the sweep. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pending.values()].map((l) => this.end(l, new LoginCancelled())));
  }

  /**
   * Closes and forgets the logins past their time, and those whose call to Telegram has gone unanswered past the
   * bound (normally the call's own deadline has ended them already; a stalled event loop or a clock that jumped
   * leaves it to the sweep). Returns how many were closed.
   */
  async sweepExpired(): Promise<number> {
    const now = this.clock.now();
    const logins = [...this.pending.values()];
    const stuck = logins.filter((l) => l.call !== null && now - l.call.since >= this.callTimeoutMs);
    const expired = logins.filter((l) => !l.busy && l.call === null && l.expiresAt <= now);
    await Promise.all([
      ...stuck.map((l) => this.end(l, new LoginCallTimedOut(this.callTimeoutMs))),
      ...expired.map((l) => this.end(l)),
    ]);
    if (stuck.length > 0) this.logger.warn({ count: stuck.length }, 'stuck logins closed');
    if (expired.length > 0) this.logger.info({ count: expired.length }, 'expired logins closed');
    return stuck.length + expired.length;
  }

  private async step(
    loginId: string,
    expected: 'code' | 'password',
    run: (login: PendingLogin) => Promise<LoginStep>,
  ): Promise<LoginStep> {
    await this.sweepExpired();
    const login = this.pending.get(loginId);
    if (!login || login.state === 'sending') {
      throw loginError(
        LoginErrorCode.NotFound,
        `this login does not exist or has expired (a login lasts ${Math.round(this.ttlMs / 60_000)} minutes); start again`,
        { details: { loginId } },
      );
    }
    if (login.state !== expected) {
      throw expected === 'code'
        ? loginError(
            LoginErrorCode.NotWaitingForCode,
            'the code was already accepted; this login now needs the two-step verification password',
          )
        : loginError(
            LoginErrorCode.NotWaitingForPassword,
            'this login is waiting for the code, not for a password',
          );
    }
    if (login.busy) {
      throw loginError(LoginErrorCode.Busy, 'this login is already being checked; wait for the answer', {
        retryable: true,
      });
    }
    login.busy = true;
    try {
      return await run(login);
    } catch (error) {
      const mapped = this.mapError(error, {
        doing: expected === 'code' ? 'checking the code' : 'checking the password',
        now: this.clock.now(),
        openUntil: login.expiresAt,
      });
      if (!keepsLogin(mapped)) await this.end(login);
      throw mapped;
    } finally {
      login.busy = false;
    }
  }

  /**
   * One call to Telegram for `login`, within the bound. A login ended while the call ran (cancelled, swept) fails
   * the call with the reason it was ended for, even if an answer came: its client is gone.
   */
  private async call<T>(login: PendingLogin, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    login.call = { since: this.clock.now(), controller };
    try {
      const result = await boundedCall(this.clock, this.callTimeoutMs, controller, run);
      if (this.pending.get(login.id) !== login) throw controller.signal.reason ?? new LoginCancelled();
      return result;
    } finally {
      login.call = null;
    }
  }

  /** The 2FA hint, or null when Telegram does not give it (the login goes on without it). */
  private async passwordHint(login: PendingLogin): Promise<string | null> {
    try {
      const password = await this.call(login, (abortSignal) =>
        login.tg.call({ _: 'account.getPassword' }, { ...NO_FLOOD_SLEEP, abortSignal }),
      );
      return password.hint ?? null;
    } catch (error) {
      if (this.pending.get(login.id) !== login) throw error;
      this.logger.warn({ loginId: login.id, ...describeError(error) }, 'could not read the password hint');
      return null;
    }
  }

  private async finish(login: PendingLogin, user: User): Promise<LoginStep> {
    const authString = await login.tg.exportSession();
    if (this.pending.get(login.id) !== login) throw new LoginCancelled();
    await this.end(login);
    this.logger.info({ loginId: login.id, userId: String(user.raw.id) }, 'login done');
    return { status: 'done', authString, account: account(user) };
  }

  /** Forgets the login, stops its call to Telegram (with `reason`), closes its client. Idempotent. */
  private async end(login: PendingLogin, reason: Error = new LoginCancelled()): Promise<void> {
    if (this.pending.get(login.id) !== login) return;
    this.pending.delete(login.id);
    login.call?.controller.abort(reason);
    this.disarmIfIdle();
    try {
      await login.tg.destroy();
    } catch (error) {
      this.logger.warn({ ...describeError(error) }, 'closing a login client failed');
    }
  }

  private mapError(error: unknown, context: LoginErrorContext): StaggerError {
    const mapped = telegramLoginError(error, context);
    // Not Telegram's answer: what went wrong on the way is only in the log.
    if (mapped.code === LoginErrorCode.Network) {
      this.logger.warn({ ...describeError(error) }, `login: ${context.doing} failed`);
    }
    return mapped;
  }

  /** The sweep runs on the manager's clock while logins are pending. */
  private armSweep(): void {
    if (this.sweeper !== undefined || this.sweepIntervalMs <= 0) return;
    const stop = new AbortController();
    this.sweeper = stop;
    void (async () => {
      while (await this.clock.sleep(this.sweepIntervalMs, stop.signal)) await this.sweepExpired();
    })();
  }

  private disarmIfIdle(): void {
    if (this.pending.size > 0 || this.sweeper === undefined) return;
    this.sweeper.abort();
    this.sweeper = undefined;
  }
}
