/**
 * What a login answers when it cannot go on: stable codes (`LoginErrorCode`, each with an HTTP status in
 * src/http/errors.ts) and the one translation of what mtcute threw into those codes, in words a customer can act
 * on. Messages never contain the phone number, the code, the password or the session.
 */
import { MtUnsupportedError, type tl } from '@mtcute/core';
import { StaggerError } from '../../core/errors.js';
import { isRpcError, rpcErrorText } from './answers.js';
import { LoginCallTimedOut, LoginCancelled } from './login-deadline.js';

export const LoginErrorCode = {
  NotFound: 'LOGIN_NOT_FOUND',
  Busy: 'LOGIN_BUSY',
  TooMany: 'LOGIN_TOO_MANY_PENDING',
  ApiCredentialsMissing: 'LOGIN_API_CREDENTIALS_MISSING',
  ApiCredentialsInvalid: 'LOGIN_API_CREDENTIALS_INVALID',
  PhoneInvalid: 'LOGIN_PHONE_INVALID',
  PhoneBanned: 'LOGIN_PHONE_BANNED',
  PhoneFlood: 'LOGIN_PHONE_FLOOD',
  FloodWait: 'LOGIN_FLOOD_WAIT',
  CodeInvalid: 'LOGIN_CODE_INVALID',
  CodeExpired: 'LOGIN_CODE_EXPIRED',
  PasswordRequired: 'LOGIN_PASSWORD_REQUIRED',
  PasswordInvalid: 'LOGIN_PASSWORD_INVALID',
  NotWaitingForCode: 'LOGIN_NOT_WAITING_FOR_CODE',
  NotWaitingForPassword: 'LOGIN_NOT_WAITING_FOR_PASSWORD',
  SignUpRequired: 'LOGIN_SIGNUP_REQUIRED',
  PaymentRequired: 'LOGIN_PAYMENT_REQUIRED',
  MigrateFailed: 'LOGIN_MIGRATE_FAILED',
  Network: 'LOGIN_NETWORK_ERROR',
  Timeout: 'LOGIN_TIMEOUT',
  Failed: 'LOGIN_FAILED',
} as const;

export function loginError(
  code: string,
  message: string,
  options: { details?: unknown; retryable?: boolean } = {},
): StaggerError {
  return new StaggerError(code, message, options);
}

/** What the login was doing when Telegram (or the way to it) failed, in the words of a message. */
export type LoginDoing = 'sending the code' | 'checking the code' | 'checking the password';

export interface LoginErrorContext {
  doing: LoginDoing;
  now: number;
  /** When the login expires; null while the code is being requested (there is no login to keep yet). */
  openUntil: number | null;
}

/** Does the login stay open after this error? A mistyped code or password, and a flood wait it outlasts. */
export function keepsLogin(error: StaggerError): boolean {
  if (error.code === LoginErrorCode.CodeInvalid || error.code === LoginErrorCode.PasswordInvalid) return true;
  return (
    error.code === LoginErrorCode.FloodWait &&
    (error.details as { loginUsable?: unknown } | undefined)?.loginUsable === true
  );
}

/** A code request that Telegram answered without sending a code. */
export function codeNotSentError(answer: Exclude<tl.auth.TypeSentCode, tl.auth.RawSentCode>): StaggerError {
  if (answer._ === 'auth.sentCodePaymentRequired') {
    return loginError(
      LoginErrorCode.PaymentRequired,
      'Telegram sends a login code to this number only after a payment, which it offers in its official apps: ' +
        'log the account in once with an official Telegram app (the next code then goes there), then try again',
    );
  }
  // auth.sentCodeSuccess: a login without a code, which Telegram grants only to a request with logout tokens.
  return loginError(
    LoginErrorCode.Failed,
    'Telegram answered the code request in an unexpected way; try again',
  );
}

