import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { Turns } from './turns.js';

/** A clock whose deferred work runs only when the test says: one turn of the event loop at a time. */
function steppedClock() {
  const deferred: (() => void)[] = [];
  const clock: Clock = {
    now: () => 0,
    sleep: async () => true,
    defer: (fn) => void deferred.push(fn),
  };
  return {
    clock,
    /** Runs what was deferred before this turn, then lets the woken code run. */
    async turn(): Promise<void> {
      for (const fn of deferred.splice(0)) fn();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('turns of the event loop for bursts of work', () => {
  it('lets one waiter go a turn, earliest deadline first, ties in the order they asked', async () => {
    const { clock, turn } = steppedClock();
    const turns = new Turns(clock);
    const went: string[] = [];
    const ask = (name: string, deadline: number) => void turns.next(deadline).then(() => went.push(name));
    ask('late', 300);
    ask('soon', 100);
    ask('soon too', 100);
    ask('soonest', 50);
    expect(turns.pending).toBe(4);
    await turn();
    expect(went).toEqual(['soonest']);
    // one asking now, due before the rest, goes next
    ask('urgent', 0);
    await turn();
    await turn();
    expect(went).toEqual(['soonest', 'urgent', 'soon']);
    await turn();
    await turn();
    expect(went).toEqual(['soonest', 'urgent', 'soon', 'soon too', 'late']);
    expect(turns.pending).toBe(0);
    // nothing left: no turn is asked of the loop
    await turn();
    expect(went).toHaveLength(5);
  });
});
