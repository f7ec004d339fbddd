/**
 * The lease keeper on a virtual clock: two "workers" (two runtimes, two keepers) share one store whose leases
 * follow the same rules as the PostgreSQL ones (owner, epoch, expiry by the store's clock). The real-process,
 * real-PostgreSQL behaviour is in test/cluster; here the timing claims are exact.
 */
import { describe, expect, it } from 'vitest';
import { SandboxGateway } from '../telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore } from '../telegram/sandbox/sandbox-store.js';
import { VirtualClock } from './clock.js';
import { LeaseKeeper, type LeaseGrant, type LeaseStore, type Renewal } from './lease-keeper.js';
import { MemoryRuntimeStore } from './memory-store.js';
import { SeededRandom } from './random.js';
import { Runtime } from './runtime.js';
import { silentLogger } from '../logger.js';
import type { ForwardRequest, Gateway } from '../telegram/gateway.js';
import { DEFAULT_LEASE_RENEW_SECONDS, DEFAULT_LEASE_SECONDS } from '../config.js';
import type { Clock } from './clock.js';

const LEASE = 5_000;
const RENEW = 1_000;

/** Leases as the SQL store keeps them, timed by the (virtual) clock standing in for the database's. */
class MemoryLeaseStore implements LeaseStore {
  readonly leases = new Map<string, { owner: string | null; epoch: number; expiresAt: number }>();
  readonly heartbeats = new Map<string, number>();
  readonly down = new Set<string>();
  constructor(
    private readonly clock: VirtualClock,
    private readonly runtime: MemoryRuntimeStore,
  ) {}
  private check(owner: string): void {
    if (this.down.has(owner)) throw new Error('database unreachable');
  }
  async registerWorker(id: string): Promise<void> {
    this.heartbeats.set(id, this.clock.now());
  }
  async removeWorker(id: string): Promise<void> {
    this.heartbeats.delete(id);
  }
  private grant(botId: string, owner: string, epoch: number, leaseMs: number): LeaseGrant {
    const expiresAt = this.clock.now() + leaseMs;
    this.leases.set(botId, { owner, epoch, expiresAt });
    this.runtime.fences.set(botId, { ownerId: owner, epoch });
    return { botId, epoch, expiresAt };
  }
  /** As PostgreSQL's one statement: heartbeat, renewal and counts at one instant. */
  async renew(
    worker: { id: string },
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
    orphanAfterMs: number,
  ): Promise<Renewal> {
    this.check(worker.id);
    const now = this.clock.now();
    this.heartbeats.set(worker.id, now);
    const running = new Set(await this.runtime.listRunningBotIds());
    const renewed = held
      .filter((h) => {
        const l = this.leases.get(h.botId);
        return l && l.owner === worker.id && l.epoch === h.epoch && l.expiresAt > now;
      })
      .map((h) => ({
        ...this.grant(h.botId, worker.id, h.epoch, leaseMs),
        desired: running.has(h.botId) ? ('running' as const) : ('stopped' as const),
      }));
    const others = [...running].flatMap((id) => {
      const l = this.leases.get(id);
      return l && l.owner !== null && l.owner !== worker.id && l.expiresAt > now ? [l.expiresAt] : [];
    });
    const free = [...running].filter((id) => {
      const l = this.leases.get(id);
      return !l || l.owner === null || l.expiresAt <= now;
    });
    return {
      renewed,
      runningBots: running.size,
      liveWorkers: [...this.heartbeats.values()].filter((t) => t > now - leaseMs).length,
      claimable: free.length,
      orphans: free.filter((id) => (this.leases.get(id)?.expiresAt ?? 0) <= now - orphanAfterMs).length,
      abandoned: free.filter((id) => (this.leases.get(id)?.owner ?? null) !== null).length,
      nextExpiry: others.length === 0 ? null : Math.min(...others),
      now,
      orphanedCycles: false,
    };
  }
  async claim(
    owner: string,
    max: number,
    leaseMs: number,
    filter: { only?: string; freeForMs?: number } = {},
  ): Promise<LeaseGrant[]> {
    this.check(owner);
    const now = this.clock.now();
    const out: LeaseGrant[] = [];
    for (const botId of await this.runtime.listRunningBotIds()) {
      if (out.length >= max) break;
      if (filter.only !== undefined && filter.only !== botId) continue;
      const l = this.leases.get(botId) ?? { owner: null, epoch: 0, expiresAt: 0 };
      const free = l.owner === null || l.expiresAt <= now;
      if (!free || l.expiresAt > now - (filter.freeForMs ?? 0)) continue;
      out.push(this.grant(botId, owner, l.epoch + 1, leaseMs));
    }
    return out;
  }
  async release(owner: string, botIds: readonly string[]): Promise<void> {
    for (const id of botIds) {
      const l = this.leases.get(id);
      if (l && l.owner === owner)
        this.leases.set(id, { owner: null, epoch: l.epoch, expiresAt: this.clock.now() });
    }
  }
  /** The memory runtime store's cycles are closed by its runners; PostgreSQL's sweep is tested on PostgreSQL. */
  async closeOrphanedCycles(): Promise<string[]> {
    return [];
  }
}

