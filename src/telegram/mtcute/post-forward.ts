/**
 * One forward of the source post to one target, as the raw messages.forwardMessages call: mtcute's
 * `forwardMessagesById` draws its own random_ids, and exactly-once needs ours (fixed at planning, the same on
 * every retry, so Telegram drops a duplicate). An album goes in the same call: all its message ids, one random_id
 * each; the answer's `updateMessageID`s say, by random_id, which message each became in the target.
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

  /** `randomIds` are the request's, already converted (a random_id outside int64 never gets this far). */
  async send(
    client: SessionClient,
    request: ForwardRequest,
    messageIds: readonly number[],
    randomIds: readonly Long[],
  ): Promise<TelegramAnswer> {
    const from = await this.resolver.resolve(client, request.source.chat);
    // This session cannot see the source chat: about the source (others may read it), not the target.
    if (isUnresolved(from)) return from.answer.ok ? from.answer : { ...from.answer, phase: 'source' };
    const to = await this.resolver.resolve(client, request.target.chat);
    if (isUnresolved(to)) return to.answer;
    const messages = { ids: messageIds, randomIds };
    const answer = await this.forward(client, request, from.peer, to.peer, messages);
    if (answer.ok || !to.cached) return answer;
    // A cached target Telegram refused: a username is resolved once more, and the post sent once more only when
    // the name now leads elsewhere (the same random_ids: nothing was sent by the refused call).
    const again = await this.resolver.recheck(client, request.target.chat, to.peer, answer);
    if (again === null) return answer;
    if (isUnresolved(again)) return again.answer;
    return this.forward(client, request, from.peer, again.peer, messages);
  }

  private async forward(
    client: SessionClient,
    request: ForwardRequest,
    fromPeer: ChatPeer,
    toPeer: ChatPeer,
    messages: { ids: readonly number[]; randomIds: readonly Long[] },
  ): Promise<TelegramAnswer> {
    const { randomIds } = messages;
    const call: tl.messages.RawForwardMessagesRequest = {
      _: 'messages.forwardMessages',
      fromPeer,
      toPeer,
      id: [...messages.ids],
      randomId: [...randomIds],
      silent: request.silent,
      dropAuthor: request.hideSender,
    };
    if (request.target.topicId !== undefined) call.topMsgId = request.target.topicId;
    try {
      const updates = await client.tg.call(call, { ...NO_FLOOD_SLEEP, timeout: this.callTimeoutMs });
      const sent = sentMessageIds(updates, randomIds);
      return sent.length === 0 ? { ok: true } : { ok: true, messageId: sent[0]!, messageIds: sent };
    } catch (error) {
      return answerFromError(error);
    }
  }
}

/**
 * The ids of the messages a forward created, from the Updates Telegram answered: each found by its random_id
 * (`updateMessageID`), in the order of the request's messages; one Telegram did not report is left out. Without any
 * `updateMessageID`, the new messages the answer carries, in their order.
 */
function sentMessageIds(updates: tl.TypeUpdates, randomIds: readonly Long[]): number[] {
  if (updates._ !== 'updates' && updates._ !== 'updatesCombined') return [];
  const byRandomId = updates.updates.filter((u) => u._ === 'updateMessageID');
  const matched = randomIds.flatMap((r) => {
    const found = byRandomId.find((u) => u.randomId.equals(r));
    return found ? [found.id] : [];
  });
  if (matched.length > 0) return matched;
  const created: number[] = [];
  for (const u of updates.updates) {
    if ((u._ === 'updateNewChannelMessage' || u._ === 'updateNewMessage') && u.message._ === 'message') {
      created.push(u.message.id);
    }
  }
  return created.slice(0, randomIds.length);
}
