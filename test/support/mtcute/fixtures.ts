/**
 * TL objects for offline tests (see offline-telegram.ts): channels, groups, messages, users, sessions. Only the fields
 * mtcute needs to parse them.
 */
import { Long, type tl } from '@mtcute/core';
import { writeStringSession } from '@mtcute/core/utils.js';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SessionCredentials } from '../../../src/telegram/mtcute/session-credentials.js';

export const API_ID = 12345;
export const API_HASH = '0123456789abcdef0123456789abcdef';

/** A fresh mtcute session string on production DC 2 with a random key. */
export function sessionString(dcId = 2): string {
  const dc = { id: dcId, ipAddress: '149.154.167.51', port: 443 };
  return writeStringSession({
    version: 3,
    primaryDcs: { main: dc, media: dc },
    self: null,
    authKey: randomBytes(256),
  });
}

export function credentials(authString = sessionString()): SessionCredentials {
  return { authString, apiId: API_ID, apiHash: API_HASH };
}

export interface ChannelOptions {
  username?: string;
  accessHash?: string;
  megagroup?: boolean;
  broadcast?: boolean;
  left?: boolean;
  creator?: boolean;
  noforwards?: boolean;
  /** A forum (topics). */
  forum?: boolean;
  /** The chat's own price of paid messages, in stars. */
  sendPaidMessagesStars?: number;
  bannedRights?: Partial<tl.RawChatBannedRights>;
  defaultBannedRights?: Partial<tl.RawChatBannedRights>;
  adminRights?: Partial<tl.RawChatAdminRights>;
}

/** A channel or supergroup by its bare id (the Bot API id is -100 followed by it). */
export function channel(id: number, o: ChannelOptions = {}): tl.RawChannel {
  const c: tl.RawChannel = {
    _: 'channel',
    id,
    accessHash: Long.fromString(o.accessHash ?? String(id * 7 + 3), false),
    title: `chat ${id}`,
    photo: { _: 'chatPhotoEmpty' },
    date: 0,
  };
  if (o.megagroup ?? !o.broadcast) c.megagroup = true;
  if (o.broadcast) c.broadcast = true;
  if (o.username) c.username = o.username;
  if (o.left) c.left = true;
  if (o.creator) c.creator = true;
  if (o.noforwards) c.noforwards = true;
  if (o.forum) c.forum = true;
  if (o.sendPaidMessagesStars !== undefined)
    c.sendPaidMessagesStars = Long.fromNumber(o.sendPaidMessagesStars);
  if (o.bannedRights) c.bannedRights = { _: 'chatBannedRights', untilDate: 0, ...o.bannedRights };
  if (o.defaultBannedRights)
    c.defaultBannedRights = { _: 'chatBannedRights', untilDate: 0, ...o.defaultBannedRights };
  if (o.adminRights) c.adminRights = { _: 'chatAdminRights', ...o.adminRights };
  return c;
}

export function basicGroup(
  id: number,
  o: { left?: boolean; defaultBannedRights?: Partial<tl.RawChatBannedRights> } = {},
): tl.RawChat {
  const c: tl.RawChat = {
    _: 'chat',
    id,
    title: `group ${id}`,
    photo: { _: 'chatPhotoEmpty' },
    participantsCount: 3,
    date: 0,
    version: 1,
  };
  if (o.left) c.left = true;
  if (o.defaultBannedRights)
    c.defaultBannedRights = { _: 'chatBannedRights', untilDate: 0, ...o.defaultBannedRights };
  return c;
}

/** Bot API id of a channel: -(10^12 + id). */
export function channelChatId(id: number): string {
  return (-1_000_000_000_000n - BigInt(id)).toString();
}

export function message(channelId: number, id: number, o: { noforwards?: boolean } = {}): tl.RawMessage {
  const m: tl.RawMessage = {
    _: 'message',
    id,
    peerId: { _: 'peerChannel', channelId },
    date: 1_700_000_000,
    message: 'hello',
  };
  if (o.noforwards) m.noforwards = true;
  return m;
}