/** Records each forward with the worker that made it. */
function recording(
  inner: Gateway,
  worker: string,
  clock: VirtualClock,
  log: { worker: string; session: string; at: number; epoch?: string | undefined }[],
): Gateway {
  return {
    checkSource: (...a) => inner.checkSource(...a),
    readSource: (...a) => inner.readSource(...a),
    forward: (request: ForwardRequest) => {
      log.push({ worker, session: request.session.id, at: clock.now(), epoch: request.trace?.epoch });
      return inner.forward(request);
    },
    preflight: (...a) => inner.preflight(...a),
    groupFacts: (...a) => inner.groupFacts(...a),
    release: (id) => inner.release(id),
    close: () => inner.close(),
  };
}

/**
 * An event-loop stall of one worker: while it lasts, nothing of that worker runs — its timers fire, and the
 * answers to its calls arrive, only once it is over (what it had sent still happened, as a statement sent before a
 * freeze still runs on the database). The other workers go on.
 */
class Stall {
  private until = Number.NEGATIVE_INFINITY;
  private armed: { method: string; ms: number } | null = null;
  constructor(private readonly clock: VirtualClock) {}
  begin(ms: number): void {
    this.until = this.clock.now() + ms;
  }
  /** Begins when the worker next calls `method` (the call goes out; its answer waits). */
  beginAtNext(method: string, ms: number): void {
    this.armed = { method, ms };
  }
  called(method: string): void {
    if (this.armed?.method !== method) return;
    this.begin(this.armed.ms);
    this.armed = null;
  }
  get endsAt(): number {
    return this.until;
  }
  /** `p`'s value, once the stall (if any) is over. */
  async pass<T>(p: Promise<T>): Promise<T> {
    const value = await p;
    while (this.clock.now() < this.until) await this.clock.sleep(this.until - this.clock.now());
    return value;
  }
  clockFor(): Clock {
    return {
      now: () => this.clock.now(),
      defer: (fn) => this.clock.defer(fn),
      sleep: (ms, signal) => this.pass(this.clock.sleep(ms, signal)),
    };
  }
  /** `target` with every call's answer held until the stall is over. */
  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const value: unknown = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          this.called(String(prop));
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(t, args);
          return result instanceof Promise ? this.pass(result) : result;
        };
      },
    });
  }
}

interface WorkerSpec {
  leaseMs?: number;
  renewMs?: number;
  stall?: Stall;
}

