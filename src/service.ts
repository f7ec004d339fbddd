/**
 * The composition root: one Stagger process. `stagger serve` runs the API and the runtime on one database;
 * only the Clock, the Gateway and the repositories differ from `stagger simulate` and the tests.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './http/app.js';
import type { SessionServices } from './http/deps.js';
import { createLogger, type PinoLogger } from './logger.js';
import { closeInOrder } from './shutdown.js';
import { LocalBotControl, type BotControl } from './runtime/bot-control.js';
import { SystemClock, type Clock } from './runtime/clock.js';
import { EventBus } from './runtime/events.js';
import { Runtime } from './runtime/runtime.js';
import type { RuntimeStore } from './runtime/store.js';
import { openDatabase, type Database } from './storage/database.js';
import { openStore, type Store } from './storage/store.js';
import { GatewayRouter, type Gateway } from './telegram/gateway.js';
import type { ClientParams } from './telegram/mtcute/client-factory.js';
import { LoginManager } from './telegram/mtcute/login.js';
import { MtcuteGateway, type MtcuteGatewayOptions } from './telegram/mtcute/mtcute-gateway.js';
import { checkSession } from './telegram/mtcute/session-check.js';
import { SandboxGateway } from './telegram/sandbox/sandbox-gateway.js';
import type { SandboxStore } from './telegram/sandbox/sandbox-store.js';
import type { TelegramClient } from '@mtcute/node';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LeaseKeeper } from './runtime/lease-keeper.js';
import { LeaseRepository } from './storage/leases.js';
import {
  CONTROL_CHANNEL,
  EventRelay,
  NotifyBotControl,
  parseControl,
  PgListener,
} from './storage/pg-channel.js';

export interface ServiceOptions {
  /** Run bots in this process (the default; `serve --no-worker` turns it off). */
  runtime?: boolean;
  /** Serve the HTTP API (and the dashboard) on config.host:config.port. */
  api?: boolean;
  logger?: PinoLogger;
  clock?: Clock;
  /** Replaces the real mtcute client (offline tests use the network-layer harness). */
  telegramClientFactory?: (params: ClientParams) => TelegramClient;
  /** Seams for tests that must reach inside (crash points); production passes none. */
  hooks?: {
    wrapRuntimeStore?: (store: RuntimeStore) => RuntimeStore;
    wrapGateway?: (gateway: Gateway) => Gateway;
    wrapSandboxStore?: (store: SandboxStore) => SandboxStore;
  };
}

const HOUR = 3600_000;
/** How long a shutdown waits for the parts to close before it lets the process go. */
const CLOSE_WITHIN_MS = 10_000;

/**
 * The real Telegram gateway on the store: session strings (decrypted) and API credentials from the sessions
 * table (the deployment's API id/hash where a session has none), the peer cache, and renewed auth strings
 * written back.
 */
export function storedMtcuteGateway(
  store: Store,
  config: Config,
  options: Pick<MtcuteGatewayOptions, 'logger' | 'createClient'> = {},
): MtcuteGateway {
  return new MtcuteGateway({
    ...options,
    credentials: {
      get: async (sessionId) => {
        const c = await store.sessions.credentials(sessionId);
        const apiId = c?.apiId ?? config.telegram.apiId;
        const apiHash = c?.apiHash ?? config.telegram.apiHash;
        return c && apiId && apiHash ? { authString: c.authString, apiId, apiHash } : null;
      },
    },
    peers: {
      get: (sessionId, key) => store.sessions.peerCacheGet(sessionId, key),
      put: (sessionId, key, value) => store.sessions.peerCachePut(sessionId, key, value),
    },
    onAuthStringChanged: (sessionId, authString) => store.sessions.updateAuthString(sessionId, authString),
    onFreezeChanged: (sessionId, freeze) => store.sessions.setFreeze(sessionId, freeze),
  });
}

