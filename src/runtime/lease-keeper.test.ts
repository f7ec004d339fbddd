/**
 * The lease keeper on a virtual clock: two "workers" (two runtimes, two keepers) share one store whose leases
 * follow the same rules as the PostgreSQL ones (owner, epoch, expiry by the store's clock). The real-process,
 * real-PostgreSQL behaviour is in test/cluster; here the timing claims are exact.
 */
import { describe, expect, it } from 'vitest';
import { SandboxGateway } from '../telegram/sandbox/sandbox-gateway.js';
import { MemorySandboxStore } from '../telegram/sandbox/sandbox-store.js';
import { VirtualClock } from './clock.js';
import { LeaseKeeper, type LeaseGrant, type LeaseStore } from './lease-keeper.js';
import { MemoryRuntimeStore } from './memory-store.js';
import { SeededRandom } from './random.js';
import { Runtime } from './runtime.js';
import { silentLogger } from '../logger.js';
import type { ForwardRequest, Gateway } from '../telegram/gateway.js';

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
  async heartbeat(id: string): Promise<void> {
    this.check(id);
    this.heartbeats.set(id, this.clock.now());
  }
  async removeWorker(id: string): Promise<void> {
    this.heartbeats.delete(id);
  }
  async liveWorkerCount(withinMs: number): Promise<number> {
    return [...this.heartbeats.values()].filter((t) => t > this.clock.now() - withinMs).length;
  }
  async runningBotCount(): Promise<number> {
    return (await this.runtime.listRunningBotIds()).length;
  }
  private grant(botId: string, owner: string, epoch: number, leaseMs: number): LeaseGrant {
    const expiresAt = this.clock.now() + leaseMs;
    this.leases.set(botId, { owner, epoch, expiresAt });
    this.runtime.fences.set(botId, { ownerId: owner, epoch });
    return { botId, epoch, expiresAt };
  }
  async renew(
    owner: string,
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
  ): Promise<LeaseGrant[]> {
    this.check(owner);
    const now = this.clock.now();
    return held
      .filter((h) => {
        const l = this.leases.get(h.botId);
        return l && l.owner === owner && l.epoch === h.epoch && l.expiresAt > now;
      })
      .map((h) => this.grant(h.botId, owner, h.epoch, leaseMs));
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
  async desiredStates(botIds: readonly string[]): Promise<Map<string, 'running' | 'stopped'>> {
    const running = new Set(await this.runtime.listRunningBotIds());
    return new Map(botIds.map((id) => [id, running.has(id) ? 'running' : 'stopped']));
  }
}

/** Records each forward with the worker that made it. */
function recording(
  inner: Gateway,
  worker: string,
  clock: VirtualClock,
  log: { worker: string; session: string; at: number }[],
): Gateway {
  return {
    checkSource: (...a) => inner.checkSource(...a),
    readSource: (...a) => inner.readSource(...a),
    forward: (request: ForwardRequest) => {
      log.push({ worker, session: request.session.id, at: clock.now() });
      return inner.forward(request);
    },
    preflight: (...a) => inner.preflight(...a),
    groupFacts: (...a) => inner.groupFacts(...a),
    release: (id) => inner.release(id),
    close: () => inner.close(),
  };
}

function cluster(bots: number) {
  const clock = new VirtualClock();
  const store = new MemoryRuntimeStore();
  const leases = new MemoryLeaseStore(clock, store);
  const sandbox = new SandboxGateway({
    clock,
    store: new MemorySandboxStore(),
    flood: { burst: 1e6, refillPerSecond: 1e6 },
  });
  const calls: { worker: string; session: string; at: number }[] = [];
  const ids = Array.from({ length: bots }, (_, b) =>
    store.addBot({
      id: `bot${b}`,
      mode: 'enterprise',
      settings: { delayBetweenPosts: 1, delayBetweenCycles: 1, minGroupGapSeconds: 0 },
      sessions: [{ id: `b${b}s0` }],
      groups: Array.from({ length: 30 }, (_, i) => `-100${1_000_000_000 + b * 100 + i}`),
    }),
  );
  const worker = (name: string) => {
    const runtime = new Runtime({
      clock,
      store,
      gateway: recording(sandbox, name, clock, calls),
      random: new SeededRandom(name.length),
      options: { planningLeadMs: 0 },
    });
    const keeper = new LeaseKeeper(
      leases,
      runtime,
      clock,
      { workerId: name, host: 'test', pid: 1, leaseMs: LEASE, renewMs: RENEW },
      silentLogger,
    );
    return { name, runtime, keeper };
  };
  return { clock, store, leases, calls, ids, worker };
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
});
