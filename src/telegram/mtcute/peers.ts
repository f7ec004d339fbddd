/**
 * Peers as Stagger remembers them: an account's access hash to a chat never changes, so it is resolved once and
 * kept in the durable `PeerCache` (one entry per session and chat), as JSON of (type, id, accessHash) with the
 * 64-bit values as decimal strings.
 *
 * Keys: `id:<Bot API chat id>` (e.g. `id:-1001234567890`) and `u:<lower-case username>`.
 */
import { Long, type tl } from '@mtcute/core';
import type { ChatRef } from '../../core/post-link.js';

export interface PeerCache {
  get(sessionId: string, key: string): Promise<string | null>;
  put(sessionId: string, key: string, value: string): Promise<void>;
}

/** A PeerCache in memory (tests, the sandbox-like dev setup). */
export class MemoryPeerCache implements PeerCache {
  readonly entries = new Map<string, string>();
  gets = 0;
  puts = 0;

  async get(sessionId: string, key: string): Promise<string | null> {
    this.gets++;
    return this.entries.get(`${sessionId}\u0000${key}`) ?? null;
  }

  async put(sessionId: string, key: string, value: string): Promise<void> {
    this.puts++;
    this.entries.set(`${sessionId}\u0000${key}`, value);
  }
}

/** The peers a group target or a post source can be. */
export type ChatPeer = tl.RawInputPeerChannel | tl.RawInputPeerChat;

type StoredPeer =
  | { v: 1; type: 'channel'; id: string; accessHash: string }
  | { v: 1; type: 'chat'; id: string }
  | { v: 1; type: 'user'; id: string; accessHash: string };

export function peerKey(chat: ChatRef): string {
  return chat.kind === 'id' ? `id:${chat.chatId}` : `u:${chat.username.toLowerCase()}`;
}

export function usernameKey(username: string): string {
  return `u:${username.toLowerCase()}`;
}

const ZERO_CHANNEL_ID = -1_000_000_000_000n;

/**
 * The Bot API ("marked") id of a chat id string as a JS number, for mtcute's resolvePeer. Telegram's marked chat
 * ids are well inside 2^53 today; anything that is not exactly representable is refused (null), never rounded.
 */
export function markedIdNumber(chatId: string): number | null {
  if (!/^-?[1-9][0-9]{0,18}$/.test(chatId)) return null;
  const value = Number(chatId);
  if (!Number.isSafeInteger(value) || String(value) !== chatId) return null;
  return value;
}

/** The Bot API id (decimal string) of an input peer, computed with BigInt. */
export function markedIdOf(peer: ChatPeer | tl.RawInputPeerUser): string {
  switch (peer._) {
    case 'inputPeerChannel':
      return (ZERO_CHANNEL_ID - BigInt(peer.channelId)).toString();
    case 'inputPeerChat':
      return (-BigInt(peer.chatId)).toString();
    case 'inputPeerUser':
      return BigInt(peer.userId).toString();
  }
}

/**
 * The usernames a chat answers to, as Telegram sends it: the main `username`, and the active ones of `usernames`
 * (several, or collectible ones). mtcute's `Chat.usernames` reads only the second field, which a chat with one
 * name usually lacks.
 */
export function chatUsernames(raw: tl.TypeChat): string[] {
  if (raw._ !== 'channel') return [];
  const names = raw.username ? [raw.username] : [];
  for (const u of raw.usernames ?? []) if (u.active && !names.includes(u.username)) names.push(u.username);
  return names;
}

export function isChatPeer(peer: tl.TypeInputPeer): peer is ChatPeer {
  return peer._ === 'inputPeerChannel' || peer._ === 'inputPeerChat';
}

export function serializePeer(peer: tl.TypeInputPeer): string | null {
  let stored: StoredPeer;
  switch (peer._) {
    case 'inputPeerChannel':
      stored = { v: 1, type: 'channel', id: String(peer.channelId), accessHash: peer.accessHash.toString() };
      break;
    case 'inputPeerChat':
      stored = { v: 1, type: 'chat', id: String(peer.chatId) };
      break;
    case 'inputPeerUser':
      stored = { v: 1, type: 'user', id: String(peer.userId), accessHash: peer.accessHash.toString() };
      break;
    default:
      return null;
  }
  return JSON.stringify(stored);
}

const DECIMAL_ID = /^[1-9][0-9]{0,15}$/;
const DECIMAL_HASH = /^-?[0-9]{1,20}$/;

function bareId(text: unknown): number | null {
  if (typeof text !== 'string' || !DECIMAL_ID.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

function accessHash(text: unknown): Long | null {
  if (typeof text !== 'string' || !DECIMAL_HASH.test(text)) return null;
  const value = BigInt(text);
  if (value < -(1n << 63n) || value >= 1n << 63n) return null;
  return Long.fromString(text, false);
}

/** The input peer stored by `serializePeer`, or null for anything unreadable (then the peer is resolved again). */
export function parseStoredPeer(text: string): tl.TypeInputPeer | null {
  let stored: Partial<Record<string, unknown>>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return null;
    stored = parsed as Partial<Record<string, unknown>>;
  } catch {
    return null;
  }
  if (stored.v !== 1) return null;
  const id = bareId(stored.id);
  if (id === null) return null;
  switch (stored.type) {
    case 'channel': {
      const hash = accessHash(stored.accessHash);
      return hash === null ? null : { _: 'inputPeerChannel', channelId: id, accessHash: hash };
    }
    case 'chat':
      return { _: 'inputPeerChat', chatId: id };
    case 'user': {
      const hash = accessHash(stored.accessHash);
      return hash === null ? null : { _: 'inputPeerUser', userId: id, accessHash: hash };
    }
    default:
      return null;
  }
}
