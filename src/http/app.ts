/**
 * The HTTP API (Fastify): JSON in and out, one error shape, access decided per route (access.ts), request schemas
 * that also generate the OpenAPI document, rate limits, security headers, Server-Sent Events, and the dashboard's
 * static files.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { installAccessControl, routesAccess, type RouteEntry } from './access.js';
import { Authenticator } from './auth.js';
import { VERSION, type AppDeps } from './deps.js';
import { answerUnreadableRequest, installErrorHandler } from './errors.js';
import { RequestLogController } from './request-logging.js';
import { DEFAULT_RATE_LIMITS } from './rate-limits.js';
import { documentRoute, finishDocument } from './openapi.js';
import { bodyAjv, queryAjv } from './schemas.js';
import { adminRoutes } from './routes/admin.js';
import { botRoutes } from './routes/bot.js';
import { cycleRoutes } from './routes/cycles.js';
import { healthRoutes } from './routes/health.js';
import { sessionRoutes } from './routes/sessions.js';
import { EventHub } from './sse.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../runtime/options.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with who may call it (access.ts). */
    routeTable: () => RouteEntry[];
  }
}

const API_DESCRIPTION = [
  'Multi-account Telegram post scheduler: one bot per customer forwards one post to many groups from several',
  'Telegram sessions, in starter (staggered over a cycle) or enterprise (groups split between sessions) mode.',
  '',
  'Every route needs `Authorization: Bearer <token>` unless it is marked public; operator routes need role admin.',
  'Every error is `{"error": {"code", "message", "details"?, "retryable"?}}`, its status fixed by its code (each',
  'operation lists its statuses and codes). Requests are rate limited per address and per caller (429 with',
  'Retry-After). Ids are decimal strings; times in answers are ISO 8601 in UTC. A request Node cannot read as HTTP',
  'is answered 400 `BAD_REQUEST`, and headers over 16 KB 431 `HEADERS_TOO_LARGE`, on any path.',
].join('\n');

const API_TAGS = [
  { name: 'health', description: 'Is the service up (public).' },
  { name: 'account', description: 'The caller and their API token.' },
  {
    name: 'bot',
    description: 'Start and stop the bot, its status, the plan of its next cycle, history, live events.',
  },
  {
    name: 'configuration',
    description: 'The post to forward, the groups, the settings, and a preflight check of them.',
  },
  { name: 'sessions', description: 'The caller’s Telegram sessions: sandbox, login, import, check, delete.' },
  {
    name: 'admin',
    description: 'Operators: users and their tokens, the session pool, every bot, the cluster.',
  },
];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    ...(deps.logger
      ? { loggerInstance: deps.logger, logController: new RequestLogController() }
      : { logger: false }),
    // 10,000 groups of up to ~60 characters fit; a Telethon .session file goes through multipart (own limit).
    bodyLimit: 1024 * 1024,
    // No implicit HEAD twins: a HEAD of the preflight would call Telegram for a response nobody reads.
    exposeHeadRoutes: false,
    ajv: { customOptions: { removeAdditional: false } },
    // Errors Node's HTTP parser raises before Fastify sees a request, in the API's error shape.
    clientErrorHandler: answerUnreadableRequest,
  };
  const app = Fastify(options);
  // The routes' handlers take their request types from the same schemas (the TypeBox type provider, types only):
  // what validates them is this.
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema),
  );

  // An empty body with a JSON content type is "no body" (POST /api/bot/start has an optional body).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(
        Object.assign(error as Error, { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }),
        undefined,
      );
    }
  });

  installErrorHandler(app);
  app.decorateRequest('caller', null);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Stagger API', version: VERSION, description: API_DESCRIPTION },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: API_TAGS,
    },
    transform: documentRoute,
    transformObject: (document) => finishDocument('openapiObject' in document ? document.openapiObject : {}),
  });
  await app.register(fastifyMultipart, { limits: { fileSize: 1024 * 1024, files: 1, fields: 10 } });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        // Swagger UI and React set styles from script; no inline script is allowed anywhere.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The service is reached over plain HTTP on 127.0.0.1 out of the box: no HSTS, no upgrade of requests.
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' },
  });

  const auth = new Authenticator(deps.store.users, deps.config.auth);
  const routeTable = installAccessControl(app, {
    auth,
    limits: { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits },
    now: () => deps.clock.now(),
  });
  app.decorate('routeTable', routeTable);

  const hub = new EventHub(deps.events, deps.policy ?? DEFAULT_RUNTIME_OPTIONS);
  app.addHook('onClose', async () => hub.close());
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };

  await app.register(healthRoutes(deps));
  await app.register(botRoutes(deps, hub, limits));
  await app.register(cycleRoutes(deps));
  await app.register(sessionRoutes(deps));
  await app.register(adminRoutes(deps));
  app.get('/api/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  );

  // The documentation and the dashboard's files are public: plugins' routes, marked public by their context.
  await app.register(async (pub) => {
    routesAccess(pub, 'public');
    await pub.register(fastifySwaggerUi, { routePrefix: '/docs' });
    const webRoot = deps.webRoot ?? resolve(import.meta.dirname, '../../web/dist');
    if (existsSync(resolve(webRoot, 'index.html'))) {
      await pub.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: 'index.html' });
      // Client-side routes of the dashboard all load its index page.
      pub.get('/app/*', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
    } else {
      pub.get('/', { schema: { hide: true } }, async (_request, reply) =>
        reply
          .type('text/html')
          .send(
            '<!doctype html><title>Stagger</title><p>Stagger is running. The API is at <a href="/docs">/docs</a>.</p>',
          ),
      );
    }
  });
  return app;
}
