/**
 * How Stagger builds an mtcute client: one place, so the gateway, the login flow, the session check and the offline
 * test harness all run the same configuration.
 *
 * - `disableUpdates: true`: Stagger only sends; it never listens to updates.
 * - The library never waits through a limit: the flood waiter is kept (it turns a stored wait into an error) but with
 *   `maxWait: 0` and `store: false`, so a FLOOD_WAIT / SLOWMODE_WAIT / FLOOD_PREMIUM_WAIT comes straight back as an
 *   error and the scheduler decides. Calls also pass `floodSleepThreshold: 0` (see `NO_FLOOD_SLEEP`).
 * - Internal server errors (5xx, -503) are retried at most 3 times by the library (same request, so the same
 *   random_id), 1 s apart; after that the error comes back and the runtime's own bounded retries take over.
 *   (mtcute 0.30.3 also sleeps 1 s after the last attempt: a 5xx answer arrives about 4 s after the call.)
 *   RANDOM_ID_DUPLICATE is a 500 too, but it is an answer (the message is already there): never retried.
 * - Storage is in memory: the auth key comes from Stagger's database on every start, and peers from the PeerCache.
 */
import {
  MemoryStorage,
  networkMiddlewares,
  type RpcCallMiddleware,
  type RpcCallOptions,
  type TelegramTransport,
} from '@mtcute/core';
import { LogManager } from '@mtcute/core/utils.js';
import { TelegramClient } from '@mtcute/node';

export interface ClientParams {
  apiId: number;
  apiHash: string;
  /** The session is for Telegram's test servers. */
  testMode?: boolean;
}

export type ClientFactory = (params: ClientParams) => TelegramClient;

/** The pino-like logger the Telegram modules write to. */
export interface TelegramLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** Per-call options: never sleep on a flood wait, whatever the middleware defaults are. */
export const NO_FLOOD_SLEEP = { floodSleepThreshold: 0 } as const satisfies RpcCallOptions;

/** The network middlewares of every Stagger client (the offline harness appends its stub after these). */
export function staggerNetworkMiddlewares(): RpcCallMiddleware[] {
  return networkMiddlewares.basic({
    floodWaiter: { maxWait: 0, store: false },
    internalErrors: { maxRetries: 3, exceptErrors: ['RANDOM_ID_DUPLICATE'] },
  });
}

export interface BuildClientOptions {
  /** Replaces the TCP transport (tests). */
  transport?: TelegramTransport;
  /** Replaces the middlewares (tests append a stub to `staggerNetworkMiddlewares()`). */
  middlewares?: RpcCallMiddleware[];
  storage?: MemoryStorage;
  logger?: TelegramLogger;
  /** mtcute log level (LogManager.OFF … VERBOSE). Default WARN. */
  logLevel?: number;
}

/** A send-only client with Stagger's network configuration and in-memory storage. Not connected yet. */
export function buildClient(params: ClientParams, options: BuildClientOptions = {}): TelegramClient {
  const tg = new TelegramClient({
    apiId: params.apiId,
    apiHash: params.apiHash,
    ...(params.testMode ? { testMode: true } : {}),
    storage: options.storage ?? new MemoryStorage(),
    ...(options.transport ? { transport: options.transport } : {}),
    disableUpdates: true,
    network: { middlewares: options.middlewares ?? staggerNetworkMiddlewares() },
  });
  const manager = tg.log.mgr;
  manager.level = options.logLevel ?? LogManager.WARN;
  if (options.logger) bridgeLogs(manager, options.logger);
  return tg;
}

/** The default factory: a real TCP client. */
export const createDefaultClient: ClientFactory = (params) => buildClient(params);

/** Shortens what mtcute logs to plain text: no objects, no byte arrays (nothing that could hold a key). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 197)}...` : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Error) return `${value.name}: ${describe(value.message)}`;
  if (value === null || value === undefined) return String(value);
  return '[object]';
}

/**
 * mtcute formats `%j`/`%h` itself before the handler sees the line, printing byte arrays as hex: long hex and
 * base64 runs (keys, session data) are cut out.
 */
function redact(text: string): string {
  return text.replace(/[0-9a-fA-F]{32,}/g, '[hex]').replace(/[A-Za-z0-9+/_-]{64,}={0,2}/g, '[data]');
}

function bridgeLogs(manager: LogManager, logger: TelegramLogger): void {
  manager.handler = (_color, level, tag, fmt, args) => {
    let index = 0;
    const text = redact(fmt.replace(/%[a-zA-Z]/g, () => describe(args[index++])));
    const entry = { component: 'mtcute', tag };
    if (level <= LogManager.ERROR) logger.error(entry, text);
    else if (level === LogManager.WARN) logger.warn(entry, text);
    else logger.info(entry, text);
  };
}
