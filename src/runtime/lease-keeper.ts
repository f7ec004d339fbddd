/**
 * Scale-out ownership: this worker's share of the bots. Every `renewMs` it heartbeats, renews the leases it holds
 * (database clock) and re-reads their desired state — one statement — and claims free or expired leases up to its
 * fair share (`ceil(running bots / live workers)` plus a small slack), or gives back what is over it, so bots
 * spread out when workers join. Each claim comes with a new epoch: the fence every `sending` mark is checked against.
 *
 * A worker that cannot renew stops sending on its own deadline — the time it sent its last successful renewal plus
 * the lease length, minus a margin — which is before anyone else may take the lease. A bot whose lease is lost
 * stops here, and its Telegram connections close, before anything else happens.
 *
 * Where failover time goes, and how long a stall may be. A killed worker's bot runs again elsewhere after
 *   (its lease's remaining life: the lease length less the time since its last renewal, `leaseMs − [0, renewMs]`)
 *   + (the survivors' claim: each tick returns the next expiry of another worker's lease, and a survivor wakes at
 *      that instant — not at its next tick — to claim whatever was not renewed: a round trip)
 *   + (the new runner: loading the bot and resuming its cycle, tens of milliseconds; then connecting).
 * A tick is one statement on connections of the keeper's own (a renewal never queues behind the posts' work), so
 * ticking often is cheap and failover ≈ the lease length. A dead worker's bots are taken whatever the fair share
 * (rebalancing evens the shares out afterwards), so they are all taken at once.
 *
 * A worker whose event loop stalls keeps its leases as long as its last renewal outlives the stall:
 * `leaseMs > stall + renewMs + the renewal's round trip after the stall`. Past its local deadline (the margin
 * below) the worker sends nothing until a renewal answers — its lanes wait for it (`Lease.confirm`) instead of
 * giving the bot up, and a renewal answered past its own deadline (sent before the stall) is asked again at once —
 * so a stall shorter than that costs no failover. The defaults (config.ts: 2.75 s and 0.2 s) come from
 * bench/failover, which measures both: see the README's performance section.
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

/** What a tick learns in one round trip (storage/leases.ts `renew`). */
export interface Renewal {
  /** The leases still held, renewed, with the bot's desired state; a held lease not among them is lost. */
  renewed: (LeaseGrant & { desired: 'running' | 'stopped' })[];
  runningBots: number;
  /** Workers whose heartbeat is within a lease length (this one included). */
  liveWorkers: number;
  /** Running bots whose lease is free (released or expired) or that have none yet. */
  claimable: number;
  /** Those of them free for at least `orphanAfterMs`. */
  orphans: number;
  /** Those of them whose owner let the lease expire without giving it back: a dead (or stalled) worker's. */
  abandoned: number;
  /** The earliest expiry of a lease another worker holds (database clock): when a takeover may next be due. */
  nextExpiry: number | null;
  /** The database's clock when it answered. */
  now: number;
  /** A stopped bot's cycle is still running and nobody holds the bot: closeOrphanedCycles has work. */
  orphanedCycles: boolean;
}

/** What the keeper needs from the database (storage/leases.ts on PostgreSQL). */
export interface LeaseStore {
  registerWorker(id: string, host: string, pid: number): Promise<void>;
  removeWorker(id: string): Promise<void>;
  /** Heartbeat, renewal of `held` and the counts claims are decided on, at one instant of the database's clock. */
  renew(
    worker: { id: string; host: string; pid: number },
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
    orphanAfterMs: number,
  ): Promise<Renewal>;
  claim(
    ownerId: string,
    max: number,
    leaseMs: number,
    filter?: { only?: string; freeForMs?: number },
  ): Promise<LeaseGrant[]>;
  release(ownerId: string, botIds: readonly string[]): Promise<void>;
  /** Closes cycles of stopped bots nobody holds (see LeaseRepository); the bots it closed. */
  closeOrphanedCycles(): Promise<string[]>;
}

