/**
 * The API as an attacker sees it: every route of the app's own route table called without a token and with a
 * customer's token, under the plain path and under encoded variants; and one test per hole found from outside
 * (tokens, JWT claims, pool sessions, bounds, ids, tenant hints, limits, headers).
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_HASH, API_ID, sessionString } from '../support/mtcute/fixtures.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

/** The path of a route with its parameters filled in. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z]+/g, '1').replace(/\*$/, 'x');
}

/** The same route written the ways an attacker writes it; the router decodes some of them to the route. */
function variants(path: string): string[] {
  const out = new Set<string>([path]);
  if (path.startsWith('/api/')) {
    const rest = path.slice('/api'.length);
    out.add(`/%61pi${rest}`);
    out.add(`/ap%69${rest}`);
    out.add(`/%61%70%69${rest}`);
    out.add(`/%2Fapi${rest}`);
    out.add(`/%2fapi${rest}`);
    out.add(`/API${rest}`);
    out.add(`/api;${rest}`);
    out.add(`/api/health/..${rest}`);
    out.add(`/api/health%2F..${rest}`);
  }
  // Escapes with upper- and lower-case hex digits of a letter of the last segment.
  const last = path.lastIndexOf('/');
  const letter = path.slice(last + 1).search(/[a-z]/);
  if (letter >= 0) {
    const at = last + 1 + letter;
    const hex = path.charCodeAt(at).toString(16);
    out.add(`${path.slice(0, at)}%${hex.toUpperCase()}${path.slice(at + 1)}`);
    out.add(`${path.slice(0, at)}%${hex.toLowerCase()}${path.slice(at + 1)}`);
  }
  out.add(`/${path}`);
  out.add(`${path}/`);
  out.add(`${path};x`);
  out.add(`${path}?next=/api/health`);
  out.add(`${path}%3Fx`);
  out.add(`${path}%00`);
  return [...out];
}

const PUBLIC = (url: string) =>
  url === '/api/health' ||
  url === '/api/openapi.json' ||
  url === '/docs' ||
  url.startsWith('/docs/') ||
  url === '/' ||
  url === '/app/*' ||
  /^\/(assets\/[^/]+|index\.html|favicon\.svg)$/.test(url);

