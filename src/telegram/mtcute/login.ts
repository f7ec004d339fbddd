/**
 * Interactive login of a Telegram account, step by step over HTTP: phone → code → (2FA password) → an mtcute
 * session string for Stagger's database.
 *
 * Each pending login has its own client (in-memory storage) until it is done, fails for good, or expires (default
 * 10 minutes; expired logins are swept by a timer that never keeps the process alive, and on every call). Limits
 * are never waited through: a FLOOD_WAIT comes back at once as LOGIN_FLOOD_WAIT with `retryAfterSeconds`.
 *
 * Errors are `StaggerError`s with stable codes (`LoginErrorCode`). Their messages never contain the phone number,
 * the code, the password or the session.
 */
import { SentCode, type User } from '@mtcute/core';
import type { TelegramClient } from '@mtcute/node';
import { randomUUID } from 'node:crypto';
import type { StaggerError } from '../../core/errors.js';
import { describeError, isRpcError, rpcErrorText } from './answers.js';
import {
  buildClient,
  createDefaultClient,
  type ClientParams,
  type TelegramLogger,
} from './client-factory.js';
import { LoginErrorCode, loginError, telegramLoginError, type LoginDoing } from './login-errors.js';

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
  now?: () => number;
  /** How long a pending login lives. Default 10 minutes. */
  ttlMs?: number;
  /** At most this many pending logins at once. Default 100. */
  maxPending?: number;
  /** How often expired logins are swept (0: only on calls). Default 30 s. */
  sweepIntervalMs?: number;
  logger?: TelegramLogger;
}

interface PendingLogin {
  id: string;
  tg: TelegramClient;
  phone: string;
  phoneCodeHash: string;
  state: 'code' | 'password';
  expiresAt: number;
  busy: boolean;
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
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly sweepIntervalMs: number;
  private readonly logger: TelegramLogger;
  private readonly pending = new Map<string, PendingLogin>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(options: LoginManagerOptions = {}) {
    this.apiId = options.apiId;
    this.apiHash = options.apiHash;
    const logger = options.logger;
    this.createClient =
      options.createClient ?? (logger ? (p) => buildClient(p, { logger }) : createDefaultClient);
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxPending = options.maxPending ?? 100;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    this.logger = options.logger ?? NOOP_LOGGER;
  }

  /** Number of logins waiting for a code or a password. */
  get size(): number {
    return this.pending.size;
  }

  /** Is this login still waiting for a code or a password (not done, not failed for good, not expired)? */
  has(loginId: string): boolean {
    const login = this.pending.get(loginId);
    return login !== undefined && login.expiresAt > this.now();
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

    const tg = this.createClient({ apiId, apiHash });
    let sent: SentCode | User;
    try {
      sent = await tg.sendCode({ phone });
    } catch (error) {
      await this.destroy(tg);
      throw this.mapError(error, 'sending the code');
    }
    if (!(sent instanceof SentCode)) {
      await this.destroy(tg);
      throw loginError(
        LoginErrorCode.Failed,
        'Telegram answered the code request in an unexpected way; try again',
      );
    }
    const id = randomUUID();
    const expiresAt = this.now() + this.ttlMs;
    this.pending.set(id, {
      id,
      tg,
      phone,
      phoneCodeHash: sent.phoneCodeHash,
      state: 'code',
      expiresAt,
      busy: false,
    });
    this.armTimer();
    this.logger.info({ loginId: id, codeType: sent.type }, 'login code sent');
    return { loginId: id, codeType: String(sent.type), expiresAt };
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
        const user = await login.tg.signIn({
          phone: login.phone,
          phoneCodeHash: login.phoneCodeHash,
          phoneCode,
        });
        return await this.finish(login, user);
      } catch (error) {
        if (isRpcError(error) && rpcErrorText(error) === 'SESSION_PASSWORD_NEEDED') {
          let hint: string | null = null;
          try {
            hint = await login.tg.getPasswordHint();
          } catch (hintError) {
            this.logger.warn({ loginId, ...describeError(hintError) }, 'could not read the password hint');
          }
          login.state = 'password';
          login.expiresAt = this.now() + this.ttlMs;
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
      const user = await login.tg.checkPassword(password);
      return this.finish(login, user);
    });
  }

  /** Forgets a pending login (closing its client). Idempotent. */
  async cancel(loginId: string): Promise<void> {
    const login = this.pending.get(loginId);
    if (!login) return;
    this.pending.delete(loginId);
    await this.destroy(login.tg);
    this.disarmIfIdle();
  }

  /** Closes every pending login and stops the sweep timer. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pending.values()];
    this.pending.clear();
    this.disarmIfIdle();
    await Promise.all(all.map((l) => this.destroy(l.tg)));
  }

  /** Closes and forgets the logins past their time. */
  async sweepExpired(): Promise<number> {
    const now = this.now();
    const expired = [...this.pending.values()].filter((l) => l.expiresAt <= now && !l.busy);
    for (const login of expired) this.pending.delete(login.id);
    this.disarmIfIdle();
    await Promise.all(expired.map((l) => this.destroy(l.tg)));
    if (expired.length > 0) this.logger.info({ count: expired.length }, 'expired logins closed');
    return expired.length;
  }

  private async step(
    loginId: string,
    expected: PendingLogin['state'],
    run: (login: PendingLogin) => Promise<LoginStep>,
  ): Promise<LoginStep> {
    await this.sweepExpired();
    const login = this.pending.get(loginId);
    if (!login) {
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
      const mapped = this.mapError(
        error,
        expected === 'code' ? 'checking the code' : 'checking the password',
      );
      // Mistyped code or password: the login stays, the user tries again. Anything else ends it.
      if (mapped.code !== LoginErrorCode.CodeInvalid && mapped.code !== LoginErrorCode.PasswordInvalid) {
        await this.cancel(loginId);
      }
      throw mapped;
    } finally {
      login.busy = false;
    }
  }

  private async finish(login: PendingLogin, user: User): Promise<LoginStep> {
    const authString = await login.tg.exportSession();
    this.pending.delete(login.id);
    await this.destroy(login.tg);
    this.disarmIfIdle();
    this.logger.info({ loginId: login.id, userId: String(user.raw.id) }, 'login done');
    return { status: 'done', authString, account: account(user) };
  }

  private mapError(error: unknown, doing: LoginDoing): StaggerError {
    const mapped = telegramLoginError(error, doing);
    // Not Telegram's answer: what went wrong on the way is only in the log.
    if (mapped.code === LoginErrorCode.Network) {
      this.logger.warn({ ...describeError(error) }, `login: ${doing} failed`);
    }
    return mapped;
  }

  private async destroy(tg: TelegramClient): Promise<void> {
    try {
      await tg.destroy();
    } catch (error) {
      this.logger.warn({ ...describeError(error) }, 'closing a login client failed');
    }
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.sweepIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      void this.sweepExpired();
    }, this.sweepIntervalMs);
    this.timer.unref();
  }

  private disarmIfIdle(): void {
    if (this.pending.size > 0 || this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
