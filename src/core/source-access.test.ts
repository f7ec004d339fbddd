import { describe, expect, it } from 'vitest';
import { classifyError } from './outcome.js';
import { judgeSourceAccess } from './source-access.js';

const sent = { kind: 'sent' } as const;
const source = (error: string) => classifyError(error, 400, 'source');

describe('judgeSourceAccess: the per-session source checks → who posts, and whether the cycle runs', () => {
  it('a session that cannot read the source leaves the others posting', () => {
    expect(
      judgeSourceAccess([
        { sessionId: 's0', outcome: source('CHANNEL_PRIVATE') },
        { sessionId: 's1', outcome: sent },
      ]),
    ).toEqual({
      readers: ['s1'],
      unreachable: [{ sessionId: 's0', error: 'CHANNEL_PRIVATE' }],
      verdict: { kind: 'go' },
    });
  });

  it('stops the cycle when no session can read the source', () => {
    const access = judgeSourceAccess([
      { sessionId: 's0', outcome: source('PEER_ID_INVALID') },
      { sessionId: 's1', outcome: source('CHANNEL_PRIVATE') },
      { sessionId: 's2', outcome: classifyError('AUTH_KEY_UNREGISTERED') },
    ]);
    expect(access.readers).toEqual([]);
    expect(access.verdict).toEqual({
      kind: 'stop',
      reason: 'source_invalid:source_unreachable',
      error: 'PEER_ID_INVALID',
    });
  });

  it('a protected or deleted post stops the cycle whatever the other sessions said', () => {
    expect(
      judgeSourceAccess([
        { sessionId: 's0', outcome: sent },
        { sessionId: 's1', outcome: source('CHAT_FORWARDS_RESTRICTED') },
      ]).verdict,
    ).toEqual({
      kind: 'stop',
      reason: 'source_invalid:forwards_restricted',
      error: 'CHAT_FORWARDS_RESTRICTED',
    });
    expect(
      judgeSourceAccess([{ sessionId: 's0', outcome: source('MESSAGE_ID_INVALID') }]).verdict,
    ).toMatchObject({
      reason: 'source_invalid:message_missing',
    });
  });

  it('an unchecked or unclear session may still post, so it keeps the cycle going', () => {
    const access = judgeSourceAccess([
      { sessionId: 's0', outcome: source('CHANNEL_PRIVATE') },
      { sessionId: 's1', outcome: null },
      { sessionId: 's2', outcome: classifyError('SOMETHING_ODD', 400, 'source') },
    ]);
    expect(access.readers).toEqual(['s1', 's2']);
    expect(access.verdict).toEqual({ kind: 'go' });
  });

  it('no check at all (every session dead or absent) lets the lanes report their own state', () => {
    expect(judgeSourceAccess([]).verdict).toEqual({ kind: 'go' });
  });
});