describe('every route, by the app’s own route table', () => {
  it('the table holds the API and marks only health, the documents and the dashboard public', () => {
    const table = api.app.routeTable();
    expect(table.length).toBeGreaterThan(40);
    expect(table).toContainEqual({ method: 'GET', url: '/api/admin/users', access: 'admin' });
    expect(table).toContainEqual({ method: 'GET', url: '/metrics', access: 'admin' });
    expect(table).toContainEqual({ method: 'POST', url: '/api/bot/start', access: 'user' });
    for (const route of table) {
      if (route.access === 'public') expect(PUBLIC(route.url), route.url).toBe(true);
      if (route.url.startsWith('/api/admin/')) expect(route.access, route.url).toBe('admin');
    }
  });

  it('without a token: 401 or 404 for every protected route under every spelling, never 2xx or 500', async () => {
    const failures: string[] = [];
    for (const route of api.app.routeTable()) {
      if (route.access === 'public') continue;
      for (const path of variants(concrete(route.url))) {
        const res = await api.app.inject({
          method: route.method as 'GET',
          url: path,
          ...(route.method === 'GET' || route.method === 'HEAD'
            ? {}
            : { payload: '{"name":"x","role":"admin"}', headers: { 'content-type': 'application/json' } }),
        });
        if (![401, 404].includes(res.statusCode))
          failures.push(`${route.method} ${path} → ${res.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
    expect((await api.store.users.list()).filter((u) => u.name === 'x')).toEqual([]);
  });

  it('with a customer token: 403 or 404 for every operator route under every spelling', async () => {
    const customer = await api.user();
    const failures: string[] = [];
    for (const route of api.app.routeTable()) {
      if (route.access !== 'admin') continue;
      for (const path of variants(concrete(route.url))) {
        const res = await api.app.inject({
          method: route.method as 'GET',
          url: path,
          headers: {
            authorization: `Bearer ${customer.token}`,
            ...(route.method === 'GET' || route.method === 'HEAD'
              ? {}
              : { 'content-type': 'application/json' }),
          },
          ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { payload: '{"bad": true}' }),
        });
        if (![403, 404].includes(res.statusCode))
          failures.push(`${route.method} ${path} → ${res.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('with a customer token: an encoded spelling of a customer route is the same route or none, never a 500', async () => {
    const customer = await readyCustomer(api);
    const failures: string[] = [];
    for (const route of api.app.routeTable()) {
      if (route.access !== 'user' || route.url === '/api/bot/events' || route.method !== 'GET') continue;
      const plain = concrete(route.url);
      const base = await api.request(route.method, plain, { token: customer.token });
      for (const path of variants(plain)) {
        const res = await api.request(route.method, path, { token: customer.token });
        // Refusals may differ (an unknown query field is a 400, a route's own limit a 429); a spelling never
        // succeeds where the plain path does not, and never breaks the server.
        const ok = (code: number) => code >= 200 && code < 300;
        if (res.statusCode >= 500 || (ok(res.statusCode) && !ok(base.statusCode)))
          failures.push(`${route.method} ${path} → ${res.statusCode} (plain ${base.statusCode})`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the attack from outside: /%61pi/admin/users neither lists users nor creates an operator', async () => {
    const list = await api.app.inject({ method: 'GET', url: '/%61pi/admin/users' });
    expect(list.statusCode).toBe(401);
    expect(list.json().error.code).toBe('UNAUTHORIZED');
    const create = await api.app.inject({
      method: 'POST',
      url: '/ap%69/admin/users',
      payload: { name: 'intruder', role: 'admin' },
    });
    expect(create.statusCode).toBe(401);
    expect((await api.store.users.list()).map((u) => u.name)).not.toContain('intruder');
  });

  it('a customer’s bad body on an operator route is 403 (the role is decided before the body)', async () => {
    const customer = await api.user();
    const res = await api.request('POST', '/api/admin/users', {
      token: customer.token,
      body: { nonsense: 1 },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });
});

/** The operator puts a sandbox session in the pool and lends it to a customer; the session as the API shows it. */
async function lendPoolSession(adminToken: string, userId: string): Promise<{ id: string }> {
  const pooled = (
    await api.request('POST', '/api/admin/sessions', {
      token: adminToken,
      body: { driver: 'sandbox', count: 1 },
    })
  ).json().sessions[0];
  await api.request('POST', `/api/admin/sessions/${pooled.id}/assign`, {
    token: adminToken,
    body: { userId },
  });
  return pooled;
}

describe('sessions belong to someone', () => {
  it('deleting a customer deletes their own sessions (secrets erased) and returns only pool sessions', async () => {
    const admin = await api.user({ name: 'op-del', role: 'admin' });
    const customer = await readyCustomer(api, { sessions: 1 });
    const own = await api.store.sessions.create({
      ownerUserId: customer.id,
      label: 'their account',
      driver: 'mtcute',
      authString: 'their-secret-auth-material',
      apiId: 1,
      apiHash: '0123456789abcdef0123456789abcdef',
    });
    const pooled = await lendPoolSession(admin.token, customer.id);
    const before = await api.store.sessions.listByOwner(customer.id);
    expect(before.map((s) => s.origin).sort()).toEqual(['customer', 'customer', 'pool']);

    const del = await api.request('DELETE', `/api/admin/users/${customer.id}`, { token: admin.token });
    expect(del.statusCode).toBe(204);
    expect(await api.store.sessions.get(own.id)).toBeNull();
    for (const s of before.filter((x) => x.origin === 'customer'))
      expect(await api.store.sessions.get(s.id)).toBeNull();
    const rows = await api.store.db.selectFrom('telegram_sessions').select('auth_encrypted').execute();
    expect(rows.length).toBeGreaterThan(0);
    const returned = await api.store.sessions.get(pooled.id);
    expect(returned).toMatchObject({ ownerUserId: null, origin: 'pool' });

    // The next customer to start gets the pool session only — never the deleted customer's account.
    const next = await api.store.users.create({ name: 'next', maxSessions: 5, planType: 'ENTERPRISE' });
    const given = await api.store.sessions.assignFromPool(next.id, 5);
    expect(given.map((s) => s.id)).toContain(pooled.id);
    expect(given.every((s) => s.origin === 'pool')).toBe(true);
  });

  it('a customer’s own session is never lent: assign and unassign refuse it (409)', async () => {
    const admin = await api.user({ name: 'op-lend', role: 'admin' });
    const a = await readyCustomer(api, { sessions: 1 });
    const b = await api.user();
    const [own] = await api.store.sessions.listByOwner(a.id);
    const assign = await api.request('POST', `/api/admin/sessions/${own!.id}/assign`, {
      token: admin.token,
      body: { userId: b.id },
    });
    expect(assign.statusCode).toBe(409);
    expect(assign.json().error.code).toBe('SESSION_NOT_POOLED');
    const unassign = await api.request('POST', `/api/admin/sessions/${own!.id}/unassign`, {
      token: admin.token,
    });
    expect(unassign.statusCode).toBe(409);
    expect((await api.store.sessions.get(own!.id))!.ownerUserId).toBe(a.id);
  });

  it('a customer deleting a lent pool session gives it back to the pool; their own is deleted', async () => {
    const admin = await api.user({ name: 'op-back', role: 'admin' });
    const c = await readyCustomer(api, { sessions: 1 });
    const pooled = await lendPoolSession(admin.token, c.id);
    expect((await api.request('DELETE', `/api/sessions/${pooled.id}`, { token: c.token })).statusCode).toBe(
      204,
    );
    expect(await api.store.sessions.get(pooled.id)).toMatchObject({ ownerUserId: null, origin: 'pool' });
  });

  it('a duplicate import names no other tenant’s session', async () => {
    const a = await api.user();
    const b = await api.user();
    const text = sessionString();
    const body = { session: text, api_id: API_ID, api_hash: API_HASH };
    const imported = await api.request('POST', '/api/sessions/import', { token: a.token, body });
    expect(imported.statusCode).toBe(201);
    const first = imported.json().session;
    const res = await api.request('POST', '/api/sessions/import', {
      token: b.token,
      body,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('SESSION_DUPLICATE');
    expect(res.json().error.message).toContain('already in use');
    expect(res.body).not.toContain(`session ${first.id}`);
    const own = await api.request('POST', '/api/sessions/import', { token: a.token, body });
    expect(own.json().error.message).toContain(`your session ${first.id}`);
  });
});

describe('tokens can be revoked', () => {
  it('an operator lists and revokes a user’s tokens; the revoked one stops working at once', async () => {
    const admin = await api.user({ name: 'op-rev', role: 'admin' });
    const c = await api.user();
    const list = await api.request('GET', `/api/admin/users/${c.id}/tokens`, { token: admin.token });
    expect(list.statusCode).toBe(200);
    const [tok] = list.json().tokens;
    expect(tok).toEqual({
      id: expect.any(String),
      label: null,
      createdAt: expect.any(String),
      revokedAt: null,
    });
    expect(list.body).not.toContain(c.token);
    expect((await api.request('GET', '/api/me', { token: c.token })).statusCode).toBe(200);
    expect(
      (await api.request('DELETE', `/api/admin/tokens/${tok.id}`, { token: admin.token })).statusCode,
    ).toBe(204);
    expect((await api.request('GET', '/api/me', { token: c.token })).statusCode).toBe(401);
    const after = await api.request('GET', `/api/admin/users/${c.id}/tokens`, { token: admin.token });
    expect(after.json().tokens[0].revokedAt).not.toBeNull();
    expect((await api.request('DELETE', '/api/admin/tokens/999999', { token: admin.token })).statusCode).toBe(
      404,
    );
    const issued = await api.request('POST', `/api/admin/users/${c.id}/tokens`, { token: admin.token });
    expect(issued.statusCode).toBe(201);
    expect((await api.request('GET', '/api/me', { token: issued.json().token })).json().id).toBe(c.id);
  });

  it('POST /api/me/tokens/rotate issues a new token and revokes the one used', async () => {
    const c = await api.user();
    const res = await api.request('POST', '/api/me/tokens/rotate', { token: c.token });
    expect(res.statusCode).toBe(201);
    const { token } = res.json();
    expect(token).toMatch(/^stg_/);
    expect((await api.request('GET', '/api/me', { token: c.token })).statusCode).toBe(401);
    expect((await api.request('GET', '/api/me', { token })).json().id).toBe(c.id);
  });
});

describe('JWT claims', () => {
  const secret = 'a-test-secret-that-is-long-enough-for-hs256';
  const sign = (
    claims: Record<string, unknown>,
    options: { exp?: boolean; iss?: string; aud?: string } = {},
  ) => {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
    if (options.exp !== false) jwt = jwt.setExpirationTime('5m');
    if (options.iss) jwt = jwt.setIssuer(options.iss);
    if (options.aud) jwt = jwt.setAudience(options.aud);
    return jwt.sign(new TextEncoder().encode(secret));
  };

  it('a role claim is honoured only with AUTH_TRUST_ROLE_CLAIM=1, case-insensitively, and never stored', async () => {
    const untrusted = await testApi({ env: { AUTH_JWT_SECRET: secret, AUTH_JWT_AUTOCREATE: '1' } });
    try {
      const res = await untrusted.request('GET', '/api/admin/users', {
        token: await sign({ sub: 'x', role: 'admin' }),
      });
      expect(res.statusCode).toBe(403);
      expect((await untrusted.store.users.findByExternalId('x'))!.role).toBe('user');
    } finally {
      await untrusted.close();
    }
    const trusted = await testApi({
      env: { AUTH_JWT_SECRET: secret, AUTH_JWT_AUTOCREATE: '1', AUTH_TRUST_ROLE_CLAIM: '1' },
    });
    try {
      for (const role of ['admin', 'ADMIN', 'Admin']) {
        const res = await trusted.request('GET', '/api/admin/users', {
          token: await sign({ sub: 'op', role }),
        });
        expect(res.statusCode, role).toBe(200);
      }
      expect((await trusted.store.users.findByExternalId('op'))!.role).toBe('user');
      // Without the claim the same user is a customer again: nothing was written.
      expect(
        (await trusted.request('GET', '/api/admin/users', { token: await sign({ sub: 'op' }) })).statusCode,
      ).toBe(403);
    } finally {
      await trusted.close();
    }
  });

  it('exp is required by default; issuer and audience are checked when set', async () => {
    const strict = await testApi({
      env: {
        AUTH_JWT_SECRET: secret,
        AUTH_JWT_AUTOCREATE: '1',
        AUTH_JWT_ISSUER: 'https://front.example',
        AUTH_JWT_AUDIENCE: 'stagger',
      },
    });
    try {
      const good = { iss: 'https://front.example', aud: 'stagger' };
      expect(
        (await strict.request('GET', '/api/me', { token: await sign({ sub: 'u' }, good) })).statusCode,
      ).toBe(200);
      const noExp = await strict.request('GET', '/api/me', {
        token: await sign({ sub: 'u' }, { ...good, exp: false }),
      });
      expect(noExp.statusCode).toBe(401);
      expect(noExp.json().error.message).toContain('exp');
      for (const bad of [
        { iss: 'https://evil.example', aud: 'stagger' },
        { iss: good.iss, aud: 'other' },
        {},
      ]) {
        expect(
          (await strict.request('GET', '/api/me', { token: await sign({ sub: 'u' }, bad) })).statusCode,
        ).toBe(401);
      }
    } finally {
      await strict.close();
    }
    const lax = await testApi({
      env: { AUTH_JWT_SECRET: secret, AUTH_JWT_AUTOCREATE: '1', AUTH_JWT_REQUIRE_EXP: '0' },
    });
    try {
      expect(
        (await lax.request('GET', '/api/me', { token: await sign({ sub: 'u' }, { exp: false }) })).statusCode,
      ).toBe(200);
    } finally {
      await lax.close();
    }
  });
});

describe('numbers and ids out of range', () => {
  it.each([1e308, 2 ** 63, 1e15, 525_601])(
    'start with total_cycle_minutes %d is 400 naming the limit, and nothing changes',
    async (minutes) => {
      const c = await readyCustomer(api);
      const res = await api.request('POST', '/api/bot/start', {
        token: c.token,
        body: { execution_mode: 'starter', total_cycle_minutes: minutes },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('at most 525600 minutes');
      expect((await api.store.bots.get(c.botId))!.desiredState).toBe('stopped');
      const preview = await api.request(
        'GET',
        `/api/bot/plan?execution_mode=starter&total_cycle_minutes=${encodeURIComponent(String(minutes))}`,
        {
          token: c.token,
        },
      );
      expect(preview.statusCode).toBe(400);
      expect(preview.json().error.message).toContain('525600');
    },
  );

  it.each([
    ['delay_between_posts', 1e308, '86400'],
    ['delay_between_posts', 0, '0.2'],
    ['delay_between_cycles', 1e15, '604800'],
    ['min_group_gap_seconds', 2 ** 63, '86400'],
  ])('settings %s = %d is 400 naming the limit %s', async (field, value, limit) => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/settings', { token: c.token, body: { [field]: value } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain(limit);
  });

  it('one tenant’s out-of-range data never breaks its own status or the operator’s list', async () => {
    const admin = await api.user({ name: 'op-bad', role: 'admin' });
    const bad = await readyCustomer(api);
    const good = await readyCustomer(api);
    // Written directly, as an older release let it through.
    await api.store.db
      .updateTable('bots')
      .set({ total_cycle_minutes: 1e308, execution_mode: 'starter', anchor_at: 8.64e15 })
      .where('id', '=', BigInt(bad.botId))
      .execute();
    const status = await api.request('GET', '/api/bot/status', { token: bad.token });
    expect(status.statusCode).toBe(200);
    const all = await api.request('GET', '/api/admin/bots', { token: admin.token });
    expect(all.statusCode).toBe(200);
    expect(all.json().bots.map((b: { botId: string }) => b.botId)).toEqual(
      expect.arrayContaining([bad.botId, good.botId]),
    );
  });

  it('ids above 2^63−1 are 400 on every :id route and in ?cursor=, never 500', async () => {
    const admin = await api.user({ name: 'op-ids', role: 'admin' });
    const c = await api.user();
    const huge = '9999999999999999999';
    const failures: string[] = [];
    for (const route of api.app.routeTable()) {
      if (!route.url.includes(':id')) continue;
      const token = route.access === 'admin' ? admin.token : c.token;
      const res = await api.request(route.method as 'GET', route.url.replace(':id', huge), {
        token,
        ...(route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE'
          ? {}
          : { body: route.url.endsWith('/assign') ? { userId: '1' } : {} }),
      });
      if (res.statusCode !== 400) failures.push(`${route.method} ${route.url} → ${res.statusCode}`);
      else expect(res.json().error.message).toContain('9223372036854775807');
    }
    expect(failures).toEqual([]);
    const cursor = await api.request('GET', `/api/bot/posts?cursor=${huge}`, { token: c.token });
    expect(cursor.statusCode).toBe(400);
    const assign = await api.request('POST', '/api/admin/sessions/1/assign', {
      token: admin.token,
      body: { userId: huge },
    });
    expect(assign.statusCode).toBe(400);
  });
});

describe('limits', () => {
  it('limits each address before authentication; failed sign-ins count and lock the address out', async () => {
    const limited = await testApi({
      deps: {
        rateLimits: {
          perAddress: { max: 1_000, windowMs: 60_000 },
          failedAuthPerAddress: { max: 3, windowMs: 60_000 },
        },
      },
    });
    try {
      const c = await limited.user();
      const bad = async (remoteAddress: string) =>
        (
          await limited.app.inject({
            method: 'GET',
            url: '/api/me',
            remoteAddress,
            headers: { authorization: 'Bearer stg_guess' },
          })
        ).statusCode;
      expect([await bad('198.51.100.1'), await bad('198.51.100.1'), await bad('198.51.100.1')]).toEqual([
        401, 401, 401,
      ]);
      expect(await bad('198.51.100.1')).toBe(429);
      // Even a good token from that address waits; another address is not affected.
      const locked = await limited.app.inject({
        method: 'GET',
        url: '/api/me',
        remoteAddress: '198.51.100.1',
        headers: { authorization: `Bearer ${c.token}` },
      });
      expect(locked.statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(await bad('198.51.100.2')).toBe(401);
    } finally {
      await limited.close();
    }
    const flood = await testApi({ deps: { rateLimits: { perAddress: { max: 5, windowMs: 60_000 } } } });
    try {
      const codes = [];
      for (let i = 0; i < 7; i++)
        codes.push(
          (await flood.app.inject({ method: 'GET', url: '/api/health', remoteAddress: '198.51.100.3' }))
            .statusCode,
        );
      expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await flood.close();
    }
  });

  it('limits reads per caller too', async () => {
    const limited = await testApi({ deps: { rateLimits: { readsPerCaller: { max: 4, windowMs: 60_000 } } } });
    try {
      const c = await limited.user();
      const codes = [];
      for (let i = 0; i < 6; i++)
        codes.push((await limited.request('GET', '/api/bot/status', { token: c.token })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
      const other = await limited.user();
      expect((await limited.request('GET', '/api/bot/status', { token: other.token })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('caps the live event streams of one user (429 beyond)', async () => {
    const server = await testApi({ deps: { rateLimits: { streamsPerUser: 2 } } });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (server.app.server.address() as AddressInfo).port;
    const c = await server.user();
    const open: { status: number; destroy: () => void }[] = [];
    const stream = () =>
      new Promise<{ status: number; destroy: () => void }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/api/bot/events',
            headers: { authorization: `Bearer ${c.token}` },
          },
          (res) => resolve({ status: res.statusCode ?? 0, destroy: () => req.destroy() }),
        );
        req.on('error', reject);
        req.end();
      });
    try {
      for (let i = 0; i < 3; i++) open.push(await stream());
      expect(open.map((s) => s.status)).toEqual([200, 200, 429]);
    } finally {
      for (const s of open) s.destroy();
      await server.close();
    }
  });
});

describe('headers', () => {
  it('the dashboard, the documents and the API send CSP (no inline script), nosniff, a referrer policy, no framing', async () => {
    for (const url of ['/', '/docs/', '/api/health', '/api/me']) {
      const res = await api.request('GET', url);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('a 20 KB header is answered in the API’s JSON error shape', async () => {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (api.app.server.address() as AddressInfo).port;
    {
      const res = await new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/api/health', headers: { 'x-filler': 'a'.repeat(20 * 1024) } },
          (r) => {
            let body = '';
            r.on('data', (chunk: Buffer) => (body += chunk.toString()));
            r.on('end', () =>
              resolve({ status: r.statusCode ?? 0, body, type: String(r.headers['content-type']) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(431);
      expect(res.type).toContain('application/json');
      expect(JSON.parse(res.body).error.code).toBe('HEADERS_TOO_LARGE');
    }
  });
});
