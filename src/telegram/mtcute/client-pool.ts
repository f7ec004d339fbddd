/**
 * One mtcute client per session: created and connected on first use, reused, released.
 *
 * - Concurrent first calls share one connect, and a new client for a session is only made once the previous one
 *   is fully destroyed, so this process never runs two clients on one auth key.
 * - A session that cannot run (no credentials, an unreadable string, no API id/hash, a failed connect) is
 *   answered, never thrown, and no client is kept for it: the next call tries again.
 * - An answer that says the key is dead closes the client at once.
 * - The auth key is persisted: when the client's session string differs from the stored one (Telegram moved the
 *   account to another DC, or gave it a new key), it is reported after the first call and again on release.
 * - Except once the key is known to be lost: after a dead-key answer, or a transport -404 (mtcute then drops the
 *   key and makes a fresh one that is not logged in), the client's key is never reported. Storing it would replace
 *   the customer's key with a useless one.
 * - A connect is done when the connection has opened (mtcute's `connect()` returns as soon as connecting has begun,
 *   and then reconnects on its own, forever). One that has not opened within `connectTimeoutMs` has failed: its
 *   client is destroyed (the only way to end mtcute's reconnect loop) and the call is answered CONNECT_TIMEOUT with
 *   `phase: 'connect'` — nothing was sent; the runtime decides when the session tries again.
 * - Waiting for a connect is cut short by the caller's abort signal (the caller is answered at once; the connect
 *   goes on for others), and `release()` gives a connect under way up and destroys its client. A destroy can take
 *   long while a TCP connect hangs (mtcute waits for it): it runs in the background, and only the session's next
 *   client waits for it.
 * - Once per connect, the account's app config is read for a freeze (freeze.ts) and reported; a frozen account
 *   gets no client: its calls are answered FROZEN_METHOD_INVALID, as Telegram would answer them, without being sent.
 */
import { readStringSession } from '@mtcute/core/utils.js';
import { TransportError } from '@mtcute/core';
import type { TelegramClient } from '@mtcute/node';
import { frozenAt, type FreezeState } from '../../core/freeze.js';
import { classifyError, type TelegramAnswer } from '../../core/outcome.js';
import { answerFromError, describeError } from './answers.js';
import type { ClientFactory, TelegramLogger } from './client-factory.js';
import { readFreeze } from './freeze.js';
import type { CredentialSource } from './session-credentials.js';
import type { TelegramClock } from './telegram-clock.js';

/** A session's connected client, as the calls made on it see it. */
export interface SessionClient {
  readonly sessionId: string;
  readonly tg: TelegramClient;
}

export interface ClientPoolOptions {
  credentials: CredentialSource;
  createClient: ClientFactory;
  logger: TelegramLogger;
  clock: TelegramClock;
  /** How long `release()` lets calls on the wire finish before closing. */
  releaseGraceMs: number;
  /**
   * A connect whose connection has not opened by then has failed (the wait for the session's previous client to
   * close counts in). Reading the app config after it has its own bound of the same length. Default 20 s.
   */
  connectTimeoutMs?: number | undefined;
  /** Called when the session's key or DC changed. */
  onAuthStringChanged?: ((sessionId: string, authString: string) => Promise<void>) | undefined;
  /** Called once per connect with the freeze the account's app config describes (null: none). */
  onFreezeChanged?: ((sessionId: string, freeze: FreezeState | null) => Promise<void>) | undefined;
}

interface ClientEntry extends SessionClient {
  /** The auth string the client runs on (updated when a change was reported). */
  authString: string;
  authChecked: boolean;
  /** The key was lost (dead-key answer, transport -404): whatever key the client now holds is never stored. */
  keyLost: boolean;
  inflight: Set<Promise<unknown>>;
}

/** A client, or the answer for the call instead (with the destroy of the client that could not be used). */
type Acquired = { entry: ClientEntry } | { answer: TelegramAnswer; closing?: Promise<void> };

/** A session's client being made or made, and what gives up its connect. */
interface Slot {
  acquired: Promise<Acquired>;
  connecting: AbortController;
}