/** What mtcute threw during a login, as the login's answer. */
export function telegramLoginError(error: unknown, context: LoginErrorContext): StaggerError {
  const { doing } = context;
  if (error instanceof StaggerError) return error;
  if (error instanceof LoginCallTimedOut) {
    const seconds = Math.ceil(error.afterMs / 1000);
    // Before the code is sent there is no login to lose: the same request may work later. After, it is closed.
    const starting = context.openUntil === null;
    return loginError(
      LoginErrorCode.Timeout,
      `Telegram did not answer in ${seconds} s while ${doing}; ` +
        (starting ? 'no login was started, try again in a minute' : 'this login was closed, start it again'),
      { details: { timeoutSeconds: seconds }, retryable: starting },
    );
  }
  if (error instanceof LoginCancelled) {
    return loginError(
      LoginErrorCode.NotFound,
      'this login was cancelled (a newer login replaced it, or the server is stopping); start again',
    );
  }
  if (error instanceof MtUnsupportedError) {
    return loginError(
      LoginErrorCode.SignUpRequired,
      'this phone number has no Telegram account; sign up in an official Telegram app first',
    );
  }
  if (!isRpcError(error)) {
    return loginError(LoginErrorCode.Network, `could not reach Telegram while ${doing}; try again`, {
      retryable: true,
    });
  }
  const text = rpcErrorText(error);
  const flood = /^(?:FLOOD_WAIT|FLOOD_PREMIUM_WAIT|FLOOD_TEST_PHONE_WAIT)_(\d+)$/.exec(text);
  if (flood) return floodWaitError(Number(flood[1]), context);
  // mtcute follows a migrate itself (it moves to that data center and asks again, once): one that reaches the
  // login is a move that failed or went round in a circle.
  const migrate = /^(?:PHONE|NETWORK|USER)_MIGRATE_(\d+)$/.exec(text);
  if (migrate) {
    const dcId = Number(migrate[1]);
    return loginError(
      LoginErrorCode.MigrateFailed,
      `Telegram serves this number from its data center ${dcId} and the login could not move there while ${doing}; ` +
        (context.openUntil === null ? 'try again in a few minutes' : 'this login was closed, start it again'),
      { details: { dcId }, retryable: context.openUntil === null },
    );
  }
  switch (text) {
    case 'PHONE_CODE_INVALID':
    case 'PHONE_CODE_EMPTY':
      return loginError(LoginErrorCode.CodeInvalid, 'the login code is wrong; check it and try again');
    case 'PHONE_CODE_EXPIRED':
      return loginError(
        LoginErrorCode.CodeExpired,
        'the login code has expired; start the login again for a new code',
      );
    case 'PASSWORD_HASH_INVALID':
      return loginError(LoginErrorCode.PasswordInvalid, 'the two-step verification password is wrong');
    case 'PHONE_NUMBER_INVALID':
      return loginError(LoginErrorCode.PhoneInvalid, 'Telegram says this phone number is not valid');
    case 'PHONE_NUMBER_BANNED':
      return loginError(LoginErrorCode.PhoneBanned, 'this phone number is banned by Telegram');
    case 'PHONE_NUMBER_FLOOD':
      return loginError(
        LoginErrorCode.PhoneFlood,
        'Telegram refuses more login codes for this number for now (too many attempts); try again later',
        { retryable: true },
      );
    case 'PHONE_NUMBER_UNOCCUPIED':
      return loginError(
        LoginErrorCode.SignUpRequired,
        'this phone number has no Telegram account; sign up in an official Telegram app first',
      );
    case 'API_ID_INVALID':
    case 'API_ID_PUBLISHED_FLOOD':
      return loginError(
        LoginErrorCode.ApiCredentialsInvalid,
        'Telegram refused the API id/hash; check them at my.telegram.org',
      );
    case 'SESSION_PASSWORD_NEEDED':
      return loginError(
        LoginErrorCode.PasswordRequired,
        'this account needs its two-step verification password',
      );
    default:
      return loginError(LoginErrorCode.Failed, `Telegram refused the login while ${doing}: ${text}`, {
        details: { error: text, code: error.code },
        retryable: error.code >= 500 || error.code < 0,
      });
  }
}

/**
 * A flood wait says how long, and whether this login can go on after it. On the code request nothing was sent:
 * only a new login can follow. On the code or the password, Telegram refused to check it for now, so the login
 * stays open when the wait ends before it expires (the code Telegram sent may still work then); otherwise it is
 * closed and says so.
 */
function floodWaitError(retryAfterSeconds: number, context: LoginErrorContext): StaggerError {
  const wait = waitText(retryAfterSeconds);
  const { doing, now, openUntil } = context;
  if (openUntil === null) {
    return loginError(
      LoginErrorCode.FloodWait,
      `Telegram asks to wait ${wait} before it sends a login code to this number; no code was sent: start the login again after the wait`,
      { details: { retryAfterSeconds, loginUsable: false }, retryable: true },
    );
  }
  const loginUsable = now + retryAfterSeconds * 1000 < openUntil;
  const what = doing === 'checking the code' ? 'the same code' : 'the password';
  return loginError(
    LoginErrorCode.FloodWait,
    loginUsable
      ? `Telegram asks to wait ${wait} before ${doing} again; this login stays open: after the wait, send ${what} again`
      : `Telegram asks to wait ${wait} before ${doing} again, longer than this login lasts, so it was closed: start a new login after the wait`,
    { details: { retryAfterSeconds, loginUsable }, retryable: loginUsable },
  );
}

/** `45 s`, `1800 s (about 30 min)`, `86400 s (about 24 h)`. */
function waitText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${seconds} s (about ${Math.ceil(seconds / 60)} min)`;
  return `${seconds} s (about ${Math.ceil(seconds / 3600)} h)`;
}
