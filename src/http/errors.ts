/**
 * One table from error code to HTTP status, and one error handler: every error leaves the API as
 * `{"error": {"code", "message", "details"?}}`. Unknown errors are 500 with a generic message (the details go to
 * the log, never to the client).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { StaggerError } from '../core/errors.js';
import { RECORD_ID_FORMAT } from './schemas.js';

export class HttpError extends StaggerError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details?: unknown,
  ) {
    super(code, message, details === undefined ? {} : { details });
  }
}

/** Status of each stable code raised below the HTTP layer. */
const STATUS_OF: Record<string, number> = {
  INVALID_EXECUTION_MODE: 400,
  STARTER_REQUIRES_CYCLE_MINUTES: 400,
  INVALID_CYCLE_MINUTES: 400,
  INVALID_DELAY: 400,
  INVALID_POST_LINK: 400,
  INVALID_GROUP_TARGETS: 400,
  TOO_MANY_GROUPS: 400,
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_MULTIPART: 400,
  SESSION_IMPORT_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PLAN_INACTIVE: 403,
  NOT_FOUND: 404,
  NO_POST_LINK: 409,
  NO_GROUPS: 409,
  NO_USABLE_SESSION: 409,
  SESSION_POOL_EMPTY: 409,
  SESSION_LIMIT: 409,
  CONFLICT: 409,
  SESSION_DUPLICATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  HEADERS_TOO_LARGE: 431,
  SESSION_NOT_POOLED: 409,
  LOGIN_NOT_FOUND: 404,
  LOGIN_CODE_INVALID: 400,
  LOGIN_CODE_EXPIRED: 400,
  LOGIN_PASSWORD_INVALID: 400,
  LOGIN_PHONE_INVALID: 400,
  LOGIN_PHONE_BANNED: 403,
  LOGIN_FLOOD_WAIT: 429,
  LOGIN_PHONE_FLOOD: 429,
  LOGIN_SIGNUP_REQUIRED: 409,
  LOGIN_BUSY: 409,
  LOGIN_NOT_WAITING_FOR_CODE: 409,
  LOGIN_NOT_WAITING_FOR_PASSWORD: 409,
  LOGIN_PASSWORD_REQUIRED: 409,
  LOGIN_TOO_MANY_PENDING: 503,
  LOGIN_API_CREDENTIALS_MISSING: 400,
  LOGIN_API_CREDENTIALS_INVALID: 400,
  LOGIN_NETWORK_ERROR: 502,
  LOGIN_FAILED: 502,
  TELEGRAM_UNAVAILABLE: 502,
  CLUSTER_NOT_AVAILABLE: 409,
};

export function statusOf(error: StaggerError): number {
  if (error instanceof HttpError) return error.status;
  return STATUS_OF[error.code] ?? 500;
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  app.setErrorHandler((error: FastifyError | StaggerError | Error, request, reply) => {
    if (error instanceof StaggerError) {
      const status = statusOf(error);
      const retryAfter = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (status === 429 && typeof retryAfter === 'number')
        void reply.header('retry-after', String(Math.ceil(retryAfter)));
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.status(status).send(errorBody(error.code, error.message, error.details));
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const message = fe.validation
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
      return reply.status(400).send(errorBody('VALIDATION_FAILED', message));
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError) {
      return reply.status(400).send(errorBody('INVALID_JSON', 'the request body is not valid JSON'));
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
      return reply.status(413).send(errorBody('PAYLOAD_TOO_LARGE', 'the request body is too large'));
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.statusCode === 415) {
      return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', fe.message));
    }
    if (fe.statusCode === 429) {
      return reply
        .status(429)
        .send(errorBody('RATE_LIMITED', 'too many requests; slow down and try again shortly'));
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody(fe.code ?? 'BAD_REQUEST', fe.message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(500)
      .send(errorBody('INTERNAL', 'something went wrong on our side; it has been logged'));
  });
}
