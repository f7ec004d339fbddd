/**
 * Scale-out ownership: this worker's share of the bots. Every `renewMs` it heartbeats, renews the leases it holds
 * (database clock), re-reads their desired state, and claims free or expired leases up to its fair share
 * (`ceil(running bots / live workers)` plus a small slack) — or gives back what is over it, so bots spread out when
 * workers join. Each claim comes with a new epoch: the fence every `sending` mark is checked against.
 *
 * A worker that cannot renew stops sending on its own deadline — the time it sent its last successful renewal plus
 * the lease length, minus a margin — which is before anyone else may take the lease. A bot whose lease is lost
 * stops here, and its Telegram connections close, before anything else happens.
 */
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { Lease } from './lease.js';
import type { Runtime } from './runtime.js';

export interface LeaseGrant {
  botId: string;
  epoch: number;
  expiresAt: number;
}

/** What the keeper needs from the database (storage/leases.ts on PostgreSQL). */
export interface LeaseStore {
  registerWorker(id: string, host: string, pid: number): Promise<void>;
  heartbeat(id: string): Promise<void>;
  removeWorker(id: string): Promise<void>;
  liveWorkerCount(withinMs: number): Promise<number>;
  runningBotCount(): Promise<number>;
  renew(
    ownerId: string,
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
  ): Promise<LeaseGrant[]>;
  claim(
    ownerId: string,
    max: number,
    leaseMs: number,
    filter?: { only?: string; freeForMs?: number },
  ): Promise<LeaseGrant[]>;
  release(ownerId: string, botIds: readonly string[]): Promise<void>;
  /** Closes cycles of stopped bots nobody holds (see LeaseRepository); the bots it closed. */
  closeOrphanedCycles(): Promise<string[]>;
  desiredStates(botIds: readonly string[]): Promise<Map<string, 'running' | 'stopped'>>;
}

export interface LeaseKeeperOptions {
  workerId: string;
  host: string;
  pid: number;
  /** How long a lease lasts (database time). About five seconds. */
  leaseMs: number;
  /** How often leases are renewed. About a second. */
  renewMs: number;
  /** Leases a worker may hold beyond its fair share. */
  slack?: number;
  /** Claims in one tick, so that a worker joining does not grab everything before the others renew. */
  maxClaimsPerTick?: number;
}

/** A lease free for this many renewal periods is an orphan: any worker takes it, whatever its share. */
const ORPHAN_FACTOR = 3;

interface Held {
  epoch: number;
  /** Local time after which this worker must not call Telegram for the bot. */
  deadline: number;
}

