import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyError } from './outcome.js';
import {
  afterConnectFailure,
  connectBackoffMs,
  connectedBy,
  type ReachabilityPolicy,
} from './reachability.js';

const policy: ReachabilityPolicy = {
  connectFailuresBeforeUnreachable: 5,
  connectBackoffMs: 10_000,
  connectBackoffMaxMs: 30 * 60_000,
};

describe('the wait between connects of a session whose connection does not open', () => {
  it('doubles with each failure in a row, from the first wait up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => connectBackoffMs(n, policy))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000,
    ]);
    expect(connectBackoffMs(9, policy)).toBe(1_800_000);
    expect(connectBackoffMs(10_000, policy)).toBe(1_800_000);
    // whatever the count, a finite wait (no overflow to Infinity or NaN)
    expect(connectBackoffMs(Number.MAX_SAFE_INTEGER, { ...policy, connectBackoffMaxMs: Infinity })).toBe(
      10_000 * 2 ** 40,
    );
  });

  it('a count below one is the first failure', () => {
    expect(connectBackoffMs(0, policy)).toBe(10_000);
    expect(connectBackoffMs(-3, policy)).toBe(10_000);
  });

  it('connecting for the first failures, unreachable from the policy’s number in a row on', () => {
    expect(afterConnectFailure(0, policy)).toEqual({ failures: 1, pauseMs: 10_000, reason: 'connecting' });
    expect(afterConnectFailure(3, policy)).toEqual({ failures: 4, pauseMs: 80_000, reason: 'connecting' });
    expect(afterConnectFailure(4, policy)).toEqual({ failures: 5, pauseMs: 160_000, reason: 'unreachable' });
    expect(afterConnectFailure(11, policy)).toEqual({
      failures: 12,
      pauseMs: 1_800_000,
      reason: 'unreachable',
    });
    expect(afterConnectFailure(0, { ...policy, connectFailuresBeforeUnreachable: 1 }).reason).toBe(
      'unreachable',
    );
  });

  it('any answer from Telegram proves the connection; a failed connect or a transient failure does not', () => {
    expect(connectedBy({ kind: 'sent' })).toBe(true);
    expect(connectedBy(classifyError('FLOOD_WAIT_30', 420))).toBe(true);
    expect(connectedBy(classifyError('CHAT_WRITE_FORBIDDEN', 403))).toBe(true);
    expect(connectedBy(classifyError('AUTH_KEY_UNREGISTERED', 401))).toBe(true);
    expect(connectedBy(classifyError('SOMETHING_NEW', 400))).toBe(true);
    expect(connectedBy(classifyError('TIMEOUT'))).toBe(false);
    expect(connectedBy(classifyError('NETWORK_ERROR'))).toBe(false);
    expect(connectedBy(classifyAnswer({ ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' }))).toBe(
      false,
    );
  });
});
