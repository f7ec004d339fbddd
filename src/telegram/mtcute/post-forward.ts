/**
 * One forward of the source post to one target, as the raw messages.forwardMessages call: mtcute's
 * `forwardMessagesById` draws its own random_id, and exactly-once needs ours (fixed at planning, the same on
 * every retry, so Telegram drops a duplicate).
 */
import type { Long, tl } from '@mtcute/core';
import type { TelegramAnswer } from '../../core/outcome.js';
import type { ForwardRequest } from '../gateway.js';
import { answerFromError } from './answers.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';
import type { SessionClient } from './client-pool.js';
import { isUnresolved, type PeerResolver } from './peer-resolver.js';
import type { ChatPeer } from './peers.js';

export class PostForward {
  private readonly resolver: PeerResolver;
  private readonly callTimeoutMs: number;

  constructor(resolver: PeerResolver, callTimeoutMs: number) {
    this.resolver = resolver;
    this.callTimeoutMs = callTimeoutMs;
  }

  /** `randomId` is the request's, already converted (a random_id outside int64 never gets this far). */
  async send(client: SessionClient, request: ForwardRequest, randomId: Long): Promise<TelegramAnswer> {
    const from = await this.resolver.resolve(client, request.source.chat);
    // This session cannot see the source chat: about the source (others may read it), not the target.
    if (isUnresolved(from)) return from.answer.ok ? from.answer : { ...from.answer, phase: 'source' };
    const to = await this.resolver.resolve(client, request.target.chat);
    if (isUnresolved(to)) return to.answer;
    const answer = await this.forward(client, request, from.peer, to.peer, randomId);
    if (answer.ok || !to.cached) return answer;
    // A cached target Telegram refused: a username is resolved once more, and the post sent once more only when
    // the name now leads elsewhere (the same random_id: nothing was sent by the refused call).
    const again = await this.resolver.recheck(client, request.target.chat, to.peer, answer);
    if (again === null) return answer;
    if (isUnresolved(again)) return again.answer;
    return this.forward(client, request, from.peer, again.peer, randomId);
  }

  private async forward(
    client: SessionClient,
    request: ForwardRequest,
    fromPeer: ChatPeer,
    toPeer: ChatPeer,
    randomId: Long,
  ): Promise<TelegramAnswer> {
    const call: tl.messages.RawForwardMessagesRequest = {
      _: 'messages.forwardMessages',
      fromPeer,
      toPeer,
      id: [request.source.messageId],
      randomId: [randomId],
      silent: request.silent,
      dropAuthor: request.hideSender,
    };
    if (request.target.topicId !== undefined) call.topMsgId = request.target.topicId;
    try {
      const updates = await client.tg.call(call, { ...NO_FLOOD_SLEEP, timeout: this.callTimeoutMs });
      const messageId = sentMessageId(updates, randomId);
      return messageId === undefined ? { ok: true } : { ok: true, messageId };
    } catch (error) {
      return answerFromError(error);
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
