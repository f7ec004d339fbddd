/**
 * Is the source post there, and may it be forwarded? One getMessages call on the source's chat, once per cycle
 * (and once per session in a preflight). Stagger reads nothing else of the chat.
 */
import type { tl } from '@mtcute/core';
import type { TelegramAnswer } from '../../core/outcome.js';
import type { PostRef } from '../../core/post-link.js';
import { answerFromError, refusal } from './answers.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';
import type { SessionClient } from './client-pool.js';
import { isUnresolved, type PeerResolver } from './peer-resolver.js';
import type { ChatPeer } from './peers.js';

const NETWORK_ERROR: TelegramAnswer = { ok: false, error: 'NETWORK_ERROR' };

export class SourceCheck {
  private readonly resolver: PeerResolver;
  private readonly callTimeoutMs: number;

  constructor(resolver: PeerResolver, callTimeoutMs: number) {
    this.resolver = resolver;
    this.callTimeoutMs = callTimeoutMs;
  }

  async check(client: SessionClient, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    const resolved = await this.resolver.resolve(client, source.chat);
    if (isUnresolved(resolved)) return resolved.answer;
    const answer = await this.read(client, resolved.peer, source.messageId, signal);
    if (answer.ok || !resolved.cached || signal?.aborted) return answer;
    // A cached chat Telegram refused: a username is resolved once more, and read once more when it moved.
    const again = await this.resolver.recheck(client, source.chat, resolved.peer, answer);
    if (again === null) return answer;
    if (isUnresolved(again)) return again.answer;
    return this.read(client, again.peer, source.messageId, signal);
  }

  private async read(
    client: SessionClient,
    peer: ChatPeer,
    messageId: number,
    signal: AbortSignal | undefined,
  ): Promise<TelegramAnswer> {
    // An aborted check reports a transient failure; the caller's (aborted) backoff then ends its loop.
    if (signal?.aborted) return NETWORK_ERROR;
    const options = {
      ...NO_FLOOD_SLEEP,
      timeout: this.callTimeoutMs,
      ...(signal ? { abortSignal: signal } : {}),
    };
    const id: tl.TypeInputMessage[] = [{ _: 'inputMessageID', id: messageId }];
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
      if (signal?.aborted) return NETWORK_ERROR;
      return answerFromError(error);
    }
    return judgeSource(result, peer, messageId);
  }
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
