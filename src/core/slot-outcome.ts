/**
 * What became of a slot of a cycle (one planned post), in the five words every screen counts by: the status API's
 * cycle counts, the cycle view and the dashboard's timeline all map a post's stored status through this one table,
 * so a screen never counts a status differently from another. A duplicate is a sent post (Telegram already had
 * it); missed and not attempted are skipped (the cycle's deadline passed first); only a post still `planned` or
 * `sending` is pending. A cycle that is over has no pending slot: its runner (or the store's sweep of a stopped
 * bot) gives every post a final status.
 */
import type { PostStatus } from './model.js';

export const SLOT_OUTCOMES = ['sent', 'failed', 'skipped', 'cancelled', 'pending'] as const;
export type SlotOutcome = (typeof SLOT_OUTCOMES)[number];

const OUTCOME_OF: Record<PostStatus, SlotOutcome> = {
  planned: 'pending',
  sending: 'pending',
  sent: 'sent',
  duplicate: 'sent',
  failed: 'failed',
  skipped: 'skipped',
  missed: 'skipped',
  not_attempted: 'skipped',
  cancelled: 'cancelled',
};

export function slotOutcome(status: PostStatus): SlotOutcome {
  return OUTCOME_OF[status];
}

/**
 * A cycle's slots counted by outcome; `planned` is every slot of the cycle, whatever became of it, and `done` what
 * was sent or decided (sent + failed + skipped): a progress bar counts `done`, never a cancelled slot.
 */
export type SlotCounts = Record<SlotOutcome, number> & { planned: number; done: number };

export function countSlotOutcomes(byStatus: Partial<Record<PostStatus, number>>): SlotCounts {
  const counts: SlotCounts = {
    planned: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    pending: 0,
    done: 0,
  };
  for (const [status, n] of Object.entries(byStatus) as [PostStatus, number | undefined][]) {
    if (!n) continue;
    counts.planned += n;
    counts[slotOutcome(status)] += n;
  }
  counts.done = counts.sent + counts.failed + counts.skipped;
  return counts;
}

/**
 * When a slot's result came about, as far as the history knows: its sent time; else its planned time, or its
 * cycle's end when that came first (a stop cancels the rest, a deadline ends it); null while it is still pending.
 * The history's `done` view orders by the same rule in SQL (storage/bots.ts `happenedAt`).
 */
export function slotHappenedAt(
  post: { status: PostStatus; sentAt: number | null; plannedAt: number },
  cycleFinishedAt: number | null,
): number | null {
  if (slotOutcome(post.status) === 'pending') return null;
  if (post.sentAt !== null) return post.sentAt;
  return cycleFinishedAt !== null && cycleFinishedAt < post.plannedAt ? cycleFinishedAt : post.plannedAt;
}
