/**
 * The HTTP API (Fastify): JSON in and out, one error shape, Bearer auth, request schemas that also generate the
 * OpenAPI document, rate limits on writes, Server-Sent Events, and the dashboard's static files.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { BotControl } from '../runtime/bot-control.js';
import type { Clock } from '../runtime/clock.js';
import type { Listener } from '../runtime/events.js';
import type { Store } from '../storage/store.js';
import type { Gateway } from '../telegram/gateway.js';
import { Authenticator } from './auth.js';
import { installErrorHandler } from './errors.js';
import { adminRoutes } from './routes/admin.js';
import { botRoutes } from './routes/bot.js';
import { healthRoutes } from './routes/health.js';
import { sessionRoutes, type SessionServices } from './routes/sessions.js';
import { EventHub } from './sse.js';

export interface AppDeps {
  config: Config;
  store: Store;
  control: BotControl;
  clock: Clock;
  gateway: Gateway;
  /** The runtime's event stream (this process's, or relayed from the workers). */
  events: { on(listener: Listener): () => void };
  logger?: Logger | false;
  sessions?: SessionServices;
  /** Cluster view for GET /api/admin/cluster (when workers run on PostgreSQL). */
  cluster?: () => Promise<unknown>;
  /** Where the built dashboard is; served at / when present. */
  webRoot?: string;
  /** Writes allowed per minute per caller. */
  writeRateLimit?: number;
}

export const VERSION = '0.1.0';

/** Request bodies are checked strictly: wrong types are errors (not coerced), unknown fields are errors. */
const bodyAjv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  strict: false,
});
/** Query strings and path params arrive as text: numbers and booleans in them are coerced. */
const queryAjv = new Ajv({
  allErrors: false,
  coerceTypes: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
});

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // 10,000 groups of up to ~60 characters fit; a Telethon .session file goes through multipart (own limit).
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false } },
  };
  const app = Fastify(options);
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
      info: { title: 'Stagger API', version: VERSION, description: 'Multi-account Telegram post scheduler' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyRateLimit, {
    global: false,
    // After authentication, so the limit is per caller, not per address.
    hook: 'preHandler',
    keyGenerator: (request) => request.caller?.key ?? request.ip,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: {
        code: 'RATE_LIMITED',
        message: `too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`,
      },
    }),
  });
  await app.register(fastifyMultipart, { limits: { fileSize: 1024 * 1024, files: 1, fields: 10 } });

  const auth = new Authenticator(deps.store.users, deps.config.auth);
  const PUBLIC = [/^\/api\/health$/, /^\/api\/openapi\.json$/, /^\/metrics$/];
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0]!;
    if (!path.startsWith('/api/') || PUBLIC.some((p) => p.test(path))) return;
    request.caller = await auth.authenticate(request);
  });

  const hub = new EventHub(deps.events);
  app.addHook('onClose', async () => hub.close());
  const writeLimit = { rateLimit: { max: deps.writeRateLimit ?? 120, timeWindow: 60_000 } };

  await app.register(healthRoutes(deps));
  await app.register(botRoutes(deps, hub, writeLimit));
  await app.register(sessionRoutes(deps, writeLimit));
  await app.register(adminRoutes(deps, writeLimit));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const webRoot = deps.webRoot ?? resolve(import.meta.dirname, '../../web/dist');
  if (existsSync(resolve(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: 'index.html' });
    // Client-side routes of the dashboard all load its index page.
    app.get('/app/*', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Stagger</title><p>Stagger is running. The API is at <a href="/docs">/docs</a>.</p>',
        ),
    );
  }
  return app;
}
