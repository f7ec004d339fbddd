/**
 * The composition root: one Stagger process. `stagger serve` runs the API and the runtime on one database;
 * only the Clock, the Gateway and the repositories differ from `stagger simulate` and the tests.
 */
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { SystemClock, type Clock } from './runtime/clock.js';
import { Runtime } from './runtime/runtime.js';
import type { RuntimeStore } from './runtime/store.js';
import { openStore, type Store } from './storage/store.js';
import { GatewayRouter, type Gateway } from './telegram/gateway.js';
import { SandboxGateway } from './telegram/sandbox/sandbox-gateway.js';

export interface ServiceOptions {
  /** Run bots in this process (the default; `serve --no-worker` turns it off). */
  runtime?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** Seams for tests that must reach inside (crash points); production passes none. */
  hooks?: {
    wrapRuntimeStore?: (store: RuntimeStore) => RuntimeStore;
    wrapGateway?: (gateway: Gateway) => Gateway;
  };
}

const HOUR = 3600_000;

export class Service {
  private readonly stopping = new AbortController();
  private closed: Promise<void> | null = null;

  private constructor(
    readonly config: Config,
    readonly store: Store,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly gateway: Gateway,
    readonly runtime: Runtime | null,
  ) {}

  static async start(config: Config, options: ServiceOptions = {}): Promise<Service> {
    const logger = options.logger ?? createLogger({ level: config.logLevel });
    const clock = options.clock ?? new SystemClock();
    const store = await openStore({
      dataDir: config.dataDir,
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      secretKey: config.secretKey,
    });
    for (const m of store.migrations?.results ?? [])
      logger.info({ migration: m.name, status: m.status }, 'migration');
    const sandbox = new SandboxGateway({
      clock,
      store: store.sandbox,
      latencyMs: { min: config.sandbox.latencyMs, max: config.sandbox.latencyMs },
      flood: { burst: config.sandbox.floodBurst, refillPerSecond: config.sandbox.floodPerSecond },
    });
    let gateway: Gateway = new GatewayRouter({ sandbox });
    if (options.hooks?.wrapGateway) gateway = options.hooks.wrapGateway(gateway);
    let runtime: Runtime | null = null;
    if (options.runtime !== false) {
      const runtimeStore = options.hooks?.wrapRuntimeStore
        ? options.hooks.wrapRuntimeStore(store.runtime)
        : store.runtime;
      runtime = new Runtime({
        clock,
        gateway,
        store: runtimeStore,
        logger: logger.child({ part: 'runtime' }),
      });
      runtime.events.on((event) => {
        if (event.type.startsWith('post.')) return;
        logger.info({ event }, event.type);
      });
    }
    const service = new Service(config, store, logger, clock, gateway, runtime);
    logger.info(
      { database: store.description, dialect: store.dialect, runtime: runtime !== null },
      'storage ready',
    );
    if (runtime) {
      const resumed = await runtime.resumeAll();
      logger.info({ bots: resumed }, 'resumed running bots');
    }
    void service.retentionLoop();
    return service;
  }

  /** Prunes old post history in the background; counters stay. */
  private async retentionLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        const removed = await this.store.bots.prunePosts(
          this.clock.now() - this.config.retentionDays * 24 * HOUR,
        );
        if (removed > 0) this.logger.info({ removed, days: this.config.retentionDays }, 'pruned old posts');
      } catch (error) {
        this.logger.warn({ err: error }, 'pruning old posts failed; will try again');
      }
      if (!(await this.clock.sleep(HOUR, signal))) return;
    }
  }

  /** Graceful: calls on the wire finish, cycles stay `running` and resume on the next start. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping.abort();
      await this.runtime?.close();
      await this.gateway.close();
      await this.store.close();
      this.logger.info('stopped');
    })();
    return this.closed;
  }
}
