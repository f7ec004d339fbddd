import { describe, expect, it } from 'vitest';
import { LIMITS } from '../core/limits.js';
import { limitOption, numberOption, recordIdOption, UsageError } from './args.js';

describe('limitOption and numberOption', () => {
  it('names the limit the way the API does', () => {
    expect(() => limitOption('delay', '0', 5, LIMITS.delayBetweenPosts)).toThrow(
      new UsageError('--delay must be at least 0.2 seconds, got 0'),
    );
    expect(() => limitOption('cycle-minutes', '1e400', undefined, LIMITS.totalCycleMinutes)).toThrow(
      '--cycle-minutes must be at most 525600 minutes, got 1e400',
    );
    expect(() => limitOption('sessions', 'two', 0, LIMITS.planSessions)).toThrow(
      '--sessions must be a number, got "two"',
    );
    expect(limitOption('delay', undefined, 5, LIMITS.delayBetweenPosts)).toBe(5);
    expect(limitOption('delay', '0.2', 5, LIMITS.delayBetweenPosts)).toBe(0.2);
    expect(Object.is(limitOption('min-group-gap', '-0', 1, LIMITS.minGroupGapSeconds), 0)).toBe(true);
  });

  it('a number without a maximum still refuses one beyond a double', () => {
    expect(() => numberOption('n', '1e400', undefined, { min: 1 })).toThrow('--n is too large, got 1e400');
    expect(numberOption('n', '1e3', undefined, { min: 1, integer: true })).toBe(1000);
  });
});

describe('recordIdOption', () => {
  it.each(['9223372036854775808', '9999999999999999999', '0', '-1', '1.0', '0x10', '1e3'])(
    '%s is refused',
    (raw) => {
      expect(() => recordIdOption('id', raw, 'a user id')).toThrow(/--id must be a user id/);
    },
  );
  it('missing is "required"; the largest id passes', () => {
    expect(() => recordIdOption('id', undefined, 'a user id')).toThrow('--id ID (a user id) is required');
    expect(recordIdOption('id', '9223372036854775807', 'a user id')).toBe('9223372036854775807');
  });
});
