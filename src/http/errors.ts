/**
 * Every error code the API answers and its HTTP status, in one table, and one error handler: every error leaves
 * the API as `{"error": {"code", "message", "details"?}}`. Errors carry a code, never a status: the status is
 * looked up here. Unknown errors are 500 with a generic message (the details go to the log, never to the client).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance } from 'fastify';
import { StaggerError, type CoreErrorCode } from '../core/errors.js';
import type { LoginErrorCode } from '../telegram/mtcute/login-errors.js';
import type { SessionImportErrorCode } from '../telegram/mtcute/session-formats.js';
import type { SessionDuplicateCode } from '../telegram/session-import.js';
import { RECORD_ID_FORMAT } from './schemas.js';

/** Codes of the HTTP layer itself: its routes, access and authentication, and Fastify's errors translated. */
export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'INVALID_MULTIPART'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'PLAN_INACTIVE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NO_POST_LINK'
  | 'NO_GROUPS'
  | 'NO_USABLE_SESSION'
  | 'SESSION_POOL_EMPTY'
  | 'SESSION_LIMIT'
  | 'SESSION_NOT_POOLED'
  | 'SESSION_IN_USE'
  | 'CLUSTER_NOT_AVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'TOO_MANY_STREAMS'
  | 'HEADERS_TOO_LARGE'
  | 'INTERNAL'
  | 'TELEGRAM_UNAVAILABLE';

type ValueOf<T> = T[keyof T];

/** Every code the API answers on purpose: its own, and those the layers below raise for the client's input. */
export type ErrorCode =
  | HttpErrorCode
  | ValueOf<typeof CoreErrorCode>
  | ValueOf<typeof LoginErrorCode>
  | typeof SessionImportErrorCode
  | typeof SessionDuplicateCode;

/** The status of each code. A code raised anywhere must be here (tsc checks), and nothing else may be. */
export const STATUS: Record<ErrorCode, number> = {
  // A request Node cannot read as HTTP. (A plugin's client error without a code is also named BAD_REQUEST, with
  // the plugin's own status: see the error handler.)
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
  // One auth key on two clients at once gets the session revoked: a running bot's session is not checked.
  SESSION_IN_USE: 409,
  CLUSTER_NOT_AVAILABLE: 409,
  LOGIN_SIGNUP_REQUIRED: 409,
  LOGIN_BUSY: 409,
  LOGIN_NOT_WAITING_FOR_CODE: 409,
  LOGIN_NOT_WAITING_FOR_PASSWORD: 409,
  LOGIN_PASSWORD_REQUIRED: 409,
  // Like a sign-up, something to do in an official Telegram app first. (Not 402: the payment is not Stagger's.)
  LOGIN_PAYMENT_REQUIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  LOGIN_FLOOD_WAIT: 429,
  LOGIN_PHONE_FLOOD: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  // This process has no real-Telegram adapter: a feature it does not implement (501), not a failing upstream.
  TELEGRAM_UNAVAILABLE: 501,
  LOGIN_NETWORK_ERROR: 502,
  LOGIN_FAILED: 502,
  LOGIN_MIGRATE_FAILED: 502,
  // Telegram did not answer a login step in time: an upstream that timed out.
  LOGIN_TIMEOUT: 504,
  LOGIN_TOO_MANY_PENDING: 503,
};

/** An error the API answers with `code` (and so with that code's status). */
export class ApiError extends StaggerError {
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(code, message, details === undefined ? {} : { details });
  }
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(STATUS, code);
}

/** The status of an error: its code's, or 500 for a code no one gave a status (a fault of ours). */
export function statusOf(error: StaggerError): number {
  return isErrorCode(error.code) ? STATUS[error.code] : STATUS.INTERNAL;
}

/**
 * The API's one error shape. `retryable: true` (only when so) tells a client that the same request may succeed
 * later — a login step Telegram could not answer now, a flood wait — as opposed to one that needs a change.
 */
export function errorBody(code: string, message: string, details?: unknown, retryable = false) {
  return {
    error: {
      code,
      message,
      ...(details === undefined ? {} : { details }),
      ...(retryable ? { retryable: true } : {}),
    },
  };
}

/** The largest request head Node reads (its default); a larger one is answered in the API's error shape. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it (a 20 KB header…), in the API's error shape,
 * straight on the socket.
 */
export function answerUnreadableRequest(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
  const body = JSON.stringify(
    code === 'HEADERS_TOO_LARGE'
      ? errorBody(code, `the request headers are larger than ${MAX_HEADER_BYTES} bytes`)
      : errorBody(code, 'the request could not be read as HTTP'),
  );
  const status = STATUS[code];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function validationMessage(fe: FastifyError): string {
  return (fe.validation ?? [])
    .map((v) => {
      const where = `${fe.validationContext ?? 'body'}${v.instancePath ? v.instancePath.replaceAll('/', '.') : ''}`;
      if (v.keyword === 'format' && (v.params as { format?: string }).format === RECORD_ID_FORMAT) {
        return `${where} must be an id: a whole number from 1 to 9223372036854775807`;
      }
      if (v.keyword === 'additionalProperties') {
        return `${where}: unknown field "${(v.params as { additionalProperty: string }).additionalProperty}"`;
      }
      return `${where} ${v.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** A Fastify (or plugin) error as one of the API's codes; null for one the API has no code for. */
function translate(fe: FastifyError): ApiError | null {
  if (fe.validation) return new ApiError('VALIDATION_FAILED', validationMessage(fe));
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError) {
    return new ApiError('INVALID_JSON', 'the request body is not valid JSON');
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
    return new ApiError('PAYLOAD_TOO_LARGE', 'the request body is too large');
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.statusCode === 415) {
    return new ApiError('UNSUPPORTED_MEDIA_TYPE', fe.message);
  }
  if (fe.statusCode === 429) {
    return new ApiError('RATE_LIMITED', 'too many requests; slow down and try again shortly');
  }
  return null;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(STATUS.NOT_FOUND)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  app.setErrorHandler((error: FastifyError | StaggerError | Error, request, reply) => {
    const known = error instanceof StaggerError ? error : translate(error as FastifyError);
    if (known) {
      const status = statusOf(known);
      const retryAfter = (known.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (status === 429 && typeof retryAfter === 'number')
        void reply.header('retry-after', String(Math.ceil(retryAfter)));
      if (status >= 500) request.log.error({ err: known }, 'request failed');
      return reply.status(status).send(errorBody(known.code, known.message, known.details, known.retryable));
    }
    // Another client error of Fastify or a plugin (e.g. a multipart field named __proto__): its code and status
    // are theirs, passed on as they are; BAD_REQUEST names one that has no code.
    const fe = error as FastifyError;
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody(fe.code ?? 'BAD_REQUEST', fe.message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(STATUS.INTERNAL)
      .send(errorBody('INTERNAL', 'something went wrong on our side; it has been logged'));
  });
}