function cluster(bots: number, settings = { delayBetweenPosts: 1, delayBetweenCycles: 1 }) {
  const clock = new VirtualClock();
  const store = new MemoryRuntimeStore();
  const leases = new MemoryLeaseStore(clock, store);
  const sandboxStore = new MemorySandboxStore();
  const sandbox = new SandboxGateway({
    clock,
    store: sandboxStore,
    flood: { burst: 1e6, refillPerSecond: 1e6 },
  });
  const calls: { worker: string; session: string; at: number; epoch?: string | undefined }[] = [];
  const ids = Array.from({ length: bots }, (_, b) =>
    store.addBot({
      id: `bot${b}`,
      mode: 'enterprise',
      settings: { ...settings, minGroupGapSeconds: 0 },
      sessions: [{ id: `b${b}s0` }],
      groups: Array.from({ length: 30 }, (_, i) => `-100${1_000_000_000 + b * 100 + i}`),
    }),
  );
  const worker = (name: string, spec: WorkerSpec = {}) => {
    const stall = spec.stall;
    const runtime = new Runtime({
      clock: stall ? stall.clockFor() : clock,
      store: stall ? stall.wrap(store) : store,
      gateway: recording(stall ? stall.wrap(sandbox) : sandbox, name, clock, calls),
      random: new SeededRandom(name.length),
      options: { planningLeadMs: 0 },
    });
    const keeper = new LeaseKeeper(
      stall ? stall.wrap(leases) : leases,
      runtime,
      stall ? stall.clockFor() : clock,
      {
        workerId: name,
        host: 'test',
        pid: 1,
        leaseMs: spec.leaseMs ?? LEASE,
        renewMs: spec.renewMs ?? RENEW,
      },
      silentLogger,
    );
    return { name, runtime, keeper };
  };
  /** Posts delivered more than once (by random_id). */
  const duplicates = async () => {
    const seen = new Map<string, number>();
    for (const d of await sandboxStore.listDeliveries())
      seen.set(`${d.accountId}:${d.randomId}`, (seen.get(`${d.accountId}:${d.randomId}`) ?? 0) + 1);
    return [...seen.values()].filter((n) => n > 1).length;
  };
  return { clock, store, leases, calls, ids, worker, duplicates };
}

const heldBy = (leases: MemoryLeaseStore, owner: string, now: number) =>
  [...leases.leases].filter(([, l]) => l.owner === owner && l.expiresAt > now).map(([id]) => id);

