import { describe, expect, it } from 'vitest';
import { wallClock } from './telegram-clock.js';

describe('wallClock', () => {
  it('sleeps the time and says so', async () => {
    const started = Date.now();
    expect(await wallClock.sleep(20)).toBe(true);
    expect(wallClock.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('ends a sleep as soon as its signal aborts, and answers an aborted signal at once', async () => {
    const controller = new AbortController();
    const sleep = wallClock.sleep(60_000, controller.signal);
    controller.abort();
    expect(await sleep).toBe(false);
    expect(await wallClock.sleep(60_000, controller.signal)).toBe(false);
  });
});