export class Service {
  private readonly stopping = new AbortController();
  private closed: Promise<void> | null = null;
  app: FastifyInstance | null = null;
  /** http://host:port once the API listens. */
  url: string | null = null;
  /** Scale-out (PostgreSQL): this process's share of the bots, and the channels to the other processes. */
  keeper: LeaseKeeper | null = null;
  private listener: PgListener | null = null;
  private relay: EventRelay | null = null;
  /** The lease keeper's own connections: a renewal never waits behind the posts' work for one of the pool's. */
  private leaseDatabase: Database | null = null;

  private constructor(
    readonly config: Config,
    readonly store: Store,
    readonly logger: PinoLogger,
    readonly clock: Clock,
    readonly gateway: Gateway,
    readonly runtime: Runtime | null,
    readonly events: EventBus,
    readonly login: LoginManager,
  ) {}

  static async start(config: Config, options: ServiceOptions = {}): Promise<Service> {
    const logger = options.logger ?? createLogger({ level: config.logLevel });
    const clock = options.clock ?? new SystemClock();
    // Every stamp the repositories write comes from the service's one clock.
    const store = await openStore({
      dataDir: config.dataDir,
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      secretKey: config.secretKey,
      now: () => clock.now(),
    });
    for (const m of store.migrations?.results ?? [])
      logger.info({ migration: m.name, status: m.status }, 'migration');

    const telegramLogger = logger.child({ part: 'telegram' });
    const sandbox = new SandboxGateway({
      clock,
      store: options.hooks?.wrapSandboxStore ? options.hooks.wrapSandboxStore(store.sandbox) : store.sandbox,
      latencyMs: { min: config.sandbox.latencyMs, max: config.sandbox.latencyMs },
      flood: { burst: config.sandbox.floodBurst, refillPerSecond: config.sandbox.floodPerSecond },
    });
    const mtcute = storedMtcuteGateway(store, config, {
      logger: telegramLogger,
      ...(options.telegramClientFactory ? { createClient: options.telegramClientFactory } : {}),
    });
    let gateway: Gateway = new GatewayRouter({ sandbox, mtcute });
    if (options.hooks?.wrapGateway) gateway = options.hooks.wrapGateway(gateway);

    const events = new EventBus((error) => logger.error({ err: error }, 'event listener failed'));
    let runtime: Runtime | null = null;
    if (options.runtime !== false) {
      const runtimeStore = options.hooks?.wrapRuntimeStore
        ? options.hooks.wrapRuntimeStore(store.runtime)
        : store.runtime;
      runtime = new Runtime({
        clock,
        gateway,
        store: runtimeStore,
        events,
        logger: logger.child({ part: 'runtime' }),
      });
      events.on((event) => {
        if (!event.type.startsWith('post.')) logger.info({ event }, event.type);
      });
    }
    const login = new LoginManager({
      clock,
      ...(config.telegram.apiId ? { apiId: config.telegram.apiId } : {}),
      ...(config.telegram.apiHash ? { apiHash: config.telegram.apiHash } : {}),
      ...(options.telegramClientFactory ? { createClient: options.telegramClientFactory } : {}),
      logger: telegramLogger,
    });
    const service = new Service(config, store, logger, clock, gateway, runtime, events, login);
    logger.info(
      { database: store.description, dialect: store.dialect, runtime: runtime !== null },
      'storage ready',
    );
    let control: BotControl;
    try {
      if (store.dialect === 'postgres') {
        control = await service.joinCluster(options);
      } else {
        // One process owns every bot (SQLite): resume them all, and act on start/stop directly.
        if (runtime) logger.info({ bots: await runtime.resumeAll() }, 'resumed running bots');
        control = new LocalBotControl(runtime);
      }
      void service.retentionLoop();
      if (options.api) await service.listen(control, options);
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  /**
   * PostgreSQL: the runtime runs only the bots this process holds leases for (any number of processes may run),
   * start/stop reach the owner by NOTIFY, and events are relayed so every API node's live views see every bot.
   */
  private async joinCluster(options: ServiceOptions): Promise<BotControl> {
    const listener = new PgListener(this.config.databaseUrl!, this.logger);
    const relay = new EventRelay(this.store.db, this.logger);
    this.listener = listener;
    this.relay = relay;
    if (this.runtime) {
      const pid = process.pid;
      this.leaseDatabase = await openDatabase({
        url: this.config.databaseUrl,
        dataDir: this.config.dataDir,
        // Two: a claim for a bot just started (NOTIFY) may run beside a tick.
        poolSize: 2,
        statements: this.store.statements ?? undefined,
        countAs: 'leases',
      });
      this.keeper = new LeaseKeeper(
        new LeaseRepository(this.leaseDatabase.db, this.store.dialect, () => this.clock.now()),
        this.runtime,
        this.clock,
        {
          workerId: `${hostname()}-${pid}-${randomBytes(3).toString('hex')}`,
          host: hostname(),
          pid,
          leaseMs: this.config.lease.seconds * 1000,
          renewMs: this.config.lease.renewSeconds * 1000,
        },
        this.logger.child({ part: 'leases' }),
      );
      const keeper = this.keeper;
      listener.on(CONTROL_CHANNEL, (payload) => {
        const message = parseControl(payload);
        if (!message) return;
        const react =
          message.desired === 'stopped' ? keeper.stopped(message.botId) : keeper.started(message.botId);
        react.catch((error: unknown) =>
          this.logger.warn({ err: error, botId: message.botId }, 'reacting to a start/stop failed'),
        );
      });
      relay.publish(this.events);
    }
    if (options.api) relay.receive(listener, this.events);
    await listener.connect();
    if (this.keeper) {
      await this.keeper.start();
      this.logger.info({ worker: this.keeper.workerId }, 'joined the cluster');
    }
    return new NotifyBotControl(this.store.db);
  }

  private async listen(control: BotControl, options: ServiceOptions): Promise<void> {
    const leases =
      this.store.dialect === 'postgres'
        ? new LeaseRepository(this.store.db, this.store.dialect, () => this.clock.now())
        : null;
    const aliveWithin = this.config.lease.seconds * 1000;
    const sessions: SessionServices = {
      login: this.login,
      check: (credentials) => checkSession(credentials, options.telegramClientFactory),
      defaultApi: this.config.telegram,
    };
    this.app = await buildApp({
      config: this.config,
      store: this.store,
      control,
      clock: this.clock,
      gateway: this.gateway,
      events: this.events,
      logger: this.logger.child({ part: 'http' }),
      sessions,
      ...(leases ? { cluster: () => leases.clusterView(aliveWithin) } : {}),
    });
    const address = await this.app.listen({ port: this.config.port, host: this.config.host });
    this.url = address.replace('://[::1]', '://localhost').replace('://127.0.0.1', '://127.0.0.1');
    this.logger.info({ url: this.url }, 'listening');
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

  /**
   * Graceful: stop taking requests, let the calls on the wire finish; cycles stay `running` in the store and
   * resume on the next start. Each part closes on its own — one that fails or hangs is logged and the rest still
   * close — and the whole is bounded (CLOSE_WITHIN_MS). Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping.abort();
      const parts: [string, { close(): Promise<unknown> } | null][] = [
        ['api', this.app],
        // Leases first: runners stop (calls on the wire finish) and every lease is released for the others at once.
        ['lease keeper', this.keeper],
        ['lease connections', this.leaseDatabase],
        ['runtime', this.runtime],
        ['event relay', this.relay],
        ['pg listener', this.listener],
        ['login manager', this.login],
        ['gateway', this.gateway],
        ['store', this.store],
      ];
      const notClosed = await closeInOrder(
        parts.flatMap(([name, part]) => (part ? [{ name, close: () => part.close() }] : [])),
        { clock: this.clock, withinMs: CLOSE_WITHIN_MS, logger: this.logger },
      );
      if (notClosed.length === 0) this.logger.info('stopped');
      else this.logger.warn({ notClosed }, 'stopped; some parts did not close');
    })();
    return this.closed;
  }
}
