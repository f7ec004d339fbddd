/** The customer's bot API, in-process: every status code, the mode priority rules, and the table of bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

describe('POST /api/bot/start — the original’s rules', () => {
  const cases: [string, unknown, 'STARTER' | 'ENTERPRISE' | null, string, number | null][] = [
    [
      'body starter with minutes',
      { execution_mode: 'starter', total_cycle_minutes: 30 },
      'ENTERPRISE',
      'starter',
      30,
    ],
    [
      'body enterprise (minutes ignored)',
      { execution_mode: 'enterprise', total_cycle_minutes: 30 },
      'STARTER',
      'enterprise',
      null,
    ],
    ['no body, STARTER plan → starter 60', undefined, 'STARTER', 'starter', 60],
    ['empty object, STARTER plan → starter 60', {}, 'STARTER', 'starter', 60],
    ['no body, ENTERPRISE plan → enterprise', undefined, 'ENTERPRISE', 'enterprise', null],
    ['no body, no plan type → enterprise', undefined, null, 'enterprise', null],
    ['null mode falls back to the plan', { execution_mode: null }, 'STARTER', 'starter', 60],
  ];
  it.each(cases)('%s', async (_name, body, planType, mode, minutes) => {
    const c = await readyCustomer(api, { planType });
    const res = await api.request('POST', '/api/bot/start', { token: c.token, body });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'running',
      execution_mode: mode,
      total_cycle_minutes: minutes,
    });
    expect(res.json().sessions).toHaveLength(2);
    const stored = (await api.store.bots.get(c.botId))!;
    expect([stored.desiredState, stored.mode, stored.totalCycleMinutes]).toEqual(['running', mode, minutes]);
    expect(api.control.calls).toContain(`start:${c.botId}`);
  });

  const bad: [string, unknown, string][] = [
    ['unknown mode', { execution_mode: 'rotational' }, 'INVALID_EXECUTION_MODE'],
    ['mode in capitals', { execution_mode: 'STARTER', total_cycle_minutes: 60 }, 'INVALID_EXECUTION_MODE'],
    ['empty mode', { execution_mode: '' }, 'INVALID_EXECUTION_MODE'],
    ['mode as a number', { execution_mode: 1 }, 'INVALID_EXECUTION_MODE'],
    ['starter without minutes', { execution_mode: 'starter' }, 'STARTER_REQUIRES_CYCLE_MINUTES'],
    [
      'starter with 0 minutes',
      { execution_mode: 'starter', total_cycle_minutes: 0 },
      'STARTER_REQUIRES_CYCLE_MINUTES',
    ],
    [
      'starter with negative minutes',
      { execution_mode: 'starter', total_cycle_minutes: -5 },
      'STARTER_REQUIRES_CYCLE_MINUTES',
    ],
    [
      'starter with fractional minutes',
      { execution_mode: 'starter', total_cycle_minutes: 1.5 },
      'STARTER_REQUIRES_CYCLE_MINUTES',
    ],
    [
      'starter with minutes as text',
      { execution_mode: 'starter', total_cycle_minutes: '60' },
      'STARTER_REQUIRES_CYCLE_MINUTES',
    ],
    ['unknown field', { execution_mode: 'enterprise', turbo: true }, 'VALIDATION_FAILED'],
    ['an array body', [], 'VALIDATION_FAILED'],
  ];
  it.each(bad)('400 for %s, and nothing changes', async (_name, body, code) => {
    const c = await readyCustomer(api);
    const res = await api.request('POST', '/api/bot/start', { token: c.token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(res.json().error.message).toEqual(expect.any(String));
    expect((await api.store.bots.get(c.botId))!.desiredState).toBe('stopped');
  });

  it('400 for malformed JSON', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('POST', '/api/bot/start', {
      token: c.token,
      body: '{"execution_mode": "starter",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_JSON');
  });

  it.each(['inactive', 'expired', 'suspended'] as const)('403 when the plan is %s', async (planStatus) => {
    const c = await readyCustomer(api);
    await api.store.users.update(c.id, { planStatus });
    const res = await api.request('POST', '/api/bot/start', { token: c.token });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'PLAN_INACTIVE' });
    expect(res.json().error.message).toContain(planStatus);
  });

  it('409 with a code saying what is missing: post, groups, sessions', async () => {
    const c = await readyCustomer(api, { sessions: 0 });
    await api.store.users.update(c.id, { maxSessions: 0 });
    await api.store.bots.setPostLink(c.botId, null);
    const start = () => api.request('POST', '/api/bot/start', { token: c.token });
    expect((await start()).json().error.code).toBe('NO_POST_LINK');
    await api.store.bots.setPostLink(c.botId, 'https://t.me/stagger_demo/1');
    await api.store.bots.setGroups(c.botId, []);
    expect((await start()).json().error.code).toBe('NO_GROUPS');
    await api.store.bots.setGroups(c.botId, ['-1001']);
    const res = await start();
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('NO_USABLE_SESSION');
  });

  it('a customer without sessions gets them from the pool, up to max_sessions; 409 when the pool is empty', async () => {
    const c = await readyCustomer(api, { sessions: 0 });
    await api.store.users.update(c.id, { maxSessions: 2 });
    const before = (await api.store.sessions.listPool()).length;
    for (let i = 0; i < 3; i++)
      await api.store.sessions.create({ ownerUserId: null, label: `pool ${i}`, driver: 'sandbox' });
    const res = await api.request('POST', '/api/bot/start', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json().sessions).toHaveLength(2);
    expect((await api.store.sessions.listPool()).length).toBe(before + 1);

    const d = await readyCustomer(api, { sessions: 0 });
    for (const s of await api.store.sessions.listPool()) await api.store.sessions.assign(s.id, c.id);
    const empty = await api.request('POST', '/api/bot/start', { token: d.token });
    expect(empty.statusCode).toBe(409);
    expect(empty.json().error.code).toBe('SESSION_POOL_EMPTY');
  });

  it('starting a running bot returns 200 and changes nothing', async () => {
    const c = await readyCustomer(api);
    await api.request('POST', '/api/bot/start', {
      token: c.token,
      body: { execution_mode: 'starter', total_cycle_minutes: 10 },
    });
    const calls = api.control.calls.length;
    const again = await api.request('POST', '/api/bot/start', {
      token: c.token,
      body: { execution_mode: 'enterprise' },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({
      status: 'running',
      execution_mode: 'starter',
      total_cycle_minutes: 10,
    });
    expect(api.control.calls.length).toBe(calls);
  });

  it('stop answers {"status": "stopped"} and tells the runtime', async () => {
    const c = await readyCustomer(api);
    await api.request('POST', '/api/bot/start', { token: c.token });
    const res = await api.request('POST', '/api/bot/stop', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'stopped' });
    expect(api.control.calls.at(-1)).toBe(`stop:${c.botId}`);
    expect((await api.store.bots.get(c.botId))!.desiredState).toBe('stopped');
  });
});

describe('GET /api/bot/status and /api/bot/plan', () => {
  it('status has the documented shape', async () => {
    const stopped = {
      level: 'stopped',
      code: 'stopped',
      message: 'The bot is stopped: nothing is posted.',
      action: null,
      until: null,
      sessionIds: [],
    };
    const c = await readyCustomer(api);
    const res = await api.request('GET', '/api/bot/status', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'stopped',
      execution_mode: null,
      total_cycle_minutes: null,
      cycle: null,
      nextCycleAt: null,
      sessions: [
        expect.objectContaining({
          id: expect.any(String),
          label: 's0',
          state: 'active',
          cooldownUntil: null,
        }),
        expect.any(Object),
      ],
      stats: { sent: 0, failed: 0, floodWaits: 0 },
      lastError: null,
      // Added since the original's shape: how the bot is doing (core/condition.ts), and the last error.
      condition: stopped,
      conditions: [stopped],
      latestError: null,
    });
  });

  it('status says needs_attention when the runtime flagged the bot', async () => {
    const c = await readyCustomer(api);
    await api.request('POST', '/api/bot/start', { token: c.token });
    await api.store.runtime.updateBotRuntime(c.botId, {
      needsAttention: true,
      lastError: 'no usable session',
    });
    const res = await api.request('GET', '/api/bot/status', { token: c.token });
    expect(res.json()).toMatchObject({ status: 'needs_attention', lastError: 'no usable session' });
  });

  it('plan preview: the planner’s JSON with real session and group ids, without starting anything', async () => {
    const c = await readyCustomer(api, { planType: 'STARTER' });
    const res = await api.request('GET', '/api/bot/plan', { token: c.token });
    expect(res.statusCode).toBe(200);
    const sessions = (await api.store.sessions.listByOwner(c.id)).map((s) => s.id);
    expect(res.json()).toMatchObject({
      mode: 'starter',
      cycleSeconds: 3600,
      delayBetweenPosts: 5,
      warnings: [],
    });
    expect(res.json().sessions.map((s: { offsetSeconds: number }) => s.offsetSeconds)).toEqual([0, 1800]);
    expect(res.json().posts[0]).toEqual({ session: sessions[0], group: '-1001000000001', atSeconds: 0 });
    expect(res.json().posts).toHaveLength(6);
    const enterprise = await api.request('GET', '/api/bot/plan?execution_mode=enterprise', {
      token: c.token,
    });
    expect(enterprise.json()).toMatchObject({ mode: 'enterprise', cycleSeconds: null });
    const starter = await api.request('GET', '/api/bot/plan?execution_mode=starter&total_cycle_minutes=10', {
      token: c.token,
    });
    expect(starter.json().cycleSeconds).toBe(600);
    expect((await api.store.bots.get(c.botId))!.desiredState).toBe('stopped');
  });

  it.each([
    ['/api/bot/plan?execution_mode=bogus', 'INVALID_EXECUTION_MODE'],
    ['/api/bot/plan?execution_mode=starter', 'STARTER_REQUIRES_CYCLE_MINUTES'],
    ['/api/bot/plan?execution_mode=starter&total_cycle_minutes=0', 'VALIDATION_FAILED'],
    ['/api/bot/plan?execution_mode=starter&total_cycle_minutes=ten', 'VALIDATION_FAILED'],
    ['/api/bot/plan?surprise=1', 'VALIDATION_FAILED'],
  ])('plan preview refuses %s', async (url, code) => {
    const c = await readyCustomer(api, { planType: 'ENTERPRISE' });
    const res = await api.request('GET', url, { token: c.token });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
  });
});

describe('configuration', () => {
  it('PUT/GET /api/bot/post validates with the parser and stores the canonical link', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/post', {
      token: c.token,
      body: { post_link: 't.me/c/1234567890/55?single' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      post_link: 'https://t.me/c/1234567890/55',
      source: { chat: '-1001234567890', messageId: 55, topicId: null },
    });
    expect((await api.request('GET', '/api/bot/post', { token: c.token })).json().post_link).toBe(
      'https://t.me/c/1234567890/55',
    );
  });

  it.each([
    [{ post_link: 'https://example.com/x/1' }, 'INVALID_POST_LINK'],
    [{ post_link: 't.me/+AbCdEf' }, 'INVALID_POST_LINK'],
    [{ post_link: 't.me/channel_name' }, 'INVALID_POST_LINK'],
    [{ post_link: 42 }, 'VALIDATION_FAILED'],
    [{ link: 'https://t.me/a_chan/1' }, 'VALIDATION_FAILED'],
    [{}, 'VALIDATION_FAILED'],
  ])('PUT /api/bot/post refuses %j', async (body, code) => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/post', { token: c.token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect((await api.store.bots.get(c.botId))!.postLink).toBe('https://t.me/stagger_demo/1');
  });

  it('PUT /api/bot/groups stores the targets in order, de-duplicated with warnings', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/groups', {
      token: c.token,
      body: {
        groups: [
          '-1009223372036854775',
          '@Some_Group',
          '# a comment',
          '',
          't.me/some_group',
          '-1001234567890/42',
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().groups).toEqual(['-1009223372036854775', '@some_group', '-1001234567890/42']);
    expect(res.json().warnings).toEqual([expect.objectContaining({ code: 'DUPLICATE_GROUP', line: 5 })]);
    const got = await api.request('GET', '/api/bot/groups', { token: c.token });
    // No facts known yet (nothing read them): an empty list per group.
    expect(got.json().groups[2]).toEqual({
      key: '-1001234567890/42',
      chat: '-1001234567890',
      topicId: 42,
      facts: [],
    });
  });

  it('PUT /api/bot/groups answers 400 with per-line errors and stores nothing', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/groups', {
      token: c.token,
      body: { groups: ['-1001', '12345', 't.me/+invite', '@ok_group_name'] },
    });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('INVALID_GROUP_TARGETS');
    expect(error.details.errors.map((e: { line: number }) => e.line)).toEqual([2, 3]);
    expect(error.details.errors[0].message).toMatch(/positive/);
    expect(error.details.errors[1].message).toMatch(/never joins/);
    expect((await api.store.bots.get(c.botId))!.groups).toEqual([
      '-1001000000001',
      '-1001000000002',
      '-1001000000003',
    ]);
  });

  it('PUT /api/bot/groups refuses more than 10,000 groups', async () => {
    const c = await readyCustomer(api);
    const groups = Array.from({ length: 10_001 }, (_, i) => `-100${2_000_000_000 + i}`);
    const res = await api.request('PUT', '/api/bot/groups', { token: c.token, body: { groups } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('TOO_MANY_GROUPS');
    const ok = await api.request('PUT', '/api/bot/groups', {
      token: c.token,
      body: { groups: groups.slice(0, 10_000) },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('PUT /api/bot/settings within sane bounds', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/settings', {
      token: c.token,
      body: { delay_between_posts: 2.5, delay_between_cycles: 120, min_group_gap_seconds: 90, silent: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      delay_between_posts: 2.5,
      delay_between_cycles: 120,
      min_group_gap_seconds: 90,
      silent: true,
      hide_sender: false,
    });
    expect(
      (await api.request('GET', '/api/bot/settings', { token: c.token })).json().delay_between_posts,
    ).toBe(2.5);
  });

  it.each([
    [{ delay_between_posts: -1 }],
    [{ delay_between_posts: 0 }],
    [{ delay_between_posts: 1e9 }],
    [{ delay_between_posts: '5' }],
    [{ delay_between_cycles: -3 }],
    [{ min_group_gap_seconds: 100_000 }],
    [{ silent: 'yes' }],
    [{ delay: 5 }],
    [{}],
  ])('PUT /api/bot/settings refuses %j', async (body) => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/settings', { token: c.token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect((await api.store.bots.get(c.botId))!.settings.delayBetweenPosts).toBe(5);
  });

  it('refuses a body larger than the limit', async () => {
    const c = await readyCustomer(api);
    const res = await api.request('PUT', '/api/bot/groups', {
      token: c.token,
      body: JSON.stringify({ groups: ['x'.repeat(2_000_000)] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

/** A finished enterprise cycle as the runtime stores it. */
const cycleOf = (
  botId: string,
  number: number,
  source: { link: string; messageIds: number[] } | null = null,
) => ({
  botId,
  number,
  mode: 'enterprise' as const,
  slot: null,
  cycleSeconds: null,
  plannedStartAt: 0,
  deadlineAt: 0,
  expectedEndAt: 0,
  finishedAt: 1,
  status: 'finished' as const,
  reason: null,
  warnings: [],
  source,
});

