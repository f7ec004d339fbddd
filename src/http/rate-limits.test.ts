import { describe, expect, it } from 'vitest';
import { WindowCounter } from './rate-limits.js';

describe('WindowCounter', () => {
  it('allows max hits a window per key, then says when to come back; a new window starts afresh', () => {
    let now = 1_000;
    const counter = new WindowCounter({ max: 2, windowMs: 10_000 }, () => now);
    expect(counter.hit('a').ok).toBe(true);
    now += 1_000;
    expect(counter.hit('a').ok).toBe(true);
    now += 1_000;
    expect(counter.hit('a')).toEqual({ ok: false, retryAfterMs: 8_000 });
    expect(counter.hit('b').ok).toBe(true);
    expect(counter.check('a').ok).toBe(false);
    now = 11_000;
    expect(counter.hit('a').ok).toBe(true);
  });

  it('check does not count', () => {
    const counter = new WindowCounter({ max: 1, windowMs: 1_000 }, () => 0);
    for (let i = 0; i < 5; i++) expect(counter.check('k').ok).toBe(true);
    expect(counter.hit('k').ok).toBe(true);
    expect(counter.check('k').ok).toBe(false);
  });
});
