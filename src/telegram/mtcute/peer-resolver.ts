/**
 * A session's input peer for a chat (a group target or the source's chat).
 *
 * - Peers are resolved once per (session, chat) and kept in the durable PeerCache; a warm cache makes zero
 *   resolve calls, also for a new gateway after a restart. A cold cache goes through mtcute's own `resolvePeer`.
 * - A username is looked up in the account's dialogs first (the chats of a dialogs page carry their usernames):
 *   only a name not among them costs a contacts.resolveUsername, a method Telegram limits strictly. Those calls
 *   are paced per session (`resolve-gate.ts`): one at a time, `minIntervalMs` apart, none while a limit answered
 *   to one of them lasts. A name Telegram says is no group is answered so again, without a call, until the
 *   dialogs are due for a re-read.
 * - An id the account has never met is looked up in its dialogs (a failed read is not repeated for a minute); still
 *   unknown, it is answered PEER_ID_INVALID without calling Telegram again. A group the account joins later is
 *   only in a later read: an unknown id reads the dialogs again once the last read is `dialogRefreshMs` old, so at
 *   most one re-read per session per that time, whatever the number of unknown targets.
 * - What was learnt from the dialogs (read, unknown ids and names) is forgotten when the session's client is
 *   released: its next client starts with a fresh read. A limit on resolving is not: it is Telegram's, not the
 *   client's.
 * - A cached peer Telegram refuses may carry a stale access hash: the next call resolves that chat again. A chat
 *   named by username is re-checked at once (`recheck`): the name may have moved to another chat.
 * - Only groups and channels are peers here: Stagger never messages users.
 */