export function channelMessages(
  messages: tl.TypeMessage[],
  chats: tl.TypeChat[],
): tl.messages.RawChannelMessages {
  return {
    _: 'messages.channelMessages',
    pts: 1,
    count: messages.length,
    messages,
    topics: [],
    chats,
    users: [],
  };
}

export function resolvedPeer(c: tl.RawChannel): tl.contacts.RawResolvedPeer {
  return { _: 'contacts.resolvedPeer', peer: { _: 'peerChannel', channelId: c.id }, chats: [c], users: [] };
}

export function chats(list: tl.TypeChat[]): tl.messages.RawChats {
  return { _: 'messages.chats', chats: list };
}

export function dialogs(list: tl.TypeChat[]): tl.messages.RawDialogs {
  return {
    _: 'messages.dialogs',
    dialogs: list.map((c) => ({
      _: 'dialog',
      peer: c._ === 'chat' ? { _: 'peerChat', chatId: c.id } : { _: 'peerChannel', channelId: c.id },
      topMessage: 0,
      readInboxMaxId: 0,
      readOutboxMaxId: 0,
      unreadCount: 0,
      unreadMentionsCount: 0,
      unreadReactionsCount: 0,
      unreadPollVotesCount: 0,
      notifySettings: { _: 'peerNotifySettings' },
    })),
    messages: [],
    chats: list,
    users: [],
  };
}

/**
 * `messages.chatFull` of a channel; `paidStars`: what the current user must pay a message (the full channel's
 * `send_paid_messages_stars`).
 */
export function channelFull(
  c: tl.RawChannel,
  slowmodeSeconds?: number,
  o: { paidStars?: number } = {},
): tl.messages.RawChatFull {
  const full: tl.RawChannelFull = {
    _: 'channelFull',
    id: c.id,
    about: '',
    readInboxMaxId: 0,
    readOutboxMaxId: 0,
    unreadCount: 0,
    chatPhoto: { _: 'photoEmpty', id: Long.ZERO },
    notifySettings: { _: 'peerNotifySettings' },
    botInfo: [],
    pts: 1,
  } as tl.RawChannelFull;
  if (slowmodeSeconds !== undefined) full.slowmodeSeconds = slowmodeSeconds;
  if (o.paidStars !== undefined) full.sendPaidMessagesStars = Long.fromNumber(o.paidStars);
  return { _: 'messages.chatFull', fullChat: full, chats: [c], users: [] };
}

export function chatFull(c: tl.RawChat): tl.messages.RawChatFull {
  const full = {
    _: 'chatFull',
    id: c.id,
    about: '',
    participants: { _: 'chatParticipantsForbidden', chatId: c.id },
    notifySettings: { _: 'peerNotifySettings' },
  } as tl.RawChatFull;
  return { _: 'messages.chatFull', fullChat: full, chats: [c], users: [] };
}

/** `messages.forumTopics` answering `channels.getForumTopicsByID`: these topics, each open or closed. */
export function forumTopics(
  c: tl.RawChannel,
  topics: { id: number; closed?: boolean }[],
): tl.messages.RawForumTopics {
  return {
    _: 'messages.forumTopics',
    count: topics.length,
    topics: topics.map((t) => {
      const topic: tl.RawForumTopic = {
        _: 'forumTopic',
        id: t.id,
        date: 0,
        peer: { _: 'peerChannel', channelId: c.id },
        title: `topic ${t.id}`,
        iconColor: 0,
        topMessage: t.id,
        readInboxMaxId: 0,
        readOutboxMaxId: 0,
        unreadCount: 0,
        unreadMentionsCount: 0,
        unreadReactionsCount: 0,
        unreadPollVotesCount: 0,
        fromId: { _: 'peerChannel', channelId: c.id },
        notifySettings: { _: 'peerNotifySettings' },
      };
      if (t.closed) topic.closed = true;
      return topic;
    }),
    messages: [],
    chats: [c],
    users: [],
    pts: 1,
  };
}

