import { describe, expect, it } from 'vitest';
import { isLimitedAt, pauseOverBy, sessionStateAt, usableAt } from './session-state.js';

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
});
