import { Long, type tl } from '@mtcute/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { PostRef } from '../../core/post-link.js';
import { VirtualClock } from '../../runtime/clock.js';
import {
  basicGroup,
  channel,
  channelChatId,
  channelMessages,
  chats,
  dialogs,
  message,
  storedChannel,
  storedChat,
} from '../../../test/support/mtcute/fixtures.js';
import { OfflineTelegram, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import { connectedClient } from '../../../test/support/mtcute/session-client.js';
import { PeerResolver } from './peer-resolver.js';
import { MemoryPeerCache } from './peers.js';
import { SourceCheck } from './source-check.js';

const NOOP = { info() {}, warn() {}, error() {} };
const SOURCE = channel(1_800_000_001, { broadcast: true, accessHash: '31' });
const GROUP = basicGroup(4242);
const channelPost: PostRef = {
  chat: { kind: 'id', chatId: channelChatId(SOURCE.id) },
  messageId: 42,
  canonical: `https://t.me/c/${SOURCE.id}/42`,
};
const groupPost: PostRef = { chat: { kind: 'id', chatId: '-4242' }, messageId: 42, canonical: 'group post' };

let telegram: OfflineTelegram;
afterEach(() => telegram.destroyAll());

/** A source check on a warm PeerCache: only the getMessages calls reach the stub. */
async function setup() {
  telegram = new OfflineTelegram();
  const peers = new MemoryPeerCache();
  await peers.put('s1', `id:${channelChatId(SOURCE.id)}`, storedChannel(SOURCE.id, '31'));
  await peers.put('s1', 'id:-4242', storedChat(GROUP.id));
  const resolver = new PeerResolver({ peers, logger: NOOP, clock: new VirtualClock() });
  const check = new SourceCheck(resolver, 60_000);
  const client = await connectedClient(telegram);
  return { check, client, peers };
}

function groupMessages(messages: tl.TypeMessage[], list: tl.TypeChat[] = [GROUP]): tl.messages.RawMessages {
  return { _: 'messages.messages', messages, topics: [], chats: list, users: [] };
}

function groupMessage(chatId: number, id: number, o: Partial<tl.RawMessage> = {}): tl.RawMessage {
  return { _: 'message', id, peerId: { _: 'peerChat', chatId }, date: 1_700_000_000, message: 'hi', ...o };
}

describe('a basic group source (messages.getMessages looks ids up across the account)', () => {
  it('ok when the message is in this group', async () => {
    const { check, client } = await setup();
    telegram.on('messages.getMessages', groupMessages([groupMessage(GROUP.id, 42)]));
    expect(await check.check(client, groupPost)).toEqual({ ok: true });
    expect(telegram.calls('messages.getMessages')[0]?.id).toEqual([{ _: 'inputMessageID', id: 42 }]);
  });

  it('the same id in another chat is not the source: MSG_ID_INVALID', async () => {
    const { check, client } = await setup();
    telegram.on('messages.getMessages', groupMessages([groupMessage(999, 42)]));
    expect(await check.check(client, groupPost)).toEqual({ ok: false, error: 'MSG_ID_INVALID', code: 400 });
  });

  it('a service message cannot be forwarded: MSG_ID_INVALID', async () => {
    const { check, client } = await setup();
    const service: tl.RawMessageService = {
      _: 'messageService',
      id: 42,
      peerId: { _: 'peerChat', chatId: GROUP.id },
      date: 1_700_000_000,
      action: { _: 'messageActionChatJoinedByLink', inviterId: 1 },
    };
    telegram.on('messages.getMessages', groupMessages([service]));
    expect(await check.check(client, groupPost)).toEqual({ ok: false, error: 'MSG_ID_INVALID', code: 400 });
  });

  it('a group the account lost access to: CHANNEL_PRIVATE', async () => {
    const { check, client } = await setup();
    telegram.on(
      'messages.getMessages',
      groupMessages([groupMessage(GROUP.id, 42)], [{ _: 'chatForbidden', id: GROUP.id, title: 'gone' }]),
    );
    expect(await check.check(client, groupPost)).toEqual({ ok: false, error: 'CHANNEL_PRIVATE', code: 400 });
  });
});

describe('a channel source', () => {
  it('one channels.getMessages call on the channel', async () => {
    const { check, client } = await setup();
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    expect(await check.check(client, channelPost)).toEqual({ ok: true });
    expect(telegram.calls('channels.getMessages')[0]?.channel).toMatchObject({ channelId: SOURCE.id });
    expect(telegram.count('messages.getMessages')).toBe(0);
  });

  it('a cached channel Telegram calls invalid is resolved again on the next check', async () => {
    const { check, client } = await setup();
    telegram.on('channels.getMessages', rpcError(400, 'CHANNEL_INVALID'));
    telegram.on('channels.getChannels', chats([SOURCE]));
    expect(await check.check(client, channelPost)).toEqual({
      ok: false,
      error: 'CHANNEL_INVALID',
      code: 400,
    });
    expect(telegram.count('channels.getChannels')).toBe(0);

    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    expect(await check.check(client, channelPost)).toEqual({ ok: true });
    expect(telegram.count('channels.getChannels')).toBe(1);
  });

  it('a source by username whose cached chat Telegram calls invalid is resolved once more and read there', async () => {
    const { check, client, peers } = await setup();
    const moved = channel(1_800_000_002, { username: 'SourceName', broadcast: true, accessHash: '32' });
    await peers.put('s1', 'u:sourcename', storedChannel(SOURCE.id, '31'));
    telegram.on('messages.getDialogs', (req) =>
      (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty'
        ? dialogs([moved])
        : dialogs([]),
    );
    telegram.on('channels.getMessages', (req) =>
      ((req as tl.channels.RawGetMessagesRequest).channel as tl.RawInputChannel).channelId === moved.id
        ? channelMessages([message(moved.id, 42)], [moved])
        : rpcError(400, 'CHANNEL_INVALID'),
    );
    const post: PostRef = {
      chat: { kind: 'username', username: 'sourcename' },
      messageId: 42,
      canonical: 'https://t.me/sourcename/42',
    };
    expect(await check.check(client, post)).toEqual({ ok: true });
    // found in the dialogs: no resolveUsername
    expect(telegram.count('contacts.resolveUsername')).toBe(0);
    expect(telegram.count('channels.getMessages')).toBe(2);
    expect(await peers.get('s1', 'u:sourcename')).toBe(storedChannel(moved.id, '32'));
  });

  it('an aborted check asks nothing and answers a transient error', async () => {
    const { check, client } = await setup();
    const aborted = new AbortController();
    aborted.abort();
    expect(await check.check(client, channelPost, aborted.signal)).toEqual({
      ok: false,
      error: 'NETWORK_ERROR',
    });
    expect(telegram.count('channels.getMessages')).toBe(0);
  });
});

/** Messages of an album: the same grouped_id. */
function grouped(m: tl.RawMessage, groupedId: string): tl.RawMessage {
  return { ...m, groupedId: Long.fromString(groupedId) };
}

describe('the read at planning: the post and its album', () => {
  it('a channel post in an album: one call for the ids around it, the album’s ids in order', async () => {
    const { check, client } = await setup();
    telegram.on(
      'channels.getMessages',
      channelMessages(
        [
          message(SOURCE.id, 40),
          grouped(message(SOURCE.id, 43), '777'),
          grouped(message(SOURCE.id, 41), '777'),
          grouped(message(SOURCE.id, 42), '777'),
          grouped(message(SOURCE.id, 44), '778'),
          { _: 'messageEmpty', id: 45 },
        ],
        [SOURCE],
      ),
    );
    expect(await check.read(client, channelPost)).toEqual({ answer: { ok: true }, messageIds: [41, 42, 43] });
    const [call] = telegram.calls('channels.getMessages');
    // an album has at most 10 messages: 9 either side of the post reach all of it
    expect(call!.id).toEqual(Array.from({ length: 19 }, (_, i) => ({ _: 'inputMessageID', id: 33 + i })));
    expect(telegram.count('channels.getMessages')).toBe(1);
  });

  it('a post in no album is itself alone', async () => {
    const { check, client } = await setup();
    telegram.on(
      'channels.getMessages',
      channelMessages([message(SOURCE.id, 41), message(SOURCE.id, 42)], [SOURCE]),
    );
    expect(await check.read(client, channelPost)).toEqual({ answer: { ok: true }, messageIds: [42] });
  });

  it('ids near the start of the chat: the window starts at 1', async () => {
    const { check, client } = await setup();
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 3)], [SOURCE]));
    const early: PostRef = { ...channelPost, messageId: 3 };
    expect(await check.read(client, early)).toEqual({ answer: { ok: true }, messageIds: [3] });
    expect(telegram.calls('channels.getMessages')[0]!.id.map((m) => (m as tl.RawInputMessageID).id)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it('a basic group: a wider window, and only this group’s messages of the album', async () => {
    const { check, client } = await setup();
    telegram.on(
      'messages.getMessages',
      groupMessages([
        grouped(groupMessage(GROUP.id, 40), '9'),
        grouped(groupMessage(999, 41), '9'), // another chat's message with the same grouped_id value
        grouped(groupMessage(GROUP.id, 42), '9'),
        grouped(groupMessage(GROUP.id, 47), '9'),
      ]),
    );
    expect(await check.read(client, groupPost)).toEqual({ answer: { ok: true }, messageIds: [40, 42, 47] });
    expect(telegram.calls('messages.getMessages')[0]!.id).toHaveLength(39);
  });

  it('a refusal reads no album', async () => {
    const { check, client } = await setup();
    telegram.on(
      'channels.getMessages',
      channelMessages([grouped(message(SOURCE.id, 42, { noforwards: true }), '1')], [SOURCE]),
    );
    expect(await check.read(client, channelPost)).toEqual({
      answer: { ok: false, error: 'CHAT_FORWARDS_RESTRICTED', code: 400 },
      messageIds: [],
    });
    telegram.on('channels.getMessages', rpcError(420, 'FLOOD_WAIT_30'));
    expect(await check.read(client, channelPost)).toMatchObject({
      answer: { ok: false, error: 'FLOOD_WAIT_30', code: 420 },
      messageIds: [],
    });
  });
});
