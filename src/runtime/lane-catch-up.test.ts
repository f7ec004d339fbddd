/**
 * A lane that fell behind its plan returns to it (core/lane-pacing.ts), on the virtual clock: after a stalled
 * call and after the process froze while the lane waited (what a GC pause is), the posts are back on their planned
 * times within a few posts — never before them, never two closer than the delay minus the catch-up share. A lane
 * later than the limit (a minute) moves with the delay instead.
 */
import { describe, expect, it } from 'vitest';
import type { ForwardRequest, Gateway } from '../telegram/gateway.js';
import { SandboxGateway } from '../telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore } from '../telegram/sandbox/sandbox-store.js';
import { VirtualClock } from './clock.js';
import { MemoryRuntimeStore } from './memory-store.js';
import { Runtime } from './runtime.js';

const DELAY_MS = 1_000;
const GROUPS = 20;

/** The sandbox, with the answer to chosen forwards (by their position) held back for a while. */
class StallingGateway implements Gateway {
  readonly forwards: { postId: string; at: number }[] = [];
  constructor(
    private readonly inner: Gateway,
    private readonly clock: VirtualClock,
    private readonly stalls: ReadonlyMap<number, number>,
  ) {}
  async forward(request: ForwardRequest, signal?: AbortSignal) {
    const stall = this.stalls.get(this.forwards.length) ?? 0;
    this.forwards.push({ postId: request.trace!.postId!, at: this.clock.now() });
    if (stall > 0) await this.clock.sleep(stall);
    return this.inner.forward(request, signal);
  }
  checkSource(...args: Parameters<Gateway['checkSource']>) {
    return this.inner.checkSource(...args);
  }
  readSource(...args: Parameters<Gateway['readSource']>) {
    return this.inner.readSource(...args);
  }
  preflight(...args: Parameters<Gateway['preflight']>) {
    return this.inner.preflight(...args);
  }
  groupFacts(...args: Parameters<Gateway['groupFacts']>) {
    return this.inner.groupFacts(...args);
  }
  release(id: string) {
    return this.inner.release(id);
  }
  close() {
    return this.inner.close();
  }
}

/** One bot, one session, GROUPS posts a second apart from the start; `drive` moves the clock. */
async function lane(
  stalls: ReadonlyMap<number, number>,
  drive?: (clock: VirtualClock) => Promise<void>,
  sandbox = new MemorySandboxStore(),
) {
  const clock = new VirtualClock();
  const store = new MemoryRuntimeStore();
  const botId = store.addBot({
    mode: 'enterprise',
    settings: { delayBetweenPosts: DELAY_MS / 1000, delayBetweenCycles: 3600, minGroupGapSeconds: 0 },
    sessions: [{}],
    groups: Array.from({ length: GROUPS }, (_, i) => `-100${3_000_000_000 + i}`),
  });
  const gateway = new StallingGateway(new SandboxGateway({ clock, store: sandbox }), clock, stalls);
  const runtime = new Runtime({ clock, gateway, store, options: { planningLeadMs: 0 } });
  let finished = false;
  runtime.events.on((e) => {
    if (e.type === 'cycle.finished') finished = true;
  });
  runtime.startBot(botId);
  await drive?.(clock);
  await clock.runUntilTrue(() => finished, clock.now() + 3_600_000);
  await runtime.close();
  const planned = new Map(store.listPosts(botId).map((p) => [p.id, p.plannedAt]));
  const forwards = gateway.forwards.map((f) => ({ at: f.at, plannedAt: planned.get(f.postId)! }));
  const start = Math.min(...forwards.map((f) => f.plannedAt));
  return {
    /** How late each post went out, in the lane's order (ms). */
    lateness: forwards.map((f) => f.at - f.plannedAt),
    /** When each went out, from the cycle's start (ms). */
    times: forwards.map((f) => f.at - start),
    statuses: store.listPosts(botId).map((p) => p.status),
  };
}

