import { describe, expect, it } from 'vitest';
import { isLimitedAt, pauseOverBy, sessionStateAt, unavailableReason, usableAt } from './session-state.js';

describe('the effective state of a session', () => {
  const flood = { status: 'paused' as const, statusReason: 'flood_wait', cooldownUntil: 60_000 };

  it('a pause is a pause until its end, then the session is active again', () => {
    expect(sessionStateAt(flood, 59_999)).toEqual(flood);
    expect(sessionStateAt(flood, 60_000)).toEqual({
      status: 'active',
      statusReason: null,
      cooldownUntil: null,
    });
    expect(pauseOverBy(flood, 60_000)).toBe(true);
    expect(pauseOverBy(flood, 1)).toBe(false);
    expect(usableAt(flood, 1)).toBe(false);
    expect(usableAt(flood, 60_000)).toBe(true);
  });

  it('a pause without an end lasts; dead stays dead; active drops stale fields', () => {
    const open = { status: 'paused' as const, statusReason: 'peer_flood', cooldownUntil: null };
    expect(sessionStateAt(open, 1e15).status).toBe('paused');
    const dead = { status: 'dead' as const, statusReason: 'revoked', cooldownUntil: 5 };
    expect(sessionStateAt(dead, 10)).toEqual({
      status: 'dead',
      statusReason: 'revoked',
      cooldownUntil: null,
    });
    expect(usableAt(dead, 10)).toBe(false);
    expect(sessionStateAt({ status: 'active', statusReason: 'x', cooldownUntil: 3 }, 0)).toEqual({
      status: 'active',
      statusReason: null,
      cooldownUntil: null,
    });
  });

  it('limited means paused for spam-like reasons, while the pause lasts', () => {
    const limited = { status: 'paused' as const, statusReason: 'peer_flood', cooldownUntil: 100 };
    expect(isLimitedAt(limited, 50)).toBe(true);
    expect(isLimitedAt(limited, 100)).toBe(false);
    expect(isLimitedAt(flood, 50)).toBe(false);
  });

  it('a frozen account is dead for `frozen` while the freeze lasts, whatever is stored; lifted, the stored state counts', () => {
    const frozen = { since: 0, until: 100_000, appealUrl: null };
    const paused = { ...flood, frozen };
    expect(sessionStateAt(paused, 10)).toEqual({
      status: 'dead',
      statusReason: 'frozen',
      cooldownUntil: null,
    });
    expect(
      sessionStateAt({ status: 'active', statusReason: null, cooldownUntil: null, frozen }, 10).status,
    ).toBe('dead');
    expect(usableAt(paused, 70_000)).toBe(false);
    expect(isLimitedAt({ ...paused, statusReason: 'peer_flood' }, 10)).toBe(false);
    // past the deletion date, or with the freeze cleared, what is stored counts again
    expect(sessionStateAt(paused, 100_000)).toEqual({
      status: 'active',
      statusReason: null,
      cooldownUntil: null,
    });
    expect(sessionStateAt({ ...flood, frozen: null }, 10)).toEqual(flood);
    // a session already dead keeps its own reason
    const revoked = { status: 'dead' as const, statusReason: 'revoked', cooldownUntil: null, frozen };
    expect(sessionStateAt(revoked, 10).statusReason).toBe('revoked');
  });

  it('why a session’s posts cannot go out: dead, frozen, unreachable or paused', () => {
    const at = (s: Parameters<typeof sessionStateAt>[0]) => unavailableReason(sessionStateAt(s, 10));
    expect(at({ status: 'dead', statusReason: 'revoked', cooldownUntil: null })).toBe('session_dead');
    expect(at({ status: 'dead', statusReason: 'frozen', cooldownUntil: null })).toBe('session_frozen');
    expect(
      at({
        status: 'active',
        statusReason: null,
        cooldownUntil: null,
        frozen: { since: 1, until: null, appealUrl: null },
      }),
    ).toBe('session_frozen');
    expect(at({ status: 'paused', statusReason: 'unreachable', cooldownUntil: 50 })).toBe(
      'session_unreachable',
    );
    expect(at({ status: 'paused', statusReason: 'connecting', cooldownUntil: 50 })).toBe(
      'session_unreachable',
    );
    expect(at(flood)).toBe('session_paused');
  });
});