/**
 * A healthy data centre opens a connection in well under a second; twenty seconds covers a slow network and
 * mtcute's first reconnects (it retries at once, then after 1, 2, 3… s).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

const SESSION_UNUSABLE: TelegramAnswer = { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 };
const CONNECT_TIMEOUT: TelegramAnswer = { ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' };
const CONNECT_FAILED: TelegramAnswer = { ok: false, error: 'CONNECT_FAILED', phase: 'connect' };
/** What Telegram answers a frozen account's calls; the pool answers it without sending them. */
const FROZEN: TelegramAnswer = { ok: false, error: 'FROZEN_METHOD_INVALID', code: 420 };
/** A wait cut short by a stop: nothing was sent; transient, as any aborted call (the caller is stopping anyway). */
const STOPPED: TelegramAnswer = { ok: false, error: 'NETWORK_ERROR' };

type Interrupt = 'timeout' | 'cancelled';

function isAnswer(acquired: Acquired): acquired is { answer: TelegramAnswer; closing?: Promise<void> } {
  return 'answer' in acquired;
}

/** `promise`, or null as soon as `signal` aborts (the promise itself goes on). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = (): void => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Resolves when the connect's time is up (`deadline` says true) or it is given up (`cancel`); else never. */
function interruption(deadline: Promise<boolean>, cancel: AbortSignal): Promise<Interrupt> {
  return new Promise<Interrupt>((resolve) => {
    if (cancel.aborted) {
      resolve('cancelled');
      return;
    }
    cancel.addEventListener('abort', () => resolve('cancelled'), { once: true });
    void deadline.then((expired) => {
      if (expired) resolve('timeout');
    });
  });
}

/** Same key on the same DC: nothing to persist. */
function sameSession(a: string, b: string): boolean {
  try {
    const x = readStringSession(a);
    const y = readStringSession(b);
    const dx = x.primaryDcs.main;
    const dy = y.primaryDcs.main;
    return (
      Buffer.from(x.authKey).equals(Buffer.from(y.authKey)) &&
      dx.id === dy.id &&
      dx.ipAddress === dy.ipAddress &&
      dx.port === dy.port &&
      Boolean(dx.testMode) === Boolean(dy.testMode)
    );
  } catch {
    return false;
  }
}

