/**
 * Who may call which route, decided per route — never from the request's URL text. Every route carries
 * `config.access` (`public`, `user` or `admin`; a route that says nothing is `user`), and one hook reads it from
 * the route the router matched. An encoded path (`/%61pi/admin/users`) matches the same route as the plain one,
 * so it meets the same check. The order is the attacker's order: limit the address, then authenticate (failed
 * attempts counted), then the role, then the caller's own limits — all before the body is parsed or validated,
 * so a customer's bad body on an operator route is a 403, not a 400.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';
import { WindowCounter, type RateLimit, type RateLimits, type Verdict } from './rate-limits.js';

export type Access = 'public' | 'user' | 'admin';
export const ACCESS_LEVELS: readonly Access[] = ['public', 'user', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; absent means `user` (authenticated). */
    access?: Access;
    /** A route's own limit per caller, on top of the read/write limits (e.g. preflight: it calls Telegram). */
    routeLimit?: RateLimit;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

function limited(verdict: Verdict, what: string): ApiError {
  const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  return new ApiError('RATE_LIMITED', `${what}; try again in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });
}

/** Gives every route registered in `context` (and in the plugins it registers) this access. */
export function routesAccess(context: FastifyInstance, access: Access): void {
  context.addHook('onRoute', (route) => {
    route.config = { ...route.config, access };
  });
}

/**
 * Installs the access hook on `app` and returns a function listing every route registered after it, with its
 * access (the table the route tests are built from, so a route added later is covered without anyone listing it).
 */
export function installAccessControl(
  app: FastifyInstance,
  options: { auth: Authenticator; limits: RateLimits; now: () => number },
): () => RouteEntry[] {
  const { auth, limits, now } = options;
  // The routes' own options: a plugin's context may still mark a route public after this hook saw it.
  const routes: { method: string | string[]; url: string; config?: { access?: Access } }[] = [];
  const perAddress = new WindowCounter(limits.perAddress, now);
  const failedAuth = new WindowCounter(limits.failedAuthPerAddress, now);
  const reads = new WindowCounter(limits.readsPerCaller, now);
  const writes = new WindowCounter(limits.writesPerCaller, now);
  const routeCounters = new Map<string, WindowCounter>();

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access !== undefined && !ACCESS_LEVELS.includes(access))
      throw new Error(`route ${route.url}: unknown access "${access}"`);
    routes.push(route);
  });

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const address = perAddress.hit(request.ip);
    if (!address.ok) throw limited(address, 'too many requests from this address');
    // No route matched: the not-found answer tells nothing about any tenant.
    if (request.is404) return;
    const config = request.routeOptions.config;
    const access = config.access ?? 'user';
    if (access === 'public') return;

    const blocked = failedAuth.check(request.ip);
    if (!blocked.ok) throw limited(blocked, 'too many failed sign-ins from this address');
    try {
      request.caller = await auth.authenticate(request);
    } catch (error) {
      failedAuth.hit(request.ip);
      throw error;
    }
    if (access === 'admin' && request.caller.user.role !== 'admin') {
      throw new ApiError('FORBIDDEN', 'this route is for operators (role admin)');
    }

    const key = request.caller.key;
    const read = request.method === 'GET' || request.method === 'HEAD';
    const own = read ? reads.hit(key) : writes.hit(key);
    if (!own.ok) throw limited(own, read ? 'too many reads' : 'too many changes');
    if (config.routeLimit) {
      const routeKey = `${request.method} ${request.routeOptions.url ?? ''}`;
      let counter = routeCounters.get(routeKey);
      if (!counter) routeCounters.set(routeKey, (counter = new WindowCounter(config.routeLimit, now)));
      const verdict = counter.hit(key);
      if (!verdict.ok) throw limited(verdict, 'this check was run too often');
    }
  });

  return () =>
    routes.flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
        method,
        url: route.url,
        access: route.config?.access ?? 'user',
      })),
    );
}
