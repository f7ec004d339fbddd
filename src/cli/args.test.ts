import { describe, expect, it } from 'vitest';
import { LIMITS } from '../core/limits.js';
import { limitOption, numberOption, parseOptions, recordIdOption, UsageError } from './args.js';

const spec = {
  delay: { type: 'string' },
  label: { type: 'string' },
  fault: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  seed: { type: 'string', short: 's' },
} as const;

describe('parseOptions', () => {
  it.each([
    [['--delay', '-1'], { delay: '-1' }],
    [['--delay', '-0.5'], { delay: '-0.5' }],
    [['--delay', '-.5'], { delay: '-.5' }],
    [['--delay', '-1e3'], { delay: '-1e3' }],
    [['--delay=-5'], { delay: '-5' }],
    [['-s', '-7'], { seed: '-7' }],
    [['--fault', '-1', '--fault', '-2'], { fault: ['-1', '-2'] }],
    // Among other options and values.
    [['--label', 'x', '--delay', '-1', '--json'], { label: 'x', delay: '-1', json: true }],
  ])('%j → %j', (argv, values) => {
    expect(parseOptions(argv, spec).values).toEqual(values);
  });

  it('a negative number after a boolean, or after --, stays what it was', () => {
    expect(() => parseOptions(['--json', '-1'], spec)).toThrow(/Unknown option '-1'/);
    expect(parseOptions(['--', '--delay', '-1'], spec, true).positionals).toEqual(['--delay', '-1']);
  });

  it('something that only starts like a number is still node’s ambiguity', () => {
    expect(() => parseOptions(['--delay', '-1x'], spec)).toThrow(/ambiguous/);
    expect(() => parseOptions(['--delay', '--json'], spec)).toThrow(UsageError);
  });
});

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