import { Chat, MtArgumentError, MtPeerNotFoundError, type tl } from '@mtcute/core';
import type { GroupTarget } from '../../core/group-targets.js';
import { stopsSession, type TelegramAnswer } from '../../core/outcome.js';
import type { ChatRef } from '../../core/post-link.js';
import { DEFAULT_RESOLVE_PACING, type ResolvePacing } from '../../core/resolve-pacing.js';
import { answerFromError, describeError, isRpcError, refusal } from './answers.js';
import type { TelegramLogger } from './client-factory.js';
import type { SessionClient } from './client-pool.js';
import {
  chatUsernames,
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
import { isResolveLimited, ResolveGate } from './resolve-gate.js';
import type { TelegramClock } from './telegram-clock.js';

/** A peer (and whether it came from a cache, so may be stale), or the answer that says why there is none. */
export type Resolved = { peer: ChatPeer; cached: boolean } | { answer: TelegramAnswer };

export function isUnresolved(resolved: Resolved): resolved is { answer: TelegramAnswer } {
  return 'answer' in resolved;
}

export interface PeerResolverOptions {
  peers: PeerCache;
  logger: TelegramLogger;
  clock: TelegramClock;
  /** How old the last dialogs read must be before an unknown id reads them again. Default 10 minutes. */
  dialogRefreshMs?: number;
  /** The pace of contacts.resolveUsername per session. Default `DEFAULT_RESOLVE_PACING` (1 s apart). */
  pacing?: Partial<ResolvePacing>;
}

const PEER_ID_INVALID: TelegramAnswer = refusal('PEER_ID_INVALID');
/** Answers that may mean a cached access hash went stale: the next call resolves that chat again. */
const STALE_PEER_ERRORS = new Set(['PEER_ID_INVALID', 'CHANNEL_INVALID', 'CHAT_ID_INVALID']);
/** Answers that say a peer found by username is not (or no longer) that chat: the name is resolved again. */
const MOVED_USERNAME_ERRORS = new Set([...STALE_PEER_ERRORS, 'USERNAME_NOT_OCCUPIED', 'USERNAME_INVALID']);
/** What resolveUsername answers for a name that is no group: said again without a call until the next re-read. */
const NOT_A_GROUP = new Set(['USERNAME_NOT_OCCUPIED', 'USERNAME_INVALID', 'PEER_ID_INVALID']);

/** How long a failed dialogs read is not repeated (no storm of scans when Telegram struggles). */
const DIALOG_RETRY_MS = 60_000;
const DIALOG_REFRESH_MS = 10 * 60_000;

export class PeerResolver {
  private readonly peers: PeerCache;
  private readonly logger: TelegramLogger;
  private readonly clock: TelegramClock;
  /** sessionId → peer key → input peer: what the PeerCache said, without asking it again. */
  private readonly memo = new Map<string, Map<string, ChatPeer>>();
  /** `${sessionId} ${key}` of cached peers Telegram refused: resolved again (not read from the cache). */
  private readonly stale = new Set<string>();
  /** `${sessionId} ${key}` of chats still unknown after the dialogs were read, with the answer to give. */
  private readonly unknown = new Map<string, TelegramAnswer>();
  /** `${sessionId} ${key}` of usernames being looked up: concurrent lookups of one name share one. */
  private readonly usernameLookups = new Map<string, Promise<Resolved>>();
  private readonly gate: ResolveGate;
  private readonly dialogRefreshMs: number;
  /** sessionId → when its dialogs were last read (on the clock). */
  private readonly dialogsReadAt = new Map<string, number>();
  private readonly dialogScans = new Map<string, Promise<TelegramAnswer | null>>();
  private readonly dialogScanFailed = new Map<string, { at: number; answer: TelegramAnswer }>();

  constructor(options: PeerResolverOptions) {
    this.peers = options.peers;
    this.logger = options.logger;
    this.clock = options.clock;
    this.dialogRefreshMs = options.dialogRefreshMs ?? DIALOG_REFRESH_MS;
    this.gate = new ResolveGate(options.clock, { ...DEFAULT_RESOLVE_PACING, ...options.pacing });
  }

  async resolve(client: SessionClient, chat: ChatRef): Promise<Resolved> {
    const { sessionId } = client;
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
    const unknown = this.unknown.get(flag);
    if (unknown && !this.dialogsStale(sessionId)) return { answer: unknown };
    return chat.kind === 'username'
      ? this.resolveUsername(client, chat.username)
      : this.resolveId(client, chat.chatId);
  }

  /**
   * Telegram answered a call made with a cached peer: when the answer may mean a stale access hash, the next call
   * resolves the chat again instead of trusting the cache.
   */
  markStale(sessionId: string, chat: ChatRef, answer: TelegramAnswer): void {
    if (answer.ok || !STALE_PEER_ERRORS.has(answer.error)) return;
    const key = peerKey(chat);
    this.memoOf(sessionId).delete(key);
    this.stale.add(`${sessionId} ${key}`);
  }

  /**
   * Telegram refused a call made with `refused`, a cached peer of `chat`. For a chat named by username, a refusal
   * that says the peer is not that chat drops the cached entry and resolves the name once more (dialogs first,
   * paced): the fresh peer when it differs from the refused one (the caller tries once more with it), the answer
   * when the name no longer resolves, and null when the name still leads to the refused peer (the refusal stands).
   * Any other chat is marked stale (`markStale`) and null is returned.
   */
  async recheck(
    client: SessionClient,
    chat: ChatRef,
    refused: ChatPeer,
    answer: TelegramAnswer,
  ): Promise<Resolved | null> {
    if (chat.kind !== 'username') {
      this.markStale(client.sessionId, chat, answer);
      return null;
    }
    if (answer.ok || !MOVED_USERNAME_ERRORS.has(answer.error)) return null;
    const key = usernameKey(chat.username);
    const flag = `${client.sessionId} ${key}`;
    this.memoOf(client.sessionId).delete(key);
    // Not read from the PeerCache again: what the name resolves to now replaces it.
    this.stale.add(flag);
    this.unknown.delete(flag);
    this.logger.info(
      { sessionId: client.sessionId, username: chat.username, error: answer.error },
      'a cached peer of a username was refused; resolving the name again',
    );
    const fresh = await this.resolveUsername(client, chat.username);
    if (isUnresolved(fresh)) return fresh;
    return samePeer(fresh.peer, refused) ? null : fresh;
  }

  /**
   * Reads all dialogs (archived too) and caches every group and channel in them, unless they were read less than
   * `dialogRefreshMs` ago. Concurrent reads of one session share one scan. Null when read; else the answer that
   * stopped it.
   */
  readDialogs(client: SessionClient): Promise<TelegramAnswer | null> {
    const { sessionId } = client;
    if (this.dialogsReadAt.has(sessionId) && !this.dialogsStale(sessionId)) return Promise.resolve(null);
    const failed = this.dialogScanFailed.get(sessionId);
    if (failed && this.clock.now() - failed.at < DIALOG_RETRY_MS) return Promise.resolve(failed.answer);
    let scan = this.dialogScans.get(sessionId);
    if (!scan) {
      scan = this.scanDialogs(client).finally(() => this.dialogScans.delete(sessionId));
      this.dialogScans.set(sessionId, scan);
    }
    return scan;
  }

  /**
   * How many of the targets' ids would need Telegram to resolve (0 once the dialogs were read); the cached ones
   * are remembered on the way.
   */
  async countCold(sessionId: string, targets: readonly GroupTarget[]): Promise<number> {
    if (this.dialogsReadAt.has(sessionId)) return 0;
    const memo = this.memoOf(sessionId);
    let cold = 0;
    for (const target of targets) {
      if (target.chat.kind !== 'id') continue;
      const key = peerKey(target.chat);
      if (memo.has(key)) continue;
      const stored = await this.peers.get(sessionId, key);
      const peer = stored === null ? null : parseStoredPeer(stored);
      if (peer && isChatPeer(peer)) memo.set(key, peer);
      else cold++;
    }
    return cold;
  }

  /** The session's client was released: its next one reads the dialogs afresh. */
  forget(sessionId: string): void {
    this.dialogsReadAt.delete(sessionId);
    this.dialogScanFailed.delete(sessionId);
    const prefix = `${sessionId} `;
    for (const flag of this.unknown.keys()) if (flag.startsWith(prefix)) this.unknown.delete(flag);
  }

  /** Never read, or read long enough ago that a group joined since may be missing. */
  private dialogsStale(sessionId: string): boolean {
    const at = this.dialogsReadAt.get(sessionId);
    return at === undefined || this.clock.now() - at >= this.dialogRefreshMs;
  }

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

  private resolveUsername(client: SessionClient, username: string): Promise<Resolved> {
    const flag = `${client.sessionId} ${usernameKey(username)}`;
    let lookup = this.usernameLookups.get(flag);
    if (!lookup) {
      lookup = this.lookUpUsername(client, username).finally(() => this.usernameLookups.delete(flag));
      this.usernameLookups.set(flag, lookup);
    }
    return lookup;
  }

  /** The dialogs first; then, only for a name not in them, one paced contacts.resolveUsername. */
  private async lookUpUsername(client: SessionClient, username: string): Promise<Resolved> {
    const { sessionId } = client;
    const key = usernameKey(username);
    const scan = await this.readDialogs(client);
    // A dead key or a limit ends it here; a read that failed otherwise leaves resolving the name by itself.
    if (scan && stopsSession(scan)) return { answer: scan };
    const found = this.memoOf(sessionId).get(key);
    if (found) return { peer: found, cached: false };
    const resolved = await this.gate.run(
      sessionId,
      () => this.callResolveUsername(client, username),
      (r) => (isUnresolved(r) ? r.answer : { ok: true }),
    );
    if (isResolveLimited(resolved)) {
      this.logger.warn(
        { sessionId, username, error: resolved.limited.error },
        'not resolving the username: Telegram limited this account’s resolving',
      );
      return { answer: resolved.limited };
    }
    if (isUnresolved(resolved) && !resolved.answer.ok && NOT_A_GROUP.has(resolved.answer.error)) {
      // Asked again only once the dialogs are due for a re-read (a group may take the name meanwhile).
      if (this.dialogsReadAt.has(sessionId)) this.unknown.set(`${sessionId} ${key}`, resolved.answer);
    }
    return resolved;
  }

  private async callResolveUsername(client: SessionClient, username: string): Promise<Resolved> {
    let peer: tl.TypeInputPeer;
    try {
      peer = await client.tg.resolvePeer(username);
    } catch (error) {
      if (error instanceof MtPeerNotFoundError) return { answer: refusal('USERNAME_NOT_OCCUPIED') };
      if (error instanceof MtArgumentError) return { answer: refusal('USERNAME_INVALID') };
      return { answer: answerFromError(error) };
    }
    if (!isChatPeer(peer)) {
      // Stagger never messages users privately.
      this.logger.warn({ sessionId: client.sessionId, username }, 'the username is not a group or channel');
      return { answer: PEER_ID_INVALID };
    }
    await this.remember(client.sessionId, [usernameKey(username), `id:${markedIdOf(peer)}`], peer);
    return { peer, cached: false };
  }

  private async resolveId(client: SessionClient, chatId: string): Promise<Resolved> {
    const { sessionId } = client;
    const key = `id:${chatId}`;
    const marked = markedIdNumber(chatId);
    if (marked === null || marked >= 0) return { answer: PEER_ID_INVALID };
    try {
      const peer = await client.tg.resolvePeer(marked);
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
    // Never met by mtcute: the account's dialogs, read again when the last read may predate a join.
    const scan = await this.readDialogs(client);
    if (scan) return { answer: scan };
    const found = this.memoOf(sessionId).get(key);
    if (found) return { peer: found, cached: false };
    this.unknown.set(`${sessionId} ${key}`, PEER_ID_INVALID);
    this.logger.warn(
      { sessionId, chatId },
      'chat is not in the account’s dialogs; answering PEER_ID_INVALID',
    );
    return { answer: PEER_ID_INVALID };
  }

  private async scanDialogs(client: SessionClient): Promise<TelegramAnswer | null> {
    const { sessionId, tg } = client;
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
        for (const username of chatUsernames(chat.raw)) keys.push(usernameKey(username));
        await this.remember(sessionId, keys, peer);
        count++;
      }
    } catch (error) {
      this.logger.warn({ sessionId, ...describeError(error) }, 'reading the dialogs failed');
      const answer = answerFromError(error);
      this.dialogScanFailed.set(sessionId, { at: this.clock.now(), answer });
      return answer;
    }
    this.dialogScanFailed.delete(sessionId);
    this.dialogsReadAt.set(sessionId, this.clock.now());
    this.logger.info({ sessionId, chats: count }, 'dialogs read');
    return null;
  }
}

function samePeer(a: ChatPeer, b: ChatPeer): boolean {
  if (a._ === 'inputPeerChannel')
    return b._ === 'inputPeerChannel' && a.channelId === b.channelId && a.accessHash.equals(b.accessHash);
  return b._ === 'inputPeerChat' && a.chatId === b.chatId;
}
