/** The clocks: the virtual one moves only when told (in order, with jumps either way); both abort promptly. */
import { describe, expect, it } from 'vitest';
import { sleepUntil, SystemClock, VirtualClock } from './clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order (ties in the order they were set) and only when told', async () => {
    const clock = new VirtualClock(1_000);
    const fired: string[] = [];
    void clock.sleep(300).then(() => fired.push(`c@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`a@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`b@${clock.now()}`));
    await clock.settle();
    expect(fired).toEqual([]);
    await clock.advance(150);
    expect(fired).toEqual(['a@1100', 'b@1100']);
    await clock.runUntilIdle();
    expect(fired).toEqual(['a@1100', 'b@1100', 'c@1300']);
    expect(clock.now()).toBe(1_300);
  });

  it('resolves false at once when aborted, and forgets the timer', async () => {
    const clock = new VirtualClock(0);
    const controller = new AbortController();
    const slept = clock.sleep(3_600_000, controller.signal);
    expect(clock.pending).toBe(1);
    controller.abort();
    expect(await slept).toBe(false);
    expect(clock.pending).toBe(0);
    expect(clock.now()).toBe(0);
    expect(await clock.sleep(5, controller.signal)).toBe(false);
  });

  it('a jump forward makes due timers fire on the next run, late — as a machine waking from sleep', async () => {
    const clock = new VirtualClock(0);
    const woke: number[] = [];
    void clock.sleep(1_000).then(() => woke.push(clock.now()));
    clock.jump(60_000);
    await clock.runUntil(clock.now());
    expect(woke).toEqual([60_000]);
  });

  it('a jump backwards delays timers (they fire at their time, not earlier)', async () => {
    const clock = new VirtualClock(10_000);
    const woke: number[] = [];
    void sleepUntil(clock, 11_000).then(() => woke.push(clock.now()));
    clock.jump(-5_000);
    await clock.advance(5_500);
    expect(woke).toEqual([]);
    await clock.advance(1_000);
    expect(woke).toEqual([11_000]);
  });

  it('refuses to run past a limit when something loops forever', async () => {
    const clock = new VirtualClock(0);
    const controller = new AbortController();
    void (async () => {
      while (await clock.sleep(1_000, controller.signal));
    })();
    await expect(clock.runUntilIdle(clock.now() + 10_000)).rejects.toThrow(/still busy/);
    controller.abort();
  });
});

describe('SystemClock', () => {
  it('never wakes early, and a stop interrupts a long sleep at once', async () => {
    const clock = new SystemClock();
    const t0 = Date.now();
    expect(await clock.sleep(30)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
    const controller = new AbortController();
    const long = clock.sleep(3_600_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    const t1 = Date.now();
    expect(await long).toBe(false);
    expect(Date.now() - t1).toBeLessThan(1_000);
    expect(await clock.sleep(0)).toBe(true);
  });
});
