import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyError, explain, explainTelegram, isDelivered } from './outcome.js';

describe('classifyError: the table of docs/telegram.md', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['FLOOD_WAIT_30', { kind: 'session_pause', seconds: 30, reason: 'flood_wait' }],
    ['FLOOD_PREMIUM_WAIT_7', { kind: 'session_pause', seconds: 7, reason: 'flood_wait' }],
    ['SLOWMODE_WAIT_120', { kind: 'group_cooldown', seconds: 120 }],
    ['PEER_FLOOD', { kind: 'session_pause', seconds: null, reason: 'peer_flood' }],
    ['USER_RESTRICTED', { kind: 'session_pause', seconds: null, reason: 'restricted' }],
    ['FROZEN_METHOD_INVALID', { kind: 'session_dead', reason: 'frozen' }],
    ['FROZEN_PARTICIPANT_MISSING', { kind: 'session_dead', reason: 'frozen' }],
    ['CHAT_WRITE_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_FORBIDDEN', { kind: 'group_skip', reason: 'no_access' }],
    ['CHAT_SEND_MEDIA_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_SEND_PLAIN_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_RESTRICTED', { kind: 'group_skip', reason: 'restricted' }],
    ['CHANNEL_PRIVATE', { kind: 'group_skip', reason: 'no_access' }],
    ['USER_NOT_PARTICIPANT', { kind: 'group_skip', reason: 'not_member' }],
    ['TOPIC_CLOSED', { kind: 'group_skip', reason: 'topic_closed' }],
    ['TOPIC_DELETED', { kind: 'group_skip', reason: 'topic_closed' }],
    ['TOPIC_ID_INVALID', { kind: 'group_skip', reason: 'topic_invalid' }],
    ['PREMIUM_ACCOUNT_REQUIRED', { kind: 'group_skip', reason: 'premium_required' }],
    ['PAYMENT_UNSUPPORTED', { kind: 'group_skip', reason: 'payment_required' }],
    ['ALLOW_PAYMENT_REQUIRED_100', { kind: 'group_skip', reason: 'paid_messages' }],
    ['ALLOW_PAYMENT_REQUIRED', { kind: 'group_skip', reason: 'paid_messages' }],
    ['USER_BANNED_IN_CHANNEL', { kind: 'group_skip', reason: 'banned_in_group' }],
    ['CHAT_ADMIN_REQUIRED', { kind: 'group_skip', reason: 'admin_required' }],
    ['PEER_ID_INVALID', { kind: 'group_skip', reason: 'unresolved' }],
    ['CHANNEL_INVALID', { kind: 'group_skip', reason: 'unresolved' }],
    ['CHAT_ID_INVALID', { kind: 'group_skip', reason: 'unresolved' }],
    ['CHAT_FORWARDS_RESTRICTED', { kind: 'source_invalid', reason: 'forwards_restricted' }],
    ['MSG_ID_INVALID', { kind: 'source_invalid', reason: 'message_missing' }],
    ['MESSAGE_ID_INVALID', { kind: 'source_invalid', reason: 'message_missing' }],
    ['AUTH_KEY_UNREGISTERED', { kind: 'session_dead', reason: 'revoked' }],
    ['SESSION_REVOKED', { kind: 'session_dead', reason: 'revoked' }],
    ['SESSION_EXPIRED', { kind: 'session_dead', reason: 'revoked' }],
    ['AUTH_KEY_INVALID', { kind: 'session_dead', reason: 'revoked' }],
    ['USER_DEACTIVATED', { kind: 'session_dead', reason: 'deactivated' }],
    ['USER_DEACTIVATED_BAN', { kind: 'session_dead', reason: 'banned' }],
    ['PHONE_NUMBER_BANNED', { kind: 'session_dead', reason: 'banned' }],
    ['AUTH_KEY_DUPLICATED', { kind: 'session_dead', reason: 'duplicated' }],
    ['SESSION_PASSWORD_NEEDED', { kind: 'session_dead', reason: 'needs_login' }],
    ['RANDOM_ID_DUPLICATE', { kind: 'duplicate' }],
    ['TIMEOUT', { kind: 'transient' }],
    ['RPC_CALL_FAIL', { kind: 'transient' }],
    ['NETWORK_ERROR', { kind: 'transient' }],
    ['SOMETHING_NEW_42', { kind: 'unknown', error: 'SOMETHING_NEW_42' }],
  ];
  it.each(cases)('%s', (error, expected) => {
    expect(classifyError(error)).toMatchObject(expected);
  });

  it('treats any 5xx code as transient', () => {
    expect(classifyError('WHATEVER', 500).kind).toBe('transient');
    expect(classifyError('WHATEVER', 503).kind).toBe('transient');
    expect(classifyError('WHATEVER', 400).kind).toBe('unknown');
  });

  it.each(['CHANNEL_PRIVATE', 'PEER_ID_INVALID', 'CHANNEL_INVALID', 'USERNAME_NOT_OCCUPIED'])(
    '%s reading the source means this session cannot read it, not that a group is unreachable',
    (error) => {
      expect(classifyError(error, 400, 'source')).toEqual({ kind: 'source_unreachable', error });
      expect(classifyError(error, 400, 'forward').kind).toBe('group_skip');
    },
  );

  it('an answer a gateway marks as about the source is classified in the source phase', () => {
    expect(classifyAnswer({ ok: false, error: 'PEER_ID_INVALID', phase: 'source' }, 'forward')).toEqual({
      kind: 'source_unreachable',
      error: 'PEER_ID_INVALID',
    });
    expect(classifyAnswer({ ok: false, error: 'CHAT_FORWARDS_RESTRICTED', phase: 'source' })).toMatchObject({
      kind: 'source_invalid',
      reason: 'forwards_restricted',
    });
  });

  it('does not take a malformed wait’s number: a flood wait without one is the long pause', () => {
    const long = { kind: 'session_pause', seconds: null, reason: 'flood_limit' };
    expect(classifyError('FLOOD_WAIT_')).toMatchObject(long);
    expect(classifyError('FLOOD_WAIT_X')).toMatchObject(long);
    expect(classifyError('SLOWMODE_WAIT_-3').kind).toBe('unknown');
  });

  describe('every 420 pauses the session', () => {
    it.each([
      ['P0NY_FLOODWAIT', null, 'flood_limit'],
      ['FLOOD_TEST_PHONE_WAIT_X', null, 'flood_limit'],
      ['FLOOD_TEST_PHONE_WAIT_40', 40, 'flood_wait'],
      ['SOME_NEW_LIMIT', null, 'flood_limit'],
      ['SOME_NEW_LIMIT_90', 90, 'flood_wait'],
      ['FLOOD_WAIT_999999999', 999_999_999, 'flood_wait'],
      // 10 digits and more: no duration anyone means (and none that overflows a timer) — the long pause
      ['FLOOD_WAIT_1234567890', null, 'flood_limit'],
      ['FLOOD_WAIT_99999999999999999999', null, 'flood_limit'],
    ])('%s (420)', (error, seconds, reason) => {
      expect(classifyError(error, 420)).toEqual({ kind: 'session_pause', seconds, reason, error });
    });

    it('the 420s with a meaning of their own keep it', () => {
      expect(classifyError('SLOWMODE_WAIT_45', 420)).toMatchObject({ kind: 'group_cooldown', seconds: 45 });
      expect(classifyError('FROZEN_METHOD_INVALID', 420)).toMatchObject({
        kind: 'session_dead',
        reason: 'frozen',
      });
    });

    it('without a code, a name that says FLOOD and WAIT is still a flood wait', () => {
      expect(classifyError('P0NY_FLOODWAIT')).toMatchObject({ kind: 'session_pause', reason: 'flood_limit' });
      expect(classifyError('FLOOD_TEST_PHONE_WAIT_40')).toMatchObject({ seconds: 40, reason: 'flood_wait' });
      expect(classifyError('FLOOD_WAIT_12345678901')).toMatchObject({ seconds: null, reason: 'flood_limit' });
      // …but PEER_FLOOD is a spam limit, and a name that is neither stays unknown
      expect(classifyError('PEER_FLOOD')).toMatchObject({ reason: 'peer_flood' });
      expect(classifyError('SOME_NEW_LIMIT').kind).toBe('unknown');
      expect(classifyError('SOME_NEW_LIMIT', 400).kind).toBe('unknown');
    });
  });

  it('a call whose connection never opened is about the session’s reach, whatever the error says', () => {
    expect(classifyAnswer({ ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' })).toEqual({
      kind: 'session_unreachable',
      error: 'CONNECT_TIMEOUT',
    });
    expect(classifyError('FLOOD_WAIT_30', 420, 'connect')).toEqual({
      kind: 'session_unreachable',
      error: 'FLOOD_WAIT_30',
    });
    // the answer's own phase wins over the caller's
    expect(classifyAnswer({ ok: false, error: 'CONNECT_FAILED', phase: 'connect' }, 'source').kind).toBe(
      'session_unreachable',
    );
    expect(explain('CONNECT_TIMEOUT')).toContain('nothing was sent');
  });

  it('classifies answers; only sent and duplicate count as delivered', () => {
    expect(classifyAnswer({ ok: true })).toEqual({ kind: 'sent' });
    expect(classifyAnswer({ ok: true, messageId: 5, messageIds: [5, 6] })).toEqual({
      kind: 'sent',
      messageIds: [5, 6],
    });
    expect(classifyAnswer({ ok: true, messageIds: [] })).toEqual({ kind: 'sent' });
    expect(isDelivered(classifyAnswer({ ok: false, error: 'RANDOM_ID_DUPLICATE' }))).toBe(true);
    expect(isDelivered(classifyAnswer({ ok: false, error: 'FLOOD_WAIT_3' }))).toBe(false);
  });

  it('explains errors and reasons in plain words', () => {
    expect(explain('FLOOD_WAIT_90')).toContain('90 s');
    expect(explain('SLOWMODE_WAIT_30')).toContain('slow mode');
    expect(explain('PEER_FLOOD')).toContain('spam');
    expect(explain('FLOOD_TEST_PHONE_WAIT_40')).toContain('40 s');
    expect(explain('P0NY_FLOODWAIT')).toContain('without saying for how long');
    expect(explain('SESSION_PASSWORD_NEEDED')).toContain('log in again');
    expect(explain('TOPIC_ID_INVALID')).toContain('topic');
    expect(explain('ALLOW_PAYMENT_REQUIRED_25')).toBe(
      'The group charges 25 stars a message (paid messages); Stagger never pays.',
    );
    expect(explain('ALLOW_PAYMENT_REQUIRED')).toContain('never pays');
    expect(explain('NEVER_SEEN')).toBe('Telegram answered NEVER_SEEN.');
    // Free-form text is not passed off as a Telegram answer.
    expect(explainTelegram('stopped while the network was down')).toBeNull();
    expect(explainTelegram('stopped during a flood wait')).toBeNull();
    expect(explainTelegram('WEIRD_NEW_ERROR')).toBe('Telegram answered WEIRD_NEW_ERROR.');
  });
});
