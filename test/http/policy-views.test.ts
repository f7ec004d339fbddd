/**
 * What the API shows comes from the core's rules, the same the runner uses: a session's effective state (a pause
 * that ended is over), reasons in words of their kind, when the next cycle starts, and whether a bot can start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentEvent } from '../../src/http/sse.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../src/runtime/options.js';
import { readyCustomer, testApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await testApi();
});
afterAll(async () => {
  await api.close();
});

describe('the effective state of a session', () => {
  it('a FLOOD_WAIT that has ended shows as active on Sessions and in the status, before anyone writes it down', async () => {
    const c = await readyCustomer(api, { sessions: 2 });
    const [ended, lasting] = await api.store.sessions.listByOwner(c.id);
    const now = Date.now();
    await api.store.runtime.updateSession(ended!.id, {
      status: 'paused',
      statusReason: 'flood_wait',
      cooldownUntil: now - 59_000,
    });
    await api.store.runtime.updateSession(lasting!.id, {
      status: 'paused',
      statusReason: 'flood_wait',
      cooldownUntil: now + 600_000,
    });
    const listed = (await api.request('GET', '/api/sessions', { token: c.token })).json().sessions;
    expect(
      listed.map((s: { state: string; stateReason: string | null }) => [s.state, s.stateReason]),
    ).toEqual([
      ['active', null],
      ['paused', 'flood_wait'],
    ]);
    expect(listed[0].cooldownUntil).toBeNull();
    const status = (await api.request('GET', '/api/bot/status', { token: c.token })).json();
    expect(status.sessions.map((s: { state: string }) => s.state)).toEqual(['active', 'paused']);
  });
});

describe('reasons in words of their kind', () => {
  it('an account-wide USER_RESTRICTED is about the account, a restricted group about the group', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    const [s] = await api.store.sessions.listByOwner(c.id);
    await api.store.runtime.updateSession(s!.id, {
      status: 'paused',
      statusReason: 'restricted',
      cooldownUntil: Date.now() + 3_600_000,
    });
    const [listed] = (await api.request('GET', '/api/sessions', { token: c.token })).json().sessions;
    expect(listed.stateText).toBe('Telegram restricted this account; it is paused for hours.');
    const base = { botId: c.botId, userId: c.id, at: Date.now() };
    const paused = presentEvent(
      {
        ...base,
        type: 'session.paused',
        sessionId: s!.id,
        until: 0,
        reason: 'restricted',
        error: 'USER_RESTRICTED',
      },
      DEFAULT_RUNTIME_OPTIONS,
    );
    expect(paused.reasonText).toBe('Telegram restricted this account; it is paused for hours.');
    const skipped = presentEvent(
      {
        ...base,
        type: 'post.skipped',
        cycleId: '1',
        postId: '1',
        sessionId: s!.id,
        groupKey: '-1001',
        status: 'skipped',
        reason: 'restricted',
        error: 'CHAT_RESTRICTED',
      },
      DEFAULT_RUNTIME_OPTIONS,
    );
    expect(skipped.reasonText).toBe('Skipped: the group is restricted for this account.');
  });

  it('the number of cycles an unknown error skips a group comes from the policy in force', async () => {
    const custom = await testApi({ deps: { policy: { ...DEFAULT_RUNTIME_OPTIONS, unknownSkipCycles: 5 } } });
    try {
      const c = await readyCustomer(custom, { sessions: 1 });
      const event = presentEvent(
        {
          botId: c.botId,
          userId: c.id,
          at: 0,
          type: 'post.skipped',
          cycleId: '1',
          postId: '1',
          sessionId: '1',
          groupKey: '-1001',
          status: 'skipped',
          reason: 'unknown_repeated',
          error: null,
        },
        { ...DEFAULT_RUNTIME_OPTIONS, unknownSkipCycles: 5 },
      );
      expect(event.reasonText).toContain('skipped for 5 cycles');
    } finally {
      await custom.close();
    }
  });
});

describe('the next cycle, by the runner’s rule', () => {
  it('a starter cycle that overran its slot: the next cycle is the slot after its end, not its end', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    const anchor = Date.now() - 3 * 3_600_000;
    await api.store.db
      .updateTable('bots')
      .set({
        desired_state: 'running',
        execution_mode: 'starter',
        total_cycle_minutes: 60,
        anchor_at: anchor,
        anchor_cycle_seconds: 3600,
      })
      .where('id', '=', BigInt(c.botId))
      .execute();
    // Slot 0 ran for 150 minutes: slots 1 and 2 are lost, slot 3 (anchor + 3 h) is next.
    await api.store.runtime.createCycle(
      {
        botId: c.botId,
        number: 1,
        mode: 'starter',
        slot: 0,
        cycleSeconds: 3600,
        plannedStartAt: anchor,
        deadlineAt: anchor + 3_600_000,
        expectedEndAt: anchor + 60_000,
        finishedAt: anchor + 150 * 60_000,
        status: 'finished',
        reason: null,
        warnings: [],
      },
      [],
    );
    const status = (await api.request('GET', '/api/bot/status', { token: c.token })).json();
    expect(status.nextCycleAt).toBe(new Date(anchor + 3 * 3_600_000).toISOString());
  });

  it('an enterprise bot started again after a stop: the next cycle is now, not after the stopped one’s delay', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    const before = Date.now();
    await api.store.runtime.createCycle(
      {
        botId: c.botId,
        number: 1,
        mode: 'enterprise',
        slot: null,
        cycleSeconds: null,
        plannedStartAt: before - 10_000,
        deadlineAt: before,
        expectedEndAt: before,
        finishedAt: before - 5_000,
        status: 'stopped',
        reason: 'stopped by the customer',
        warnings: [],
      },
      [],
    );
    await api.store.db
      .updateTable('bots')
      .set({ desired_state: 'running', execution_mode: 'enterprise', delay_between_cycles: 3600 })
      .where('id', '=', BigInt(c.botId))
      .execute();
    const status = (await api.request('GET', '/api/bot/status', { token: c.token })).json();
    const next = Date.parse(status.nextCycleAt);
    expect(next).toBeGreaterThanOrEqual(before);
    expect(next).toBeLessThan(before + 60_000);
  });
});

describe('can this bot start', () => {
  it('every session paused is no refusal: the bot starts (and waits); every session dead is 409', async () => {
    const c = await readyCustomer(api, { sessions: 1 });
    const [s] = await api.store.sessions.listByOwner(c.id);
    await api.store.runtime.updateSession(s!.id, {
      status: 'paused',
      statusReason: 'flood_wait',
      cooldownUntil: Date.now() + 600_000,
    });
    expect((await api.request('POST', '/api/bot/start', { token: c.token })).statusCode).toBe(200);
    const d = await readyCustomer(api, { sessions: 1 });
    const [ds] = await api.store.sessions.listByOwner(d.id);
    await api.store.sessions.setStatus(ds!.id, 'dead', 'revoked');
    await api.store.users.update(d.id, { maxSessions: 0 });
    const refused = await api.request('POST', '/api/bot/start', { token: d.token });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('NO_USABLE_SESSION');
  });

  it('the preview plans with the sessions usable when the next cycle starts (a long pause is left out)', async () => {
    const c = await readyCustomer(api, { sessions: 2 });
    const [, long] = await api.store.sessions.listByOwner(c.id);
    await api.store.runtime.updateSession(long!.id, {
      status: 'paused',
      statusReason: 'peer_flood',
      cooldownUntil: Date.now() + 6 * 3_600_000,
    });
    const plan = (await api.request('GET', '/api/bot/plan', { token: c.token })).json();
    expect(plan.sessions.map((s: { session: string }) => s.session)).not.toContain(long!.id);
    expect(plan.sessions).toHaveLength(1);
  });
});
