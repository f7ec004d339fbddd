/**
 * GET /api/bot/posts?view=…: what happened (latest first, each with when it happened) apart from what is still to
 * come (soonest first); a post handed to another session says which one it was planned for; the views are in the
 * OpenAPI document with the fields they answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

const T = Date.UTC(2030, 0, 1);

describe('GET /api/bot/posts views', () => {
  it('done and planned split the history; a hand-off shows its planned session; a bad view is a 400', async () => {
    const c = await readyCustomer(api);
    const [s0, s1] = await api.store.sessions.listByOwner(c.id);
    const post = (seq: number, status: 'sent' | 'planned' | 'skipped', plannedAt: number) => ({
      botId: c.botId,
      seq,
      // the first post was planned for s0 and handed to s1
      sessionId: seq === 0 ? s1!.id : s0!.id,
      plannedSessionId: s0!.id,
      groupKey: `-100100000000${seq + 1}`,
      plannedAt,
      randomId: String(seq + 1),
      status,
      reason: status === 'skipped' ? 'group_gap' : null,
      error: null,
      attempts: status === 'sent' ? 1 : 0,
      sentAt: status === 'sent' ? plannedAt + 2000 : null,
    });
    await api.store.runtime.createCycle(
      {
        botId: c.botId,
        number: 1,
        mode: 'enterprise',
        slot: null,
        cycleSeconds: null,
        plannedStartAt: T,
        deadlineAt: T + 600_000,
        expectedEndAt: T + 60_000,
        finishedAt: null,
        status: 'running',
        reason: null,
        warnings: [],
      },
      // in seq order: planned rows first, as a plan that posts the later groups earlier would store them
      [
        post(0, 'sent', T + 5000),
        post(1, 'planned', T + 50_000),
        post(2, 'skipped', T + 9000),
        post(3, 'planned', T + 40_000),
      ],
    );
    const get = async (query: string) => {
      const res = await api.request('GET', `/api/bot/posts?${query}`, { token: c.token });
      expect(res.statusCode, query).toBe(200);
      return res.json() as { posts: Record<string, unknown>[]; nextCursor: string | null };
    };

    const done = await get('view=done');
    expect(done.posts.map((p) => [p.group, p.status, p.happenedAt])).toEqual([
      ['-1001000000003', 'skipped', new Date(T + 9000).toISOString()],
      ['-1001000000001', 'sent', new Date(T + 7000).toISOString()],
    ]);
    expect(done.posts[1]).toMatchObject({ sessionId: s1!.id, plannedSessionId: s0!.id });
    expect(done.posts[0]).toMatchObject({ sessionId: s0!.id, plannedSessionId: s0!.id });

    const planned = await get('view=planned&limit=1');
    expect(planned.posts.map((p) => [p.group, p.happenedAt])).toEqual([['-1001000000004', null]]);
    const next = await get(`view=planned&limit=1&cursor=${planned.nextCursor}`);
    expect(next.posts.map((p) => p.group)).toEqual(['-1001000000002']);
    expect(next.nextCursor).toBeNull();

    // without a view, as before: every post, newest first
    expect((await get('')).posts.map((p) => p.seq)).toEqual([3, 2, 1, 0]);

    const bad = await api.request('GET', '/api/bot/posts?view=future', { token: c.token });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/view/);
  });

  it('the OpenAPI document has the views, the new fields, and the live stream’s hand-off event with its group', async () => {
    const openapi = (await api.request('GET', '/api/openapi.json')).json();
    const posts = openapi.paths['/api/bot/posts'].get;
    const view = posts.parameters.find((p: { name: string }) => p.name === 'view');
    expect(view.schema.anyOf.map((s: { enum?: string[]; const?: string }) => s.const ?? s.enum?.[0])).toEqual(
      ['all', 'done', 'planned'],
    );
    const fields =
      posts.responses['200'].content['application/json'].schema.properties.posts.items.properties;
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['plannedSessionId', 'happenedAt']));
    const events = openapi.paths['/api/bot/events'].get.responses['200'].content['text/event-stream'].schema;
    const handOff = events.anyOf.find(
      (e: { properties: { type: { const?: string; enum?: string[] } } }) =>
        (e.properties.type.const ?? e.properties.type.enum?.[0]) === 'post.handed_off',
    );
    expect(handOff.required).toEqual(
      expect.arrayContaining(['groupKey', 'fromSessionId', 'toSessionId', 'reason']),
    );
  });
});
