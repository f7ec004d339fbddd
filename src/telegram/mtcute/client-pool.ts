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
 */
import { readStringSession } from '@mtcute/core/utils.js';
import { TransportError } from '@mtcute/core';
import type { TelegramClient } from '@mtcute/node';
import { classifyError, type TelegramAnswer } from '../../core/outcome.js';
import { answerFromError, describeError } from './answers.js';
import type { ClientFactory, TelegramLogger } from './client-factory.js';
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
  /** Called when the session's key or DC changed. */
  onAuthStringChanged?: ((sessionId: string, authString: string) => Promise<void>) | undefined;
}

interface ClientEntry extends SessionClient {
  /** The auth string the client runs on (updated when a change was reported). */
  authString: string;
  authChecked: boolean;
  /** The key was lost (dead-key answer, transport -404): whatever key the client now holds is never stored. */
  keyLost: boolean;
  inflight: Set<Promise<unknown>>;
}

type Acquired = { entry: ClientEntry } | { answer: TelegramAnswer };

const SESSION_UNUSABLE: TelegramAnswer = { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 };

function isAnswer(acquired: Acquired): acquired is { answer: TelegramAnswer } {
  return 'answer' in acquired;
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
  private readonly clients = new Map<string, Promise<Acquired>>();
  private readonly closing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(options: ClientPoolOptions) {
    this.options = options;
  }

  /** Runs `op` on the session's client. Never throws for Telegram or network trouble; throws once closed. */
  async run(
    sessionId: string,
    op: (client: SessionClient) => Promise<TelegramAnswer>,
  ): Promise<TelegramAnswer> {
    const acquired = await this.acquire(sessionId);
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

  /** Closes the session's client once the calls on the wire are done (at most `releaseGraceMs`). Idempotent. */
  async release(sessionId: string): Promise<void> {
    const pending = this.clients.get(sessionId);
    if (!pending) {
      await this.closing.get(sessionId);
      return;
    }
    this.clients.delete(sessionId);
    const closing = this.destroy(sessionId, pending);
    this.closing.set(sessionId, closing);
    try {
      await closing;
    } finally {
      if (this.closing.get(sessionId) === closing) this.closing.delete(sessionId);
    }
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
    if (existing) return existing;
    const pending = this.open(sessionId);
    this.clients.set(sessionId, pending);
    const forget = (): void => {
      if (this.clients.get(sessionId) === pending) this.clients.delete(sessionId);
    };
    pending.then((acquired) => {
      if (isAnswer(acquired)) forget();
    }, forget);
    return pending;
  }

  private async open(sessionId: string): Promise<Acquired> {
    const { logger } = this.options;
    // The previous client of this session must be gone first: never two clients on one auth key.
    await this.closing.get(sessionId);
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
        logger.warn({ sessionId }, 'telegram dropped the auth key (transport -404); the stored key is kept');
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
    try {
      await tg.connect();
    } catch (error) {
      await tg.destroy().catch(() => undefined);
      logger.warn({ sessionId, ...describeError(error) }, 'connecting failed');
      return { answer: answerFromError(error) };
    }
    logger.info({ sessionId }, 'telegram client started');
    return { entry };
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
    if (!acquired || isAnswer(acquired)) return;
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
