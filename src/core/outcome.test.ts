import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyError, explain, explainTelegram, isDelivered } from './outcome.js';

describe('classifyError: the table of notes/telegram-errors.md', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['FLOOD_WAIT_30', { kind: 'session_pause', seconds: 30, reason: 'flood_wait' }],
    ['FLOOD_PREMIUM_WAIT_7', { kind: 'session_pause', seconds: 7, reason: 'flood_wait' }],
    ['SLOWMODE_WAIT_120', { kind: 'group_cooldown', seconds: 120 }],
    ['PEER_FLOOD', { kind: 'session_pause', seconds: null, reason: 'peer_flood' }],
    ['USER_RESTRICTED', { kind: 'session_pause', seconds: null, reason: 'restricted' }],
    ['FROZEN_METHOD_INVALID', { kind: 'session_dead', reason: 'frozen' }],
    ['CHAT_WRITE_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_FORBIDDEN', { kind: 'group_skip', reason: 'no_access' }],
    ['CHAT_SEND_MEDIA_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_SEND_PLAIN_FORBIDDEN', { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_RESTRICTED', { kind: 'group_skip', reason: 'restricted' }],
    ['CHANNEL_PRIVATE', { kind: 'group_skip', reason: 'no_access' }],
    ['USER_NOT_PARTICIPANT', { kind: 'group_skip', reason: 'not_member' }],
    ['TOPIC_CLOSED', { kind: 'group_skip', reason: 'topic_closed' }],
    ['TOPIC_DELETED', { kind: 'group_skip', reason: 'topic_closed' }],
    ['ALLOW_PAYMENT_REQUIRED_100', { kind: 'group_skip', reason: 'payment_required' }],
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

  it('CHANNEL_PRIVATE is about the source when checking the source', () => {
    expect(classifyError('CHANNEL_PRIVATE', 400, 'source')).toMatchObject({ kind: 'source_invalid' });
  });

  it('does not parse malformed waits as waits', () => {
    expect(classifyError('FLOOD_WAIT_').kind).toBe('unknown');
    expect(classifyError('FLOOD_WAIT_X').kind).toBe('unknown');
    expect(classifyError('SLOWMODE_WAIT_-3').kind).toBe('unknown');
  });

  it('classifies answers; only sent and duplicate count as delivered', () => {
    expect(classifyAnswer({ ok: true })).toEqual({ kind: 'sent' });
    expect(isDelivered(classifyAnswer({ ok: false, error: 'RANDOM_ID_DUPLICATE' }))).toBe(true);
    expect(isDelivered(classifyAnswer({ ok: false, error: 'FLOOD_WAIT_3' }))).toBe(false);
  });

  it('explains errors and reasons in plain words', () => {
    expect(explain('FLOOD_WAIT_90')).toContain('90 s');
    expect(explain('SLOWMODE_WAIT_30')).toContain('slow mode');
    expect(explain('PEER_FLOOD')).toContain('spam');
    expect(explain('NEVER_SEEN')).toBe('Telegram answered NEVER_SEEN.');
    // Free-form text is not passed off as a Telegram answer.
    expect(explainTelegram('stopped while the network was down')).toBeNull();
    expect(explainTelegram('WEIRD_NEW_ERROR')).toBe('Telegram answered WEIRD_NEW_ERROR.');
  });
});
