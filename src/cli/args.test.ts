import { describe, expect, it } from 'vitest';
import { recordIdOption } from './args.js';

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