export class ClientPool {
  private readonly options: ClientPoolOptions;
  private readonly connectTimeoutMs: number;
  private readonly clients = new Map<string, Slot>();
  private readonly closing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(options: ClientPoolOptions) {
    this.options = options;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /**
   * Runs `op` on the session's client. Never throws for Telegram or network trouble; throws once closed. `signal`
   * ends the wait for the session's connection (answered as a transient failure); a call on the wire finishes.
   */
  async run(
    sessionId: string,
    op: (client: SessionClient) => Promise<TelegramAnswer>,
    signal?: AbortSignal,
  ): Promise<TelegramAnswer> {
    const acquired = await unlessAborted(this.acquire(sessionId), signal);
    if (acquired === null) return STOPPED;
    if (isAnswer(acquired)) return acquired.answer;
    const { entry } = acquired;
    const task = op(entry).catch((error: unknown) => {
      this.options.logger.warn({ sessionId, ...describeError(error) }, 'telegram call failed');
      return answerFromError(error);
    });
    entry.inflight.add(task);
    try {
      const answer = await task;
      this.afterCall(entry, answer);
      return answer;
    } finally {
      entry.inflight.delete(task);
    }
  }

  /**
   * Closes the session's client once the calls on the wire are done (at most `releaseGraceMs`); a connect under
   * way is given up and its client destroyed. Resolves when the client is gone. Idempotent.
   */
  async release(sessionId: string): Promise<void> {
    const slot = this.clients.get(sessionId);
    if (!slot) {
      await this.closing.get(sessionId);
      return;
    }
    this.clients.delete(sessionId);
    slot.connecting.abort();
    await this.track(sessionId, this.destroy(sessionId, slot.acquired));
  }

  /** Releases every client; later calls throw. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients.keys()].map((id) => this.release(id)));
    await Promise.all([...this.closing.values()]);
  }

  private acquire(sessionId: string): Promise<Acquired> {
    // The pool is the gateway's: this is what a caller of a closed gateway is told.
    if (this.closed) throw new Error('MtcuteGateway is closed');
    const existing = this.clients.get(sessionId);
    if (existing) return existing.acquired;
    const connecting = new AbortController();
    const slot: Slot = { acquired: this.open(sessionId, connecting.signal), connecting };
    this.clients.set(sessionId, slot);
    const forget = (): void => {
      if (this.clients.get(sessionId) === slot) this.clients.delete(sessionId);
    };
    slot.acquired.then((acquired) => {
      if (!isAnswer(acquired)) return;
      forget();
      // The session's next client waits until this one (which could not be used) is gone.
      if (acquired.closing) void this.track(sessionId, acquired.closing);
    }, forget);
    return slot.acquired;
  }

  /** Adds a client's closing to the session's: a new client of the session waits for all of them. */
  private track(sessionId: string, closing: Promise<void>): Promise<void> {
    const before = this.closing.get(sessionId);
    const all = before ? Promise.all([before, closing]).then(() => undefined) : closing;
    this.closing.set(sessionId, all);
    void all.then(() => {
      if (this.closing.get(sessionId) === all) this.closing.delete(sessionId);
    });
    return all;
  }

  private async open(sessionId: string, cancel: AbortSignal): Promise<Acquired> {
    const { logger, clock } = this.options;
    const { connectTimeoutMs } = this;
    const timer = new AbortController();
    const interrupt = interruption(clock.sleep(connectTimeoutMs, timer.signal), cancel);
    try {
      // The previous client of this session must be gone first: never two clients on one auth key.
      const previous = this.closing.get(sessionId);
      if (previous) {
        const waited = await Promise.race([previous, interrupt]);
        if (waited === 'cancelled') return { answer: STOPPED };
        if (waited === 'timeout') {
          logger.warn({ sessionId }, 'the session’s previous client is still closing; the connect gave up');
          return { answer: CONNECT_TIMEOUT };
        }
      }
      const creds = await this.options.credentials.get(sessionId);
      if (!creds) {
        logger.warn({ sessionId }, 'no credentials for the session; answering AUTH_KEY_UNREGISTERED');
        return { answer: SESSION_UNUSABLE };
      }
      let testMode: boolean;
      try {
        testMode = Boolean(readStringSession(creds.authString).primaryDcs.main.testMode);
      } catch {
        logger.warn({ sessionId }, 'the session string cannot be read; answering AUTH_KEY_UNREGISTERED');
        return { answer: SESSION_UNUSABLE };
      }
      if (!Number.isInteger(creds.apiId) || creds.apiId <= 0 || !creds.apiHash) {
        logger.warn({ sessionId }, 'the session has no API id/hash; answering AUTH_KEY_UNREGISTERED');
        return { answer: SESSION_UNUSABLE };
      }
      if (cancel.aborted) return { answer: STOPPED };
      const tg = this.options.createClient({
        apiId: creds.apiId,
        apiHash: creds.apiHash,
        ...(testMode ? { testMode } : {}),
      });
      const entry: ClientEntry = {
        sessionId,
        tg,
        authString: creds.authString,
        authChecked: false,
        keyLost: false,
        inflight: new Set(),
      };
      // Listening replaces mtcute's own logging of these errors, so they are logged here.
      tg.onError.add((error) => {
        if (error instanceof TransportError && error.code === 404) {
          entry.keyLost = true;
          logger.warn(
            { sessionId },
            'telegram dropped the auth key (transport -404); the stored key is kept',
          );
          return;
        }
        logger.warn({ sessionId, ...describeError(error) }, 'telegram client error');
      });
      try {
        await tg.importSession(creds.authString, true);
      } catch (error) {
        await tg.destroy().catch(() => undefined);
        logger.warn({ sessionId, ...describeError(error) }, 'the session string was refused by mtcute');
        return { answer: SESSION_UNUSABLE };
      }
      const opened = await Promise.race([
        this.connectAndOpen(tg).then(
          () => 'open' as const,
          (error: unknown) => ({ error }),
        ),
        interrupt,
      ]);
      if (opened !== 'open') {
        const closing = this.discard(sessionId, tg);
        if (opened === 'cancelled') return { answer: STOPPED, closing };
        if (opened === 'timeout') {
          logger.warn({ sessionId, timeoutMs: connectTimeoutMs }, 'the connection did not open in time');
          return { answer: CONNECT_TIMEOUT, closing };
        }
        logger.warn({ sessionId, ...describeError(opened.error) }, 'connecting failed');
        return { answer: CONNECT_FAILED, closing };
      }
      logger.info({ sessionId }, 'telegram client started');
      const refused = await this.checkFreeze(entry, cancel);
      if (refused) return { answer: refused, closing: this.discard(sessionId, tg) };
      if (cancel.aborted) return { answer: STOPPED, closing: this.discard(sessionId, tg) };
      return { entry };
    } finally {
      timer.abort();
    }
  }

  /** mtcute's `connect()` returns once connecting has begun: the connection is open when its state says so. */
  private async connectAndOpen(tg: TelegramClient): Promise<void> {
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const onState = (state: string): void => {
      if (state === 'connected') opened();
    };
    tg.onConnectionState.add(onState);
    try {
      await tg.connect();
      await open;
    } finally {
      tg.onConnectionState.remove(onState);
    }
  }

  /**
   * Reads the account's app config (once per connect) and reports its freeze. The answer to give instead of using
   * the client: FROZEN_METHOD_INVALID for a frozen account, or a dead key's error; null to go on. Anything else
   * that goes wrong here says nothing about a freeze: the client is used, and the next connect reads it again.
   */
  private async checkFreeze(entry: ClientEntry, cancel: AbortSignal): Promise<TelegramAnswer | null> {
    const { logger, clock, onFreezeChanged } = this.options;
    const { connectTimeoutMs } = this;
    const { sessionId } = entry;
    let freeze: FreezeState | null | 'unknown';
    try {
      freeze = await readFreeze(entry.tg, { timeoutMs: connectTimeoutMs, signal: cancel });
    } catch (error) {
      const answer = answerFromError(error);
      if (!answer.ok && classifyError(answer.error, answer.code).kind === 'session_dead') {
        entry.keyLost = true;
        logger.warn({ sessionId, error: answer.error }, 'session is dead (reading its app config)');
        return answer;
      }
      logger.warn({ sessionId, ...describeError(error) }, 'reading the app config failed; freeze unknown');
      return null;
    }
    if (freeze === 'unknown') return null;
    if (onFreezeChanged) {
      try {
        await onFreezeChanged(sessionId, freeze);
      } catch (error) {
        logger.warn({ sessionId, ...describeError(error) }, 'could not report the freeze state');
      }
    }
    if (!frozenAt(freeze, clock.now())) return null;
    logger.warn({ sessionId }, 'the account is frozen by Telegram; nothing is sent from it');
    return FROZEN;
  }

  /** Destroys a client that will not be used, in the background; resolves when it is gone. Never rejects. */
  private discard(sessionId: string, tg: TelegramClient): Promise<void> {
    return tg.destroy().then(
      () => this.options.logger.info({ sessionId }, 'telegram client closed'),
      (error: unknown) =>
        this.options.logger.warn(
          { sessionId, ...describeError(error) },
          'closing the telegram client failed',
        ),
    );
  }

  private afterCall(entry: ClientEntry, answer: TelegramAnswer): void {
    if (!answer.ok && classifyError(answer.error, answer.code).kind === 'session_dead') {
      // The key is dead (or used elsewhere): stop using it at once. The runtime retires the session.
      entry.keyLost = true;
      this.options.logger.warn(
        { sessionId: entry.sessionId, error: answer.error },
        'session is dead; closing its client',
      );
      void this.release(entry.sessionId);
      return;
    }
    if (!entry.authChecked) {
      entry.authChecked = true;
      void this.reportAuthChange(entry);
    }
  }

  private async destroy(sessionId: string, pending: Promise<Acquired>): Promise<void> {
    const acquired = await pending.catch(() => null);
    if (!acquired) return;
    if (isAnswer(acquired)) {
      await acquired.closing;
      return;
    }
    const { entry } = acquired;
    // A post on the wire finishes (its answer is recorded); then the connection closes.
    await this.settleWithin(entry.inflight, this.options.releaseGraceMs);
    await this.reportAuthChange(entry);
    try {
      await entry.tg.destroy();
    } catch (error) {
      this.options.logger.warn({ sessionId, ...describeError(error) }, 'closing the telegram client failed');
    }
    this.options.logger.info({ sessionId }, 'telegram client closed');
  }

  private async reportAuthChange(entry: ClientEntry): Promise<void> {
    const { onAuthStringChanged, logger } = this.options;
    if (!onAuthStringChanged || entry.keyLost) return;
    try {
      const current = await entry.tg.exportSession();
      // A dead-key answer may have arrived while the session was read.
      if (entry.keyLost || sameSession(current, entry.authString)) return;
      entry.authString = current;
      await onAuthStringChanged(entry.sessionId, current);
      logger.info({ sessionId: entry.sessionId }, 'session auth string changed; reported');
    } catch (error) {
      logger.warn(
        { sessionId: entry.sessionId, ...describeError(error) },
        'could not report a session change',
      );
    }
  }

  /** Waits for the promises to settle, at most `ms`. The clock's wait never outlives the settling. */
  private async settleWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
    const settled = new AbortController();
    try {
      await Promise.race([Promise.allSettled([...promises]), this.options.clock.sleep(ms, settled.signal)]);
    } finally {
      settled.abort();
    }
  }
}
