/**
 * The real gateway: Telegram through mtcute 0.30.3.
 *
 * - One client per session, created and connected on first use and reused. Concurrent first calls share one
 *   connect, and a new client for a session is only made once the previous one is fully destroyed, so this process
 *   never runs two clients on one auth key.
 * - Peers are resolved once per (session, chat) and kept in the durable PeerCache; a warm cache makes zero resolve
 *   calls, also for a new gateway after a restart. A cold cache goes through mtcute's own `resolvePeer`. An id the
 *   account has never met is looked up in its dialogs, once per session per process; still unknown, it is
 *   answered PEER_ID_INVALID without calling Telegram again.
 * - The library never sleeps on a limit (see client-factory.ts) and every call passes `floodSleepThreshold: 0`:
 *   FLOOD_WAIT_X and friends come back at once as raw answers, and the scheduler decides.
 * - Telegram's answers are returned, never thrown (`answers.ts`). Credentials never reach a log or an error.
 */
import { Chat, MtArgumentError, MtPeerNotFoundError, type Long, type tl } from '@mtcute/core';
import { readStringSession } from '@mtcute/core/utils.js';
import type { TelegramClient } from '@mtcute/node';
import type { GroupTarget } from '../../core/group-targets.js';
import { classifyError, type TelegramAnswer } from '../../core/outcome.js';
import type { ChatRef, PostRef } from '../../core/post-link.js';
import type { ForwardRequest, Gateway, PreflightReport, PreflightRow, SessionHandle } from '../gateway.js';
import { answerFromError, bigintToLong, describeError, isRpcError } from './answers.js';
import {
  buildClient,
  createDefaultClient,
  NO_FLOOD_SLEEP,
  type ClientParams,
  type TelegramLogger,
} from './client-factory.js';
import {
  isChatPeer,
  markedIdNumber,
  markedIdOf,
  parseStoredPeer,
  peerKey,
  serializePeer,
  usernameKey,
  type ChatPeer,
  type PeerCache,
} from './peers.js';
import type { CredentialSource } from './session-credentials.js';

export type { PeerCache } from './peers.js';
export { MemoryPeerCache } from './peers.js';
export type { CredentialSource, SessionCredentials } from './session-credentials.js';

export interface MtcuteGatewayOptions {
  credentials: CredentialSource;
  peers: PeerCache;
  /** Tests inject the offline harness. `testMode` is set for sessions on Telegram's test servers. */
  createClient?: (params: ClientParams) => TelegramClient;
  logger?: TelegramLogger;
  /** Called when the session's key or DC changed (e.g. Telegram moved the account to another DC). */
  onAuthStringChanged?: (sessionId: string, authString: string) => Promise<void>;
  /** Per-call timeout; a call without an answer by then reports TIMEOUT. Default 60 s. */
  callTimeoutMs?: number;
  /** How long `release()` lets calls on the wire finish before closing. Default 30 s. */
  releaseGraceMs?: number;
  /** Sessions preflight checks at the same time (targets of one session always go one after another). Default 4. */
  preflightConcurrency?: number;
}

interface ClientEntry {
  sessionId: string;
  tg: TelegramClient;
  /** The auth string the client runs on (updated when a change was reported). */
  authString: string;
  authChecked: boolean;
  inflight: Set<Promise<unknown>>;
}

type Acquired = { entry: ClientEntry } | { answer: TelegramAnswer };
type Resolved = { peer: ChatPeer; cached: boolean } | { answer: TelegramAnswer };

const SESSION_UNUSABLE: TelegramAnswer = { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 };
const PEER_ID_INVALID: TelegramAnswer = { ok: false, error: 'PEER_ID_INVALID', code: 400 };
const NETWORK_ERROR: TelegramAnswer = { ok: false, error: 'NETWORK_ERROR' };
/** Answers that may mean a cached access hash went stale: the next call resolves that chat again. */
const STALE_PEER_ERRORS = new Set(['PEER_ID_INVALID', 'CHANNEL_INVALID', 'CHAT_ID_INVALID']);

/** How long a failed dialogs read is not repeated. */
const DIALOG_RETRY_MS = 60_000;

