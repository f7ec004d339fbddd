/**
 * GET /api/bot/status says how the bot is doing (core/condition.ts), not only whether it was told to run: every
 * session paused by FLOOD_WAIT and most posts skipped is no "running on schedule", and the last error is not empty
 * while posts are skipped. The progress counts what was sent or decided; a stop's cancellations are not "done".
 * Every answer matches the route's documented schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostStatus } from '../../src/core/model.js';
import { BotStatusView } from '../../src/http/bot-status.js';
import type { NewPost } from '../../src/runtime/store.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';
import { schemaErrors } from '../support/openapi.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

type Outcome = { status: PostStatus; reason?: string; error?: string; n: number };

/** A cycle of `outcomes` for the customer's bot, as the runner would have left it. */
async function cycleOf(
  c: { botId: string; id: string },
  outcomes: Outcome[],
  cycle: { status: 'running' | 'finished' | 'stopped'; reason?: string } = { status: 'finished' },
) {
  const [s] = await api.store.sessions.listByOwner(c.id);
  const start = Date.now() - 60_000;
  const posts: NewPost[] = [];
  for (const o of outcomes) {
    for (let i = 0; i < o.n; i++) {
      const seq = posts.length;
      posts.push({
        botId: c.botId,
        seq,
        sessionId: s!.id,
        plannedSessionId: s!.id,
        groupKey: `-100100000${String(seq).padStart(4, '0')}`,
        plannedAt: start + seq * 1000,
        randomId: String(1000 + seq),
        status: o.status,
        reason: o.reason ?? null,
        error: o.error ?? null,
        attempts: o.status === 'planned' ? 0 : 1,
        sentAt: o.status === 'sent' ? start + seq * 1000 : null,
      });
    }
  }
  await api.store.runtime.createCycle(
    {
      botId: c.botId,
      number: 1,
      mode: 'enterprise',
      slot: null,
      cycleSeconds: null,
      plannedStartAt: start,
      deadlineAt: start + 3_600_000,
      expectedEndAt: start + posts.length * 1000,
      finishedAt: cycle.status === 'running' ? null : start + posts.length * 1000,
      status: cycle.status,
      reason: cycle.reason ?? null,
      warnings: [],
    },
    posts,
  );
}

async function status(token: string) {
  const res = await api.request('GET', '/api/bot/status', { token });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  // The answer is what the OpenAPI document says it is.
  expect(schemaErrors(BotStatusView, body)).toEqual([]);
  return body;
}

