/**
 * The OpenAPI document's parts that are not a route's own schemas: the error answers of every operation — each
 * status with the codes it carries (from the one table of errors.ts), what each code means and an example — with
 * the errors every route of its access level or with its request parts can answer added to those its handler
 * declares; a multipart body a handler reads part by part; and the optional body of a route whose body schema
 * accepts none. The routes' success schemas are their own (and Fastify serializes their answers with them).
 */
import { STATUS_CODES } from 'node:http';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifySchema, RouteOptions } from 'fastify';
import type { Access } from './access.js';
import { STATUS, type ErrorCode } from './errors.js';
import { StringEnum } from './schemas.js';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The codes the route's handler answers. Those of its access level (401, 403, 429, 500) and of its request
     * parts (400 VALIDATION_FAILED, INVALID_JSON, 413, 415) are added to the document by `documentRoute`.
     */
    errors?: readonly ErrorCode[];
    /** A multipart/form-data body the handler reads part by part: documented here, checked by the handler with it. */
    formBody?: TSchema;
  }
}

/** What each code means, for the document (a code without a line does not compile). */
export const ERROR_MEANING: Record<ErrorCode, string> = {
  BAD_REQUEST: 'the request could not be read as HTTP',
  VALIDATION_FAILED: 'a field, parameter or query value does not match the schema; the message names it',
  INVALID_JSON: 'the body is not valid JSON',
  INVALID_MULTIPART: 'the multipart upload is incomplete or has no boundary',
  INVALID_EXECUTION_MODE: 'execution_mode is neither "starter" nor "enterprise"',
  STARTER_REQUIRES_CYCLE_MINUTES: 'starter mode needs total_cycle_minutes, a whole number of minutes > 0',
  INVALID_CYCLE_MINUTES: 'total_cycle_minutes is beyond its limit',
  INVALID_DELAY: 'a delay is outside its range',
  INVALID_POST_LINK: 'the post link is not a t.me link to one message; the message says why',
  INVALID_GROUP_TARGETS: 'some lines are not group targets; details.errors lists each bad line',
  TOO_MANY_GROUPS: 'more groups than the limit',
  SESSION_IMPORT_INVALID: 'the session string or file cannot be read (corrupt, truncated or another format)',
  LOGIN_CODE_INVALID: 'the login code is wrong; the login stays open for another try',
  LOGIN_CODE_EXPIRED: 'the login code has expired; start the login again',
  LOGIN_PASSWORD_INVALID: 'the two-step verification password is wrong; the login stays open',
  LOGIN_PHONE_INVALID: 'Telegram says the phone number is not valid',
  LOGIN_API_CREDENTIALS_MISSING: 'no api_id/api_hash given and none set on the server',
  LOGIN_API_CREDENTIALS_INVALID: 'Telegram refused the api_id/api_hash',
  UNAUTHORIZED: 'no token, or a token that is unknown, revoked or invalid',
  FORBIDDEN: 'the route is for operators (role admin)',
  PLAN_INACTIVE: 'the plan is not active (inactive, expired or suspended)',
  LOGIN_PHONE_BANNED: 'Telegram banned the phone number',
  NOT_FOUND: 'no such record (or one of another customer)',
  LOGIN_NOT_FOUND: 'no such login in progress: it ended, expired or belongs to someone else',
  CONFLICT: 'the request contradicts the current state; the message says how',
  NO_POST_LINK: 'no post to forward is set',
  NO_GROUPS: 'no groups are set',
  NO_USABLE_SESSION: 'no usable Telegram session',
  SESSION_POOL_EMPTY: 'no usable session of your own, and the operator’s pool has none to lend',
  SESSION_LIMIT: 'the plan’s max_sessions would be exceeded: delete a session or ask for a larger plan',
  SESSION_DUPLICATE: 'this Telegram session is already stored (one key on two clients gets revoked)',
  SESSION_NOT_POOLED: 'the session is a customer’s own account: only pool sessions are assigned',
  SESSION_IN_USE: 'the bot is running with the session: stop it first',
  CLUSTER_NOT_AVAILABLE: 'this installation runs in one process (no workers on PostgreSQL)',
  LOGIN_SIGNUP_REQUIRED: 'the phone number has no Telegram account yet: sign up in an official app',
  LOGIN_BUSY: 'the login is already being checked: wait for that answer',
  LOGIN_NOT_WAITING_FOR_CODE: 'the login does not wait for a code (it waits for the password)',
  LOGIN_NOT_WAITING_FOR_PASSWORD: 'the login does not wait for a password (send the code first)',
  LOGIN_PASSWORD_REQUIRED: 'the account needs its two-step verification password',
  LOGIN_PAYMENT_REQUIRED:
    'Telegram sends a code to this number only after a payment: log in once in an official app',
  PAYLOAD_TOO_LARGE: 'the body (or the uploaded file) is larger than 1 MB',
  UNSUPPORTED_MEDIA_TYPE:
    'the body’s content type is not accepted (JSON, or multipart where the route says so)',
  RATE_LIMITED: 'too many requests; the Retry-After header says when to try again',
  TOO_MANY_STREAMS: 'too many live event streams open for this user',
  LOGIN_FLOOD_WAIT: 'Telegram asks to wait (details.retryAfterSeconds) before the next try',
  LOGIN_PHONE_FLOOD: 'Telegram refuses more codes for this number for now',
  HEADERS_TOO_LARGE: 'the request headers are larger than 16 KB',
  INTERNAL: 'a fault on the server’s side (logged); a lower layer’s fault may carry its own code',
  TELEGRAM_UNAVAILABLE: 'this process has no real-Telegram adapter',
  LOGIN_NETWORK_ERROR: 'Telegram could not be reached; try again',
  LOGIN_FAILED: 'Telegram refused the login in an unexpected way; the message quotes it',
  LOGIN_MIGRATE_FAILED: 'the login could not move to the number’s data center',
  LOGIN_TIMEOUT: 'Telegram did not answer the login step in time',
  LOGIN_TOO_MANY_PENDING: 'too many logins are in progress on this server; try again shortly',
};

