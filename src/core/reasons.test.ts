import { describe, expect, it } from 'vitest';
import { explainHandOff, explainReason, explainText, isPostReason } from './reasons.js';

const policy = { unknownFailuresBeforeSkip: 2, unknownSkipCycles: 3 };

describe('reasons are explained by kind', () => {
  it('`restricted` of a group and of an account are different things', () => {
    expect(explainReason('post', 'restricted', policy)).toBe(
      'Skipped: the group is restricted for this account.',
    );
    expect(explainReason('session', 'restricted', policy)).toBe(
      'Telegram restricted this account; it is paused for hours.',
    );
  });

  it('numbers come from the policy in force', () => {
    expect(
      explainReason('post', 'unknown_repeated', { unknownFailuresBeforeSkip: 4, unknownSkipCycles: 1 }),
    ).toBe('Skipped: this group failed 4 times with an unknown error; it is skipped for 1 cycle.');
    expect(explainReason('post', 'unknown', policy)).toContain('skipped for 3 cycles');
  });

  it('paid messages are explained with the price the error carries', () => {
    expect(explainReason('post', 'paid_messages', policy, 'ALLOW_PAYMENT_REQUIRED_25')).toBe(
      'Skipped: the group charges 25 stars a message (paid messages), and Stagger never pays to post.',
    );
    expect(explainText('post', 'paid_messages', policy, 'ALLOW_PAYMENT_REQUIRED_3')).toContain('3 stars');
    // Without a price (Telegram may answer ALLOW_PAYMENT_REQUIRED alone): still the reason, in words.
    expect(explainReason('post', 'paid_messages', policy)).toContain('charges stars a message');
  });

  it('a reason of another kind is not explained as this kind', () => {
    expect(explainReason('post', 'flood_wait', policy)).toBeNull();
    expect(explainReason('session', 'group_gap', policy)).toBeNull();
    expect(explainReason('cycle', 'source_invalid:forwards_restricted', policy)).toContain(
      'cannot be forwarded',
    );
    expect(explainReason('cycle', 'previous_cycle_overran: 2 slot(s) skipped', policy)).toContain('ran into');
    expect(explainReason('attention', 'sessions_paused', policy)).toContain('first pause ends');
    expect(explainReason('stop', 'fenced', policy)).toBe('Another worker took over this bot.');
    expect(isPostReason('toString')).toBe(false);
    expect(explainReason('session', 'constructor', policy)).toBeNull();
  });

  it('a session out of reach and a frozen account are explained as what they are', () => {
    expect(explainReason('session', 'unreachable', policy)).toContain('cannot be reached');
    expect(explainReason('session', 'connecting', policy)).toContain('tries again');
    expect(explainReason('session', 'frozen', policy)).toContain('Appeal');
    expect(explainReason('post', 'session_frozen', policy)).toContain('froze');
    expect(explainReason('post', 'session_unreachable', policy)).toContain('could not be reached');
  });

  it('a session reason kept as a post’s error is said as the session’s, not as a Telegram error of that name', () => {
    // `flood_wait` beside a skip: the account was told to wait some seconds, not "for hours" (FLOOD_WAIT alone).
    expect(explainText('error', 'flood_wait', policy)).toBe(explainReason('session', 'flood_wait', policy));
    expect(explainText('error', 'FLOOD_WAIT', policy)).toContain('for hours');
    expect(explainText('error', 'FLOOD_WAIT_30', policy)).toContain('30 s');
  });

  it('a hand-off says what the first session could not do, after its name; other reasons are no hand-off', () => {
    expect(explainHandOff('write_forbidden', 'sandbox 1')).toBe('sandbox 1 may not write in the group');
    expect(explainHandOff('session_paused', 'phone 2')).toBe(
      'phone 2 was paused by Telegram past its time in this cycle',
    );
    expect(explainReason('handoff', 'not_member', policy)).toBe(
      'Handed over to another session: its session is not a member of the group.',
    );
    for (const noHandOff of ['group_gap', 'stopped', 'toString'])
      expect(explainHandOff(noHandOff, 'x')).toBeNull();
  });
});
