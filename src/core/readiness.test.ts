import { describe, expect, it } from 'vitest';
import type { SessionStatus } from './model.js';
import { readiness, type ReadinessInput } from './readiness.js';

interface S {
  id: string;
  status: SessionStatus;
  statusReason: string | null;
  cooldownUntil: number | null;
  frozen?: { since: number; until: number | null; appealUrl: string | null } | null;
}
const active: S = { id: 'a', status: 'active', statusReason: null, cooldownUntil: null };
const paused = (until: number | null): S => ({
  id: `p${until}`,
  status: 'paused',
  statusReason: 'flood_wait',
  cooldownUntil: until,
});
const dead: S = { id: 'd', status: 'dead', statusReason: 'revoked', cooldownUntil: null };
const ok: ReadinessInput<S> = {
  postLink: 'https://t.me/stagger_demo/1',
  groupCount: 3,
  sessions: [active],
  mode: 'enterprise',
  totalCycleMinutes: null,
};

describe('readiness: can this bot run now?', () => {
  it('ready with the sessions usable at that time', () => {
    expect(readiness({ ...ok, sessions: [dead, active, paused(500)] }, 100)).toEqual({
      ok: true,
      usable: [active],
    });
    expect(readiness({ ...ok, sessions: [paused(500)] }, 500)).toMatchObject({ ok: true });
  });

  it.each([
    [{ postLink: null }, 'no_post'],
    [{ postLink: 'https://example.com/x' }, 'no_post'],
    [{ groupCount: 0 }, 'no_groups'],
    [{ mode: 'starter', totalCycleMinutes: null }, 'bad_settings'],
    [{ sessions: [] }, 'no_usable_session'],
    [{ sessions: [dead] }, 'no_usable_session'],
  ] as [Partial<ReadinessInput<S>>, string][])('%j → %s', (patch, reason) => {
    expect(readiness({ ...ok, ...patch }, 0)).toMatchObject({ ok: false, reason });
  });

  it('no session at all is not "every session is dead"', () => {
    expect(readiness({ ...ok, sessions: [] }, 0)).toMatchObject({
      message: 'no usable session: the bot has no session',
    });
    expect(readiness({ ...ok, sessions: [dead] }, 0)).toMatchObject({
      message: 'no usable session: every session is dead',
    });
  });

  it('every session paused: not a refusal but a wait, until the first pause ends', () => {
    expect(readiness({ ...ok, sessions: [paused(900), dead, paused(300)] }, 100)).toMatchObject({
      ok: false,
      reason: 'sessions_paused',
      until: 300,
    });
    expect(readiness({ ...ok, sessions: [paused(null)] }, 100)).toMatchObject({
      reason: 'sessions_paused',
      until: null,
    });
  });

  it('a frozen account is not usable, and is no pause to wait for; an unreachable one is a pause', () => {
    const frozen: S = { ...active, id: 'f', frozen: { since: 0, until: null, appealUrl: null } };
    expect(readiness({ ...ok, sessions: [frozen, active] }, 100)).toEqual({ ok: true, usable: [active] });
    expect(readiness({ ...ok, sessions: [frozen] }, 100)).toMatchObject({ reason: 'no_usable_session' });
    const unreachable: S = { ...paused(700), statusReason: 'unreachable' };
    expect(readiness({ ...ok, sessions: [frozen, unreachable] }, 100)).toMatchObject({
      reason: 'sessions_paused',
      until: 700,
    });
  });
});