export interface LeaseKeeperOptions {
  workerId: string;
  host: string;
  pid: number;
  /** How long a lease lasts (database time). */
  leaseMs: number;
  /** How often leases are renewed, and free ones looked for. */
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
  /** Local time of the next expiry of another worker's lease: the keeper wakes then to take it if it is not renewed. */
  private nextExpiryAt: number | null = null;
  /** Lanes past their deadline (after a stall) waiting for a renewal to say whether the lease is still theirs. */
  private waiting: { botId: string; epoch: number; answer: (holds: boolean) => void }[] = [];
  /** Counts for tests and logs. */
  readonly stats = { claims: 0, losses: 0, releases: 0, ticks: 0 };

  constructor(
    private readonly store: LeaseStore,
    private readonly runtime: Runtime,
    private readonly clock: Clock,
    private readonly options: LeaseKeeperOptions,
    private readonly logger: Logger,
  ) {
    // Clocks drift and calls take time: stop a good while before the database would let the lease go (a call
    // started just before the deadline is answered before a new owner may connect).
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
    const holds = (): boolean => {
      const h = this.held.get(botId);
      return h !== undefined && h.epoch === epoch && this.clock.now() < h.deadline;
    };
    return {
      fence: { ownerId: this.options.workerId, epoch },
      holds,
      confirm: (signal) =>
        new Promise<boolean>((resolve) => {
          if (signal?.aborted) return resolve(false);
          const onAbort = (): void => {
            this.waiting = this.waiting.filter((w) => w !== waiter);
            resolve(false);
          };
          const waiter = {
            botId,
            epoch,
            answer: (yes: boolean) => {
              signal?.removeEventListener('abort', onAbort);
              resolve(yes);
            },
          };
          // The runner is being stopped: a stop waits for its lanes, so none may wait here for the keeper.
          signal?.addEventListener('abort', onAbort, { once: true });
          this.waiting.push(waiter);
          this.answerWaiting();
          this.poke();
        }),
    };
  }

