/**
 * Is the source post there, and may it be forwarded? One getMessages call on the source's chat, once per session per
 * cycle (and once per session in a preflight). When a cycle is planned, the read also finds the post's album: the
 * same call asks for the ids around the post (an album has at most 10 messages), and the messages sharing its
 * `grouped_id` are the album — as mtcute's `getMessageGroup` does, in one raw call we can time out and abort.
 * Stagger reads nothing else of the chat.
 */
import type { tl } from '@mtcute/core';
import type { TelegramAnswer } from '../../core/outcome.js';
import type { PostRef } from '../../core/post-link.js';
import type { SourceRead } from '../gateway.js';
import { answerFromError, refusal } from './answers.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';
import type { SessionClient } from './client-pool.js';
import { isUnresolved, type PeerResolver } from './peer-resolver.js';
import type { ChatPeer } from './peers.js';

const NETWORK_ERROR: TelegramAnswer = { ok: false, error: 'NETWORK_ERROR' };

/**
 * How far around the post its album's other messages can be: a channel's ids are its own and an album's are
 * consecutive (at most 10 messages: 9 either side). A basic group's ids are shared by all the account's private
 * chats, so others may come in between: a wider window (the same numbers as mtcute's getMessageGroup).
 */
const ALBUM_REACH = { channel: 9, chat: 19 } as const;

export class SourceCheck {
  private readonly resolver: PeerResolver;
  private readonly callTimeoutMs: number;

  constructor(resolver: PeerResolver, callTimeoutMs: number) {
    this.resolver = resolver;
    this.callTimeoutMs = callTimeoutMs;
  }

  async check(client: SessionClient, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    return judged(await this.getMessages(client, source, () => [source.messageId], signal), source);
  }

  /** The check, and the post's messages: its album's (same `grouped_id`, in order) or its own id alone. */
  async read(client: SessionClient, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    const got = await this.getMessages(client, source, (peer) => around(source.messageId, peer), signal);
    const answer = judged(got, source);
    if (!answer.ok || 'answer' in got) return { answer, messageIds: [] };
    return { answer, messageIds: albumOf(got.result, got.peer, source.messageId) };
  }

  /**
   * The messages `ids` of the source's chat. A cached chat Telegram refused is resolved once more (a username may
   * have moved to another chat) and asked once more when it did.
   */
  private async getMessages(
    client: SessionClient,
    source: PostRef,
    ids: (peer: ChatPeer) => number[],
    signal: AbortSignal | undefined,
  ): Promise<Fetched> {
    const resolved = await this.resolver.resolve(client, source.chat);
    if (isUnresolved(resolved)) return { answer: resolved.answer };
    const got = await this.fetch(client, resolved.peer, ids, signal);
    const answer = judged(got, source);
    if (answer.ok || !resolved.cached || signal?.aborted) return got;
    const again = await this.resolver.recheck(client, source.chat, resolved.peer, answer);
    if (again === null) return got;
    if (isUnresolved(again)) return { answer: again.answer };
    return this.fetch(client, again.peer, ids, signal);
  }

  private async fetch(
    client: SessionClient,
    peer: ChatPeer,
    ids: (peer: ChatPeer) => number[],
    signal: AbortSignal | undefined,
  ): Promise<Fetched> {
    // An aborted check reports a transient failure; the caller's (aborted) backoff then ends its loop.
    if (signal?.aborted) return { answer: NETWORK_ERROR };
    const options = {
      ...NO_FLOOD_SLEEP,
      timeout: this.callTimeoutMs,
      ...(signal ? { abortSignal: signal } : {}),
    };
    const id: tl.TypeInputMessage[] = ids(peer).map((n) => ({ _: 'inputMessageID', id: n }));
    let result: tl.messages.TypeMessages;
    try {
      result =
        peer._ === 'inputPeerChannel'
          ? await client.tg.call(
              {
                _: 'channels.getMessages',
                channel: { _: 'inputChannel', channelId: peer.channelId, accessHash: peer.accessHash },
                id,
              },
              options,
            )
          : await client.tg.call({ _: 'messages.getMessages', id }, options);
    } catch (error) {
      if (signal?.aborted) return { answer: NETWORK_ERROR };
      return { answer: answerFromError(error) };
    }
    return { result, peer };
  }
}

type Fetched = { answer: TelegramAnswer } | { result: tl.messages.TypeMessages; peer: ChatPeer };

/** The source check's answer for what was fetched. */
function judged(got: Fetched, source: PostRef): TelegramAnswer {
  return 'answer' in got ? got.answer : judgeSource(got.result, got.peer, source.messageId);
}

/** The ids around the post that its album can span (from 1 up). */
function around(messageId: number, peer: ChatPeer): number[] {
  const reach = peer._ === 'inputPeerChannel' ? ALBUM_REACH.channel : ALBUM_REACH.chat;
  const ids: number[] = [];
  for (let id = Math.max(1, messageId - reach); id <= messageId + reach; id++) ids.push(id);
  return ids;
}

/** The post's album in this chat — the messages with its `grouped_id`, in order — or the post alone. */
function albumOf(result: tl.messages.TypeMessages, peer: ChatPeer, messageId: number): number[] {
  if (result._ === 'messages.messagesNotModified') return [messageId];
  const inChat = result.messages.filter(
    (m): m is tl.RawMessage => m._ === 'message' && samePeer(m.peerId, peer),
  );
  const groupedId = inChat.find((m) => m.id === messageId)?.groupedId;
  if (!groupedId) return [messageId];
  const album = inChat.filter((m) => m.groupedId?.equals(groupedId)).map((m) => m.id);
  return [...new Set(album)].sort((a, b) => a - b);
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
  if (chat?._ === 'channelForbidden' || chat?._ === 'chatForbidden') return refusal('CHANNEL_PRIVATE');
  // messages.getMessages (basic groups) looks ids up across the account: the message must be in this chat.
  const message = result.messages.find(
    (m) => m.id === messageId && (m._ === 'messageEmpty' || samePeer(m.peerId, peer)),
  );
  if (!message || message._ === 'messageEmpty') return refusal('MSG_ID_INVALID');
  // Service messages (joins, pins…) cannot be forwarded.
  if (message._ === 'messageService') return refusal('MSG_ID_INVALID');
  if (message.noforwards) return refusal('CHAT_FORWARDS_RESTRICTED');
  if (chat && (chat._ === 'channel' || chat._ === 'chat') && chat.noforwards)
    return refusal('CHAT_FORWARDS_RESTRICTED');
  return { ok: true };
}
