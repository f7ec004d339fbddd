import { describe, expect, it } from 'vitest';
import { jsonChunks } from './plan-command.js';

describe('jsonChunks', () => {
  it.each([
    {},
    { a: 1 },
    {
      mode: 'starter',
      cycleSeconds: null,
      sessions: [],
      posts: [{ session: 0, group: 'g"0', atSeconds: 1.5 }],
    },
    { list: [1, 'two', null, { nested: [1, 2] }], skipped: undefined, text: 'é\n' },
  ])('is JSON.stringify and a newline: %j', (value) => {
    expect([...jsonChunks(value)].join('')).toBe(`${JSON.stringify(value)}\n`);
  });
});
