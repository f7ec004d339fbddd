import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CoreErrorCode, StaggerError } from '../core/errors.js';
import { LoginErrorCode } from '../telegram/mtcute/login-errors.js';
import { SessionImportErrorCode } from '../telegram/mtcute/session-formats.js';
import { SessionDuplicateCode } from '../telegram/session-import.js';
import { answerUnreadableRequest, ApiError, STATUS, statusOf, type ErrorCode } from './errors.js';

const CODES = Object.keys(STATUS) as ErrorCode[];

describe('the error table', () => {
  it('gives every code a status from 400 to 599, and an error with the code gets that status', () => {
    for (const code of CODES) {
      expect(STATUS[code], code).toBeGreaterThanOrEqual(400);
      expect(STATUS[code], code).toBeLessThanOrEqual(599);
      expect(statusOf(new ApiError(code, 'x')), code).toBe(STATUS[code]);
      // A lower layer's StaggerError with the same code is answered the same.
      expect(statusOf(new StaggerError(code, 'x')), code).toBe(STATUS[code]);
    }
  });

  it('has a status for every code the layers below raise for the client', () => {
    const below = [
      ...Object.values(CoreErrorCode),
      ...Object.values(LoginErrorCode),
      SessionImportErrorCode,
      SessionDuplicateCode,
    ];
    for (const code of below) expect(CODES, code).toContain(code);
  });

  it('is the contract clients see: the status of each code', () => {
    expect(STATUS).toEqual({
      BAD_REQUEST: 400,
      VALIDATION_FAILED: 400,
      INVALID_JSON: 400,
      INVALID_MULTIPART: 400,
      INVALID_EXECUTION_MODE: 400,
      STARTER_REQUIRES_CYCLE_MINUTES: 400,
      INVALID_CYCLE_MINUTES: 400,
      INVALID_DELAY: 400,
      INVALID_POST_LINK: 400,
      INVALID_GROUP_TARGETS: 400,
      TOO_MANY_GROUPS: 400,
      SESSION_IMPORT_INVALID: 400,
      LOGIN_CODE_INVALID: 400,
      LOGIN_CODE_EXPIRED: 400,
      LOGIN_PASSWORD_INVALID: 400,
      LOGIN_PHONE_INVALID: 400,
      LOGIN_API_CREDENTIALS_MISSING: 400,
      LOGIN_API_CREDENTIALS_INVALID: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      PLAN_INACTIVE: 403,
      LOGIN_PHONE_BANNED: 403,
      NOT_FOUND: 404,
      LOGIN_NOT_FOUND: 404,
      CONFLICT: 409,
      NO_POST_LINK: 409,
      NO_GROUPS: 409,
      NO_USABLE_SESSION: 409,
      SESSION_POOL_EMPTY: 409,
      SESSION_LIMIT: 409,
      SESSION_DUPLICATE: 409,
      SESSION_NOT_POOLED: 409,
      SESSION_IN_USE: 409,
      CLUSTER_NOT_AVAILABLE: 409,
      LOGIN_SIGNUP_REQUIRED: 409,
      LOGIN_BUSY: 409,
      LOGIN_NOT_WAITING_FOR_CODE: 409,
      LOGIN_NOT_WAITING_FOR_PASSWORD: 409,
      LOGIN_PASSWORD_REQUIRED: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
      TOO_MANY_STREAMS: 429,
      LOGIN_FLOOD_WAIT: 429,
      LOGIN_PHONE_FLOOD: 429,
      HEADERS_TOO_LARGE: 431,
      INTERNAL: 500,
      TELEGRAM_UNAVAILABLE: 501,
      LOGIN_NETWORK_ERROR: 502,
      LOGIN_FAILED: 502,
      LOGIN_MIGRATE_FAILED: 502,
      LOGIN_PAYMENT_REQUIRED: 409,
      LOGIN_TIMEOUT: 504,
      LOGIN_TOO_MANY_PENDING: 503,
    });
  });

  it('answers 500 for a code nobody gave a status, names of Object.prototype included', () => {
    expect(statusOf(new StaggerError('SECRET_KEY_MISMATCH', 'x'))).toBe(500);
    expect(statusOf(new StaggerError('toString', 'x'))).toBe(500);
    expect(statusOf(new StaggerError('__proto__', 'x'))).toBe(500);
  });
});

describe('answerUnreadableRequest', () => {
  function answer(code: string, destroyed = false): string | null {
    let written: string | null = null;
    const socket = { destroyed, end: (text: string) => (written = text) } as unknown as Socket;
    answerUnreadableRequest(Object.assign(new Error('parse'), { code }), socket);
    return written;
  }

  it('writes the status line of the code’s table entry and the API’s error body', () => {
    const tooLarge = answer('HPE_HEADER_OVERFLOW')!;
    expect(tooLarge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(JSON.parse(tooLarge.split('\r\n\r\n')[1]!).error.code).toBe('HEADERS_TOO_LARGE');
    const garbled = answer('HPE_INVALID_METHOD')!;
    expect(garbled).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(garbled.split('\r\n\r\n')[1]!).error.code).toBe('BAD_REQUEST');
  });

  it('writes nothing to a connection the client already reset or that is gone', () => {
    expect(answer('ECONNRESET')).toBeNull();
    expect(answer('HPE_INVALID_METHOD', true)).toBeNull();
  });
});
