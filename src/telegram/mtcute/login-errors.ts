/**
 * What a login answers when it cannot go on: stable codes (`LoginErrorCode`, each with an HTTP status in
 * src/http/errors.ts) and the one translation of what mtcute threw into those codes, in words a customer can act
 * on. Messages never contain the phone number, the code, the password or the session.
 */
import { MtUnsupportedError } from '@mtcute/core';
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

/** What mtcute threw during a login, as the login's answer. */
export function telegramLoginError(error: unknown, doing: LoginDoing): StaggerError {
  if (error instanceof StaggerError) return error;
  if (error instanceof LoginCallTimedOut) {
    const seconds = Math.ceil(error.afterMs / 1000);
    // Before the code is sent there is no login to lose: the same request may work later. After, it is closed.
    const starting = doing === 'sending the code';
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
  if (flood) {
    const retryAfterSeconds = Number(flood[1]);
    return loginError(
      LoginErrorCode.FloodWait,
      `Telegram asks to wait ${retryAfterSeconds} s before trying again`,
      { details: { retryAfterSeconds }, retryable: true },
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
