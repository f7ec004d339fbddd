/**
 * The preflight report: for every (session, group), is the account a member, may it write, the group's slow
 * mode, its paid messages and (for a topic target) whether the topic is closed; and whether the source post may be
 * forwarded. The runtime reads the same facts of one session's targets (`readFacts`). Each session checks its targets one after another (a few
 * sessions at a time); a dead key or a limit ends that session's checks — nothing is retried through a limit.
 */
import type { tl } from '@mtcute/core';
import { unknownFacts } from '../../core/group-facts.js';
import type { GroupTarget } from '../../core/group-targets.js';
import { classifyError, stopsSession, type TelegramAnswer } from '../../core/outcome.js';
import type { PostRef } from '../../core/post-link.js';
import type { PreflightReport, PreflightRow, SessionHandle } from '../gateway.js';
import { answerFromError, refusal } from './answers.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';
import type { ClientPool, SessionClient } from './client-pool.js';
import { isUnresolved, type PeerResolver } from './peer-resolver.js';
import { chatUsernames, type ChatPeer } from './peers.js';
import type { SourceCheck } from './source-check.js';
import type { TelegramClock } from './telegram-clock.js';

export interface PreflightOptions {
  pool: ClientPool;
  resolver: PeerResolver;
  sourceCheck: SourceCheck;
  /** Whether a ban has run out is judged at `clock.now()`. */
  clock: TelegramClock;
  callTimeoutMs: number;
  /** Sessions checked at the same time (at least 1). */
  concurrency: number;
}

interface SessionReport {
  rows: PreflightRow[];
  source: TelegramAnswer | null;
}

/** A row that knows nothing yet. */
export function emptyRow(sessionId: string, target: GroupTarget): PreflightRow {
  return unknownFacts(sessionId, target.key, null);
}

/**
 * Stars a message this account must pay in the supergroup: the full channel says it for the current user (absent:
 * nothing to pay; 0: exempt, e.g. an admin); the chat's own price stands in only when there is no full channel.
 */
function paidStarsOf(chat: tl.RawChannel, full: tl.TypeChatFull): number {
  const price = full._ === 'channelFull' ? full.sendPaidMessagesStars : chat.sendPaidMessagesStars;
  return price === undefined ? 0 : price.toNumber();
}

function isBanned(rights: tl.TypeChatBannedRights | undefined, nowSeconds: number): boolean {
  if (!rights?.sendMessages) return false;
  return rights.untilDate === 0 || rights.untilDate > nowSeconds;
}

/** The error that ends a session's checks: a dead key or a limit (never retried through). */
function stopping(answer: TelegramAnswer | null): string | null {
  return answer !== null && !answer.ok && stopsSession(answer) ? answer.error : null;
}

export class Preflight {
  private readonly options: PreflightOptions;

  constructor(options: PreflightOptions) {
    this.options = options;
  }

  async run(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport> {
    const lanes: SessionReport[] = sessions.map(() => ({ rows: [], source: null }));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sessions.length) {
        const index = next++;
        lanes[index] = await this.checkSession(sessions[index]!, targets, source);
      }
    };
    const workers = Math.min(Math.max(1, this.options.concurrency), sessions.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return { source: sourceReport(lanes, source), rows: lanes.flatMap((l) => l.rows) };
  }