describe('history', () => {
  it('pages through the bot’s posts with a cursor and filters', async () => {
    const c = await readyCustomer(api);
    const sessions = await api.store.sessions.listByOwner(c.id);
    const cycle = cycleOf(c.botId, 1);
    await api.store.runtime.createCycle(
      cycle,
      Array.from({ length: 5 }, (_, seq) => ({
        botId: c.botId,
        seq,
        sessionId: sessions[0]!.id,
        plannedSessionId: sessions[0]!.id,
        groupKey: '-1001',
        plannedAt: seq * 1000,
        randomId: String(seq + 1),
        status: seq === 2 ? ('failed' as const) : ('sent' as const),
        reason: seq === 2 ? 'unknown' : null,
        error: seq === 2 ? 'PEER_FLOOD' : null,
        attempts: 1,
        sentAt: seq * 1000,
      })),
    );
    const first = await api.request('GET', '/api/bot/posts?limit=2', { token: c.token });
    expect(first.statusCode).toBe(200);
    expect(first.json().posts.map((p: { seq: number }) => p.seq)).toEqual([4, 3]);
    const second = await api.request('GET', `/api/bot/posts?limit=2&cursor=${first.json().nextCursor}`, {
      token: c.token,
    });
    expect(second.json().posts.map((p: { seq: number }) => p.seq)).toEqual([2, 1]);
    const failed = await api.request('GET', '/api/bot/posts?status=failed&cycle=1', { token: c.token });
    expect(failed.json().posts).toEqual([
      expect.objectContaining({
        seq: 2,
        status: 'failed',
        error: 'PEER_FLOOD',
        errorText: expect.stringContaining('spam'),
        cycle: 1,
      }),
    ]);
    expect(failed.json().nextCursor).toBeNull();
    for (const url of [
      '/api/bot/posts?limit=0',
      '/api/bot/posts?limit=501',
      '/api/bot/posts?status=lost',
      '/api/bot/posts?cursor=abc',
    ]) {
      expect((await api.request('GET', url, { token: c.token })).statusCode).toBe(400);
    }
  });
});

