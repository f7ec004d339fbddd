import type { tl } from '@mtcute/core';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGroupTarget } from '../../core/group-targets.js';
import type { PostRef } from '../../core/post-link.js';
import { VirtualClock } from '../../runtime/clock.js';
import {
  channel,
  channelChatId,
  channelFull,
  credentials,
  dialogs,
  forumTopics,
  resolvedPeer,
  storedChannel,
} from '../../../test/support/mtcute/fixtures.js';
import { OfflineTelegram, onClock, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import type { SessionHandle } from '../gateway.js';
import { ClientPool } from './client-pool.js';
import { PeerResolver } from './peer-resolver.js';
import { MemoryPeerCache } from './peers.js';
import { Preflight } from './preflight.js';
import { SourceCheck } from './source-check.js';

const NOOP = { info() {}, warn() {}, error() {} };
const START = Date.UTC(2026, 0, 1);
const SESSIONS = ['s1', 's2', 's3'];

let telegram: OfflineTelegram;
let pools: ClientPool[] = [];

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
  await telegram.destroyAll();
});

async function setup(list: tl.RawChannel[], o: { concurrency?: number; intervalMs?: number } = {}) {
  telegram = new OfflineTelegram();
  const clock = new VirtualClock(START);
  const peers = new MemoryPeerCache();
  for (const id of SESSIONS)
    for (const c of list)
      await peers.put(id, `id:${channelChatId(c.id)}`, storedChannel(c.id, c.accessHash!.toString()));
  const sessions = Object.fromEntries(SESSIONS.map((id) => [id, credentials()]));
  const pool = new ClientPool({
    credentials: { get: async (id) => sessions[id] ?? null },
    createClient: telegram.createClient,
    logger: NOOP,
    clock,
    releaseGraceMs: 30_000,
  });
  pools.push(pool);
  const resolver = new PeerResolver({
    peers,
    logger: NOOP,
    clock,
    ...(o.intervalMs !== undefined ? { pacing: { minIntervalMs: o.intervalMs } } : {}),
  });
  const preflight = new Preflight({
    pool,
    resolver,
    sourceCheck: new SourceCheck(resolver, 60_000),
    clock,
    callTimeoutMs: 60_000,
    concurrency: o.concurrency ?? 4,
  });
  let active = 0;
  const calls = { maxActive: 0 };
  telegram.on('channels.getFullChannel', async (req) => {
    active++;
    calls.maxActive = Math.max(calls.maxActive, active);
    await new Promise((r) => setTimeout(r, 5));
    active--;
    const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
    return channelFull(list.find((c) => c.id === input.channelId)!);
  });
  return { preflight, clock, calls, peers, pool };
}

function sessions(ids = SESSIONS): SessionHandle[] {
  return ids.map((id) => ({ id, driver: 'mtcute' }));
}

/**
 * Telegram for username targets: `joined` come in the dialogs (one page, then the empty page that ends the read),
 * `public` only through contacts.resolveUsername, whose calls are recorded with the virtual time they came at.
 */
