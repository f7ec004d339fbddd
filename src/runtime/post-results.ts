/**
 * The one writer of a post's final result in the runtime: the state the post object carries, the batched write
 * with its counters, and the event. The cycle's lanes and the runner (a cycle cancelled as a whole) both end posts
 * through it; the store's own sweep of a stopped bot's cycle (storage/bots.ts closeStaleCycles) is the only other
 * place, for posts no runtime holds.
 */
import type { CounterDelta, PostRecord, PostStatus } from '../core/model.js';
import type { BotState } from './bot-state.js';
import type { PostPatch } from './store.js';
import type { WriteBatcher } from './write-batcher.js';

const COUNTERS: Partial<Record<PostStatus, CounterDelta>> = {
  sent: { sent: 1 },
  duplicate: { sent: 1, duplicates: 1 },
  failed: { failed: 1 },
  skipped: { skipped: 1 },
  missed: { skipped: 1 },
  not_attempted: { skipped: 1 },
};

export async function recordFinal(
  deps: { batcher: WriteBatcher; state: BotState },
  post: PostRecord,
  status: PostStatus,
  reason: string | null,
  error: string | null,
  sentAt: number | null = null,
  /** The messages the forward created in the group (Telegram's answer to a `sent` post), when it said. */
  sentMessageIds: readonly number[] = [],
): Promise<void> {
  post.status = status;
  post.reason = reason;
  post.error = error;
  post.sentAt = sentAt;
  const patch: PostPatch = {
    postId: post.id,
    botId: post.botId,
    status,
    reason,
    error,
    attempts: post.attempts,
    sentAt,
  };
  // One copy, shared by the post and its write (the answer's list is not ours to keep).
  if (sentMessageIds.length > 0) post.sentMessageIds = patch.sentMessageIds = sentMessageIds.slice();
  await deps.batcher.writeResult(patch, COUNTERS[status], deps.state.fence);
  const { cycleId, id: postId, sessionId, groupKey } = post;
  if (status === 'sent' || status === 'duplicate') {
    deps.state.emit({
      type: 'post.sent',
      cycleId,
      postId,
      sessionId,
      groupKey,
      plannedAt: post.plannedAt,
      duplicate: status === 'duplicate',
    });
  } else {
    const type =
      status === 'failed' ? 'post.failed' : status === 'cancelled' ? 'post.cancelled' : 'post.skipped';
    deps.state.emit({ type, cycleId, postId, sessionId, groupKey, status, reason, error });
  }
}