describe('GET /api/bot/status: the condition', () => {
  it('every session paused by FLOOD_WAIT and 14 of 22 posts skipped: critical, with the first pause’s end and where to act', async () => {
    const c = await readyCustomer(api, { sessions: 3 });
    expect((await api.request('POST', '/api/bot/start', { token: c.token })).statusCode).toBe(200);
    const now = Date.now();
    const sessions = await api.store.sessions.listByOwner(c.id);
    for (const [i, s] of sessions.entries()) {
      await api.store.runtime.updateSession(s.id, {
        status: 'paused',
        statusReason: 'flood_wait',
        cooldownUntil: now + (i + 1) * 600_000,
      });
    }
    await cycleOf(c, [
      { status: 'sent', n: 8 },
      { status: 'skipped', reason: 'session_paused', error: 'flood_wait', n: 14 },
    ]);
    const body = await status(c.token);
    // What the bot was told (running) is kept; how it is doing is the condition.
    expect(body.status).toBe('running');
    expect(body.condition).toEqual({
      level: 'critical',
      code: 'sessions_all_paused',
      message:
        'Nothing is posted now: every session is paused by Telegram. The bot goes on by itself when the first pause ends.',
      action: { where: 'sessions', label: 'Open Sessions' },
      until: new Date(now + 600_000).toISOString(),
      sessionIds: sessions.map((s) => s.id),
    });
    expect(body.conditions.map((x: { code: string }) => x.code)).toEqual([
      'sessions_all_paused',
      'sessions_paused',
      'posts_skipped',
    ]);
    expect(body.conditions[2].message).toMatch(/^14 of 22 posts of cycle #1 were skipped\./);
    expect(body.conditions.some((x: { message: string }) => x.message.includes('on schedule'))).toBe(false);
    // The last error is the latest skip, in words, though the runner itself set no error.
    expect(body.lastError).toBeNull();
    expect(body.latestError).toMatchObject({
      text: 'Skipped: the account was paused (Telegram asked it to wait) past its time in this cycle.',
      code: 'flood_wait',
      cycle: 1,
      group: '-1001000000021',
    });
  });

  it('a pause that has ended is over: the same bot is back to "on schedule" once no post of its cycle went wrong', async () => {
    const c = await readyCustomer(api, { sessions: 2 });
    await api.request('POST', '/api/bot/start', { token: c.token });
    const [s] = await api.store.sessions.listByOwner(c.id);
    await api.store.runtime.updateSession(s!.id, {
      status: 'paused',
      statusReason: 'flood_wait',
      cooldownUntil: Date.now() - 1000,
    });
    await cycleOf(c, [{ status: 'sent', n: 6 }]);
    const body = await status(c.token);
    expect(body.condition).toMatchObject({
      level: 'ok',
      code: 'running',
      message: 'The bot is running: posts go out on schedule.',
    });
    expect(body.latestError).toBeNull();
  });

  it('a limited account and a dead one are warnings naming them; the runner’s attention comes first in the last error', async () => {
    const c = await readyCustomer(api, { sessions: 3 });
    await api.request('POST', '/api/bot/start', { token: c.token });
    const [limited, dead] = await api.store.sessions.listByOwner(c.id);
    await api.store.runtime.updateSession(limited!.id, {
      status: 'paused',
      statusReason: 'peer_flood',
      cooldownUntil: Date.now() + 6 * 3_600_000,
    });
    await api.store.sessions.setStatus(dead!.id, 'dead', 'revoked');
    await api.store.runtime.updateBotRuntime(c.botId, {
      needsAttention: true,
      lastError: 'the cycle stopped: the source post cannot be forwarded (CHAT_FORWARDS_RESTRICTED)',
    });
    const body = await status(c.token);
    expect(body.conditions.map((x: { level: string; code: string }) => [x.level, x.code])).toEqual([
      ['warning', 'sessions_dead'],
      ['warning', 'sessions_limited'],
    ]);
    expect(body.conditions[0].message).toContain('1 of 3 sessions (s1) is out of use');
    expect(body.conditions[1].message).toContain('1 of 3 sessions (s0) is limited by Telegram');
    expect(body.latestError).toEqual({
      text: 'the cycle stopped: the source post cannot be forwarded (CHAT_FORWARDS_RESTRICTED)',
      code: null,
      cycle: null,
      group: null,
      sessionId: null,
      at: null,
    });
  });

  it('a running bot without groups, or without any session, says nothing is posted and why', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    await api.request('POST', '/api/bot/start', { token: c.token });
    await api.store.bots.setGroups(c.botId, []);
    expect((await status(c.token)).condition).toMatchObject({
      level: 'critical',
      code: 'not_ready',
      message: 'Nothing is posted: the group list is empty.',
      action: { where: 'post_and_groups' },
    });
    const [s] = await api.store.sessions.listByOwner(c.id);
    await api.request('DELETE', `/api/sessions/${s!.id}`, { token: c.token });
    expect((await status(c.token)).condition).toMatchObject({ level: 'critical', code: 'no_sessions' });
  });
});

describe('GET /api/bot/status: progress after a stop', () => {
  it('20 sent of 60 and 40 cancelled: 20 done, not 60; the cancelled are counted as cancelled', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    await cycleOf(
      c,
      [
        { status: 'sent', n: 20 },
        { status: 'cancelled', reason: 'stopped', n: 40 },
      ],
      { status: 'stopped', reason: 'stopped by the customer' },
    );
    const body = await status(c.token);
    expect(body.cycle.posts).toEqual({
      planned: 60,
      sent: 20,
      failed: 0,
      skipped: 0,
      cancelled: 40,
      pending: 0,
      done: 20,
    });
    // A stop's cancellations are no error.
    expect(body.latestError).toBeNull();
  });

  it('a running cycle: its pending posts are what a stop would cancel', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    await api.request('POST', '/api/bot/start', { token: c.token });
    await cycleOf(
      c,
      [
        { status: 'sent', n: 3 },
        { status: 'skipped', reason: 'group_gap', n: 1 },
        { status: 'sending', n: 1 },
        { status: 'planned', n: 5 },
      ],
      { status: 'running' },
    );
    const body = await status(c.token);
    expect(body.cycle).toMatchObject({ status: 'running' });
    expect(body.cycle.posts).toMatchObject({ planned: 10, done: 4, pending: 6 });
  });
});
