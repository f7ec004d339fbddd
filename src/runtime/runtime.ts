/**
 * The runtime: runs many bots at once in this process. One `BotRunner` per running bot; a runner that fails
 * (the database went away) is restarted after a backoff and resumes from the store. Everything that touches time
 * goes through the injected Clock; everything that touches Telegram goes through the Gateway.
 */
import type { Gateway } from '../telegram/gateway.js';
import { silentLogger, type Logger } from '../logger.js';
import { BotRunner, type RunnerExit, type StopMode } from './bot-runner.js';
import type { Clock } from './clock.js';
import { EventBus } from './events.js';
import type { Lease } from './lease.js';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from './options.js';
import { CryptoRandom, type RandomSource } from './random.js';
import type { RuntimeStore } from './store.js';
import { Turns } from './turns.js';
import { WriteBatcher } from './write-batcher.js';

export type RunnerExitListener = (botId: string, exit: RunnerExit | 'error') => void;

export interface RuntimeDeps {
  clock: Clock;
  gateway: Gateway;
  store: RuntimeStore;
  random?: RandomSource;
  options?: Partial<RuntimeOptions>;
  logger?: Logger;
  events?: EventBus;
}

export class Runtime {
  readonly events: EventBus;
  readonly batcher: WriteBatcher;
  private readonly turns: Turns;
  readonly options: RuntimeOptions;
  private readonly deps: RuntimeDeps & { random: RandomSource; logger: Logger };
  private readonly runners = new Map<string, BotRunner>();
  private readonly leases = new Map<string, Lease | null>();
  private readonly closing = new AbortController();
  private readonly exitListeners = new Set<RunnerExitListener>();

  constructor(deps: RuntimeDeps) {
    this.options = { ...DEFAULT_RUNTIME_OPTIONS, ...deps.options };
    this.deps = { ...deps, random: deps.random ?? new CryptoRandom(), logger: deps.logger ?? silentLogger };
    this.events =
      deps.events ?? new EventBus((error) => this.deps.logger.error({ err: error }, 'event listener failed'));
    this.batcher = new WriteBatcher(deps.store, deps.clock);
    this.turns = new Turns(deps.clock);
  }

  isRunning(botId: string): boolean {
    return this.runners.has(botId);
  }

  runningBotIds(): string[] {
    return [...this.runners.keys()];
  }

  /** Tells `listener` whenever a runner ends (and why); returns the unsubscribe function. */
  onExit(listener: RunnerExitListener): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Starts the bot's runner; a no-op (false) when it already runs here, or the lease no longer holds. */
  startBot(botId: string, lease: Lease | null = null): boolean {
    if (this.closing.signal.aborted || this.runners.has(botId)) return false;
    if (lease && !lease.holds()) return false;
    const runner = new BotRunner(
      {
        clock: this.deps.clock,
        gateway: this.deps.gateway,
        store: this.deps.store,
        batcher: this.batcher,
        events: this.events,
        random: this.deps.random,
        options: this.options,
        logger: this.deps.logger,
        turns: this.turns,
      },
      botId,
      lease,
    );
    this.runners.set(botId, runner);
    this.leases.set(botId, lease);
    runner.start().then(
      (exit) => this.ended(botId, runner, exit),
      (error: unknown) => this.failed(botId, runner, error),
    );
    return true;
  }

  /** Stops the bot here. `cancel` (a customer's stop) cancels the rest of the cycle; `suspend` keeps it. */
  async stopBot(botId: string, mode: StopMode = 'cancel'): Promise<void> {
    const runner = this.runners.get(botId);
    if (!runner) return;
    await runner.stop(mode);
  }

  /** Starts every bot whose desired state is running (one process owns them all: the SQLite default). */
  async resumeAll(): Promise<number> {
    const ids = await this.deps.store.listRunningBotIds();
    let started = 0;
    for (const id of ids) if (this.startBot(id)) started++;
    return started;
  }

  /** Graceful: the calls on the wire finish, cycles stay `running` in the store and resume on the next start. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.runners.values()].map((r) => r.stop('suspend')));
    await this.batcher.drain();
  }

  private ended(botId: string, runner: BotRunner, exit: RunnerExit | 'error'): void {
    if (this.runners.get(botId) === runner) this.runners.delete(botId);
    // A bot that stops running here closes its Telegram connections (a new owner may connect next).
    for (const sessionId of runner.sessionIds())
      void this.deps.gateway.release(sessionId).catch(() => undefined);
    for (const listener of this.exitListeners) listener(botId, exit);
  }

  private failed(botId: string, runner: BotRunner, error: unknown): void {
    this.deps.logger.error({ err: error, botId }, 'bot runner failed; restarting it after a backoff');
    this.ended(botId, runner, 'error');
    if (runner.signal.aborted) return;
    const lease = this.leases.get(botId) ?? null;
    void this.deps.clock.sleep(this.options.restartBackoffMs, this.closing.signal).then((waited) => {
      if (waited) this.startBot(botId, lease);
    });
  }
}
