/**
 * Knowing the groups before posting, through the API: the preflight reports and stores each (session, group)'s
 * facts (paid messages, closed topics, write rights, slow mode); the plan preview warns about them from what is
 * stored, without asking Telegram; the group list shows them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRouter, type Gateway } from '../../src/telegram/gateway.js';
import { SandboxGateway } from '../../src/telegram/sandbox/sandbox-gateway.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

/** Counts every call that would reach Telegram. */
function counting(inner: Gateway, calls: string[]): Gateway {
  return {
    checkSource: (...a) => (calls.push('checkSource'), inner.checkSource(...a)),
    readSource: (...a) => (calls.push('readSource'), inner.readSource(...a)),
    forward: (...a) => (calls.push('forward'), inner.forward(...a)),
    preflight: (...a) => (calls.push('preflight'), inner.preflight(...a)),
    groupFacts: (...a) => (calls.push('groupFacts'), inner.groupFacts(...a)),
    release: (id) => inner.release(id),
    close: () => inner.close(),
  };
}

const PAID = '-1002200000001';
const SLOW = '-1002200000002';
const MUTED = '-1002200000003';
const FORUM = '-1002200000004';
const CLOSED = `${FORUM}/7`;

let api: TestApi;
const calls: string[] = [];
beforeAll(async () => {
  api = await testApi({
    depsFrom: ({ store, clock }) => ({
      gateway: counting(
        new GatewayRouter({ sandbox: new SandboxGateway({ clock, store: store.sandbox }) }),
        calls,
      ),
    }),
  });
});
afterAll(async () => {
  await api.close();
});

async function customerWithFacts() {
  const c = await readyCustomer(api, { planType: 'STARTER', sessions: 2 });
  const sessions = (await api.store.sessions.listByOwner(c.id)).map((s) => s.id);
  const put = (key: string, o: Record<string, unknown>) =>
    api.store.sandbox.putGroup({
      key,
      isChannel: false,
      members: null,
      readOnly: [],
      banned: [],
      slowmodeSeconds: 0,
      ...o,
    });
  await put(PAID, { paidStars: 25 });
  await put(SLOW, { slowmodeSeconds: 3600 });
  // The second session may not write in MUTED; the first may.
  await put(MUTED, { readOnly: [sessions[1]] });
  await put(FORUM, { closedTopics: [7] });
  const saved = await api.request('PUT', '/api/bot/groups', {
    token: c.token,
    body: { groups: [PAID, SLOW, MUTED, CLOSED] },
  });
  expect(saved.statusCode).toBe(200);
  return { ...c, sessions };
}