function answerUsernames(
  clock: VirtualClock,
  o: { joined: tl.RawChannel[]; public: tl.RawChannel[]; resolve?: (n: number) => object | null },
) {
  const resolves: { username: string; at: number }[] = [];
  telegram.on('messages.getDialogs', (req) =>
    (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty'
      ? dialogs(o.joined)
      : dialogs([]),
  );
  telegram.on('contacts.resolveUsername', (req) => {
    const username = (req as tl.contacts.RawResolveUsernameRequest).username.toLowerCase();
    resolves.push({ username, at: clock.now() });
    const forced = o.resolve?.(resolves.length);
    if (forced) return forced;
    const found = o.public.find((c) => c.username?.toLowerCase() === username);
    return found ? resolvedPeer(found) : rpcError(400, 'USERNAME_NOT_OCCUPIED');
  });
  telegram.on('channels.getFullChannel', (req) => {
    const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
    return channelFull([...o.joined, ...o.public].find((c) => c.id === input.channelId)!);
  });
  /** Dialog reads started (each begins with the first page). */
  const dialogReads = () =>
    telegram.calls('messages.getDialogs').filter((c) => c.offsetPeer._ === 'inputPeerEmpty').length;
  return { resolves, dialogReads };
}

function usernameTarget(c: tl.RawChannel) {
  return parseGroupTarget(`@${c.username!}`);
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

describe('preflight', () => {
  it('a ban with an end date holds until then, judged on the injected clock', async () => {
    const until = START / 1000 + 60;
    const muted = channel(1_900_000_001, {
      accessHash: '1',
      bannedRights: { sendMessages: true, untilDate: until },
    });
    const forever = channel(1_900_000_002, { accessHash: '2', defaultBannedRights: { sendMessages: true } });
    const { preflight, clock } = await setup([muted, forever]);
    const targets = [muted, forever].map((c) => parseGroupTarget(channelChatId(c.id)));
    const canWrite = async () =>
      (await preflight.run(sessions(['s1']), targets, null)).rows.map((r) => r.canWrite);

    expect(await canWrite()).toEqual([false, false]);
    clock.jump(59_000);
    expect(await canWrite()).toEqual([false, false]);
    clock.jump(1_000);
    expect(await canWrite()).toEqual([true, false]);
  });

  it('checks at most `concurrency` sessions at a time, and reports rows in session order', async () => {
    const list = [channel(1_900_000_011, { accessHash: '11' }), channel(1_900_000_012, { accessHash: '12' })];
    const targets = list.map((c) => parseGroupTarget(channelChatId(c.id)));
    const one = await setup(list, { concurrency: 1 });
    const report = await one.preflight.run(sessions(), targets, null);
    expect(one.calls.maxActive).toBe(1);
    expect(report.rows.map((r) => r.sessionId)).toEqual(['s1', 's1', 's2', 's2', 's3', 's3']);
    await pools[0]!.close();
    await telegram.destroyAll();

    const two = await setup(list, { concurrency: 2 });
    await two.preflight.run(sessions(), targets, null);
    expect(two.calls.maxActive).toBe(2);
  });

  it('one cold id is resolved by itself; the dialogs are read only for more than one', async () => {
    const known = channel(1_900_000_021, { accessHash: '21' });
    const cold = [channel(1_900_000_022, { accessHash: '22' }), channel(1_900_000_023, { accessHash: '23' })];
    const { preflight } = await setup([known]);
    telegram.on('channels.getChannels', (req) => {
      const ids = (req as tl.channels.RawGetChannelsRequest).id.map((c) =>
        c._ === 'inputChannel' ? c.channelId : 0,
      );
      return { _: 'messages.chats', chats: cold.filter((c) => ids.includes(c.id)) };
    });
    telegram.on('messages.getDialogs', (req) =>
      (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty'
        ? dialogs(cold)
        : dialogs([]),
    );
    telegram.on('channels.getFullChannel', (req) => {
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      return channelFull([known, ...cold].find((c) => c.id === input.channelId)!);
    });
    const target = (c: tl.RawChannel) => parseGroupTarget(channelChatId(c.id));

    await preflight.run(sessions(['s1']), [target(known), target(cold[0]!)], null);
    expect(telegram.count('messages.getDialogs')).toBe(0);
    expect(telegram.count('channels.getChannels')).toBe(1);

    const report = await preflight.run(sessions(['s2']), [target(known), ...cold.map(target)], null);
    expect(telegram.count('messages.getDialogs')).toBeGreaterThanOrEqual(1);
    expect(telegram.count('channels.getChannels')).toBe(1);
    expect(report.rows.every((r) => r.member === true && r.error === null)).toBe(true);
  });

  it('paid messages: the full channel’s price for this account; the chat’s own price does not override it', async () => {
    const paid = channel(1_900_000_031, { accessHash: '31', sendPaidMessagesStars: 25 });
    const exempt = channel(1_900_000_032, { accessHash: '32', sendPaidMessagesStars: 25 });
    const free = channel(1_900_000_033, { accessHash: '33' });
    const list = [paid, exempt, free];
    const { preflight } = await setup(list);
    telegram.on('channels.getFullChannel', (req) => {
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      const c = list.find((x) => x.id === input.channelId)!;
      // Telegram tells each account what it must pay: 25 here, 0 for an exempt one (e.g. an admin), nothing when free.
      return channelFull(c, 0, c === paid ? { paidStars: 25 } : c === exempt ? { paidStars: 0 } : {});
    });
    const report = await preflight.run(
      sessions(['s1']),
      list.map((c) => parseGroupTarget(channelChatId(c.id))),
      null,
    );
    expect(report.rows.map((r) => [r.paidStars, r.topicClosed])).toEqual([
      [25, null],
      [0, null],
      [0, null],
    ]);
    expect(telegram.count('channels.getForumTopicsByID')).toBe(0);
  });

  it('a topic target asks for its topic’s state: closed, deleted (closed too), open, or unknown', async () => {
    const forum = channel(1_900_000_041, { accessHash: '41', forum: true });
    const { preflight, pool } = await setup([forum]);
    telegram.on('channels.getForumTopicsByID', (req) => {
      const ids = (req as tl.channels.RawGetForumTopicsByIDRequest).topics;
      const answer = forumTopics(forum, [{ id: 7, closed: true }, { id: 8 }]);
      answer.topics = answer.topics.filter((t) => ids.includes(t.id));
      if (ids.includes(9)) answer.topics.push({ _: 'forumTopicDeleted', id: 9 });
      return answer;
    });
    const targets = [7, 8, 9, 10].map((topic) => parseGroupTarget(`${channelChatId(forum.id)}/${topic}`));
    const read = await pool.run('s1', async (client) => {
      const { rows, answer } = await preflight.readFacts(client, targets);
      expect(rows.map((r) => [r.groupKey, r.topicClosed, r.canWrite, r.error])).toEqual([
        [targets[0]!.key, true, true, null],
        [targets[1]!.key, false, true, null],
        [targets[2]!.key, true, true, null],
        [targets[3]!.key, null, true, null],
      ]);
      return answer;
    });
    expect(read).toEqual({ ok: true });
    // One full-channel read and one topic read per target, each naming the channel and that one topic.
    expect(telegram.count('channels.getFullChannel')).toBe(4);
    const asked = telegram.calls('channels.getForumTopicsByID');
    expect(asked.map((r) => r.topics)).toEqual([[7], [8], [9], [10]]);
    expect(asked[0]!.channel).toMatchObject({ _: 'inputChannel', channelId: forum.id });
  });

  it('the runtime’s reads stop at a limit; the rest carry it, and no call is retried through it', async () => {
    const list = [1, 2, 3].map((i) => channel(1_900_000_050 + i, { accessHash: String(50 + i) }));
    const { preflight, pool } = await setup(list);
    let n = 0;
    telegram.on('channels.getFullChannel', (req) => {
      if (++n === 1) return rpcError(420, 'FLOOD_WAIT_300');
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      return channelFull(list.find((c) => c.id === input.channelId)!);
    });
    const targets = list.map((c) => parseGroupTarget(channelChatId(c.id)));
    const answer = await pool.run('s1', async (client) => {
      const { rows, answer: stopped } = await preflight.readFacts(client, targets);
      expect(rows.map((r) => [r.member, r.error])).toEqual([
        [null, 'FLOOD_WAIT_300'],
        [null, 'FLOOD_WAIT_300'],
        [null, 'FLOOD_WAIT_300'],
      ]);
      return stopped;
    });
    expect(answer).toMatchObject({ ok: false, error: 'FLOOD_WAIT_300' });
    expect(telegram.count('channels.getFullChannel')).toBe(1);
  });

  it('an abort ends the reads between two targets', async () => {
    const list = [1, 2].map((i) => channel(1_900_000_060 + i, { accessHash: String(60 + i) }));
    const { preflight, pool } = await setup(list);
    const controller = new AbortController();
    telegram.on('channels.getFullChannel', (req) => {
      controller.abort();
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      return channelFull(list.find((c) => c.id === input.channelId)!);
    });
    const targets = list.map((c) => parseGroupTarget(channelChatId(c.id)));
    await pool.run('s1', async (client) => {
      const { rows } = await preflight.readFacts(client, targets, controller.signal);
      expect(rows.map((r) => r.groupKey)).toEqual([targets[0]!.key]);
      return { ok: true };
    });
    expect(telegram.count('channels.getFullChannel')).toBe(1);
  });

  it('a source and no session: NO_SESSION, nothing connected', async () => {
    const { preflight } = await setup([]);
    const source: PostRef = { chat: { kind: 'username', username: 'src' }, messageId: 1, canonical: 'src' };
    expect(await preflight.run([], [], source)).toEqual({
      source: { ok: false, error: 'NO_SESSION' },
      rows: [],
    });
    expect(telegram.clients).toHaveLength(0);
  });
});

describe('preflight over usernames', () => {
  const joined = Array.from({ length: 25 }, (_, i) =>
    channel(1_910_000_000 + i, { username: `Joined${i}`, accessHash: String(100 + i) }),
  );
  const unjoined = Array.from({ length: 5 }, (_, i) =>
    channel(1_920_000_000 + i, { username: `Public${i}`, accessHash: String(200 + i) }),
  );

  it('30 usernames, 25 of them in the dialogs: one dialogs read, then 5 resolveUsername calls, paced', async () => {
    const { preflight, clock } = await setup([], { intervalMs: 3_000 });
    const { resolves, dialogReads } = answerUsernames(clock, { joined, public: unjoined });
    // the names not in the dialogs spread over the list: every sixth
    const targets = unjoined.flatMap((c, k) => [...joined.slice(5 * k, 5 * k + 5), c]).map(usernameTarget);
    expect(targets).toHaveLength(30);

    const report = await onClock(clock, telegram, preflight.run(sessions(['s1']), targets, null));
    expect(report.rows).toHaveLength(30);
    expect(report.rows.every((r) => r.member === true && r.canWrite === true && r.error === null)).toBe(true);
    expect(dialogReads()).toBe(1);
    expect(resolves.map((r) => r.username)).toEqual(unjoined.map((c) => c.username!.toLowerCase()));
    for (const gap of gaps(resolves.map((r) => r.at))) expect(gap).toBeGreaterThanOrEqual(3_000);
    expect(telegram.count('channels.getFullChannel')).toBe(30);

    // again: every name is known now (by the dialogs or by its resolve), nothing is resolved
    telegram.clearRequests();
    await onClock(clock, telegram, preflight.run(sessions(['s1']), targets, null));
    expect(telegram.count('contacts.resolveUsername') + telegram.count('messages.getDialogs')).toBe(0);
  });

  it('a FLOOD_WAIT on the 2nd resolveUsername: no 3rd call; the rows left say the limit stopped the check', async () => {
    const { preflight, clock } = await setup([], { intervalMs: 1_000 });
    const { resolves, dialogReads } = answerUsernames(clock, {
      joined: joined.slice(0, 3),
      public: unjoined,
      resolve: (n) => (n === 2 ? rpcError(420, 'FLOOD_WAIT_120') : null),
    });
    const targets = [joined[0]!, ...unjoined].map(usernameTarget);

    const report = await onClock(clock, telegram, preflight.run(sessions(['s1']), targets, null));
    expect(dialogReads()).toBe(1);
    expect(resolves.map((r) => r.username)).toEqual(['public0', 'public1']);
    expect(gaps(resolves.map((r) => r.at))).toEqual([1_000]);
    expect(report.rows.map((r) => [r.groupKey, r.member, r.error])).toEqual([
      ['@joined0', true, null],
      ['@public0', true, null],
      ...unjoined.slice(1).map((c) => [`@${c.username!.toLowerCase()}`, null, 'FLOOD_WAIT_120']),
    ]);

    // a new check while the wait lasts: the session is not asked to resolve, and says for how long it may not
    clock.jump(20_000);
    const during = await onClock(clock, telegram, preflight.run(sessions(['s1']), targets, null));
    expect(resolves).toHaveLength(2);
    expect(during.rows.slice(0, 2).every((r) => r.member === true)).toBe(true);
    expect(during.rows.slice(2).map((r) => r.error)).toEqual([
      'FLOOD_WAIT_100',
      'FLOOD_WAIT_100',
      'FLOOD_WAIT_100',
      'FLOOD_WAIT_100',
    ]);

    // once it is over, the names left are resolved, one a second
    clock.jump(100_000);
    const after = await onClock(clock, telegram, preflight.run(sessions(['s1']), targets, null));
    expect(resolves.slice(2).map((r) => r.username)).toEqual(['public1', 'public2', 'public3', 'public4']);
    for (const gap of gaps(resolves.slice(2).map((r) => r.at))) expect(gap).toBeGreaterThanOrEqual(1_000);
    expect(after.rows.every((r) => r.member === true && r.error === null)).toBe(true);
  });

  it('a cached username whose chat Telegram calls invalid is resolved once more and checked there', async () => {
    const { preflight, clock, peers } = await setup([]);
    const moved = channel(1_930_000_001, { username: 'MovedGroup', accessHash: '31' });
    await peers.put('s1', 'u:movedgroup', storedChannel(1_930_000_000, '30'));
    const { resolves } = answerUsernames(clock, { joined: [], public: [moved] });
    telegram.on('channels.getFullChannel', (req) => {
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      return input.channelId === moved.id ? channelFull(moved, 10) : rpcError(400, 'CHANNEL_INVALID');
    });
    const report = await onClock(
      clock,
      telegram,
      preflight.run(sessions(['s1']), [usernameTarget(moved)], null),
    );
    expect(report.rows).toMatchObject([{ member: true, slowmodeSeconds: 10, error: null }]);
    expect(resolves.map((r) => r.username)).toEqual(['movedgroup']);
    expect(telegram.count('channels.getFullChannel')).toBe(2);
    expect(await peers.get('s1', 'u:movedgroup')).toBe(storedChannel(moved.id, '31'));
  });
});