export function user(o: {
  id: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  phone?: string;
  restricted?: boolean;
  scam?: boolean;
  fake?: boolean;
}): tl.RawUser {
  const u: tl.RawUser = { _: 'user', id: o.id, accessHash: Long.fromInt(99), self: true };
  if (o.firstName !== undefined) u.firstName = o.firstName;
  if (o.lastName !== undefined) u.lastName = o.lastName;
  if (o.username !== undefined) u.username = o.username;
  if (o.phone !== undefined) u.phone = o.phone;
  if (o.restricted) {
    u.restricted = true;
    u.restrictionReason = [{ _: 'restrictionReason', platform: 'all', reason: 'spam', text: 'limited' }];
  }
  if (o.scam) u.scam = true;
  if (o.fake) u.fake = true;
  return u;
}

/** The Updates Telegram answers a forward with. */
export function forwardUpdates(request: tl.RpcMethod, messageId: number): tl.RawUpdates {
  const randomId = (request as tl.messages.RawForwardMessagesRequest).randomId[0] ?? Long.ZERO;
  return {
    _: 'updates',
    updates: [{ _: 'updateMessageID', id: messageId, randomId }],
    users: [],
    chats: [],
    date: 0,
    seq: 0,
  };
}

/**
 * The Updates Telegram answers a forward of several messages (an album) with: one `updateMessageID` per random_id —
 * listed last to first, as nothing promises their order — the message of the request's i-th random_id becoming
 * `firstMessageId + i`, and the new messages themselves.
 */
export function albumForwardUpdates(request: tl.RpcMethod, firstMessageId: number): tl.RawUpdates {
  const { randomId, toPeer } = request as tl.messages.RawForwardMessagesRequest;
  const channelId = toPeer._ === 'inputPeerChannel' ? toPeer.channelId : 0;
  const ids = randomId.map((r, i) => ({ randomId: r, id: firstMessageId + i }));
  return {
    _: 'updates',
    updates: [
      ...[...ids]
        .reverse()
        .map(({ randomId: r, id }): tl.TypeUpdate => ({ _: 'updateMessageID', id, randomId: r })),
      ...ids.map(({ id }): tl.TypeUpdate => ({
        _: 'updateNewChannelMessage',
        message: message(channelId, id),
        pts: id,
        ptsCount: 1,
      })),
    ],
    users: [],
    chats: [],
    date: 0,
    seq: 0,
  };
}

/** The PeerCache's stored form of a peer (what the resolver writes), to start from a warm cache. */
export function storedChannel(id: number, accessHash: string): string {
  return JSON.stringify({ v: 1, type: 'channel', id: String(id), accessHash });
}

export function storedChat(id: number): string {
  return JSON.stringify({ v: 1, type: 'chat', id: String(id) });
}

// ---- sessions of other libraries, built from their published formats (import tests) --------------------------

/** A random 256-byte auth key (never all zeros). */
export function authKey(): Uint8Array {
  const k = new Uint8Array(randomBytes(256));
  k[0] = 0x7f;
  return k;
}

/** Python's base64.urlsafe_b64encode (with padding). */
export function urlsafeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Telethon's StringSession: '1' + urlsafe base64 of (dc_id, IPv4 or IPv6 bytes, port big-endian, auth key). */
export function telethonString(dcId: number, ip: number[], port: number, key: Uint8Array): string {
  const bytes = new Uint8Array(1 + ip.length + 2 + 256);
  bytes[0] = dcId;
  bytes.set(ip, 1);
  bytes[1 + ip.length] = port >> 8;
  bytes[2 + ip.length] = port & 0xff;
  bytes.set(key, 3 + ip.length);
  return `1${urlsafeBase64(bytes)}`;
}

/**
 * GramJS (the `telegram` package's StringSession): "1" + standard base64 of dc id, the address length (2 bytes,
 * big-endian), the address as text, port (2 bytes, big-endian) and the key.
 */