export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly margin: number;
  private readonly unsubscribe: () => void;
  /** Counts for tests and logs. */
  readonly stats = { claims: 0, losses: 0, releases: 0, ticks: 0 };

  constructor(
    private readonly store: LeaseStore,
    private readonly runtime: Runtime,
    private readonly clock: Clock,
    private readonly options: LeaseKeeperOptions,
    private readonly logger: Logger,
  ) {
    // Clocks drift and requests take time: stop a good while before the database would let the lease go.
    this.margin = Math.min(1_000, options.leaseMs / 4);
    // A runner that ended here on its own (stopped, deleted, fenced) is no longer running under its lease.
    this.unsubscribe = runtime.onExit((botId, exit) => {
      if (exit === 'fenced') this.drop(botId, 'fenced');
      if (exit === 'desired_stopped' || exit === 'deleted') void this.giveBack([botId]);
    });
  }

  get workerId(): string {
    return this.options.workerId;
  }

  async start(): Promise<void> {
    await this.store.registerWorker(this.options.workerId, this.options.host, this.options.pid);
    this.loop = this.run();
  }

  /** Reacts at once instead of at the next tick. */
  poke(): void {
    this.wake?.();
  }

  /**
   * A bot was started through the API: take it now if it is free, whatever the fair share — the first worker
   * to answer wins, and rebalancing evens the shares out later. (Waiting for the worker "with room" would make a
   * start wait on a worker that may be slow or about to die.)
   */
  async started(botId: string): Promise<void> {
    if (this.held.has(botId) || this.stopping.signal.aborted) return;
    const sentAt = this.clock.now();
    await this.take(
      await this.store.claim(this.options.workerId, 1, this.options.leaseMs, { only: botId }),
      sentAt,
    );
  }

  /** A bot was stopped through the API: stop it here (the rest of its cycle is cancelled) and give the lease back. */
  async stopped(botId: string): Promise<void> {
    if (!this.held.has(botId)) return;
    await this.runtime.stopBot(botId, 'cancel');
    await this.giveBack([botId]);
  }

  private lease(botId: string, epoch: number): Lease {
    return {
      fence: { ownerId: this.options.workerId, epoch },
      holds: () => {
        const h = this.held.get(botId);
        return h !== undefined && h.epoch === epoch && this.clock.now() < h.deadline;
      },
    };
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (error) {
        this.logger.warn(
          { err: error },
          'lease renewal failed; will stop sending at the lease deadline if it keeps failing',
        );
      }
      await this.enforceDeadlines();
      const next = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([this.clock.sleep(this.sleepMs(), signal), next]);
      this.wake = null;
    }
  }

  /** Sleep until the next tick, or the next deadline if that comes first. */
  private sleepMs(): number {
    let ms = this.options.renewMs;
    const now = this.clock.now();
    for (const h of this.held.values()) ms = Math.min(ms, Math.max(0, h.deadline - now));
    return ms;
  }

  async tick(): Promise<void> {
    this.stats.ticks++;
    const { workerId, leaseMs } = this.options;
    const sentAt = this.clock.now();
    await this.store.heartbeat(workerId);
    const held = [...this.held].map(([botId, h]) => ({ botId, epoch: h.epoch }));
    const renewed = await this.store.renew(workerId, held, leaseMs);
    const renewedIds = new Set(renewed.map((r) => r.botId));
    for (const r of renewed)
      this.held.set(r.botId, { epoch: r.epoch, deadline: sentAt + leaseMs - this.margin });
    for (const h of held) if (!renewedIds.has(h.botId)) await this.lose(h.botId);

    // Renewal also re-reads the desired state (in case a NOTIFY was missed).
    const desired = await this.store.desiredStates([...this.held.keys()]);
    for (const [botId] of this.held) {
      if (desired.get(botId) !== 'running') await this.stopped(botId);
    }
    // A runner that ended with an error is restarted by the runtime; one that is missing is started again.
    for (const [botId, h] of this.held) {
      if (!this.runtime.isRunning(botId)) this.runtime.startBot(botId, this.lease(botId, h.epoch));
    }

    // A stopped bot's cycle that nobody will finish (a stop that raced a hand-over) is closed by any worker.
    const closed = await this.store.closeOrphanedCycles();
    if (closed.length > 0)
      this.logger.info({ botIds: closed }, 'closed the cycles of stopped bots nobody held');

    const [running, workers] = await Promise.all([
      this.store.runningBotCount(),
      this.store.liveWorkerCount(leaseMs),
    ]);
    const share = Math.ceil(running / Math.max(1, workers));
    const slack = this.options.slack ?? 1;
    if (this.held.size > share + slack) {
      await this.rebalance(this.held.size - share);
    } else if (this.held.size < share + slack) {
      const want = Math.min(
        share + slack - this.held.size,
        this.options.maxClaimsPerTick ?? Math.max(2, Math.ceil(share / 2)),
      );
      const sentAt = this.clock.now();
      await this.take(await this.store.claim(workerId, want, leaseMs), sentAt);
    } else {
      // At the share, but a bot nobody has taken for a while (its worker died before claiming, or the count of
      // live workers is stale) must not wait: take one orphan a tick.
      const sentAt = this.clock.now();
      await this.take(
        await this.store.claim(workerId, 1, leaseMs, { freeForMs: ORPHAN_FACTOR * this.options.renewMs }),
        sentAt,
      );
    }
  }

  /** `sentAt`: when the claim was sent — the database started the lease no earlier, so the deadline is safe. */
  private async take(grants: LeaseGrant[], sentAt: number): Promise<void> {
    for (const g of grants) {
      this.stats.claims++;
      this.held.set(g.botId, { epoch: g.epoch, deadline: sentAt + this.options.leaseMs - this.margin });
      this.logger.info({ botId: g.botId, epoch: g.epoch }, 'lease claimed');
      this.runtime.startBot(g.botId, this.lease(g.botId, g.epoch));
    }
  }

  /** Gives back leases over the fair share, so that a worker that joined can take them right away. */
  private async rebalance(count: number): Promise<void> {
    const ids = [...this.held.keys()].slice(-count);
    await Promise.all(ids.map((id) => this.runtime.stopBot(id, 'suspend')));
    await this.giveBack(ids);
  }

  private async giveBack(botIds: string[]): Promise<void> {
    const mine = botIds.filter((id) => this.held.delete(id));
    if (mine.length === 0) return;
    this.stats.releases += mine.length;
    await this.store.release(this.options.workerId, mine);
  }

  /** The lease is gone (taken over, or expired): stop here at once; Telegram connections close with the runner. */
  private async lose(botId: string): Promise<void> {
    this.drop(botId, 'lost');
    await this.runtime.stopBot(botId, 'suspend');
  }

  private drop(botId: string, why: string): void {
    if (!this.held.delete(botId)) return;
    this.stats.losses++;
    this.logger.warn({ botId, why }, 'lease lost');
  }

  /** Past a deadline without renewal: stop sending for that bot now, whatever the database says later. */
  private async enforceDeadlines(): Promise<void> {
    const now = this.clock.now();
    const expired = [...this.held].filter(([, h]) => h.deadline <= now).map(([id]) => id);
    for (const botId of expired) await this.lose(botId);
  }

  /** Graceful shutdown: calls on the wire finish, then every lease is released at once for the others. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
    this.unsubscribe();
    const ids = [...this.held.keys()];
    await Promise.all(ids.map((id) => this.runtime.stopBot(id, 'suspend')));
    this.held.clear();
    try {
      await this.store.release(this.options.workerId, ids);
      await this.store.removeWorker(this.options.workerId);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not release leases on shutdown; they expire on their own');
    }
  }
}
