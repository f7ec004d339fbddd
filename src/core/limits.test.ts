import { describe, expect, it } from 'vitest';
import { StaggerError } from './errors.js';
import { checkRange, isRecordId, LIMITS, rangeProblem } from './limits.js';

describe('limits', () => {
  it.each([
    [1e308, 'must be at most 525600 minutes'],
    [2 ** 63, 'must be at most 525600 minutes'],
    [1e15, 'must be at most 525600 minutes'],
    [0, 'must be at least 1 minutes'],
    [1.5, 'must be a whole number'],
    [Number.POSITIVE_INFINITY, 'must be a number'],
    ['60', 'must be a number'],
  ])('total_cycle_minutes %j: %s', (value, problem) => {
    expect(rangeProblem(LIMITS.totalCycleMinutes, value)).toBe(problem);
  });

  it('accepts the ends of a range', () => {
    expect(rangeProblem(LIMITS.totalCycleMinutes, 1)).toBeNull();
    expect(rangeProblem(LIMITS.totalCycleMinutes, 525_600)).toBeNull();
    expect(rangeProblem(LIMITS.delayBetweenPosts, 0.2)).toBeNull();
    expect(rangeProblem(LIMITS.delayBetweenPosts, 0.1)).toBe('must be at least 0.2 seconds');
  });

  it('checkRange throws a coded error naming the field and the limit', () => {
    try {
      checkRange(LIMITS.delayBetweenCycles, 'delay_between_cycles', 1e9, 'X');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StaggerError);
      expect((error as StaggerError).code).toBe('X');
      expect((error as StaggerError).message).toBe(
        'delay_between_cycles must be at most 604800 seconds (got 1000000000)',
      );
    }
  });

  it.each([
    ['1', true],
    ['9223372036854775807', true],
    ['9223372036854775808', false],
    ['9999999999999999999', false],
    ['0', false],
    ['-1', false],
    ['01x', false],
    ['', false],
    ['12345678901234567890', false],
  ])('isRecordId(%j) is %s', (text, ok) => {
    expect(isRecordId(text)).toBe(ok);
  });
});
