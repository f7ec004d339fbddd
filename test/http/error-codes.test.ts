/**
 * Every code the HTTP layer raises, raised the way a client meets it: the answer's status is the code's entry in
 * the error table. The map of scenarios is keyed by the code type, so a new code does not compile without one.
 */
import { connect, type AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaggerError } from '../../src/core/errors.js';
import { STATUS, type HttpErrorCode } from '../../src/http/errors.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

interface Answer {
  status: number;
  code: string;
}

const answerOf = (res: LightMyRequestResponse): Answer => ({
  status: res.statusCode,
  code: res.json().error.code,
});

let api: TestApi;
let admin: { id: string; token: string };
/** What GET /api/admin/cluster fails with in the second app. */
let clusterFailure: Error;
let failing: TestApi;
let failingAdmin: { id: string; token: string };

beforeAll(async () => {
  // No stream allowed per user: the first GET /api/bot/events is one too many.
  api = await testApi({ deps: { rateLimits: { streamsPerUser: 0 } } });
  admin = await api.user({ name: 'operator', role: 'admin' });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  failing = await testApi({ deps: { cluster: () => Promise.reject(clusterFailure) } });
  failingAdmin = await failing.user({ name: 'operator', role: 'admin' });
});
afterAll(async () => {
  await api.close();
  await failing.close();
});

/** Sends bytes on a plain socket (what Node's HTTP parser refuses never reaches `inject`). */
function raw(bytes: string): Promise<Answer> {
  const { port } = api.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), code: JSON.parse(body).error.code });
    });
  });
}

/** A customer with a post and groups but no session. */
async function withoutSessions(maxSessions: number) {
  const user = await api.store.users.create({ name: 'no sessions', maxSessions, planType: 'ENTERPRISE' });
  const botId = await api.store.bots.ensureForUser(user.id);
  await api.store.bots.setPostLink(botId, 'https://t.me/stagger_demo/1');
  await api.store.bots.setGroups(botId, ['-1001000000001']);
  return (await api.store.users.issueToken(user.id)).token;
}

