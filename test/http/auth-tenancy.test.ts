/**
 * Who may do what: tokens, JWTs (HS256 and JWKS), admin routes, tenant isolation, secrets never in a response or
 * a log line, rate limits, health, metrics and the OpenAPI document.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/storage/users.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

describe('authentication', () => {
  it.each([
    ['no header', undefined],
    ['not Bearer', 'Basic abc'],
    ['unknown token', 'Bearer stg_nope'],
    ['empty bearer', 'Bearer '],
  ])('401 with %s', async (_name, header) => {
    const res = await api.request('GET', '/api/bot/status', {
      headers: header === undefined ? {} : { authorization: header },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
  });

  it('GET /api/me tells who the caller is (role and plan), for a customer and an operator', async () => {
    const customer = await api.user({ name: 'me-customer', planType: 'STARTER', maxSessions: 4 });
    const me = await api.request('GET', '/api/me', { token: customer.token });
    expect(me.json()).toEqual({
      id: customer.id,
      name: 'me-customer',
      role: 'user',
      plan_type: 'STARTER',
      plan_status: 'active',
      max_sessions: 4,
    });
    const admin = await api.user({ name: 'me-op', role: 'admin' });
    expect((await api.request('GET', '/api/me', { token: admin.token })).json().role).toBe('admin');
    expect((await api.request('GET', '/api/me')).statusCode).toBe(401);
  });

  it('health needs no token and shows no tenant data', async () => {
    const res = await api.request('GET', '/api/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: expect.any(String), database: 'ok' });
  });

  it('stores tokens as hashes only', async () => {
    const { id, token } = await api.user();
    const rows = await api.store.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(token);
    expect(await api.store.users.tokenHashes(id)).toEqual([hashToken(token)]);
  });

  it('a revoked or deleted user’s token stops working', async () => {
    const { id, token } = await api.user();
    await api.store.users.delete(id);
    expect((await api.request('GET', '/api/bot/status', { token })).statusCode).toBe(401);
  });
});

describe('tenant isolation', () => {
  it('B can neither read, change nor start A’s bot, nor touch A’s sessions', async () => {
    const a = await readyCustomer(api);
    const b = await readyCustomer(api);
    const aSession = (await api.store.sessions.listByOwner(a.id))[0]!;
    // B's calls act on B's own bot only.
    await api.request('PUT', '/api/bot/post', {
      token: b.token,
      body: { post_link: 'https://t.me/b_channel/9' },
    });
    await api.request('POST', '/api/bot/start', { token: b.token });
    const aBot = (await api.store.bots.get(a.botId))!;
    expect(aBot.postLink).toBe('https://t.me/stagger_demo/1');
    expect(aBot.desiredState).toBe('stopped');
    const status = await api.request('GET', '/api/bot/status', { token: b.token });
    expect(status.json().sessions.map((s: { id: string }) => s.id)).not.toContain(aSession.id);
    expect(
      (await api.request('GET', '/api/sessions', { token: b.token }))
        .json()
        .sessions.map((s: { id: string }) => s.id),
    ).not.toContain(aSession.id);
    // Another tenant's session id is answered exactly like an unknown one.
    const del = await api.request('DELETE', `/api/sessions/${aSession.id}`, { token: b.token });
    const unknown = await api.request('DELETE', '/api/sessions/987654321', { token: b.token });
    expect(del.statusCode).toBe(404);
    expect(del.json().error.code).toBe('NOT_FOUND');
    expect(del.json().error.message).toBe(`no session ${aSession.id}`);
    expect(unknown.json().error.message).toBe('no session 987654321');
    expect(await api.store.sessions.get(aSession.id)).not.toBeNull();
    expect(
      (await api.request('POST', `/api/sessions/${aSession.id}/check`, { token: b.token })).statusCode,
    ).toBe(404);
    expect((await api.request('GET', `/api/admin/users/${a.id}`, { token: b.token })).statusCode).toBe(403);
  });

  it('admin routes are 403 for customers and 200 for operators', async () => {
    const customer = await api.user();
    const admin = await api.user({ name: 'op', role: 'admin' });
    for (const url of ['/api/admin/users', '/api/admin/sessions', '/api/admin/bots']) {
      const res = await api.request('GET', url, { token: customer.token });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect((await api.request('GET', url, { token: admin.token })).statusCode).toBe(200);
    }
  });
});

describe('sessions API', () => {
  it('never returns secrets, and neither the logs', async () => {
    const c = await readyCustomer(api);
    const secret = 'AQAAAAAAAAAAAAAAsecret-session-material-0123456789';
    await api.store.sessions.create({
      ownerUserId: c.id,
      label: 'real',
      driver: 'mtcute',
      authString: secret,
      apiId: 1234,
      apiHash: 'fedcba9876543210fedcba9876543210',
    });
    const listed = await api.request('GET', '/api/sessions', { token: c.token });
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain('fedcba9876543210');
    expect(listed.json().sessions.map((s: { driver: string }) => s.driver)).toEqual([
      'sandbox',
      'sandbox',
      'mtcute',
    ]);
    const admin = await api.user({ name: 'op2', role: 'admin' });
    const all = await api.request('GET', '/api/admin/sessions', { token: admin.token });
    expect(all.body).not.toContain(secret);
    const logs = api.logs.join('');
    expect(logs).toContain('incoming request');
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(c.token);
    expect(logs).not.toContain(admin.token);
  });

  it('creates sandbox sessions within the plan’s limit', async () => {
    const c = await api.user({ name: 'limited', maxSessions: 2 });
    const res = await api.request('POST', '/api/sessions/sandbox', { token: c.token, body: { count: 2 } });
    expect(res.statusCode).toBe(201);
    expect(res.json().sessions).toHaveLength(2);
    const over = await api.request('POST', '/api/sessions/sandbox', { token: c.token, body: { count: 1 } });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('SESSION_LIMIT');
    for (const count of [0, 51, 'two', -1]) {
      expect(
        (await api.request('POST', '/api/sessions/sandbox', { token: c.token, body: { count } })).statusCode,
      ).toBe(400);
    }
  });

  it('deletes the caller’s own session (204), 404 for an unknown one', async () => {
    const c = await readyCustomer(api);
    const [s] = await api.store.sessions.listByOwner(c.id);
    expect((await api.request('DELETE', `/api/sessions/${s!.id}`, { token: c.token })).statusCode).toBe(204);
    expect((await api.request('DELETE', `/api/sessions/${s!.id}`, { token: c.token })).statusCode).toBe(404);
    expect((await api.request('DELETE', '/api/sessions/abc', { token: c.token })).statusCode).toBe(400);
  });
});

describe('admin API', () => {
  it('creates, reads, updates and deletes users; the token is shown once', async () => {
    const admin = await api.user({ name: 'op3', role: 'admin' });
    const created = await api.request('POST', '/api/admin/users', {
      token: admin.token,
      body: { name: 'New customer', plan_type: 'STARTER', max_sessions: 4 },
    });
    expect(created.statusCode).toBe(201);
    const { user, token } = created.json();
    expect(user).toMatchObject({
      name: 'New customer',
      role: 'user',
      plan_type: 'STARTER',
      plan_status: 'active',
      max_sessions: 4,
    });
    expect((await api.request('GET', '/api/bot/status', { token })).statusCode).toBe(200);
    const patched = await api.request('PATCH', `/api/admin/users/${user.id}`, {
      token: admin.token,
      body: { plan_status: 'suspended' },
    });
    expect(patched.json().user.plan_status).toBe('suspended');
    expect((await api.request('POST', '/api/bot/start', { token })).statusCode).toBe(403);
    expect(
      (await api.request('GET', `/api/admin/users/${user.id}`, { token: admin.token })).json().user
        .plan_status,
    ).toBe('suspended');
    expect(
      (await api.request('DELETE', `/api/admin/users/${user.id}`, { token: admin.token })).statusCode,
    ).toBe(204);
    expect((await api.request('GET', `/api/admin/users/${user.id}`, { token: admin.token })).statusCode).toBe(
      404,
    );
  });

  it.each([
    [{ name: '' }],
    [{ name: 'x', role: 'root' }],
    [{ name: 'x', plan_type: 'GOLD' }],
    [{ name: 'x', plan_status: 'paused' }],
    [{ name: 'x', max_sessions: -1 }],
    [{ name: 'x', max_sessions: 1e6 }],
    [{ name: 'x', extra: 1 }],
  ])('refuses a bad user %j', async (body) => {
    const admin = await api.user({ name: 'op4', role: 'admin' });
    const res = await api.request('POST', '/api/admin/users', { token: admin.token, body });
    expect(res.statusCode).toBe(400);
  });

  it('manages the session pool: create, assign, unassign', async () => {
    const admin = await api.user({ name: 'op5', role: 'admin' });
    const customer = await api.user({ name: 'pool user' });
    const pool = await api.request('POST', '/api/admin/sessions', {
      token: admin.token,
      body: { driver: 'sandbox', count: 2 },
    });
    expect(pool.statusCode).toBe(201);
    const [s] = pool.json().sessions;
    const assigned = await api.request('POST', `/api/admin/sessions/${s.id}/assign`, {
      token: admin.token,
      body: { userId: customer.id },
    });
    expect(assigned.json().session.ownerUserId).toBe(customer.id);
    expect(
      (await api.request('GET', '/api/sessions', { token: customer.token })).json().sessions,
    ).toHaveLength(1);
    await api.request('POST', `/api/admin/sessions/${s.id}/unassign`, { token: admin.token });
    expect(
      (await api.request('GET', '/api/sessions', { token: customer.token })).json().sessions,
    ).toHaveLength(0);
    expect(
      (
        await api.request('POST', '/api/admin/sessions/999999/assign', {
          token: admin.token,
          body: { userId: customer.id },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('lists every bot’s status', async () => {
    const admin = await api.user({ name: 'op6', role: 'admin' });
    const c = await readyCustomer(api);
    const res = await api.request('GET', '/api/admin/bots', { token: admin.token });
    expect(res.json().bots).toContainEqual(
      expect.objectContaining({ botId: c.botId, userId: c.id, status: 'stopped' }),
    );
  });
});

describe('JWT', () => {
  const secret = 'a-test-secret-that-is-long-enough-for-hs256';
  const sign = (claims: Record<string, unknown>, key = secret) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(key));

  it('without a configured secret a JWT is just an unknown token', async () => {
    const res = await api.request('GET', '/api/bot/status', { token: await sign({ sub: 'x' }) });
    expect(res.statusCode).toBe(401);
  });

  it('HS256: the user from sub or user_id; created on first sight only with AUTOCREATE; plan claims only when trusted', async () => {
    const strict = await testApi({ env: { AUTH_JWT_SECRET: secret } });
    try {
      expect(
        (await strict.request('GET', '/api/bot/status', { token: await sign({ sub: 'ext-1' }) })).statusCode,
      ).toBe(401);
      const known = await strict.store.users.create({ name: 'known', externalId: 'ext-known' });
      const ok = await strict.request('GET', '/api/bot/status', {
        token: await sign({ user_id: 'ext-known' }),
      });
      expect(ok.statusCode).toBe(200);
      expect(
        (
          await strict.request('GET', '/api/bot/status', {
            token: await sign({ sub: 'ext-known' }, 'wrong-secret-wrong-secret-wrong'),
          })
        ).statusCode,
      ).toBe(401);
      // Plan claims are ignored unless trusted.
      await strict.request('GET', '/api/bot/status', {
        token: await sign({
          sub: 'ext-known',
          plan_status: 'suspended',
          plan_limits: { plan_type: 'STARTER' },
        }),
      });
      expect((await strict.store.users.get(known.id))!.planStatus).toBe('active');
    } finally {
      await strict.close();
    }
    const open = await testApi({
      env: { AUTH_JWT_SECRET: secret, AUTH_JWT_AUTOCREATE: '1', AUTH_TRUST_PLAN_CLAIMS: '1' },
    });
    try {
      const token = await sign({
        sub: 'new-user',
        email: 'new@example.com',
        plan_status: 'active',
        plan_limits: { plan_type: 'STARTER', max_sessions: 2 },
      });
      expect((await open.request('GET', '/api/bot/status', { token })).statusCode).toBe(200);
      const user = (await open.store.users.findByExternalId('new-user'))!;
      expect(user).toMatchObject({
        name: 'new@example.com',
        role: 'user',
        planType: 'STARTER',
        planStatus: 'active',
        maxSessions: 2,
      });
      // A role claim is not trusted without AUTH_TRUST_ROLE_CLAIM (security.test.ts covers it trusted).
      const admin = await sign({ sub: 'boss', role: 'admin' });
      expect((await open.request('GET', '/api/admin/users', { token: admin })).statusCode).toBe(403);
      expect((await open.store.users.findByExternalId('boss'))!.role).toBe('user');
      // Trusted plan claims apply to the request that carries them; the stored plan stays as it was.
      const expired = await sign({ sub: 'new-user', plan_status: 'expired' });
      expect((await open.request('GET', '/api/me', { token: expired })).json().plan_status).toBe('expired');
      expect((await open.request('POST', '/api/bot/start', { token: expired })).statusCode).toBe(403);
      expect((await open.store.users.findByExternalId('new-user'))!.planStatus).toBe('active');
    } finally {
      await open.close();
    }
  });

  it('JWKS: RS256 tokens checked against the published keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const server: Server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const jwks = await testApi({ env: { AUTH_JWKS_URL: url, AUTH_JWT_AUTOCREATE: '1' } });
    try {
      const token = await new SignJWT({ sub: 'rs-user' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setExpirationTime('5m')
        .sign(privateKey);
      expect((await jwks.request('GET', '/api/bot/status', { token })).statusCode).toBe(200);
      const forged = await new SignJWT({ sub: 'rs-user' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign((await generateKeyPair('RS256')).privateKey);
      expect((await jwks.request('GET', '/api/bot/status', { token: forged })).statusCode).toBe(401);
    } finally {
      await jwks.close();
      server.close();
    }
  });
});

describe('limits, health, metrics, documents', () => {
  it('rate-limits writes per caller (429); reads have their own limit', async () => {
    const limited = await testApi({
      deps: { rateLimits: { writesPerCaller: { max: 3, windowMs: 60_000 } } },
    });
    try {
      const c = await readyCustomer(limited);
      const codes = [];
      for (let i = 0; i < 5; i++) {
        codes.push(
          (await limited.request('PUT', '/api/bot/settings', { token: c.token, body: { silent: true } }))
            .statusCode,
        );
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const limitedBody = await limited.request('PUT', '/api/bot/settings', {
        token: c.token,
        body: { silent: true },
      });
      expect(limitedBody.json().error.code).toBe('RATE_LIMITED');
      expect((await limited.request('GET', '/api/bot/settings', { token: c.token })).statusCode).toBe(200);
      const other = await readyCustomer(limited);
      expect(
        (await limited.request('PUT', '/api/bot/settings', { token: other.token, body: { silent: true } }))
          .statusCode,
      ).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('metrics need an operator token even from this machine (a proxy on this host makes everyone local)', async () => {
    for (const remoteAddress of ['127.0.0.1', '203.0.113.9']) {
      const anonymous = await api.app.inject({ method: 'GET', url: '/metrics', remoteAddress });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.body).not.toContain('stagger_posts_total');
    }
    const customer = await api.user();
    const asCustomer = await api.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${customer.token}` },
    });
    expect(asCustomer.statusCode).toBe(403);
    const admin = await api.user({ name: 'op7', role: 'admin' });
    const asAdmin = await api.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.body).toContain('stagger_posts_total{result="sent"}');
  });

  it('STAGGER_METRICS_PUBLIC=1 opens /metrics without a token', async () => {
    const open = await testApi({ env: { STAGGER_METRICS_PUBLIC: '1' } });
    try {
      const res = await open.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('stagger_bots{state="running"}');
    } finally {
      await open.close();
    }
  });

  it('serves the OpenAPI document generated from the request schemas, and a docs page', async () => {
    const doc = await api.request('GET', '/api/openapi.json');
    expect(doc.statusCode).toBe(200);
    const spec = doc.json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/bot/start', '/api/bot/settings', '/api/admin/users']),
    );
    expect(
      spec.paths['/api/bot/settings'].put.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('delay_between_posts');
    const docs = await api.request('GET', '/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('unknown routes are 404 in the API’s error shape', async () => {
    const res = await api.request('GET', '/api/nothing-here', { token: (await api.user()).token });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});
