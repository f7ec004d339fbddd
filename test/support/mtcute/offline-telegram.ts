/**
 * Offline Telegram for tests: real mtcute clients (real peer resolution, Stagger's middlewares, `RpcError.fromTl`)
 * whose requests are answered by a stub instead of Telegram.
 *
 * - Storage is `MemoryStorage`, pre-seeded with a fake 256-byte auth key for the default DC (a gateway replaces it
 *   with the key of its session string), so no key exchange is ever attempted.
 * - The transport hands out `FakeConnection`s from `@fuman/net` (0.0.20, the version mtcute 0.30.3 uses). Nothing
 *   reaches a socket. Its `read()` rejects once the connection is closed, so the reconnect loop ends on destroy.
 *   It can also play a data centre that refuses connects or never answers them (`transport.mode`).
 *   It carries `OFFLINE_TRANSPORT`; every client made here is checked to run on it (at creation and in
 *   `destroyAll`), since mtcute's node client would otherwise fall back to real TCP.
 * - The stub is the LAST network middleware, after `staggerNetworkMiddlewares()`: it answers by `ctx.request._`
 *   from a table (a result object, `{ _: 'mt_rpc_error', errorCode, errorMessage }`, or a function of the request
 *   that may also throw), and records every request it sees — retries by the library included.
 *
 * Call `destroyAll()` in `afterEach`: every client made here is destroyed, so vitest exits by itself.
 */
import { FakeConnection } from '@fuman/net';
import {
  IntermediatePacketCodec,
  MemoryStorage,
  TransportError,
  type RpcCallMiddleware,
  type TelegramTransport,
  type tl,
} from '@mtcute/core';
import { LogManager, readStringSession } from '@mtcute/core/utils.js';
import type { TelegramClient } from '@mtcute/node';
import { randomBytes } from 'node:crypto';
import type { VirtualClock } from '../../../src/runtime/clock.js';
import {
  buildClient,
  staggerNetworkMiddlewares,
  type ClientParams,
  type TelegramLogger,
} from '../../../src/telegram/mtcute/client-factory.js';

export interface RpcErrorAnswer {
  _: 'mt_rpc_error';
  errorCode: number;
  errorMessage: string;
}

export function rpcError(errorCode: number, errorMessage: string): RpcErrorAnswer {
  return { _: 'mt_rpc_error', errorCode, errorMessage };
}

export interface StubCallContext {
  /** Index of the client (in creation order) that made the request. */
  clientIndex: number;
  /** How many requests of this method the stub saw before this one (all clients). */
  attempt: number;
}

/**
 * Lets the request go on to mtcute's real connection (a FakeConnection that never answers): the call then ends
 * only by mtcute's own timeout or abort handling.
 */
export const PASS_THROUGH: unique symbol = Symbol('pass the request to the (silent) connection');

/**
 * A result object, an RPC error, `PASS_THROUGH`, or a function computing one of them (it may throw, e.g.
 * `new MtTimeoutError()`).
 */
export type StubAnswer =
  object | typeof PASS_THROUGH | ((request: tl.RpcMethod, context: StubCallContext) => unknown);

export interface RecordedRequest {
  method: string;
  request: tl.RpcMethod;
  clientIndex: number;
  at: number;
}

export interface OfflineTelegramOptions {
  answers?: Record<string, StubAnswer>;
  /** mtcute's log level for harness clients. Default OFF (tests assert; they do not read logs). */
  logLevel?: number;
  /** DC of the pre-seeded fake auth key. Default 2 (mtcute's default DC). */
  dcId?: number;
  /** Receives mtcute's log lines (at `logLevel`). */
  logger?: TelegramLogger;
}

/** Marks the harness's transport: a client of the offline kit must run on a transport that carries it. */
export const OFFLINE_TRANSPORT: unique symbol = Symbol('offline transport: no socket');

export function isOfflineTransport(transport: unknown): transport is NullTransport {
  return (
    typeof transport === 'object' &&
    transport !== null &&
    (transport as { [OFFLINE_TRANSPORT]?: unknown })[OFFLINE_TRANSPORT] === true
  );
}

/**
 * The transport mtcute itself holds for a client — the one its connections are made with, whatever the client was
 * given. (mtcute 0.30.3: `TelegramClient._client` is the BaseTelegramClient, `.mt.network._transport`.)
 */
export function transportOf(tg: TelegramClient): unknown {
  const base = tg._client as unknown as { mt?: { network?: { _transport?: unknown } } };
  return base.mt?.network?._transport;
}