const raise: Record<HttpErrorCode, () => Promise<Answer>> = {
  BAD_REQUEST: () => raw('NOT HTTP AT ALL\r\n\r\n'),
  HEADERS_TOO_LARGE: () =>
    raw(`GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`),
  VALIDATION_FAILED: async () => {
    const c = await api.user();
    return answerOf(await api.request('PUT', '/api/bot/post', { token: c.token, body: {} }));
  },
  INVALID_JSON: async () => {
    const c = await api.user();
    return answerOf(await api.request('PUT', '/api/bot/post', { token: c.token, body: '{"post_link":' }));
  },
  INVALID_MULTIPART: async () => {
    const c = await api.user();
    return answerOf(
      await api.request('POST', '/api/sessions/import', {
        token: c.token,
        body: 'no parts',
        headers: { 'content-type': 'multipart/form-data' },
      }),
    );
  },
  UNAUTHORIZED: async () => answerOf(await api.request('GET', '/api/me')),
  FORBIDDEN: async () => {
    const c = await api.user();
    return answerOf(await api.request('GET', '/api/admin/users', { token: c.token }));
  },
  PLAN_INACTIVE: async () => {
    const c = await readyCustomer(api);
    await api.store.users.update(c.id, { planStatus: 'expired' });
    return answerOf(await api.request('POST', '/api/bot/start', { token: c.token }));
  },
  NOT_FOUND: async () =>
    answerOf(await api.request('GET', '/api/admin/users/9000000000', { token: admin.token })),
  CONFLICT: async () =>
    answerOf(await api.request('DELETE', `/api/admin/users/${admin.id}`, { token: admin.token })),
  NO_POST_LINK: async () => {
    const c = await api.user();
    return answerOf(await api.request('POST', '/api/bot/start', { token: c.token }));
  },
  NO_GROUPS: async () => {
    const c = await api.user();
    await api.request('PUT', '/api/bot/post', {
      token: c.token,
      body: { post_link: 'https://t.me/x_demo/1' },
    });
    return answerOf(await api.request('POST', '/api/bot/start', { token: c.token }));
  },
  NO_USABLE_SESSION: async () =>
    answerOf(await api.request('POST', '/api/bot/start', { token: await withoutSessions(0) })),
  SESSION_POOL_EMPTY: async () =>
    answerOf(await api.request('POST', '/api/bot/start', { token: await withoutSessions(3) })),
  SESSION_LIMIT: async () => {
    const c = await api.user({ name: 'one session', maxSessions: 1 });
    return answerOf(
      await api.request('POST', '/api/sessions/sandbox', { token: c.token, body: { count: 2 } }),
    );
  },
  SESSION_NOT_POOLED: async () => {
    const c = await readyCustomer(api);
    const [own] = await api.store.sessions.listByOwner(c.id);
    return answerOf(
      await api.request('POST', `/api/admin/sessions/${own!.id}/assign`, {
        token: admin.token,
        body: { userId: admin.id },
      }),
    );
  },
  SESSION_IN_USE: async () => {
    const c = await readyCustomer(api, { sessions: 0 });
    const session = await api.store.sessions.create({ ownerUserId: c.id, label: 'real', driver: 'mtcute' });
    await api.store.bots.start(c.botId, 'enterprise', null);
    return answerOf(await api.request('POST', `/api/sessions/${session.id}/check`, { token: c.token }));
  },
  CLUSTER_NOT_AVAILABLE: async () =>
    answerOf(await api.request('GET', '/api/admin/cluster', { token: admin.token })),
  PAYLOAD_TOO_LARGE: async () => {
    const c = await api.user();
    const body = JSON.stringify({ groups: ['@a'.repeat(600_000)] });
    return answerOf(await api.request('PUT', '/api/bot/groups', { token: c.token, body }));
  },
  UNSUPPORTED_MEDIA_TYPE: async () => {
    const c = await api.user();
    return answerOf(
      await api.request('PUT', '/api/bot/post', {
        token: c.token,
        body: '<post_link>https://t.me/x_demo/1</post_link>',
        headers: { 'content-type': 'application/xml' },
      }),
    );
  },
  RATE_LIMITED: async () => {
    // The preflight's own limit: six runs a minute per caller.
    const c = await api.user();
    for (let i = 0; i < 6; i++) await api.request('GET', '/api/bot/preflight', { token: c.token });
    return answerOf(await api.request('GET', '/api/bot/preflight', { token: c.token }));
  },
  TOO_MANY_STREAMS: async () => {
    const c = await api.user();
    return answerOf(await api.request('GET', '/api/bot/events', { token: c.token }));
  },
  INTERNAL: async () => {
    clusterFailure = new Error('the workers table is unreadable');
    return answerOf(await failing.request('GET', '/api/admin/cluster', { token: failingAdmin.token }));
  },
  // This test's app has no real-Telegram adapter.
  TELEGRAM_UNAVAILABLE: async () => {
    const c = await api.user();
    return answerOf(
      await api.request('POST', '/api/sessions/login', { token: c.token, body: { phone: '+15550100000' } }),
    );
  },
};

describe('each code the HTTP layer raises is answered with its table status', () => {
  it.each(Object.entries(raise))('%s', async (code, scenario) => {
    expect(await scenario()).toEqual({ status: STATUS[code as HttpErrorCode], code });
  });
});

describe('codes without a status', () => {
  it('a lower layer’s error with a code nobody gave a status is a 500 that keeps its code, and is logged', async () => {
    clusterFailure = new StaggerError(
      'SECRET_KEY_MISMATCH',
      'the secret key does not open the stored secrets',
    );
    const logged = failing.logs.length;
    const res = await failing.request('GET', '/api/admin/cluster', { token: failingAdmin.token });
    expect(answerOf(res)).toEqual({ status: 500, code: 'SECRET_KEY_MISMATCH' });
    expect(failing.logs.slice(logged).some((line) => line.includes('request failed'))).toBe(true);
  });
});