  /**
   * Answers the lanes whose question is decided: yes once the lease holds again (a renewal sent after the stall
   * moved its deadline on), no once it is gone. The others wait — their bot is held but past its deadline — for the
   * next renewal, or for the deadline check that gives it up.
   */
  private answerWaiting(): void {
    const stopping = this.stopping.signal.aborted;
    this.waiting = this.waiting.filter((w) => {
      const h = this.held.get(w.botId);
      const gone = stopping || h === undefined || h.epoch !== w.epoch;
      const holds = !gone && this.clock.now() < h.deadline;
      if (gone || holds) w.answer(holds);
      return !gone && !holds;
    });
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.round();
      // Lanes that asked during the round asked about a renewal that may have been sent before they did: again.
      if (this.waiting.length > 0) continue;
      const next = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([this.clock.sleep(this.sleepMs(), signal), next]);
      this.wake = null;
    }
    this.answerWaiting();
  }

  /** A tick, then what the deadlines say (a lease a failed renewal left past its deadline is given up). */
  private async round(): Promise<void> {
    await this.tickSafely();
    await this.enforceDeadlines();
  }

  private async tickSafely(): Promise<boolean> {
    try {
      await this.tick();
      return true;
    } catch (error) {
      this.logger.warn(
        { err: error },
        'lease renewal failed; will stop sending at the lease deadline if it keeps failing',
      );
      return false;
    }
  }

  /**
   * Sleep until the next tick — or, if it comes first, the next deadline, or the moment another worker's lease runs
   * out (a worker that died stops renewing: its bots are taken the instant they are free, not a tick later).
   */
  private sleepMs(): number {
    let ms = this.options.renewMs;
    const now = this.clock.now();
    for (const h of this.held.values()) ms = Math.min(ms, Math.max(0, h.deadline - now));
    if (this.nextExpiryAt !== null) ms = Math.min(ms, Math.max(0, this.nextExpiryAt - now));
    return ms;
  }

  /**
   * One renewal. An answer that comes back past its own deadline (the process stalled while it was on its way)
   * proves nothing about now: it is asked again at once, before anything else is decided on it.
   */
  private async renew(): Promise<{ r: Renewal; held: { botId: string; epoch: number }[] }> {
    const { workerId, host, pid, leaseMs, renewMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      const sentAt = this.clock.now();
      const held = [...this.held].map(([botId, h]) => ({ botId, epoch: h.epoch }));
      const r = await this.store.renew({ id: workerId, host, pid }, held, leaseMs, ORPHAN_FACTOR * renewMs);
      const answeredAt = this.clock.now();
      const deadline = sentAt + leaseMs - this.margin;
      for (const g of r.renewed) {
        // A lease given back or lost while the renewal was on its way stays gone.
        if (this.held.get(g.botId)?.epoch === g.epoch) this.held.set(g.botId, { epoch: g.epoch, deadline });
      }
      // The database's clock against ours (half the round trip either way), to wake when another lease runs out.
      const offset = r.now - (sentAt + answeredAt) / 2;
      // A couple of milliseconds late, so that the lease has surely run out by the database's clock.
      this.nextExpiryAt = r.nextExpiry === null ? null : r.nextExpiry - offset + 2;
      if (answeredAt < deadline || attempt === 2) return { r, held };
    }
  }

  async tick(): Promise<void> {
    this.stats.ticks++;
    const { workerId, leaseMs, renewMs } = this.options;
    const { r, held } = await this.renew();
    const renewed = new Map(r.renewed.map((g) => [g.botId, g]));
    // Lanes that waited for this renewal go on (or stop) before any runner is stopped below: stopping one waits for
    // its lanes.
    this.answerWaiting();
    for (const h of held) {
      // Not renewed: lost — unless it was given back, or claimed anew, while the renewal was on its way.
      if (!renewed.has(h.botId) && this.held.get(h.botId)?.epoch === h.epoch) await this.lose(h.botId);
    }

    // Renewal also re-reads the desired state (in case a NOTIFY was missed).
    for (const [botId, g] of renewed) if (g.desired !== 'running') await this.stopped(botId);
    // A runner that ended with an error is restarted by the runtime; one that is missing is started again.
    for (const [botId, h] of this.held) {
      if (!this.runtime.isRunning(botId)) this.runtime.startBot(botId, this.lease(botId, h.epoch));
    }

    // A stopped bot's cycle that nobody will finish (a stop that raced a hand-over) is closed by any worker.
    if (r.orphanedCycles) {
      const closed = await this.store.closeOrphanedCycles();
      if (closed.length > 0)
        this.logger.info({ botIds: closed }, 'closed the cycles of stopped bots nobody held');
    }

    const share = Math.ceil(r.runningBots / Math.max(1, r.liveWorkers));
    const slack = this.options.slack ?? 1;
    const perTick = this.options.maxClaimsPerTick ?? Math.max(2, Math.ceil(share / 2));
    // A dead worker's bots are taken whatever the share: a bot without an owner posts nothing, while an uneven
    // share costs nothing and is evened out by rebalancing (which keeps the bots running until they move).
    const want = Math.min(Math.max(share + slack - this.held.size, r.abandoned), perTick);
    if (this.held.size > share + slack && r.abandoned === 0) {
      await this.rebalance(this.held.size - share);
    } else if (r.claimable === 0) {
      // Nothing to take: no claim statement.
    } else if (want > 0) {
      const claimAt = this.clock.now();
      await this.take(await this.store.claim(workerId, want, leaseMs), claimAt);
    } else if (r.orphans > 0) {
      // At the share, but a bot nobody has taken for a while (its worker died before claiming, or the count of
      // live workers is stale) must not wait: take one orphan a tick.
      const claimAt = this.clock.now();
      await this.take(
        await this.store.claim(workerId, 1, leaseMs, { freeForMs: ORPHAN_FACTOR * renewMs }),
        claimAt,
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
    this.answerWaiting();
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
    this.answerWaiting();
  }

  private pastDeadline(): string[] {
    const now = this.clock.now();
    return [...this.held].filter(([, h]) => h.deadline <= now).map(([id]) => id);
  }

  /** Past a deadline without renewal: stop sending for that bot now, whatever the database says later. */
  private async enforceDeadlines(): Promise<void> {
    const past = this.pastDeadline();
    // All dropped first, so that no lane of one waits for a renewal while another's runner is being stopped.
    for (const botId of past) this.drop(botId, 'lost');
    await Promise.all(past.map((botId) => this.runtime.stopBot(botId, 'suspend')));
  }

  /** Graceful shutdown: calls on the wire finish, then every lease is released at once for the others. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.answerWaiting();
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