const NOOP_LOGGER: TelegramLogger = { info() {}, warn() {}, error() {} };

function fail(error: string, code = 400): TelegramAnswer {
  return { ok: false, error, code };
}

function isAnswer(value: object): value is { answer: TelegramAnswer } {
  return 'answer' in value;
}

/** Waits for the promises to settle, at most `ms`. The timer never outlives the wait. */
async function settleWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
  const all = Promise.allSettled([...promises]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([all, limit]);
  } finally {
    clearTimeout(timer);
  }
}

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

function isBanned(rights: tl.TypeChatBannedRights | undefined, nowSeconds: number): boolean {
  if (!rights?.sendMessages) return false;
  return rights.untilDate === 0 || rights.untilDate > nowSeconds;
}

export class MtcuteGateway implements Gateway {
  private readonly credentials: CredentialSource;
  private readonly peers: PeerCache;
  private readonly createClient: (params: ClientParams) => TelegramClient;
  private readonly logger: TelegramLogger;
  private readonly onAuthStringChanged:
    ((sessionId: string, authString: string) => Promise<void>) | undefined;
  private readonly callTimeoutMs: number;
  private readonly releaseGraceMs: number;
  private readonly preflightConcurrency: number;

  private readonly clients = new Map<string, Promise<Acquired>>();
  private readonly closing = new Map<string, Promise<void>>();
  /** sessionId → peer key → input peer: what the PeerCache said, without asking it again. */
  private readonly memo = new Map<string, Map<string, ChatPeer>>();
  /** `${sessionId} ${key}` of cached peers Telegram refused: resolved again (not read from the cache). */
  private readonly stale = new Set<string>();
  /** `${sessionId} ${key}` of ids still unknown after the dialogs were read. */
  private readonly unknown = new Set<string>();
  private readonly dialogsRead = new Set<string>();
  private readonly dialogScans = new Map<string, Promise<TelegramAnswer | null>>();
  /** A failed dialogs read is not tried again for a minute (no storm of scans when Telegram struggles). */
  private readonly dialogScanFailed = new Map<string, { at: number; answer: TelegramAnswer }>();
  private closed = false;