describe('lease keeper', () => {
  it('splits the bots by fair share, each bot on exactly one worker', async () => {
    const c = cluster(6);
    const a = c.worker('A');
    const b = c.worker('B');
    await a.keeper.start();
    await b.keeper.start();
    await c.clock.advance(5 * RENEW);
    const now = c.clock.now();
    const held = [heldBy(c.leases, 'A', now).length, heldBy(c.leases, 'B', now).length];
    expect(held[0]! + held[1]!).toBe(6);
    expect(held.every((n) => n >= 2 && n <= 4)).toBe(true);
    expect(a.runtime.runningBotIds().sort()).toEqual(heldBy(c.leases, 'A', now).sort());
    expect(b.runtime.runningBotIds().sort()).toEqual(heldBy(c.leases, 'B', now).sort());
    await a.keeper.close();
    await b.keeper.close();
  });

  it('a worker that cannot renew stops sending at its own deadline, before the lease can be taken', async () => {
    const c = cluster(2);
    const a = c.worker('A');
    await a.keeper.start();
    await c.clock.advance(3 * RENEW);
    expect(a.runtime.runningBotIds()).toHaveLength(2);
    const b = c.worker('B');
    await b.keeper.start();
    // A's database connection dies (a partition); A keeps running, cut off.
    const lastRenewal = c.clock.now();
    c.leases.down.add('A');
    await c.clock.advance(12_000);
    const deadline = lastRenewal + LEASE - Math.min(1_000, LEASE / 4);
    const expiry = lastRenewal + LEASE + RENEW;
    const byA = c.calls.filter((x) => x.worker === 'A' && x.at > lastRenewal);
    const byB = c.calls.filter((x) => x.worker === 'B');
    expect(byA.length).toBeGreaterThan(0);
    expect(Math.max(...byA.map((x) => x.at))).toBeLessThan(deadline);
    expect(a.runtime.runningBotIds()).toEqual([]);
    // B took both bots over once their leases expired (not before), and posts.
    expect(Math.min(...byB.map((x) => x.at))).toBeGreaterThanOrEqual(lastRenewal + LEASE);
    expect(Math.min(...byB.map((x) => x.at))).toBeLessThanOrEqual(expiry + 2 * RENEW);
    expect(heldBy(c.leases, 'B', c.clock.now())).toHaveLength(2);
    c.leases.down.delete('A');
    await a.keeper.close();
    await b.keeper.close();
  });

  it('gives back what is over its share when a worker joins, and the joiner takes it', async () => {
    const c = cluster(8);
    const a = c.worker('A');
    await a.keeper.start();
    await c.clock.advance(6 * RENEW);
    expect(heldBy(c.leases, 'A', c.clock.now())).toHaveLength(8);
    const b = c.worker('B');
    await b.keeper.start();
    await c.clock.advance(6 * RENEW);
    const now = c.clock.now();
    expect(heldBy(c.leases, 'A', now).length).toBeLessThanOrEqual(5);
    expect(heldBy(c.leases, 'B', now).length).toBeGreaterThanOrEqual(3);
    expect(heldBy(c.leases, 'A', now).length + heldBy(c.leases, 'B', now).length).toBe(8);
    // Every epoch of every bot was used by one worker only.
    await a.keeper.close();
    await b.keeper.close();
  });

  it('a stop through the API cancels the bot here and releases its lease at once', async () => {
    const c = cluster(1);
    const a = c.worker('A');
    await a.keeper.start();
    await c.clock.advance(2 * RENEW);
    expect(a.runtime.isRunning('bot0')).toBe(true);
    c.store.setDesiredState('bot0', 'stopped');
    const before = c.clock.now();
    await a.keeper.stopped('bot0');
    expect(c.clock.now()).toBe(before);
    expect(a.runtime.isRunning('bot0')).toBe(false);
    expect(c.leases.leases.get('bot0')!.owner).toBeNull();
    expect(c.store.listPosts('bot0').some((p) => p.status === 'cancelled' && p.reason === 'stopped')).toBe(
      true,
    );
    await a.keeper.close();
  });

  it('a start through the API is taken at once, beyond the fair share; orphans are taken after a while', async () => {
    const c = cluster(2);
    c.store.setDesiredState('bot1', 'stopped');
    const a = c.worker('A');
    const b = c.worker('B');
    await a.keeper.start();
    await b.keeper.start();
    await c.clock.advance(3 * RENEW);
    c.store.setDesiredState('bot1', 'running');
    await b.keeper.started('bot1');
    expect(heldBy(c.leases, 'B', c.clock.now())).toContain('bot1');
    expect(b.runtime.isRunning('bot1')).toBe(true);
    await a.keeper.close();
    await b.keeper.close();
  });

  it('graceful shutdown releases every lease at once, so another worker takes over without waiting', async () => {
    const c = cluster(3);
    const a = c.worker('A');
    const b = c.worker('B');
    await a.keeper.start();
    await c.clock.advance(3 * RENEW);
    await b.keeper.start();
    await c.clock.advance(3 * RENEW);
    const aBots = heldBy(c.leases, 'A', c.clock.now());
    expect(aBots.length).toBeGreaterThan(0);
    const closedAt = c.clock.now();
    await a.keeper.close();
    await c.clock.advance(2 * RENEW);
    for (const id of aBots) expect(c.leases.leases.get(id)!.owner).toBe('B');
    const firstByB = c.calls.filter(
      (x) => x.worker === 'B' && aBots.some((id) => x.session.startsWith(id.replace('bot', 'b'))),
    );
    expect(Math.min(...firstByB.map((x) => x.at))).toBeLessThan(closedAt + LEASE);
    await b.keeper.close();
  });

  describe(`with the default timing (lease ${DEFAULT_LEASE_SECONDS} s, renewal ${DEFAULT_LEASE_RENEW_SECONDS} s)`, () => {
    const DEFAULTS = { leaseMs: DEFAULT_LEASE_SECONDS * 1000, renewMs: DEFAULT_LEASE_RENEW_SECONDS * 1000 };
    const ownership = (c: ReturnType<typeof cluster>) =>
      new Map([...c.leases.leases].map(([id, l]) => [id, `${l.owner}#${l.epoch}`]));

    /** A and B share four bots; A is stalled `ms` at `phase` ms after one of its ticks (or during one: 'renew'). */
    async function stalled(ms: number, phase: number | 'renew') {
      // Posts every 0.1 s, so that the stalled worker has calls due all through the stall.
      const c = cluster(4, { delayBetweenPosts: 0.1, delayBetweenCycles: 0.5 });
      const stall = new Stall(c.clock);
      const a = c.worker('A', { ...DEFAULTS, stall });
      const b = c.worker('B', DEFAULTS);
      await a.keeper.start();
      await c.clock.advance(1_000);
      await b.keeper.start();
      await c.clock.advance(3_000);
      expect(heldBy(c.leases, 'A', c.clock.now()).length).toBeGreaterThan(0);
      const before = ownership(c);
      const ticks = a.keeper.stats.ticks;
      // A ticks every 0.2 s from its start: wait for a tick, then for the phase.
      await c.clock.runUntilTrue(() => a.keeper.stats.ticks > ticks);
      if (phase === 'renew') stall.beginAtNext('renew', ms);
      else {
        await c.clock.advance(phase);
        stall.begin(ms);
      }
      await c.clock.runUntilTrue(() => stall.endsAt > Number.NEGATIVE_INFINITY);
      const endsAt = stall.endsAt;
      // Who owns what as the stall ends, before the stalled worker runs again.
      await c.clock.runUntil(endsAt - 1);
      const atEnd = ownership(c);
      await c.clock.runUntil(endsAt + 2_000);
      return { c, a, b, before, endsAt, atEnd, after: ownership(c) };
    }

    it('a 2 s event-loop stall at any phase of the renewal: the worker keeps every lease, nobody takes over', async () => {
      for (const phase of [0, 40, 100, 160, 199, 'renew'] as const) {
        const { c, a, b, before, endsAt, after } = await stalled(2_000, phase);
        // The same owner and epoch for every bot: no takeover, not even by the stalled worker itself.
        expect(after, `stall at phase ${phase}`).toEqual(before);
        expect(a.keeper.stats.losses).toBe(0);
        // The stalled worker posts again for its bots right after the stall; no post went out twice.
        expect(c.calls.some((x) => x.worker === 'A' && x.at >= endsAt && x.at < endsAt + 200)).toBe(true);
        expect(await c.duplicates()).toBe(0);
        await a.keeper.close();
        await b.keeper.close();
      }
    });

    it('a stall longer than the lease: the bots move to the other worker, and the stalled one sends nothing for them', async () => {
      const { c, a, b, before, endsAt, atEnd } = await stalled(4_000, 100);
      const aBots = [...before].filter(([, o]) => o.startsWith('A#')).map(([id]) => id);
      for (const id of aBots) expect(atEnd.get(id)).toMatch(/^B#/);
      expect(a.keeper.stats.losses).toBe(aBots.length);
      // Its lanes woke past the deadline and asked: the lease was gone, so none of them called Telegram under it
      // (it may take bots back later, under new epochs).
      const stale = aBots.map((id) => ({ session: id.replace('bot', 'b'), epoch: before.get(id)!.slice(2) }));
      const late = c.calls.filter(
        (x) =>
          x.worker === 'A' &&
          x.at >= endsAt &&
          stale.some((o) => x.session.startsWith(o.session) && x.epoch === o.epoch),
      );
      expect(late).toEqual([]);
      expect(c.calls.some((x) => x.worker === 'B' && x.at < endsAt)).toBe(true);
      expect(await c.duplicates()).toBe(0);
      await a.keeper.close();
      await b.keeper.close();
    });

    it('a killed worker’s bots are taken over within the lease and two renewal periods of its last renewal', async () => {
      const takeovers: number[] = [];
      for (const phase of [0, 50, 100, 150, 199]) {
        const c = cluster(4);
        const stall = new Stall(c.clock);
        const a = c.worker('A', { ...DEFAULTS, stall });
        await a.keeper.start();
        await c.clock.advance(1_000);
        const b = c.worker('B', DEFAULTS);
        await b.keeper.start();
        await c.clock.advance(3_000);
        const ticks = a.keeper.stats.ticks;
        await c.clock.runUntilTrue(() => a.keeper.stats.ticks > ticks);
        await c.clock.advance(phase);
        // Killed: A never runs again.
        const killedAt = c.clock.now();
        stall.begin(Number.POSITIVE_INFINITY);
        const aBots = heldBy(c.leases, 'A', killedAt);
        expect(aBots.length).toBeGreaterThan(0);
        await c.clock.runUntilTrue(() => aBots.every((id) => c.leases.leases.get(id)!.owner === 'B'));
        const takeover = c.clock.now() - killedAt;
        takeovers.push(takeover);
        // Never before the lease expired: the last renewal was at most `phase` before the kill.
        expect(takeover).toBeGreaterThanOrEqual(DEFAULTS.leaseMs - phase);
        // The survivor woke when the lease ran out: no tick to wait for.
        expect(takeover).toBeLessThanOrEqual(DEFAULTS.leaseMs - phase + 5);
        await b.keeper.close();
      }
      expect(Math.max(...takeovers)).toBeLessThanOrEqual(3_000);
    });
  });
});