/** The spacing the lane may never go below: the delay minus 2.5 % of it (the default catch-up share). */
const MIN_SPACING_MS = DELAY_MS * 0.975;

function expectSpacedAndNeverEarly(run: Awaited<ReturnType<typeof lane>>): void {
  expect(run.times).toHaveLength(GROUPS);
  expect(run.statuses.every((s) => s === 'sent')).toBe(true);
  for (let k = 1; k < run.times.length; k++) {
    expect(run.times[k]! - run.times[k - 1]!).toBeGreaterThanOrEqual(MIN_SPACING_MS);
  }
  expect(Math.min(...run.lateness)).toBeGreaterThanOrEqual(0);
}

describe('a lane behind its plan', () => {
  it('after a stalled call (answered 1.3 s later) returns to its planned times within 12 posts', async () => {
    // The 4th call (at 3 s) is answered at 4.3 s: the 5th post, due at 4 s, goes out 300 ms late.
    const run = await lane(new Map([[3, 1_300]]));
    expectSpacedAndNeverEarly(run);
    expect(run.lateness.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(run.lateness[4]).toBe(300);
    // 25 ms (2.5 % of the delay) made up by each post: 275, 250, … 25, then on its plan again
    expect(run.lateness.slice(5, 9)).toEqual([275, 250, 225, 200]);
    expect(run.lateness.findIndex((l, k) => k > 4 && l === 0)).toBe(16);
    expect(run.lateness.slice(16)).toEqual([0, 0, 0, 0]);
  });

  it('after the process froze for 200 ms while the lane waited (a GC pause) returns within 8 posts', async () => {
    const run = await lane(new Map(), async (clock) => {
      // Every timer due in the frozen stretch fires late, at its end: the post due at 4 s goes out at 4.2 s.
      await clock.runUntil(clock.now() + 3_900);
      clock.jump(300);
    });
    expectSpacedAndNeverEarly(run);
    expect(run.lateness.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(run.lateness.slice(4, 13)).toEqual([200, 175, 150, 125, 100, 75, 50, 25, 0]);
    expect(run.lateness.slice(13).every((l) => l === 0)).toBe(true);
  });

  it('after a stall of seconds (a quick restart, thousands of bots planning) still makes up 25 ms a post', async () => {
    // The 4th call is answered at 6 s: the 5th post goes out 2 s late, then 1975, 1950… ms.
    const run = await lane(new Map([[3, 3_000]]));
    expectSpacedAndNeverEarly(run);
    expect(run.lateness.slice(4, 8)).toEqual([2_000, 1_975, 1_950, 1_925]);
    expect(run.lateness.at(-1)).toBe(2_000 - 15 * 25);
  });

  it('does not make up a FLOOD_WAIT: after the wait Telegram asked for, the full delay again', async () => {
    const clock = new VirtualClock();
    const sandbox = new MemorySandboxStore();
    // The 4th forward (at 3 s) is told to wait 3 s: it goes again at 6 s, the next ones a full delay apart.
    await sandbox.addFault({
      accountId: null,
      groupKey: null,
      method: 'forward',
      fromAt: clock.now() + 3_000,
      error: 'FLOOD_WAIT_3',
      remaining: 1,
    });
    const run = await lane(new Map(), undefined, sandbox);
    expect(run.statuses.every((s) => s === 'sent')).toBe(true);
    expect(run.times.slice(0, 8)).toEqual([0, 1_000, 2_000, 3_000, 6_000, 7_000, 8_000, 9_000]);
    for (let k = 5; k < run.times.length; k++) expect(run.times[k]! - run.times[k - 1]!).toBe(DELAY_MS);
  });

  it('later than the limit (a stall of 90 s) it has lost its plan: the rest goes a full delay apart', async () => {
    const run = await lane(new Map([[3, 91_000]]));
    expectSpacedAndNeverEarly(run);
    expect(run.times.slice(3, 7)).toEqual([3_000, 94_000, 95_000, 96_000]);
    expect(run.lateness.slice(4).every((l) => l === 90_000)).toBe(true);
  });
});
