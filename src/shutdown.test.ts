import { describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from './logger.js';
import { VirtualClock } from './runtime/clock.js';
import { closeInOrder, type ClosablePart } from './shutdown.js';

const never = () => new Promise<void>(() => undefined);

describe('closeInOrder', () => {
  it('closes every part in order, past one that throws or rejects', async () => {
    const clock = new VirtualClock();
    const closed: string[] = [];
    const part = (name: string, close: () => Promise<void> | void = () => void closed.push(name)) => ({
      name,
      close,
    });
    const parts: ClosablePart[] = [
      part('a'),
      part('throws', () => {
        throw new Error('sync');
      }),
      part('b'),
      part('rejects', () => Promise.reject(new Error('async'))),
      part('c'),
    ];
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;

    expect(await closeInOrder(parts, { clock, withinMs: 10_000, logger })).toEqual(['throws', 'rejects']);
    expect(closed).toEqual(['a', 'b', 'c']);
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect(clock.pending).toBe(0);
  });

  it('waits for a hung part until the bound, then gives each part after it a second', async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const parts = [
      { name: 'slow', close: () => clock.sleep(4_000).then(() => undefined) },
      { name: 'hung', close: never },
      { name: 'also hung', close: never },
    ];
    let notClosed: string[] | null = null;
    void closeInOrder(parts, { clock, withinMs: 10_000, logger: silentLogger }).then((n) => (notClosed = n));

    await clock.runUntilTrue(() => notClosed !== null);
    expect(notClosed).toEqual(['hung', 'also hung']);
    expect(clock.now() - start).toBe(11_000);
  });
});