/** The API's one error shape (errors.ts `errorBody`), with the codes one status carries. */
function errorSchema(status: number, codes: readonly ErrorCode[]): TSchema {
  const meanings = codes.map((code) => `- \`${code}\`: ${ERROR_MEANING[code]}`).join('\n');
  const first = codes[0]!;
  return Type.Object(
    {
      error: Type.Object(
        {
          // A fault of ours may carry a lower layer's code (a database or a secret-key problem): any text at 5xx.
          code:
            status >= 500 && codes.includes('INTERNAL')
              ? Type.String({ description: 'INTERNAL, or the code of the fault' })
              : StringEnum(codes),
          message: Type.String({ description: 'what is wrong, in words' }),
          details: Type.Optional(
            Type.Unknown({
              description:
                'structured facts of the error where it has some: the field and its limits, the bad lines, retryAfterSeconds…',
            }),
          ),
          retryable: Type.Optional(
            Type.Literal(true, { description: 'present when the same request may succeed later' }),
          ),
        },
        { additionalProperties: false },
      ),
    },
    {
      additionalProperties: false,
      'x-response-description': `${STATUS_CODES[status] ?? 'Error'}. Codes:\n${meanings}`,
      examples: [{ error: { code: first, message: ERROR_MEANING[first] } }],
      ...(status === 429
        ? {
            headers: {
              'retry-after': Type.Integer({ description: 'seconds to wait before trying again, when known' }),
            },
          }
        : {}),
    },
  );
}

/** The error answers of `codes`, one per status. */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, errorSchema(status, list)]),
  );
}

/**
 * Every code a route can answer: its handler's, and those of its access level and request parts — the access hook
 * (access.ts) authenticates and limits before anything else; a body is parsed and every part validated before the
 * handler runs.
 */
export function routeErrorCodes(route: Pick<RouteOptions, 'schema' | 'config'>): ErrorCode[] {
  const schema: FastifySchema = route.schema ?? {};
  const access: Access = (route.config as { access?: Access } | undefined)?.access ?? 'user';
  const takesBody = schema.body !== undefined || schema.formBody !== undefined;
  const codes: ErrorCode[] = [];
  if (takesBody || schema.params !== undefined || schema.querystring !== undefined)
    codes.push('VALIDATION_FAILED');
  if (takesBody) codes.push('INVALID_JSON');
  codes.push(...(schema.errors ?? []));
  if (access !== 'public') codes.push('UNAUTHORIZED');
  if (access === 'admin') codes.push('FORBIDDEN');
  if (takesBody) codes.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  // Every request is counted per address, public ones too.
  codes.push('RATE_LIMITED');
  if (access !== 'public') codes.push('INTERNAL');
  return [...new Set(codes)];
}

/** The route's schema as the document shows it (Fastify keeps validating and serializing with the route's own). */
export function documentRoute({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: RouteOptions;
}): { schema: FastifySchema; url: string } {
  if (!schema || schema.hide) return { schema, url };
  const { errors: _errors, formBody, ...rest } = schema;
  let body = rest.body;
  if (formBody) {
    const content = (body as { content?: Record<string, unknown> } | undefined)?.content ?? {};
    body = { content: { ...content, 'multipart/form-data': { schema: formBody } } };
  }
  const response = { ...errorResponses(routeErrorCodes(route)), ...(rest.response as object | undefined) };
  return { url, schema: { ...rest, ...(body === undefined ? {} : { body }), response } };
}

type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> } };

/**
 * Fastify validates a request without a body as `null`: a body schema that accepts null makes the body optional
 * (the plugin marks every body required).
 */
export function finishDocument<D extends { paths?: unknown }>(document: D): D {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const body = operation.requestBody;
      if (!body?.content) continue;
      const media = Object.values(body.content);
      if (media.length > 0 && media.every((m) => (m.schema as { nullable?: boolean })?.nullable === true))
        body.required = false;
    }
  }
  return document;
}