export function gramjsString(dcId: number, address: string, port: number, key: Uint8Array): string {
  const text = Buffer.from(address, 'utf8');
  const bytes = Buffer.alloc(1 + 2 + text.length + 2 + key.length);
  bytes.writeUInt8(dcId, 0);
  bytes.writeUInt16BE(text.length, 1);
  text.copy(bytes, 3);
  bytes.writeUInt16BE(port, 3 + text.length);
  bytes.set(key, 5 + text.length);
  return `1${bytes.toString('base64')}`;
}

/** Pyrogram ≥ 2: struct '>BI?256sQ?', urlsafe base64 without padding. */
export function pyrogramString(o: {
  dcId: number;
  apiId: number;
  testMode?: boolean;
  authKey: Uint8Array;
  userId: bigint;
  isBot?: boolean;
}): string {
  const bytes = new Uint8Array(271);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, o.dcId);
  view.setUint32(1, o.apiId);
  view.setUint8(5, o.testMode ? 1 : 0);
  bytes.set(o.authKey, 6);
  view.setBigUint64(262, o.userId);
  view.setUint8(270, o.isBot ? 1 : 0);
  return urlsafeBase64(bytes).replace(/=+$/, '');
}

/** An mtcute session string with the given key on a production DC (of a user, or of a bot). */
export function mtcuteString(key: Uint8Array, dcId = 2, userId: number | null = null, isBot = false): string {
  const dc = { id: dcId, ipAddress: '149.154.167.51', port: 443 };
  return writeStringSession({
    version: 3,
    primaryDcs: { main: dc, media: dc },
    self: userId === null ? null : { userId, isBot, isPremium: false, usernames: [] },
    authKey: key,
  });
}

/**
 * Writes a Telethon `.session` file (Telethon's schema, version 7) at `path` and returns its bytes.
 * `rows` of the sessions table; a null key is stored as NULL.
 */
export function telethonSessionFile(
  path: string,
  rows: { dcId: number; address: string; port: number; authKey: Uint8Array | null }[],
): Uint8Array {
  const db = new Database(path);
  try {
    db.exec(`
      CREATE TABLE version (version integer primary key);
      INSERT INTO version VALUES (7);
      CREATE TABLE sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer);
      CREATE TABLE entities (id integer primary key, hash integer not null, username text, phone integer, name text, date integer);
      CREATE TABLE sent_files (md5_digest blob, file_size integer, type integer, id integer, hash integer, primary key(md5_digest, file_size, type));
      CREATE TABLE update_state (id integer primary key, pts integer, qts integer, date integer, seq integer);
    `);
    const insert = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)');
    for (const r of rows)
      insert.run(r.dcId, r.address, r.port, r.authKey === null ? null : Buffer.from(r.authKey));
  } finally {
    db.close();
  }
  return new Uint8Array(readFileSync(path));
}

/** The answer to help.getAppConfig with these keys, as Telegram writes them (tl JSON: numbers and strings). */
export function appConfig(values: Record<string, number | string> = {}): tl.help.RawAppConfig {
  return {
    _: 'help.appConfig',
    hash: 1,
    config: {
      _: 'jsonObject',
      value: Object.entries(values).map(([key, value]) => ({
        _: 'jsonObjectValue',
        key,
        value: typeof value === 'number' ? { _: 'jsonNumber', value } : { _: 'jsonString', value },
      })),
    },
  };
}

/** An app config saying the account is frozen (unix seconds, as Telegram sends them). */
export function frozenAppConfig(
  o: { since?: number; until?: number; appealUrl?: string } = {},
): tl.help.RawAppConfig {
  return appConfig({
    freeze_since_date: o.since ?? 1_767_000_000,
    freeze_until_date: o.until ?? 1_799_000_000,
    freeze_appeal_url: o.appealUrl ?? 'https://t.me/spambot?start=frozen_appeal',
  });
}