/**
 * How the data centre answers a connect: `open` (the connection opens at once); `refused` (a closed port: each
 * connect fails at once, and mtcute tries again after its own waits); `never` (the data centre does not answer: a
 * connect stays pending, as a TCP connect to an address that drops packets does, until `failPending()`).
 */
export type ConnectMode = 'open' | 'refused' | 'never';

/** A transport whose connections never reach a socket. */
export class NullTransport implements TelegramTransport {
  readonly [OFFLINE_TRANSPORT] = true as const;
  readonly connections: FakeConnection[] = [];
  /** How connects made from now on go. */
  mode: ConnectMode = 'open';
  /** Connects asked for, in every mode. */
  attempts = 0;
  private readonly pending = new Set<(error: Error) => void>();

  async connect(dc: { ipAddress: string; port: number }): Promise<FakeConnection> {
    this.attempts++;
    const address = `${dc.ipAddress}:${dc.port}`;
    if (this.mode === 'refused') throw connectError('ECONNREFUSED', address);
    if (this.mode === 'never') {
      return new Promise<FakeConnection>((_resolve, reject) => {
        const fail = (error: Error): void => {
          this.pending.delete(fail);
          reject(error);
        };
        this.pending.add(fail);
      });
    }
    const connection = new FakeConnection(address);
    this.connections.push(connection);
    return connection;
  }

  /** Connects still waiting for the data centre (`never` mode). */
  get pendingConnects(): number {
    return this.pending.size;
  }

  /** The pending connects fail (as the system gives up on a TCP connect after its own timeout). */
  failPending(): void {
    for (const fail of [...this.pending]) fail(connectError('ETIMEDOUT', 'the data centre'));
  }

  packetCodec(): IntermediatePacketCodec {
    return new IntermediatePacketCodec();
  }

  closeAll(): void {
    this.failPending();
    for (const c of this.connections) c.close();
  }
}

function connectError(code: string, address: string): Error {
  return Object.assign(new Error(`connect ${code} ${address}`), { code });
}

export class OfflineTelegram {
  readonly requests: RecordedRequest[] = [];
  readonly clients: TelegramClient[] = [];
  /** Each client's storage, by creation index. */
  private readonly storages: MemoryStorage[] = [];
  readonly transport = new NullTransport();
  private readonly answers = new Map<string, StubAnswer>();
  /** Clients whose connection has opened (mtcute said `connected`). */
  private readonly opened = new Set<number>();
  private readonly logLevel: number;
  private readonly dcId: number;
  private readonly logger: TelegramLogger | undefined;

  constructor(options: OfflineTelegramOptions = {}) {
    for (const [method, answer] of Object.entries(options.answers ?? {})) this.answers.set(method, answer);
    this.logLevel = options.logLevel ?? LogManager.OFF;
    this.dcId = options.dcId ?? 2;
    this.logger = options.logger;
  }

  /** Sets the answer for a method (replacing any earlier one). */
  on(method: tl.RpcMethod['_'] | string, answer: StubAnswer): this {
    this.answers.set(method, answer);
    return this;
  }

  /** The requests of one method, in order. */
  calls<M extends tl.RpcMethod['_']>(method: M): Extract<tl.RpcMethod, { _: M }>[] {
    return this.requests
      .filter((r) => r.method === method)
      .map((r) => r.request as Extract<tl.RpcMethod, { _: M }>);
  }

