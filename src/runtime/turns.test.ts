import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { Turns } from './turns.js';

/** A clock whose deferred work runs only when the test says (one turn of the event loop), at a time it sets. */
function steppedClock() {
  const deferred: (() => void)[] = [];
  let now = 0;
  const clock: Clock = {
    now: () => now,
    sleep: async () => true,
    defer: (fn) => void deferred.push(fn),
  };
  return {
    clock,
    /** One turn of the loop that began `ms` after the last: what was deferred runs, then the woken code. */
    async turn(ms = 10): Promise<void> {
      now += ms;
      for (const fn of deferred.splice(0)) fn();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('turns of the event loop for bursts of work', () => {
  it('lets waiters go earliest deadline first, ties in the order they asked, one a turn while turns are long', async () => {
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

  it('lets more go a turn while turns stay short (waits on I/O), fewer again once they are long', async () => {
    const { clock, turn } = steppedClock();
    const turns = new Turns(clock);
    let went = 0;
    for (let i = 0; i < 100; i++) void turns.next(i).then(() => went++);
    const after: number[] = [];
    for (const ms of [1, 1, 1, 1, 1, 16, 8]) {
      await turn(ms);
      after.push(went);
    }
    // 1, then 2, 4, 8, 16 a turn while turns take 1 ms; after a turn of 16 ms for 16, 16 × 4/16 = 4; after 8 ms, 2
    expect(after).toEqual([1, 3, 7, 15, 31, 35, 37]);
  });
});
