/**
 * Albums on the sandbox and a virtual clock: the source read once when a cycle is planned, every post forwarding all
 * of the album with the random_ids fixed then, each message delivered once per random_id — across retries and a
 * crash — and the sent messages' ids kept on the post.
 */
import { describe, expect, it } from 'vitest';
import type { PostRecord } from '../core/model.js';
import { sourceViewKey } from '../telegram/sandbox/sandbox-store.js';
import { SimulatedWorld } from './simulation.js';

const LINK = 'https://t.me/stagger_demo/1';
const ALBUM = [1, 2, 3];
const groups = (n: number): string[] => Array.from({ length: n }, (_, i) => `-100${2_100_000_000 + i}`);
const sessions = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));

async function albumWorld(options: ConstructorParameters<typeof SimulatedWorld>[0] = {}) {
  const world = new SimulatedWorld(options);
  await world.sandboxStore.putSourceAlbum(LINK, ALBUM);
  return world;
}

/** Each post's deliveries in the sandbox, in the order they were stored. */
async function deliveriesByPost(
  world: SimulatedWorld,
): Promise<Map<string, { randomId: string; id: number }[]>> {
  const out = new Map<string, { randomId: string; id: number }[]>();
  for (const d of await world.sandboxStore.listDeliveries()) {
    const postId = d.trace.postId!;
    out.set(postId, [...(out.get(postId) ?? []), { randomId: d.randomId, id: d.id }]);
  }
  return out;
}

function expectOncePerRandomId(deliveries: { session: string; randomId: string }[]): void {
  const keys = deliveries.map((d) => `${d.session}/${d.randomId}`);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('an album of 3', () => {
  it('every post delivers its 3 messages, one per random_id in the album’s order; the sent ids are kept', async () => {
    const world = await albumWorld();
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(2), groups: groups(4) });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);

    expect(world.store.listCycles(botId)[0]!.source).toEqual({ link: LINK, messageIds: ALBUM });
    const posts = world.store.listPosts(botId);
    expect(posts).toHaveLength(4);
    expect(new Set(posts.flatMap((p) => p.randomIds)).size).toBe(12);
    const byPost = await deliveriesByPost(world);
    for (const post of posts) {
      expect(post.status).toBe('sent');
      const delivered = byPost.get(post.id)!;
      expect(delivered.map((d) => d.randomId)).toEqual(post.randomIds);
      expect(post.sentMessageIds).toEqual(delivered.map((d) => d.id));
      const [call, ...again] = world.calls.filter(
        (c) => c.method === 'forward' && c.randomId === post.randomId,
      );
      expect(again).toEqual([]);
      expect(call).toMatchObject({ messageIds: ALBUM, randomIds: post.randomIds });
    }
    expect(await world.deliveries()).toHaveLength(12);
    // read once, at planning, by the first session
    expect(world.calls.filter((c) => c.method === 'readSource').map((c) => c.sessionId)).toEqual(['s0']);
  });

  it('starter: each cycle reads the source once and fixes new random_ids; 3 deliveries per post', async () => {
    const world = await albumWorld();
    const botId = world.addBot({
      mode: 'starter',
      totalCycleMinutes: 10,
      sessions: sessions(2),
      groups: groups(3),
    });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId).filter((p) => p.status === 'sent');
    expect(posts).toHaveLength(12);
    const deliveries = await world.deliveries();
    expect(deliveries).toHaveLength(36);
    expectOncePerRandomId(deliveries);
    expect(world.calls.filter((c) => c.method === 'readSource')).toHaveLength(2);
    const [first, second] = world.store.listCycles(botId);
    const ids = (cycleId: string) =>
      new Set(posts.filter((p) => p.cycleId === cycleId).flatMap((p) => p.randomIds));
    expect(ids(first!.id).size).toBe(18);
    expect([...ids(second!.id)].some((r) => ids(first!.id).has(r))).toBe(false);
  });

  it('a crash between the album’s messages: the replay completes it, no message twice', async () => {
    // Planned a minute before its start: the process stops between planning and the first post.
    const world = await albumWorld({ options: { planningLeadMs: 60_000 } });
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(1), groups: groups(2) });
    world.runtime.startBot(botId);
    await world.clock.runUntilTrue(
      () => world.store.listCycles(botId).length > 0,
      world.clock.now() + 10_000,
    );
    const [first, second] = world.store.listPosts(botId) as [PostRecord, PostRecord];
    expect(first.randomIds).toHaveLength(3);
    // Before the crash: the first post was committed `sending`, and its first photo reached the group.
    await world.runtime.stopBot(botId, 'suspend');
    await world.runtimeStore.markSending([{ postId: first.id, botId, attempts: 1, fence: null }]);
    await world.sandboxStore.insertDelivery({
      accountId: first.sessionId,
      groupKey: first.groupKey,
      randomId: first.randomIds[0]!,
      sourceLink: LINK,
      at: world.clock.now(),
      trace: { postId: first.id },
    });
    await world.restart();
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);

    const deliveries = await world.deliveries();
    expectOncePerRandomId(deliveries);
    const byPost = await deliveriesByPost(world);
    expect(byPost.get(first.id)!.map((d) => d.randomId)).toEqual(first.randomIds);
    expect(byPost.get(second.id)!.map((d) => d.randomId)).toEqual(second.randomIds);
    expect(deliveries).toHaveLength(6);
    const after = world.store.listPosts(botId);
    // The replay sent the same three random_ids: the two new ones arrived (their ids kept), the first was dropped.
    expect(after.map((p) => [p.status, p.attempts, p.sentMessageIds.length])).toEqual([
      ['sent', 2, 2],
      ['sent', 1, 3],
    ]);
    // and a second replay of the whole album is a duplicate for Telegram: counted as sent, nothing delivered
    const replay = await world.sandbox.forward({
      session: { id: first.sessionId, driver: 'sandbox' },
      source: { chat: { kind: 'username', username: 'stagger_demo' }, messageId: 1, canonical: LINK },
      target: { chat: { kind: 'id', chatId: first.groupKey }, key: first.groupKey },
      randomId: BigInt(first.randomId),
      messageIds: ALBUM,
      randomIds: first.randomIds.map(BigInt),
      silent: false,
      hideSender: false,
    });
    expect(replay).toEqual({ ok: false, error: 'RANDOM_ID_DUPLICATE', code: 400 });
    expect(await world.deliveries()).toHaveLength(6);
  });

  it('resumed after the link changed: the new link’s one message, with the post’s first random_id', async () => {
    const world = await albumWorld({ options: { planningLeadMs: 60_000 } });
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(1), groups: groups(2) });
    world.runtime.startBot(botId);
    await world.clock.runUntilTrue(
      () => world.store.listCycles(botId).length > 0,
      world.clock.now() + 10_000,
    );
    // The cycle resumes in a new process, after the customer set another post.
    await world.runtime.stopBot(botId, 'suspend');
    world.store.updateBot(botId, { postLink: 'https://t.me/stagger_demo/9' });
    await world.restart();
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const posts = world.store.listPosts(botId);
    expect(posts.every((p) => p.status === 'sent' && p.randomIds.length === 3)).toBe(true);
    const forwards = world.calls.filter((c) => c.method === 'forward');
    expect(forwards.map((c) => [c.messageIds, c.randomIds])).toEqual(posts.map((p) => [[9], [p.randomId]]));
    expect(await world.deliveries()).toHaveLength(2);
  });
});