describe('group facts through the API', () => {
  it('before any read: no warning, no facts, and the preview asks Telegram nothing', async () => {
    const c = await customerWithFacts();
    calls.length = 0;
    const plan = (await api.request('GET', '/api/bot/plan', { token: c.token })).json();
    expect(plan.groupWarnings).toEqual([]);
    const groups = (await api.request('GET', '/api/bot/groups', { token: c.token })).json();
    expect(groups.groups.map((g: { facts: unknown[] }) => g.facts)).toEqual([[], [], [], []]);
    expect(calls).toEqual([]);
  });

  it('the preflight reports the new facts with what they mean, and stores them as the pairs’ facts', async () => {
    const c = await customerWithFacts();
    const res = await api.request('GET', '/api/bot/preflight', { token: c.token });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    const row = (session: string, group: string) =>
      report.rows.find(
        (r: { sessionId: string; groupKey: string }) => r.sessionId === session && r.groupKey === group,
      );
    const [s0, s1] = c.sessions;
    expect(row(s0!, PAID)).toMatchObject({
      member: true,
      canWrite: true,
      paidStars: 25,
      topicClosed: null,
      skipReason: 'paid_messages',
      factsText: ['paid: 25 stars — skipped'],
    });
    expect(row(s0!, PAID).skipText).toContain('25 stars');
    expect(row(s1!, CLOSED)).toMatchObject({ topicClosed: true, skipReason: 'topic_closed' });
    expect(row(s1!, MUTED)).toMatchObject({ canWrite: false, skipReason: 'write_forbidden' });
    expect(row(s0!, MUTED)).toMatchObject({ canWrite: true, skipReason: null, factsText: [] });
    expect(row(s1!, SLOW)).toMatchObject({
      slowmodeSeconds: 3600,
      skipReason: null,
      factsText: ['slow mode 1 h'],
    });
    // paid ×2, closed topic ×2, the muted pair
    expect(report.summary.problems).toBe(5);

    // The group's slow mode is the bot's known slow mode for it (the guard's interval).
    const bot = (await api.store.runtime.loadBot(c.botId))!;
    expect(bot.groups.find((g) => g.key === SLOW)!.slowmodeSeconds).toBe(3600);
    expect(bot.groups.find((g) => g.key === PAID)!.slowmodeSeconds).toBe(0);
    const stored = await api.store.runtime.loadGroupFacts(c.sessions);
    expect(stored).toHaveLength(8);
    expect(stored.find((f) => f.sessionId === s1 && f.groupKey === PAID)).toMatchObject({
      paidStars: 25,
      error: null,
    });
  });

  it('the preview warns about each from the stored facts, without asking Telegram', async () => {
    const c = await customerWithFacts();
    await api.request('GET', '/api/bot/preflight', { token: c.token });
    calls.length = 0;
    const plan = (await api.request('GET', '/api/bot/plan', { token: c.token })).json();
    expect(calls).toEqual([]);
    const [s0, s1] = c.sessions;
    // Starter (T = 60 min, 2 sessions): each group every 30 min, closer than the 1 h slow mode. In the plan's order.
    expect(
      plan.groupWarnings.map((w: { code: string; group: string; sessions: string[] }) => [
        w.code,
        w.group,
        w.sessions,
      ]),
    ).toEqual([
      ['GROUP_PAID_MESSAGES', PAID, c.sessions],
      ['GROUP_TOPIC_CLOSED', CLOSED, c.sessions],
      ['GROUP_CANNOT_WRITE', MUTED, [s1]],
      ['GROUP_SLOW_MODE', SLOW, []],
    ]);
    expect(plan.groupWarnings[0]).toMatchObject({ stars: 25 });
    expect(plan.groupWarnings[0].message).toContain('25 stars');
    expect(plan.groupWarnings[3]).toMatchObject({ seconds: 3600 });
    // The same warnings among the preview's warnings, by code and message.
    const codes = plan.warnings.map((w: { code: string }) => w.code);
    expect(codes).toEqual(expect.arrayContaining(['GROUP_PAID_MESSAGES', 'GROUP_SLOW_MODE']));

    // Enterprise: MUTED is the second session's (groups 3 and 4); it goes to the first, which may write there.
    const enterprise = (
      await api.request('GET', '/api/bot/plan?execution_mode=enterprise', { token: c.token })
    ).json();
    const muted = enterprise.groupWarnings.find((w: { code: string }) => w.code === 'GROUP_CANNOT_WRITE');
    expect(muted).toMatchObject({ group: MUTED, sessions: [s1], handedTo: [s0] });
    expect(muted.message).toContain('instead');
    expect(calls).toEqual([]);
  });

  it('the group list shows each group’s facts per session', async () => {
    const c = await customerWithFacts();
    await api.request('GET', '/api/bot/preflight', { token: c.token });
    const groups = (await api.request('GET', '/api/bot/groups', { token: c.token })).json().groups;
    const paid = groups.find((g: { key: string }) => g.key === PAID);
    expect(paid.facts).toHaveLength(2);
    expect(paid.facts[0]).toMatchObject({
      sessionId: c.sessions[0],
      paidStars: 25,
      skipReason: 'paid_messages',
      factsText: ['paid: 25 stars — skipped'],
    });
    expect(typeof paid.facts[0].checkedAt).toBe('string');
    const closed = groups.find((g: { key: string }) => g.key === CLOSED);
    expect(closed).toMatchObject({ chat: FORUM, topicId: 7 });
    expect(closed.facts.map((f: { factsText: string[] }) => f.factsText)).toEqual([
      ['topic closed — skipped'],
      ['topic closed — skipped'],
    ]);
  });
});