describe('albums and sent messages', () => {
  it('the history says how many messages each post forwards and which messages it created', async () => {
    const c = await readyCustomer(api);
    const [session] = await api.store.sessions.listByOwner(c.id);
    const post = (seq: number) => ({
      botId: c.botId,
      seq,
      sessionId: session!.id,
      plannedSessionId: session!.id,
      groupKey: '@stagger_group',
      plannedAt: seq * 1000,
      status: 'sent' as const,
      reason: null,
      error: null,
      attempts: 1,
      sentAt: seq * 1000,
    });
    await api.store.runtime.createCycle(
      cycleOf(c.botId, 1, { link: 'https://t.me/stagger_demo/1', messageIds: [1, 2, 3] }),
      [
        { ...post(0), randomId: '-9223372036854775808', randomIds: ['-9223372036854775808', '2', '3'] },
        { ...post(1), randomId: '4' },
      ],
    );
    const [albumPost] = (await api.store.bots.posts(c.botId, { limit: 10 })).posts.filter((p) => p.seq === 0);
    await api.store.runtime.writeResults(
      [{ postId: albumPost!.id, botId: c.botId, sentMessageIds: [812, 813, 814] }],
      new Map(),
    );
    const res = await api.request('GET', '/api/bot/posts?cycle=1', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(
      res.json().posts.map((p: Record<string, unknown>) => [p.seq, p.albumSize, p.sentMessageIds]),
    ).toEqual([
      [1, 1, []],
      [0, 3, [812, 813, 814]],
    ]);
    // every documented field is still there (the answer has a schema: nothing unlisted gets out, nothing is lost)
    expect(Object.keys(res.json().posts[0]).sort()).toEqual(
      [
        'albumSize',
        'attempts',
        'cycle',
        'error',
        'errorText',
        'group',
        'groupUsername',
        'happenedAt',
        'id',
        'plannedAt',
        'plannedSessionId',
        'reason',
        'reasonText',
        'seq',
        'sentAt',
        'sentMessageIds',
        'sessionId',
        'status',
      ].sort(),
    );
    const openapi = (await api.request('GET', '/api/openapi.json')).json();
    const schema = openapi.paths['/api/bot/posts'].get.responses['200'].content['application/json'].schema;
    expect(schema.properties.posts.items.properties.sentMessageIds).toMatchObject({ type: 'array' });
  });

  it('a group given by its id links its messages by the public username the sessions last read', async () => {
    const c = await readyCustomer(api);
    const [session] = await api.store.sessions.listByOwner(c.id);
    const post = (seq: number, groupKey: string) => ({
      botId: c.botId,
      seq,
      sessionId: session!.id,
      plannedSessionId: session!.id,
      groupKey,
      plannedAt: seq * 1000,
      randomId: String(seq + 10),
      status: 'sent' as const,
      reason: null,
      error: null,
      attempts: 1,
      sentAt: seq * 1000,
    });
    await api.store.runtime.createCycle(cycleOf(c.botId, 1, null), [
      post(0, '-1001234567890'),
      post(1, '-1009876543210'),
    ]);
    const fact = (groupKey: string, checkedAt: number, username: string | null) => ({
      sessionId: session!.id,
      groupKey,
      checkedAt,
      member: true,
      canWrite: true,
      slowmodeSeconds: 0,
      paidStars: 0,
      topicClosed: null,
      username,
      error: null,
    });
    // a public group (its name as read), and one without a public name
    await api.store.runtime.saveGroupFacts([
      fact('-1001234567890', 5, 'Public_Group'),
      fact('-1009876543210', 5, null),
    ]);
    const res = await api.request('GET', '/api/bot/posts', { token: c.token });
    expect(res.statusCode).toBe(200);
    expect(res.json().posts.map((p: Record<string, unknown>) => [p.group, p.groupUsername])).toEqual([
      ['-1009876543210', null],
      ['-1001234567890', 'Public_Group'],
    ]);
  });

  it('the preview says "album of N" from the last read of the post set now, and asks Telegram nothing', async () => {
    const c = await readyCustomer(api);
    const preview = async () => (await api.request('GET', '/api/bot/plan', { token: c.token })).json();
    // never read yet
    expect((await preview()).source).toBeNull();
    const album = { link: 'https://t.me/stagger_demo/1', messageIds: [1, 2, 3] };
    await api.store.runtime.createCycle(cycleOf(c.botId, 1, album), []);
    // a later cycle that could not read the source leaves the last read standing
    await api.store.runtime.createCycle(cycleOf(c.botId, 2, null), []);
    expect((await preview()).source).toEqual({ ...album, albumSize: 3 });
    // another post: what was read of the old one says nothing about it
    await api.request('PUT', '/api/bot/post', {
      token: c.token,
      body: { post_link: 'https://t.me/stagger_demo/7' },
    });
    expect((await preview()).source).toBeNull();
    // no session called the (sandbox) Telegram: none of them has a flood bucket there
    for (const s of await api.store.sessions.listByOwner(c.id)) {
      expect(await api.store.sandbox.getAccount(s.id)).toBeNull();
    }
  });
});
