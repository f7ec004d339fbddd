/**
 * GET /api/bot/cycles/:number, in-process: a cycle as it happened (its own mode and length, not the bot's current
 * settings), every slot with its outcome by the core's one table, the same counts as GET /api/bot/status, and the
 * caller's own cycles only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostStatus } from '../../src/core/model.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

const START = Date.UTC(2026, 5, 1, 10);

async function finishedStarterCycle(c: { id: string; botId: string }, statuses: PostStatus[]) {
  const sessions = await api.store.sessions.listByOwner(c.id);
  await api.store.runtime.createCycle(
    {
      botId: c.botId,
      number: 1,
      mode: 'starter',
      slot: 0,
      cycleSeconds: 600,
      plannedStartAt: START,
      deadlineAt: START + 600_000,
      expectedEndAt: START + 400_000,
      finishedAt: START + 410_000,
      status: 'finished',
      reason: null,
      warnings: [],
      source: null,
    },
    statuses.map((status, seq) => ({
      botId: c.botId,
      seq,
      sessionId: sessions[seq % 2]!.id,
      plannedSessionId: sessions[seq % 2]!.id,
      groupKey: `-100100000000${seq}`,
      plannedAt: START + seq * 5000,
      randomId: String(seq + 1),
      status,
      reason: status === 'skipped' ? 'flood_wait' : status === 'not_attempted' ? 'cycle_deadline' : null,
      error: status === 'skipped' ? 'FLOOD_WAIT_3600' : null,
      attempts: status === 'sent' || status === 'duplicate' ? 1 : 0,
      sentAt: status === 'sent' || status === 'duplicate' ? START + seq * 5000 + 300 : null,
    })),
  );
  return sessions;
}

describe('GET /api/bot/cycles/:number', () => {
  it('shows a cycle with its own mode and length, each slot’s outcome, and the status’s counts', async () => {
    const c = await readyCustomer(api, { planType: 'ENTERPRISE' });
    const statuses: PostStatus[] = ['sent', 'duplicate', 'skipped', 'not_attempted', 'failed', 'sent'];
    const sessions = await finishedStarterCycle(c, statuses);
    // The bot now says enterprise: the cycle that ran was starter, and the view says so.
    await api.request('POST', '/api/bot/start', { token: c.token, body: { execution_mode: 'enterprise' } });

    const res = await api.request('GET', '/api/bot/cycles/1', { token: c.token });
    expect(res.statusCode).toBe(200);
    const view = res.json();
    expect(view.cycle).toMatchObject({
      number: 1,
      mode: 'starter',
      cycleSeconds: 600,
      status: 'finished',
      reason: null,
      reasonText: null,
      startedAt: new Date(START).toISOString(),
      deadlineAt: new Date(START + 600_000).toISOString(),
      finishedAt: new Date(START + 410_000).toISOString(),
    });
    expect(view.counts).toEqual({
      planned: 6,
      sent: 3,
      failed: 1,
      skipped: 2,
      cancelled: 0,
      pending: 0,
      done: 6,
    });
    expect(view.truncated).toBe(false);
    expect(view.slots.map((s: { outcome: string }) => s.outcome)).toEqual([
      'sent',
      'sent',
      'skipped',
      'skipped',
      'failed',
      'sent',
    ]);
    expect(view.slots[2]).toMatchObject({
      seq: 2,
      status: 'skipped',
      group: '-1001000000002',
      sessionId: sessions[0]!.id,
      plannedSessionId: sessions[0]!.id,
      plannedAt: new Date(START + 10_000).toISOString(),
      reasonText: expect.stringMatching(/\S/),
    });
    expect(view.slots[0].sentAt).toBe(new Date(START + 300).toISOString());

    // The status counts the same cycle the same way: one rule.
    const status = (await api.request('GET', '/api/bot/status', { token: c.token })).json();
    expect(status.cycle.posts).toEqual(view.counts);
  });

  it('answers 404 for a cycle the bot does not have, another customer’s included, and 400 for a bad number', async () => {
    const owner = await readyCustomer(api);
    await finishedStarterCycle(owner, ['sent']);
    const other = await readyCustomer(api);
    const missing = await api.request('GET', '/api/bot/cycles/1', { token: other.token });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'NOT_FOUND', message: 'the bot has no cycle #1' });
    expect((await api.request('GET', '/api/bot/cycles/2', { token: owner.token })).statusCode).toBe(404);
    for (const bad of ['0', '-1', 'latest', '1.5', '99999999999']) {
      const res = await api.request('GET', `/api/bot/cycles/${bad}`, { token: owner.token });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code, bad).toBe('VALIDATION_FAILED');
    }
    expect((await api.request('GET', '/api/bot/cycles/1', { token: null })).statusCode).toBe(401);
  });

  it('is documented with its response schema', async () => {
    const openapi = (await api.request('GET', '/api/openapi.json')).json();
    const op = openapi.paths['/api/bot/cycles/{number}'].get;
    expect(op.summary).toMatch(/cycle/);
    const schema = op.responses['200'].content['application/json'].schema;
    const outcome = JSON.stringify(schema.properties.slots.items.properties.outcome);
    for (const o of ['sent', 'failed', 'skipped', 'cancelled', 'pending'])
      expect(outcome).toContain(`"${o}"`);
    expect(schema.properties.counts.required).toEqual(
      expect.arrayContaining(['planned', 'sent', 'failed', 'skipped', 'cancelled', 'pending']),
    );
  });
});