  private async checkSession(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<SessionReport> {
    // Nothing to ask: no client is made and no connection opened for the session.
    if (targets.length === 0 && source === null) return { rows: [], source: null };
    const { pool, resolver, sourceCheck } = this.options;
    const rows: PreflightRow[] = [];
    const row = (target: GroupTarget, fields: Partial<PreflightRow>): PreflightRow => ({
      ...emptyRow(session.id, target),
      ...fields,
    });
    let sourceAnswer: TelegramAnswer | null = null;

    const answer = await pool.run(session.id, async (client) => {
      if (source !== null) {
        const checked = await sourceCheck.check(client, source);
        sourceAnswer = checked;
        const stop = stopping(checked);
        if (stop !== null) return refusal(stop);
      }
      // Many unknown ids: read the dialogs first (a few pages) rather than one resolve call per group.
      if ((await resolver.countCold(client.sessionId, targets)) > 1) {
        const stop = stopping(await resolver.readDialogs(client));
        if (stop !== null) return refusal(stop);
      }
      for (const target of targets) {
        const checked = await this.checkTarget(client, target);
        rows.push(row(target, checked));
        const stop = stopping(checked.error ? refusal(checked.error) : null);
        // The rest of this session's rows get the same error below, without a call.
        if (stop !== null) return refusal(stop);
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

  private async checkTarget(client: SessionClient, target: GroupTarget): Promise<Partial<PreflightRow>> {
    const { resolver } = this.options;
    const resolved = await resolver.resolve(client, target.chat);
    if (isUnresolved(resolved)) return errorRow(resolved.answer);
    const checked = await this.checkPeer(client, resolved.peer, target);
    if (!('refused' in checked)) return checked;
    if (!resolved.cached) return errorRow(checked.refused);
    // A cached chat Telegram refused: a username is resolved once more, and checked once more when it moved.
    const again = await resolver.recheck(client, target.chat, resolved.peer, checked.refused);
    if (again === null) return errorRow(checked.refused);
    if (isUnresolved(again)) return errorRow(again.answer);
    const recheck = await this.checkPeer(client, again.peer, target);
    return 'refused' in recheck ? errorRow(recheck.refused) : recheck;
  }

  /** The row's fields for a peer, or Telegram's refusal of the call. */
  private async checkPeer(
    client: SessionClient,
    peer: ChatPeer,
    target: GroupTarget,
  ): Promise<Partial<PreflightRow> | { refused: TelegramAnswer }> {
    const { clock, callTimeoutMs } = this.options;
    const nowSeconds = Math.floor(clock.now() / 1000);
    const options = { ...NO_FLOOD_SLEEP, timeout: callTimeoutMs };
    try {
      if (peer._ === 'inputPeerChannel') {
        const full = await client.tg.call(
          {
            _: 'channels.getFullChannel',
            channel: { _: 'inputChannel', channelId: peer.channelId, accessHash: peer.accessHash },
          },
          options,
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
        const facts = {
          member,
          canWrite,
          slowmodeSeconds: slowmode,
          paidStars: paidStarsOf(chat, full.fullChat),
          // Its public name, if any: a message sent there can be linked (t.me/<name>/<id>).
          username: chatUsernames(chat)[0] ?? null,
        };
        if (target.topicId === undefined || !chat.forum) return facts;
        return { ...facts, ...(await this.topicState(client, peer, target.topicId)) };
      }
      const full = await client.tg.call({ _: 'messages.getFullChat', chatId: peer.chatId }, options);
      const chat = full.chats.find((c) => c.id === peer.chatId);
      if (!chat || chat._ === 'chatForbidden')
        return { member: false, canWrite: false, error: 'CHAT_FORBIDDEN' };
      if (chat._ !== 'chat') return { error: 'CHAT_ID_INVALID' };
      const member = !chat.left && !chat.deactivated;
      const admin = Boolean(chat.creator) || chat.adminRights !== undefined;
      const canWrite = member && (admin || !isBanned(chat.defaultBannedRights, nowSeconds));
      // Basic groups have no slow mode, no paid messages and no topics.
      return { member, canWrite, slowmodeSeconds: 0, paidStars: 0 };
    } catch (error) {
      return { refused: answerFromError(error) };
    }
  }

  /** Is the target's forum topic closed? A deleted topic counts as closed; one Telegram does not list is unknown. */
  private async topicState(
    client: SessionClient,
    peer: tl.RawInputPeerChannel,
    topicId: number,
  ): Promise<Pick<PreflightRow, 'topicClosed'> & Partial<PreflightRow>> {
    try {
      const answer = await client.tg.call(
        {
          _: 'channels.getForumTopicsByID',
          channel: { _: 'inputChannel', channelId: peer.channelId, accessHash: peer.accessHash },
          topics: [topicId],
        },
        { ...NO_FLOOD_SLEEP, timeout: this.options.callTimeoutMs },
      );
      const topic = answer.topics.find((t) => t.id === topicId);
      if (!topic) return { topicClosed: null };
      return { topicClosed: topic._ === 'forumTopicDeleted' || Boolean(topic.closed) };
    } catch (error) {
      const answer = answerFromError(error);
      return { topicClosed: null, error: answer.ok ? null : answer.error };
    }
  }

  /**
   * One session's facts about its targets, for the runtime: no source check and no dialogs read first (a cold id is
   * resolved as a forward would), one target after another until an abort; a dead key or a limit ends the reads,
   * and the rest carry its error. Returns that answer too, so the pool closes a dead key's client.
   */
  async readFacts(
    client: SessionClient,
    targets: readonly GroupTarget[],
    signal?: AbortSignal,
  ): Promise<{ rows: PreflightRow[]; answer: TelegramAnswer }> {
    const rows: PreflightRow[] = [];
    for (const [i, target] of targets.entries()) {
      if (signal?.aborted) break;
      const checked = await this.checkTarget(client, target);
      rows.push({ ...emptyRow(client.sessionId, target), ...checked });
      const stop = stopping(checked.error ? refusal(checked.error) : null);
      if (stop === null) continue;
      for (const rest of targets.slice(i + 1))
        rows.push({ ...emptyRow(client.sessionId, rest), error: stop });
      return { rows, answer: refusal(stop) };
    }
    return { rows, answer: { ok: true } };
  }
}

function errorRow(answer: TelegramAnswer): Partial<PreflightRow> {
  return { error: answer.ok ? null : answer.error };
}

/**
 * The source's line of the report: a refusal that says the post cannot be forwarded wins; else any session that
 * could check it makes it ok; else the first failure (or NO_SESSION when no session ran).
 */
function sourceReport(lanes: readonly SessionReport[], source: PostRef | null): PreflightReport['source'] {
  if (source === null) return { ok: false, error: null };
  const answers = lanes.map((l) => l.source).filter((a): a is TelegramAnswer => a !== null);
  const invalid = answers.find(
    (a) => !a.ok && classifyError(a.error, a.code, 'source').kind === 'source_invalid',
  );
  if (invalid && !invalid.ok) return { ok: false, error: invalid.error };
  if (answers.some((a) => a.ok)) return { ok: true, error: null };
  const first = answers.find((a) => !a.ok);
  return { ok: false, error: first && !first.ok ? first.error : 'NO_SESSION' };
}
