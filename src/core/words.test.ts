import { describe, expect, it } from 'vitest';
import { clause, count, isAre, listOf, noun } from './words.js';

describe('counting words', () => {
  it('one is singular; zero and many are plural', () => {
    expect(count(1, 'session')).toBe('1 session');
    expect(count(0, 'session')).toBe('0 sessions');
    expect(count(3, 'session')).toBe('3 sessions');
    expect(count(2, 'reply', 'replies')).toBe('2 replies');
    expect(noun(1, 'post')).toBe('post');
    expect([isAre(1), isAre(2)]).toEqual(['is', 'are']);
  });

  it('lists names as English does', () => {
    expect(listOf([])).toBe('');
    expect(listOf(['a'])).toBe('a');
    expect(listOf(['a', 'b'])).toBe('a and b');
    expect(listOf(['a', 'b', 'c'])).toBe('a, b and c');
  });

  it('a clause before a full stop loses its own', () => {
    expect(`Cycle 3 stopped: ${clause('Stopped by the customer.')}.`).toBe(
      'Cycle 3 stopped: Stopped by the customer.',
    );
    expect(clause('no stop')).toBe('no stop');
  });
});