describe('reading the source at planning', () => {
  it('a session that cannot read it: the next one reads the album (and posts its groups)', async () => {
    const world = await albumWorld();
    await world.sandboxStore.putSourceState(sourceViewKey(LINK, 's0'), 'private');
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(2), groups: groups(4) });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(
      world.calls.filter((c) => c.method === 'readSource').map((c) => [c.sessionId, c.answer.ok]),
    ).toEqual([
      ['s0', false],
      ['s1', true],
    ]);
    expect(world.store.listCycles(botId)[0]!.source).toEqual({ link: LINK, messageIds: ALBUM });
    expect(await world.deliveries()).toHaveLength(12);
    expect((await world.deliveries()).every((d) => d.session === 's1')).toBe(true);
  });

  it('a session found dead when reading is retired and not planned; the next one reads', async () => {
    const world = await albumWorld();
    await world.fault({ session: 's0', method: 'read', error: 'AUTH_KEY_UNREGISTERED' });
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(2), groups: groups(4) });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.store.session('s0')).toMatchObject({ status: 'dead', statusReason: 'revoked' });
    const posts = world.store.listPosts(botId);
    expect(posts.map((p) => p.plannedSessionId)).toEqual(['s1', 's1', 's1', 's1']);
    expect(posts.every((p) => p.status === 'sent' && p.randomIds.length === 3)).toBe(true);
  });

  it('a limit on one account’s read: that account waits, the next one reads the album', async () => {
    const world = await albumWorld();
    await world.fault({ session: 's0', method: 'read', error: 'FLOOD_WAIT_30' });
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(2), groups: groups(4) });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    expect(world.calls.filter((c) => c.method === 'readSource').map((c) => c.sessionId)).toEqual([
      's0',
      's1',
    ]);
    expect(world.store.listCycles(botId)[0]!.source).toEqual({ link: LINK, messageIds: ALBUM });
    const posts = world.store.listPosts(botId);
    expect(posts.every((p) => p.status === 'sent' && p.randomIds.length === 3)).toBe(true);
    expect(await world.deliveries()).toHaveLength(12);
  });

  it('no session can read it at planning: one message per post, and the cycle’s own checks go on as ever', async () => {
    const world = await albumWorld();
    // Every read at planning times out (3 attempts per session); the checks in the cycle are not affected.
    await world.fault({ method: 'read', error: 'TIMEOUT', times: 6 });
    const botId = world.addBot({ mode: 'enterprise', sessions: sessions(2), groups: groups(2) });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 1);
    await world.runtime.stopBot(botId);
    const reads = world.calls.filter((c) => c.method === 'readSource').map((c) => c.sessionId);
    expect(reads).toEqual(['s0', 's0', 's0', 's1', 's1', 's1']);
    expect(world.store.listCycles(botId)[0]!.source).toBeNull();
    expect(world.store.listPosts(botId).every((p) => p.status === 'sent' && p.randomIds.length === 1)).toBe(
      true,
    );
    expect(await world.deliveries()).toHaveLength(2);
  });
});
