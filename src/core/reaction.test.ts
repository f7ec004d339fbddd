import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyError, type Outcome } from './outcome.js';
import { react, type ReactionContext, type ReactionPolicy } from './reaction.js';

const policy: ReactionPolicy = {
  maxTransientAttempts: 3,
  transientBackoffMs: 2_000,
  pairParkSeconds: 3_600,
  bannedGroupsBeforePause: 3,
  limitedPauseSeconds: 6 * 3_600,
  unknownFailuresBeforeSkip: 2,
  unknownSkipCycles: 3,
};
const ctx = (c: Partial<ReactionContext> = {}): ReactionContext => ({
  now: 1_000_000,
  attempts: 1,
  delayMs: 5_000,
  cycleNumber: 7,
  sessionId: 's1',
  groupKey: '-1001',
  pair: null,
  bannedIn: new Set(),
  policy,
  ...c,
});
const of = (error: string): Outcome => classifyError(error);

describe('react: one Telegram answer → effects and the lane’s next step', () => {
  it('sent keeps the guard, clears a parked pair and finishes the post as sent', () => {
    const pair = {
      sessionId: 's1',
      groupKey: '-1001',
      cooldownUntil: null,
      parkedUntil: 5,
      parkedReason: 'not_member',
      unknownFailures: 1,
      skipThroughCycle: null,
      lastError: 'X',
    };
    expect(react({ kind: 'sent' }, ctx({ pair }))).toEqual({
      effects: [
        { type: 'guard', action: 'keep' },
        {
          type: 'save_pair',
          pair: { ...pair, parkedUntil: null, parkedReason: null, unknownFailures: 0, lastError: null },
        },
        { type: 'finish', status: 'sent', reason: null, error: null, sentAt: 1_000_000 },
      ],
      lane: { kind: 'next' },
    });
    expect(react({ kind: 'duplicate' }, ctx()).effects).toEqual([
      { type: 'guard', action: 'keep' },
      { type: 'finish', status: 'duplicate', reason: null, error: 'RANDOM_ID_DUPLICATE', sentAt: 1_000_000 },
    ]);
  });

  it('sent with the ids Telegram answered: the finish carries them to the post', () => {
    expect(react(classifyAnswer({ ok: true, messageId: 7, messageIds: [7, 8, 9] }), ctx()).effects).toEqual([
      { type: 'guard', action: 'keep' },
      {
        type: 'finish',
        status: 'sent',
        reason: null,
        error: null,
        sentAt: 1_000_000,
        sentMessageIds: [7, 8, 9],
      },
    ]);
  });

  it('transient: retried with a doubling backoff (never sooner than the delay), then failed keeping the guard', () => {
    expect(react(of('TIMEOUT'), ctx({ attempts: 1 }))).toEqual({
      effects: [{ type: 'retry', notBefore: 1_005_000, error: 'TIMEOUT' }],
      lane: { kind: 'again' },
    });
    expect(react(of('TIMEOUT'), ctx({ attempts: 2 })).effects).toEqual([
      { type: 'retry', notBefore: 1_005_000, error: 'TIMEOUT' },
    ]);
    expect(react(of('TIMEOUT'), ctx({ attempts: 2, delayMs: 1_000 })).effects).toEqual([
      { type: 'retry', notBefore: 1_004_000, error: 'TIMEOUT' },
    ]);
    expect(react(of('TIMEOUT'), ctx({ attempts: 3 }))).toEqual({
      effects: [
        { type: 'guard', action: 'keep' },
        { type: 'finish', status: 'failed', reason: 'transient', error: 'TIMEOUT', sentAt: null },
      ],
      lane: { kind: 'next' },
    });
  });

  it('SLOWMODE_WAIT: the pair cools down, the guard learns the slow mode, the post is skipped', () => {
    const r = react(of('SLOWMODE_WAIT_120'), ctx());
    expect(r.effects).toEqual([
      { type: 'guard', action: 'release' },
      {
        type: 'save_pair',
        pair: expect.objectContaining({ cooldownUntil: 1_120_000, lastError: 'SLOWMODE_WAIT_120' }),
      },
      { type: 'learn_slowmode', seconds: 120 },
      { type: 'finish', status: 'skipped', reason: 'slowmode', error: 'SLOWMODE_WAIT_120', sentAt: null },
    ]);
  });

  it('a group the account may not post in is parked; banned in too many groups pauses the session as limited', () => {
    const parked = react(of('USER_NOT_PARTICIPANT'), ctx());
    expect(parked.effects[1]).toEqual({
      type: 'save_pair',
      pair: expect.objectContaining({ parkedUntil: 1_000_000 + 3_600_000, parkedReason: 'not_member' }),
    });
    expect(parked.lane).toEqual({ kind: 'next' });
    const second = react(of('USER_BANNED_IN_CHANNEL'), ctx({ bannedIn: new Set(['-1002']) }));
    expect(second.lane).toEqual({ kind: 'next' });
    expect(second.effects.at(-1)).toEqual({ type: 'note_banned' });
    const third = react(of('USER_BANNED_IN_CHANNEL'), ctx({ bannedIn: new Set(['-1002', '-1003']) }));
    expect(third.effects.at(-1)).toEqual({
      type: 'pause_session',
      seconds: 21_600,
      reason: 'banned_in_many_groups',
      error: 'USER_BANNED_IN_CHANNEL',
    });
    expect(third.lane).toEqual({
      kind: 'skip_rest',
      reason: 'session_limited',
      error: 'banned_in_many_groups',
    });
    // The same group twice counts once.
    const again = react(of('USER_BANNED_IN_CHANNEL'), ctx({ bannedIn: new Set(['-1001', '-1002']) }));
    expect(again.lane).toEqual({ kind: 'next' });
  });

  it('FLOOD_WAIT puts the post back (counted) and pauses the session for the seconds given; the lane waits', () => {
    expect(react(of('FLOOD_WAIT_30'), ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        { type: 'put_back', error: 'FLOOD_WAIT_30', floodWait: true },
        { type: 'pause_session', seconds: 30, reason: 'flood_wait', error: 'FLOOD_WAIT_30' },
      ],
      lane: { kind: 'again' },
    });
  });

  it('a 420 without a duration pauses the session for the long pause, like a FLOOD_WAIT: the lane waits or hands over', () => {
    expect(react(classifyError('P0NY_FLOODWAIT', 420), ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        { type: 'put_back', error: 'P0NY_FLOODWAIT', floodWait: true },
        { type: 'pause_session', seconds: 21_600, reason: 'flood_limit', error: 'P0NY_FLOODWAIT' },
      ],
      lane: { kind: 'again' },
    });
  });

  it('PEER_FLOOD and USER_RESTRICTED pause the session for the long pause and skip the rest of its lane', () => {
    for (const [error, reason] of [
      ['PEER_FLOOD', 'peer_flood'],
      ['USER_RESTRICTED', 'restricted'],
    ] as const) {
      expect(react(of(error), ctx())).toEqual({
        effects: [
          { type: 'guard', action: 'release' },
          { type: 'pause_session', seconds: 21_600, reason, error },
          { type: 'finish', status: 'skipped', reason: 'session_limited', error, sentAt: null },
        ],
        lane: { kind: 'skip_rest', reason: 'session_limited', error: reason },
      });
    }
  });

  it('a dead session retires; its post goes back and the lane ends (handed over in enterprise)', () => {
    expect(react(of('AUTH_KEY_UNREGISTERED'), ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        { type: 'put_back', error: 'AUTH_KEY_UNREGISTERED', floodWait: false },
        { type: 'retire_session', reason: 'revoked', error: 'AUTH_KEY_UNREGISTERED' },
      ],
      lane: { kind: 'end', reason: 'session_dead', error: 'AUTH_KEY_UNREGISTERED' },
    });
  });

  it('a frozen account retires too; its lane ends for `session_frozen`', () => {
    expect(react(of('FROZEN_METHOD_INVALID'), ctx()).lane).toEqual({
      kind: 'end',
      reason: 'session_frozen',
      error: 'FROZEN_METHOD_INVALID',
    });
  });

  it('a connection that never opened: nothing was sent, the post waits for the session’s next connect', () => {
    const unreachable = classifyError('CONNECT_TIMEOUT', undefined, 'connect');
    expect(react(unreachable, ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        { type: 'put_back', error: 'CONNECT_TIMEOUT', floodWait: false },
        { type: 'connect_failed', error: 'CONNECT_TIMEOUT' },
      ],
      lane: { kind: 'again' },
    });
  });

  it('a source this session cannot read hands the post on, parks no pair and stops nothing', () => {
    const unreachable = classifyError('CHANNEL_PRIVATE', 400, 'source');
    expect(react(unreachable, ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        { type: 'put_back', error: 'CHANNEL_PRIVATE', floodWait: false },
        { type: 'note_source_unreachable', error: 'CHANNEL_PRIVATE' },
      ],
      lane: { kind: 'end', reason: 'source_unreachable', error: 'CHANNEL_PRIVATE' },
    });
  });

  it('an invalid source cancels the post and halts the cycle', () => {
    expect(react(of('CHAT_FORWARDS_RESTRICTED'), ctx())).toEqual({
      effects: [
        { type: 'guard', action: 'release' },
        {
          type: 'finish',
          status: 'cancelled',
          reason: 'source_invalid',
          error: 'CHAT_FORWARDS_RESTRICTED',
          sentAt: null,
        },
        {
          type: 'halt_cycle',
          reason: 'source_invalid:forwards_restricted',
          error: 'CHAT_FORWARDS_RESTRICTED',
        },
      ],
      lane: { kind: 'halt' },
    });
  });

  it('unknown errors count per pair; the Nth skips the pair for the configured cycles', () => {
    const first = react(of('SOMETHING_ODD'), ctx());
    expect(first.effects[1]).toEqual({
      type: 'save_pair',
      pair: expect.objectContaining({
        unknownFailures: 1,
        skipThroughCycle: null,
        lastError: 'SOMETHING_ODD',
      }),
    });
    const pair = (first.effects[1] as { pair: ReactionContext['pair'] }).pair;
    const second = react(of('SOMETHING_ODD'), ctx({ pair }));
    expect(second.effects[1]).toEqual({
      type: 'save_pair',
      pair: expect.objectContaining({ unknownFailures: 0, skipThroughCycle: 10 }),
    });
    expect(second.effects[2]).toEqual({
      type: 'finish',
      status: 'failed',
      reason: 'unknown',
      error: 'SOMETHING_ODD',
      sentAt: null,
    });
  });
});