  count(method: string): number {
    return this.requests.filter((r) => r.method === method).length;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  private stub(clientIndex: number): RpcCallMiddleware {
    return async (ctx, next) => {
      // A data centre that refuses or never answers connects answers no call either: the request waits in mtcute
      // for a connection, as it would for real (unless this client's connection opened before that).
      if (this.transport.mode !== 'open' && !this.opened.has(clientIndex)) return next(ctx);
      const method = ctx.request._;
      const attempt = this.count(method);
      this.requests.push({ method, request: ctx.request, clientIndex, at: performance.now() });
      const answer = this.answers.get(method);
      if (answer === undefined) {
        return rpcError(400, `STUB_NO_ANSWER_FOR_${method.replace(/\W/g, '_').toUpperCase()}`);
      }
      const result: unknown =
        typeof answer === 'function' ? await answer(ctx.request, { clientIndex, attempt }) : answer;
      return result === PASS_THROUGH ? next(ctx) : result;
    };
  }

  /** A client factory for the code under test (`createClient` option). */
  readonly createClient = (params: ClientParams): TelegramClient => {
    const storage = new MemoryStorage();
    storage.authKeys.set(this.dcId, randomBytes(256));
    const clientIndex = this.clients.length;
    const tg = buildClient(params, {
      storage,
      transport: this.transport,
      middlewares: [...staggerNetworkMiddlewares(), this.stub(clientIndex)],
      logLevel: this.logLevel,
      ...(this.logger ? { logger: this.logger } : {}),
    });
    // mtcute's node client defaults to TCP: a client that somehow did not get this transport would dial Telegram.
    if (transportOf(tg) !== this.transport) {
      throw new Error('OfflineTelegram: the client was built without the offline transport');
    }
    tg.onConnectionState.add((state) => {
      if (state === 'connected') this.opened.add(clientIndex);
    });
    this.clients.push(tg);
    this.storages.push(storage);
    return tg;
  };

  /**
   * What mtcute does on a transport -404 that reconnecting did not cure: it reports the TransportError on the
   * client's error channel, drops the auth key and makes a fresh one, which is not logged in. The key exchange is
   * not run: the fresh key is put straight into the client's storage, on its primary DC.
   */
  async resetAuthKey(clientIndex: number): Promise<void> {
    const tg = this.clients[clientIndex];
    const storage = this.storages[clientIndex];
    if (!tg || !storage) throw new Error(`no client #${clientIndex}`);
    const dcId = readStringSession(await tg.exportSession()).primaryDcs.main.id;
    tg.onError.emit(new TransportError(404));
    await storage.authKeys.set(dcId, randomBytes(256));
  }

  /** Throws unless every client made here runs on the offline transport. */
  assertOffline(): void {
    const online = this.clients.filter((tg) => !isOfflineTransport(transportOf(tg))).length;
    if (online > 0) throw new Error(`OfflineTelegram: ${online} client(s) not on the offline transport`);
  }

  /** Has the client (by creation index) been destroyed (its stop signal fired)? */
  /**
   * Clients whose connection is opening (the transport lets connects through, and it has neither opened nor been
   * destroyed): real I/O under way. When the transport refuses or never answers, nothing is opening by itself.
   */
  get connecting(): number {
    if (this.transport.mode !== 'open') return 0;
    return this.clients.filter((_, i) => !this.opened.has(i) && !this.isDestroyed(i)).length;
  }

  isDestroyed(index: number): boolean {
    const tg = this.clients[index];
    if (!tg) throw new Error(`no client #${index}`);
    return tg.stopSignal.aborted;
  }

  /**
   * Has the client's destroy been asked for? It may not have finished: mtcute ends a connection only once a connect
   * under way has settled (`isDestroyed` says when it has).
   */
  destroyRequested(index: number): boolean {
    const tg = this.clients[index];
    if (!tg) throw new Error(`no client #${index}`);
    return (tg._client as unknown as { destroyed: boolean }).destroyed;
  }

  /**
   * Destroys every client made here (idempotent) and closes the fake connections; then `assertOffline()`. Pending
   * connects fail first, and later ones at once, so that no destroy waits on a data centre that never answers.
   */
  async destroyAll(): Promise<void> {
    this.transport.mode = 'refused';
    const destroyed = Promise.all(this.clients.map((tg) => tg.destroy().catch(() => undefined)));
    this.transport.failPending();
    await destroyed;
    this.transport.closeAll();
    this.assertOffline();
  }
}

/**
 * Runs `work` on a virtual clock: the clock moves to its next timer whenever nothing else can happen first. A
 * connect is real I/O, so while one is under way the clock waits (in real time) for it instead of moving — moving it
 * would fire the pool's connect timeout before the connection had a chance to open.
 */
export async function onClock<T>(
  clock: VirtualClock,
  telegram: OfflineTelegram,
  work: Promise<T>,
): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    // Whatever is queued runs first (a client is made a few promises after the pool arms its connect timeout).
    await new Promise((r) => setTimeout(r, 1));
    if (!done && clock.nextAt !== undefined && telegram.connecting === 0) await clock.runUntil(clock.nextAt);
  }
  return work;
}

/**
 * Waits in real time (a connect, a destroy are real I/O) until `done()` holds; throws after `timeoutMs`. Polling
 * by timers rather than a count of event-loop turns: a cold client takes a varying number of turns to connect.
 */
export async function settles(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition never became true');
    await new Promise((r) => setTimeout(r, 1));
  }
}
