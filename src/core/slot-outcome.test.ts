import { describe, expect, it } from 'vitest';
import { POST_STATUSES, FINAL_POST_STATUSES } from './model.js';
import { countSlotOutcomes, slotHappenedAt, slotOutcome } from './slot-outcome.js';

describe('the outcome of a slot', () => {
  it('is pending exactly while the post is not final', () => {
    for (const status of POST_STATUSES) {
      expect(slotOutcome(status) === 'pending', status).toBe(!FINAL_POST_STATUSES.has(status));
    }
  });

  it('counts a duplicate as sent and a missed or not attempted post as skipped', () => {
    expect(slotOutcome('duplicate')).toBe('sent');
    expect(slotOutcome('missed')).toBe('skipped');
    expect(slotOutcome('not_attempted')).toBe('skipped');
    expect(slotOutcome('cancelled')).toBe('cancelled');
    expect(slotOutcome('failed')).toBe('failed');
  });

  it('counts a cycle by outcome, every slot once', () => {
    expect(
      countSlotOutcomes({
        sent: 3,
        duplicate: 1,
        missed: 2,
        skipped: 1,
        cancelled: 4,
        sending: 1,
        planned: 0,
      }),
    ).toEqual({ planned: 12, sent: 4, failed: 0, skipped: 3, cancelled: 4, pending: 1, done: 7 });
    expect(countSlotOutcomes({})).toEqual({
      planned: 0,
      sent: 0,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      pending: 0,
      done: 0,
    });
  });

  it('dates a slot by its sent time, else its planned time or its cycle’s end when that came first', () => {
    expect(slotHappenedAt({ status: 'sent', sentAt: 50, plannedAt: 40 }, 30)).toBe(50);
    expect(slotHappenedAt({ status: 'cancelled', sentAt: null, plannedAt: 40 }, 30)).toBe(30);
    expect(slotHappenedAt({ status: 'skipped', sentAt: null, plannedAt: 40 }, 90)).toBe(40);
    expect(slotHappenedAt({ status: 'skipped', sentAt: null, plannedAt: 40 }, null)).toBe(40);
    expect(slotHappenedAt({ status: 'planned', sentAt: null, plannedAt: 40 }, 30)).toBeNull();
    expect(slotHappenedAt({ status: 'sending', sentAt: null, plannedAt: 40 }, null)).toBeNull();
  });
});