  constructor(options: MtcuteGatewayOptions) {
    this.credentials = options.credentials;
    this.peers = options.peers;
    const logger = options.logger;
    this.createClient =
      options.createClient ?? (logger ? (p) => buildClient(p, { logger }) : createDefaultClient);
    this.logger = logger ?? NOOP_LOGGER;
    this.onAuthStringChanged = options.onAuthStringChanged;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.releaseGraceMs = options.releaseGraceMs ?? 30_000;
    this.preflightConcurrency = Math.max(1, options.preflightConcurrency ?? 4);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Clients

  private acquire(sessionId: string): Promise<Acquired> {
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
    // The previous client of this session must be gone first: never two clients on one auth key.
    await this.closing.get(sessionId);
    const creds = await this.credentials.get(sessionId);
    if (!creds) {
      this.logger.warn({ sessionId }, 'no credentials for the session; answering AUTH_KEY_UNREGISTERED');
      return { answer: SESSION_UNUSABLE };
    }
    let testMode: boolean;
    try {
      testMode = Boolean(readStringSession(creds.authString).primaryDcs.main.testMode);
    } catch {
      this.logger.warn({ sessionId }, 'the session string cannot be read; answering AUTH_KEY_UNREGISTERED');
      return { answer: SESSION_UNUSABLE };
    }
    if (!Number.isInteger(creds.apiId) || creds.apiId <= 0 || !creds.apiHash) {
      this.logger.warn({ sessionId }, 'the session has no API id/hash; answering AUTH_KEY_UNREGISTERED');
      return { answer: SESSION_UNUSABLE };
    }
    const tg = this.createClient({
      apiId: creds.apiId,
      apiHash: creds.apiHash,
      ...(testMode ? { testMode } : {}),
    });
    try {
      await tg.importSession(creds.authString, true);
    } catch (error) {
      await tg.destroy().catch(() => undefined);
      this.logger.warn({ sessionId, ...describeError(error) }, 'the session string was refused by mtcute');
      return { answer: SESSION_UNUSABLE };
    }
    try {
      await tg.connect();
    } catch (error) {
      await tg.destroy().catch(() => undefined);
      this.logger.warn({ sessionId, ...describeError(error) }, 'connecting failed');
      return { answer: answerFromError(error) };
    }
    this.logger.info({ sessionId }, 'telegram client started');
    return {
      entry: { sessionId, tg, authString: creds.authString, authChecked: false, inflight: new Set() },
    };
  }

  /** Runs `op` on the session's client. Never throws for Telegram or network trouble. */
  private async run(
    sessionId: string,
    op: (entry: ClientEntry) => Promise<TelegramAnswer>,
  ): Promise<TelegramAnswer> {
    const acquired = await this.acquire(sessionId);
    if (isAnswer(acquired)) return acquired.answer;
    const { entry } = acquired;
    const task = op(entry).catch((error: unknown) => {
      this.logger.warn({ sessionId, ...describeError(error) }, 'telegram call failed');
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

  private afterCall(entry: ClientEntry, answer: TelegramAnswer): void {
    if (!answer.ok && classifyError(answer.error, answer.code).kind === 'session_dead') {
      // The key is dead (or used elsewhere): stop using it at once. The runtime retires the session.
      this.logger.warn(
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

  private async reportAuthChange(entry: ClientEntry): Promise<void> {
    if (!this.onAuthStringChanged) return;
    try {
      const current = await entry.tg.exportSession();
      if (sameSession(current, entry.authString)) return;
      entry.authString = current;
      await this.onAuthStringChanged(entry.sessionId, current);
      this.logger.info({ sessionId: entry.sessionId }, 'session auth string changed; reported');
    } catch (error) {
      this.logger.warn(
        { sessionId: entry.sessionId, ...describeError(error) },
        'could not report a session change',
      );
    }
  }

  async release(sessionId: string): Promise<void> {
    const pending = this.clients.get(sessionId);
    if (!pending) {
      await this.closing.get(sessionId);
      return;
    }
    this.clients.delete(sessionId);
    const closing = (async () => {
      const acquired = await pending.catch(() => null);
      if (!acquired || isAnswer(acquired)) return;
      const { entry } = acquired;
      // A post on the wire finishes (its answer is recorded); then the connection closes.
      await settleWithin(entry.inflight, this.releaseGraceMs);
      await this.reportAuthChange(entry);
      try {
        await entry.tg.destroy();
      } catch (error) {
        this.logger.warn({ sessionId, ...describeError(error) }, 'closing the telegram client failed');
      }
      this.logger.info({ sessionId }, 'telegram client closed');
    })();
    this.closing.set(sessionId, closing);
    try {
      await closing;
    } finally {
      if (this.closing.get(sessionId) === closing) this.closing.delete(sessionId);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients.keys()].map((id) => this.release(id)));
    await Promise.all([...this.closing.values()]);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Peers

  private memoOf(sessionId: string): Map<string, ChatPeer> {
    let map = this.memo.get(sessionId);
    if (!map) {
      map = new Map();
      this.memo.set(sessionId, map);
    }
    return map;
  }

  private async remember(sessionId: string, keys: string[], peer: ChatPeer): Promise<void> {
    const value = serializePeer(peer);
    const memo = this.memoOf(sessionId);
    for (const key of keys) {
      memo.set(key, peer);
      this.stale.delete(`${sessionId} ${key}`);
      this.unknown.delete(`${sessionId} ${key}`);
      if (value !== null) await this.peers.put(sessionId, key, value);
    }
  }

  /** Marks a cached peer as refused by Telegram: the next call resolves it again instead of trusting the cache. */
  private markStale(sessionId: string, chat: ChatRef, answer: TelegramAnswer): void {
    if (answer.ok || !STALE_PEER_ERRORS.has(answer.error)) return;
    const key = peerKey(chat);
    this.memoOf(sessionId).delete(key);
    this.stale.add(`${sessionId} ${key}`);
  }

  private async resolve(entry: ClientEntry, chat: ChatRef): Promise<Resolved> {
    const { sessionId } = entry;
    const key = peerKey(chat);
    const memo = this.memoOf(sessionId);
    const known = memo.get(key);
    if (known) return { peer: known, cached: true };
    const flag = `${sessionId} ${key}`;
    if (!this.stale.has(flag)) {
      const stored = await this.peers.get(sessionId, key);
      const peer = stored === null ? null : parseStoredPeer(stored);
      if (peer && isChatPeer(peer)) {
        memo.set(key, peer);
        return { peer, cached: true };
      }
    }
    if (this.unknown.has(flag)) return { answer: PEER_ID_INVALID };
    return chat.kind === 'username'
      ? this.resolveUsername(entry, chat.username)
      : this.resolveId(entry, chat.chatId);
  }

  private async resolveUsername(entry: ClientEntry, username: string): Promise<Resolved> {
    let peer: tl.TypeInputPeer;
    try {
      peer = await entry.tg.resolvePeer(username);
    } catch (error) {
      if (error instanceof MtPeerNotFoundError) return { answer: fail('USERNAME_NOT_OCCUPIED') };
      if (error instanceof MtArgumentError) return { answer: fail('USERNAME_INVALID') };
      return { answer: answerFromError(error) };
    }
    if (!isChatPeer(peer)) {
      // Stagger never messages users privately.
      this.logger.warn({ sessionId: entry.sessionId, username }, 'the username is not a group or channel');
      return { answer: PEER_ID_INVALID };
    }
    await this.remember(entry.sessionId, [usernameKey(username), `id:${markedIdOf(peer)}`], peer);
    return { peer, cached: false };
  }

  private async resolveId(entry: ClientEntry, chatId: string): Promise<Resolved> {
    const { sessionId } = entry;
    const key = `id:${chatId}`;
    const marked = markedIdNumber(chatId);
    if (marked === null || marked >= 0) return { answer: PEER_ID_INVALID };
    try {
      const peer = await entry.tg.resolvePeer(marked);
      if (isChatPeer(peer)) {
        await this.remember(sessionId, [key], peer);
        return { peer, cached: false };
      }
    } catch (error) {
      // mtcute refuses ids that are no chat at all (e.g. exactly -1000000000000).
      if (error instanceof MtArgumentError) return { answer: PEER_ID_INVALID };
      const notFound =
        error instanceof MtPeerNotFoundError || (isRpcError(error) && STALE_PEER_ERRORS.has(error.text));
      if (!notFound) return { answer: answerFromError(error) };
    }
    // Never met by mtcute: the account's dialogs, read once per session per process.
    const scan = await this.readDialogs(entry);
    if (scan) return { answer: scan };
    const found = this.memoOf(sessionId).get(key);
    if (found) return { peer: found, cached: false };
    this.unknown.add(`${sessionId} ${key}`);
    this.logger.warn(
      { sessionId, chatId },
      'chat is not in the account’s dialogs; answering PEER_ID_INVALID',
    );
    return { answer: PEER_ID_INVALID };
  }

  /** Reads all dialogs (archived too) once per session per process and caches every group and channel in them. */
  private readDialogs(entry: ClientEntry): Promise<TelegramAnswer | null> {
    const { sessionId } = entry;
    if (this.dialogsRead.has(sessionId)) return Promise.resolve(null);
    const failed = this.dialogScanFailed.get(sessionId);
    if (failed && Date.now() - failed.at < DIALOG_RETRY_MS) return Promise.resolve(failed.answer);
    let scan = this.dialogScans.get(sessionId);
    if (!scan) {
      scan = this.scanDialogs(entry).finally(() => this.dialogScans.delete(sessionId));
      this.dialogScans.set(sessionId, scan);
    }
    return scan;
  }

  private async scanDialogs(entry: ClientEntry): Promise<TelegramAnswer | null> {
    const { sessionId, tg } = entry;
    let count = 0;
    try {
      for await (const dialog of tg.iterDialogs({ archived: 'keep' })) {
        const chat = dialog.peer;
        if (!(chat instanceof Chat) || chat.isMin) continue;
        let peer: tl.TypeInputPeer;
        try {
          peer = chat.inputPeer;
        } catch {
          continue;
        }
        if (!isChatPeer(peer)) continue;
        const keys = [`id:${markedIdOf(peer)}`];
        for (const u of chat.usernames ?? []) if (u.active) keys.push(usernameKey(u.username));
        await this.remember(sessionId, keys, peer);
        count++;
      }
    } catch (error) {
      this.logger.warn({ sessionId, ...describeError(error) }, 'reading the dialogs failed');
      const answer = answerFromError(error);
      this.dialogScanFailed.set(sessionId, { at: Date.now(), answer });
      return answer;
    }
    this.dialogScanFailed.delete(sessionId);
    this.dialogsRead.add(sessionId);
    this.logger.info({ sessionId, chats: count }, 'dialogs read');
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Gateway

  async forward(request: ForwardRequest): Promise<TelegramAnswer> {
    // A random_id outside int64 is a planning bug: thrown, not answered.
    const randomId = bigintToLong(request.randomId);
    return this.run(request.session.id, async (entry) => {
      const from = await this.resolve(entry, request.source.chat);
      if (isAnswer(from)) return from.answer;
      const to = await this.resolve(entry, request.target.chat);
      if (isAnswer(to)) return to.answer;
      const call: tl.messages.RawForwardMessagesRequest = {
        _: 'messages.forwardMessages',
        fromPeer: from.peer,
        toPeer: to.peer,
        id: [request.source.messageId],
        randomId: [randomId],
        silent: request.silent,
        dropAuthor: request.hideSender,
      };
      if (request.target.topicId !== undefined) call.topMsgId = request.target.topicId;
      try {
        const updates = await entry.tg.call(call, { ...NO_FLOOD_SLEEP, timeout: this.callTimeoutMs });
        const messageId = sentMessageId(updates, randomId);
        return messageId === undefined ? { ok: true } : { ok: true, messageId };
      } catch (error) {
        const answer = answerFromError(error);
        if (to.cached) this.markStale(entry.sessionId, request.target.chat, answer);
        return answer;
      }
    });
  }

  async checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.run(session.id, (entry) => this.inspectSource(entry, source, signal));
  }

  private async inspectSource(
    entry: ClientEntry,
    source: PostRef,
    signal?: AbortSignal,
  ): Promise<TelegramAnswer> {
    const resolved = await this.resolve(entry, source.chat);
    if (isAnswer(resolved)) return resolved.answer;
    // An aborted check reports a transient failure; the caller's (aborted) backoff then ends its loop.
    if (signal?.aborted) return NETWORK_ERROR;
    const { peer } = resolved;
    const options = {
      ...NO_FLOOD_SLEEP,
      timeout: this.callTimeoutMs,
      ...(signal ? { abortSignal: signal } : {}),
    };
    const id: tl.TypeInputMessage[] = [{ _: 'inputMessageID', id: source.messageId }];
    let result: tl.messages.TypeMessages;
    try {
      result =
        peer._ === 'inputPeerChannel'
          ? await entry.tg.call(
              {
                _: 'channels.getMessages',
                channel: { _: 'inputChannel', channelId: peer.channelId, accessHash: peer.accessHash },
                id,
              },
              options,
            )
          : await entry.tg.call({ _: 'messages.getMessages', id }, options);
    } catch (error) {
      if (signal?.aborted) return NETWORK_ERROR;
      const answer = answerFromError(error);
      if (resolved.cached) this.markStale(entry.sessionId, source.chat, answer);
      return answer;
    }
    return judgeSource(result, peer, source.messageId);
  }

  async preflight(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport> {
    const lanes = sessions.map(() => ({ rows: [] as PreflightRow[], source: null as TelegramAnswer | null }));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sessions.length) {
        const index = next++;
        const lane = lanes[index]!;
        const result = await this.preflightSession(sessions[index]!, targets, source);
        lane.rows = result.rows;
        lane.source = result.source;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.preflightConcurrency, sessions.length) }, worker));

    let sourceReport: PreflightReport['source'] = { ok: source !== null, error: null };
    if (source !== null) {
      const answers = lanes.map((l) => l.source).filter((a): a is TelegramAnswer => a !== null);
      const invalid = answers.find(
        (a) => !a.ok && classifyError(a.error, a.code, 'source').kind === 'source_invalid',
      );
      if (invalid && !invalid.ok) sourceReport = { ok: false, error: invalid.error };
      else if (answers.some((a) => a.ok)) sourceReport = { ok: true, error: null };
      else {
        const first = answers.find((a) => !a.ok);
        sourceReport = { ok: false, error: first && !first.ok ? first.error : 'NO_SESSION' };
      }
    }
    return { source: sourceReport, rows: lanes.flatMap((l) => l.rows) };
  }

  private async preflightSession(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<{ rows: PreflightRow[]; source: TelegramAnswer | null }> {
    // Nothing to ask: no client is made and no connection opened for the session.
    if (targets.length === 0 && source === null) return { rows: [], source: null };
    const rows: PreflightRow[] = [];
    const row = (target: GroupTarget, fields: Partial<PreflightRow>): PreflightRow => ({
      sessionId: session.id,
      groupKey: target.key,
      member: null,
      canWrite: null,
      slowmodeSeconds: null,
      error: null,
      ...fields,
    });
    let sourceAnswer: TelegramAnswer | null = null;
    /** The error that ends this session's checks: a dead key or a limit (never retried through). */
    const stopping = (answer: TelegramAnswer | null): string | null => {
      if (answer === null || answer.ok) return null;
      const kind = classifyError(answer.error, answer.code).kind;
      return kind === 'session_dead' || kind === 'session_pause' ? answer.error : null;
    };

    const answer = await this.run(session.id, async (entry) => {
      if (source !== null) {
        const checked = await this.inspectSource(entry, source);
        sourceAnswer = checked;
        const stop = stopping(checked);
        if (stop !== null) return fail(stop);
      }
      // Many unknown ids: read the dialogs first (a few pages) rather than one resolve call per group.
      if ((await this.countCold(entry, targets)) > 1) {
        const stop = stopping(await this.readDialogs(entry));
        if (stop !== null) return fail(stop);
      }
      for (const target of targets) {
        const checked = await this.inspectTarget(entry, target);
        rows.push(row(target, checked));
        const stop = stopping(checked.error ? fail(checked.error) : null);
        // The rest of this session's rows get the same error below, without a call.
        if (stop !== null) return fail(stop);
      }
      return { ok: true };
    });
    if (!answer.ok) {
      // The session could not run (no credentials, a dead key, a limit): every row not checked says why.
      for (const target of targets.slice(rows.length)) rows.push(row(target, { error: answer.error }));
      sourceAnswer ??= answer;
    }
    return { rows, source: sourceAnswer };
  }

  private async countCold(entry: ClientEntry, targets: readonly GroupTarget[]): Promise<number> {
    if (this.dialogsRead.has(entry.sessionId)) return 0;
    let cold = 0;
    for (const target of targets) {
      if (target.chat.kind !== 'id') continue;
      const key = peerKey(target.chat);
      if (this.memoOf(entry.sessionId).has(key)) continue;
      const stored = await this.peers.get(entry.sessionId, key);
      const peer = stored === null ? null : parseStoredPeer(stored);
      if (peer && isChatPeer(peer)) this.memoOf(entry.sessionId).set(key, peer);
      else cold++;
    }
    return cold;
  }

  private async inspectTarget(entry: ClientEntry, target: GroupTarget): Promise<Partial<PreflightRow>> {
    const resolved = await this.resolve(entry, target.chat);
    if (isAnswer(resolved)) return { error: resolved.answer.ok ? null : resolved.answer.error };
    const { peer } = resolved;
    const nowSeconds = Math.floor(Date.now() / 1000);
    try {
      if (peer._ === 'inputPeerChannel') {
        const full = await entry.tg.call(
          {
            _: 'channels.getFullChannel',
            channel: { _: 'inputChannel', channelId: peer.channelId, accessHash: peer.accessHash },
          },
          { ...NO_FLOOD_SLEEP, timeout: this.callTimeoutMs },
        );
        const chat = full.chats.find((c) => c.id === peer.channelId);
        if (!chat || chat._ === 'channelForbidden')
          return { member: false, canWrite: false, error: 'CHANNEL_PRIVATE' };
        if (chat._ !== 'channel') return { error: 'CHANNEL_INVALID' };
        const slowmode = full.fullChat._ === 'channelFull' ? (full.fullChat.slowmodeSeconds ?? 0) : null;
        const member = !chat.left;
        const admin = Boolean(chat.creator) || chat.adminRights !== undefined;
        let canWrite: boolean;
        if (chat.broadcast) canWrite = Boolean(chat.creator) || Boolean(chat.adminRights?.postMessages);
        else if (admin) canWrite = true;
        else {
          canWrite =
            member &&
            !isBanned(chat.bannedRights, nowSeconds) &&
            !isBanned(chat.defaultBannedRights, nowSeconds);
        }
        return { member, canWrite, slowmodeSeconds: slowmode };
      }
      const full = await entry.tg.call(
        { _: 'messages.getFullChat', chatId: peer.chatId },
        { ...NO_FLOOD_SLEEP, timeout: this.callTimeoutMs },
      );
      const chat = full.chats.find((c) => c.id === peer.chatId);
      if (!chat || chat._ === 'chatForbidden')
        return { member: false, canWrite: false, error: 'CHAT_FORBIDDEN' };
      if (chat._ !== 'chat') return { error: 'CHAT_ID_INVALID' };
      const member = !chat.left && !chat.deactivated;
      const admin = Boolean(chat.creator) || chat.adminRights !== undefined;
      const canWrite = member && (admin || !isBanned(chat.defaultBannedRights, nowSeconds));
      // Basic groups have no slow mode.
      return { member, canWrite, slowmodeSeconds: 0 };
    } catch (error) {
      const answer = answerFromError(error);
      if (resolved.cached) this.markStale(entry.sessionId, target.chat, answer);
      return { error: answer.ok ? null : answer.error };
    }
  }
}

/** The id of the message a forward created, from the Updates Telegram answered. */
function sentMessageId(updates: tl.TypeUpdates, randomId: Long): number | undefined {
  if (updates._ !== 'updates' && updates._ !== 'updatesCombined') return undefined;
  for (const u of updates.updates) {
    if (u._ === 'updateMessageID' && u.randomId.equals(randomId)) return u.id;
  }
  for (const u of updates.updates) {
    if ((u._ === 'updateNewChannelMessage' || u._ === 'updateNewMessage') && u.message._ === 'message') {
      return u.message.id;
    }
  }
  return undefined;
}

function samePeer(a: tl.TypePeer | undefined, peer: ChatPeer): boolean {
  if (!a) return false;
  return peer._ === 'inputPeerChannel'
    ? a._ === 'peerChannel' && a.channelId === peer.channelId
    : a._ === 'peerChat' && a.chatId === peer.chatId;
}

/** Is the message there, and may it be forwarded? */
function judgeSource(result: tl.messages.TypeMessages, peer: ChatPeer, messageId: number): TelegramAnswer {
  if (result._ === 'messages.messagesNotModified') return { ok: true };
  const chatId = peer._ === 'inputPeerChannel' ? peer.channelId : peer.chatId;
  const chat = result.chats.find((c) => c.id === chatId);
  if (chat?._ === 'channelForbidden' || chat?._ === 'chatForbidden') return fail('CHANNEL_PRIVATE');
  // messages.getMessages (basic groups) looks ids up across the account: the message must be in this chat.
  const message = result.messages.find(
    (m) => m.id === messageId && (m._ === 'messageEmpty' || samePeer(m.peerId, peer)),
  );
  if (!message || message._ === 'messageEmpty') return fail('MSG_ID_INVALID');
  // Service messages (joins, pins…) cannot be forwarded.
  if (message._ === 'messageService') return fail('MSG_ID_INVALID');
  if (message.noforwards) return fail('CHAT_FORWARDS_RESTRICTED');
  if (chat && (chat._ === 'channel' || chat._ === 'chat') && chat.noforwards)
    return fail('CHAT_FORWARDS_RESTRICTED');
  return { ok: true };
}
