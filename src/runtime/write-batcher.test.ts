/**
 * The group commit: what arrives in one instant rides one commit; one commit at a time; a commit never mixes two
 * fences of one bot (an earlier lease's runner still finishing beside the new one) and never exceeds MAX_ITEMS.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { MemoryRuntimeStore } from './memory-store.js';
import type { CommitBatch, Fence } from './store.js';
import { MAX_ITEMS, WriteBatcher } from './write-batcher.js';

function recorded() {
  const store = new MemoryRuntimeStore();
  const commits: CommitBatch[] = [];
  const inner = store.commit.bind(store);
  store.commit = async (batch) => {
    commits.push(batch);
    return inner(batch);
  };
  return { store, commits, batcher: new WriteBatcher(store, new VirtualClock()) };
}

const old: Fence = { ownerId: 'w1', epoch: 1 };
const current: Fence = { ownerId: 'w1', epoch: 2 };

describe('write batcher', () => {
  it('commits what arrives together in one commit, with each bot’s fence beside its outcomes', async () => {
    const { batcher, commits } = recorded();
    await Promise.all([
      batcher.markSending({ postId: '1', botId: 'a', attempts: 1, fence: current }),
      batcher.writeResult({ postId: '2', botId: 'a', status: 'sent' }, { sent: 1 }, current),
      batcher.writeResult({ postId: '3', botId: 'b', status: 'sent' }, { sent: 1 }),
    ]);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.marks.map((m) => m.postId)).toEqual(['1']);
    expect(commits[0]!.patches.map((p) => p.postId)).toEqual(['2', '3']);
    expect(commits[0]!.fences).toEqual(new Map([['a', current]]));
    expect(commits[0]!.counters).toEqual(
      new Map([
        ['a', { sent: 1 }],
        ['b', { sent: 1 }],
      ]),
    );
  });

  it('an outcome under another fence of the same bot waits for the next commit, and so do that bot’s later ones', async () => {
    const { batcher, commits } = recorded();
    await Promise.all([
      batcher.writeResult({ postId: '1', botId: 'a', status: 'sent' }, { sent: 1 }, old),
      batcher.writeResult({ postId: '2', botId: 'a', status: 'sent' }, { sent: 1 }, current),
      batcher.writeResult({ postId: '3', botId: 'a', status: 'failed' }, { failed: 1 }, old),
      batcher.writeResult({ postId: '4', botId: 'b', status: 'sent' }, { sent: 1 }, current),
    ]);
    expect(commits.map((c) => [c.patches.map((p) => p.postId), [...(c.fences ?? new Map())]])).toEqual([
      [
        ['1', '4'],
        [
          ['a', old],
          ['b', current],
        ],
      ],
      [['2'], [['a', current]]],
      [['3'], [['a', old]]],
    ]);
    expect(commits[0]!.counters.get('a')).toEqual({ sent: 1 });
  });

  it('carries at most MAX_ITEMS marks a commit; the rest ride the next one at once', async () => {
    const { batcher, commits } = recorded();
    await Promise.all(
      Array.from({ length: MAX_ITEMS + 5 }, (_, i) =>
        batcher.markSending({ postId: String(i), botId: 'a', attempts: 1, fence: null }),
      ),
    );
    expect(commits.map((c) => c.marks.length)).toEqual([MAX_ITEMS, 5]);
  });
});
