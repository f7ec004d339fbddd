import { describe, expect, it } from 'vitest';
import { frozenAt } from './freeze.js';

describe('is an account frozen at a time', () => {
  const freeze = { since: 1_000, until: 9_000, appealUrl: 'https://t.me/spambot' };

  it('from Telegram’s word on, until its deletion date', () => {
    expect(frozenAt(freeze, 5_000)).toBe(true);
    expect(frozenAt(freeze, 8_999)).toBe(true);
    // the deletion date: the account is gone, not frozen (its next call says USER_DEACTIVATED)
    expect(frozenAt(freeze, 9_000)).toBe(false);
  });

  it('this clock behind Telegram’s does not unfreeze it', () => {
    expect(frozenAt(freeze, 500)).toBe(true);
  });

  it('without a deletion date it stays frozen; without a freeze it is not', () => {
    expect(frozenAt({ ...freeze, until: null }, 1e15)).toBe(true);
    expect(frozenAt(null, 5_000)).toBe(false);
    expect(frozenAt(undefined, 5_000)).toBe(false);
  });
});
