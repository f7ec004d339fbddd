/**
 * The live cycle as the timeline shows it: the cycle view the API answered, brought up to date by the live events
 * of that cycle (and of no other) that arrived since. Each slot's outcome comes from the core's one table, as the
 * API's own counts do.
 */
import { countSlotOutcomes, slotOutcome, type SlotCounts } from '../../src/core/slot-outcome.js';
import type { PostStatus } from '../../src/core/model.js';
import type { CycleSlot, CycleView, LiveEvent } from './types';

export function liveSlots(view: CycleView, events: readonly LiveEvent[]): CycleSlot[] {
  const byId = new Map(view.slots.map((s) => [s.id, s]));
  const changed = new Map<string, CycleSlot>();
  const slot = (id: string) => changed.get(id) ?? byId.get(id);
  for (const e of events) {
    if (!('cycleId' in e) || e.cycleId !== view.cycle.id || !('postId' in e)) continue;
    const old = slot(e.postId);
    if (!old) continue;
    let next: CycleSlot | null = null;
    if (e.type === 'post.sent') {
      next = {
        ...old,
        status: e.duplicate ? 'duplicate' : 'sent',
        sessionId: e.sessionId,
        sentAt: new Date(e.at).toISOString(),
      };
    } else if (e.type === 'post.failed' || e.type === 'post.skipped' || e.type === 'post.cancelled') {
      next = {
        ...old,
        status: e.status,
        sessionId: e.sessionId,
        reason: e.reason,
        reasonText: e.reasonText ?? null,
        error: e.error,
        errorText: e.errorText ?? null,
      };
    } else if (e.type === 'post.handed_off') {
      next = { ...old, sessionId: e.toSessionId };
    }
    if (next) changed.set(e.postId, { ...next, outcome: slotOutcome(next.status) });
  }
  return changed.size === 0 ? view.slots : view.slots.map((s) => changed.get(s.id) ?? s);
}

/** The cycle's counts: from the slots when the view lists them all, else the API's (which cover every slot). */
export function liveCounts(view: CycleView, slots: readonly CycleSlot[]): SlotCounts {
  if (view.truncated) return view.counts;
  const byStatus: Partial<Record<PostStatus, number>> = {};
  for (const s of slots) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  return countSlotOutcomes(byStatus);
}
