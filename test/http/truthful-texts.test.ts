/**
 * Texts the API says that a screen shows as they are: whether this installation has a cluster to show (asked
 * before the cluster view, so a one-process installation is no refused request), and a session limit that says
 * what to do about it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

describe('GET /api/admin/installation', () => {
  it('one process: no cluster, said in words, and the cluster view itself still answers 409', async () => {
    const admin = await api.user({ name: 'operator', role: 'admin', maxSessions: 0, planType: null });
    const res = await api.request('GET', '/api/admin/installation', { token: admin.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      cluster: false,
      database: 'sqlite',
      message: 'This installation runs everything in one process: there are no workers or leases to show.',
    });
    const view = await api.request('GET', '/api/admin/cluster', { token: admin.token });
    expect(view.statusCode).toBe(409);
    expect(view.json().error.code).toBe('CLUSTER_NOT_AVAILABLE');
  });

  it('with workers: a cluster to show', async () => {
    const clustered = await testApi({
      deps: { cluster: async () => ({ now: 0, workers: [], unowned: [], runningBots: 0 }) },
    });
    try {
      const admin = await clustered.user({ name: 'op', role: 'admin', maxSessions: 0, planType: null });
      const res = await clustered.request('GET', '/api/admin/installation', { token: admin.token });
      expect(res.json()).toMatchObject({ cluster: true });
    } finally {
      await clustered.close();
    }
  });

  it('is for operators only', async () => {
    const customer = await api.user();
    expect((await api.request('GET', '/api/admin/installation', { token: customer.token })).statusCode).toBe(
      403,
    );
  });
});

describe('SESSION_LIMIT says what to do', () => {
  it('the limit, how many there are, and the two ways out; one session is "1 session"', async () => {
    const one = await api.user({ name: 'one', maxSessions: 1, planType: 'ENTERPRISE' });
    expect(
      (await api.request('POST', '/api/sessions/sandbox', { token: one.token, body: { count: 1 } }))
        .statusCode,
    ).toBe(201);
    const res = await api.request('POST', '/api/sessions/sandbox', { token: one.token, body: { count: 2 } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'SESSION_LIMIT',
      message:
        'your plan allows 1 session and you have 1; adding 2 would make 3: delete a session you no longer need on the Sessions page (DELETE /api/sessions/:id), or ask your operator for a plan with more sessions',
    });
  });
});
