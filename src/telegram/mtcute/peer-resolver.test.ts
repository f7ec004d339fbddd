import type { tl } from '@mtcute/core';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGroupTarget } from '../../core/group-targets.js';
import type { ChatRef } from '../../core/post-link.js';
import { VirtualClock } from '../../runtime/clock.js';
import {
  basicGroup,
  channel,
  channelChatId,
  chats,
  dialogs,
  resolvedPeer,
  storedChannel,
} from '../../../test/support/mtcute/fixtures.js';
import { OfflineTelegram, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import { connectedClient } from '../../../test/support/mtcute/session-client.js';
import type { SessionClient } from './client-pool.js';
import { PeerResolver } from './peer-resolver.js';
import { MemoryPeerCache } from './peers.js';

const GROUP = channel(1_700_000_001, { username: 'TheGroup', accessHash: '4242' });
const OTHER = channel(1_700_000_002, { accessHash: '77' });
const groupId: ChatRef = { kind: 'id', chatId: channelChatId(GROUP.id) };
const otherId: ChatRef = { kind: 'id', chatId: channelChatId(OTHER.id) };
const unknownId: ChatRef = { kind: 'id', chatId: '-1009999999999' };
const NOOP = { info() {}, warn() {}, error() {} };
const RESOLVE_METHODS = ['contacts.resolveUsername', 'channels.getChannels', 'messages.getDialogs'];

let telegram: OfflineTelegram;
afterEach(() => telegram.destroyAll());

function setup(o: { peers?: MemoryPeerCache; known?: tl.RawChannel[] } = {}) {
  telegram = new OfflineTelegram();
  const known = o.known ?? [GROUP];
  telegram.on('contacts.resolveUsername', (req) => {
    const name = (req as tl.contacts.RawResolveUsernameRequest).username.toLowerCase();
    const found = known.find((c) => c.username?.toLowerCase() === name);
    return found ? resolvedPeer(found) : rpcError(400, 'USERNAME_NOT_OCCUPIED');
  });
  telegram.on('channels.getChannels', (req) => {
    const ids = (req as tl.channels.RawGetChannelsRequest).id.map((c) =>
      c._ === 'inputChannel' ? c.channelId : 0,
    );
    const found = known.filter((c) => ids.includes(c.id));
    return found.length ? chats(found) : rpcError(400, 'CHANNEL_INVALID');
  });
  const clock = new VirtualClock();
  const peers = o.peers ?? new MemoryPeerCache();
  const resolver = new PeerResolver({ peers, logger: NOOP, clock });
  return { resolver, peers, clock };
}

function resolveCalls(): number {
  return RESOLVE_METHODS.reduce((n, m) => n + telegram.count(m), 0);
}

/** One page of dialogs, then the empty page that ends mtcute's iteration. */
function answerDialogs(list: tl.TypeChat[]): void {
  telegram.on('messages.getDialogs', (req) =>
    (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty' ? dialogs(list) : dialogs([]),
  );
}

describe('caching', () => {
  it('a cold id goes through mtcute once; then it comes from memory, without asking the PeerCache again', async () => {
    const { resolver, peers } = setup();
    const client = await connectedClient(telegram);
    const first = await resolver.resolve(client, groupId);
    expect(first).toMatchObject({ cached: false, peer: { _: 'inputPeerChannel', channelId: GROUP.id } });
    expect(telegram.count('channels.getChannels')).toBe(1);
    expect(await peers.get('s1', `id:${channelChatId(GROUP.id)}`)).toBe(storedChannel(GROUP.id, '4242'));

    const gets = peers.gets;
    for (let i = 0; i < 5; i++) {
      expect(await resolver.resolve(client, groupId)).toMatchObject({ cached: true });
    }
    expect(peers.gets).toBe(gets);
    expect(resolveCalls()).toBe(1);
  });

  it('a warm PeerCache (a new resolver after a restart) answers with no call to Telegram', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', `id:${channelChatId(GROUP.id)}`, storedChannel(GROUP.id, '4242'));
    const { resolver } = setup({ peers });
    const client = await connectedClient(telegram);
    const resolved = await resolver.resolve(client, groupId);
    expect(resolved).toMatchObject({ cached: true, peer: { channelId: GROUP.id } });
    expect((resolved as { peer: tl.RawInputPeerChannel }).peer.accessHash.toString()).toBe('4242');
    expect(resolveCalls()).toBe(0);
  });

  it('peers are per session: another session of the same chat resolves it itself', async () => {
    const { resolver } = setup();
    await resolver.resolve(await connectedClient(telegram, 's1'), groupId);
    const second = await resolver.resolve(await connectedClient(telegram, 's2'), groupId);
    expect(second).toMatchObject({ cached: false });
    expect(telegram.count('channels.getChannels')).toBe(2);
  });

  it('a username is remembered under its id too', async () => {
    const { resolver } = setup();
    const client = await connectedClient(telegram);
    expect(await resolver.resolve(client, { kind: 'username', username: 'thegroup' })).toMatchObject({
      cached: false,
    });
    expect(await resolver.resolve(client, groupId)).toMatchObject({ cached: true });
    expect(await resolver.resolve(client, { kind: 'username', username: 'THEGROUP' })).toMatchObject({
      cached: true,
    });
    // the dialogs first (a read these tests leave unanswered), then the one resolveUsername
    expect(telegram.count('messages.getDialogs')).toBe(1);
    expect(telegram.count('contacts.resolveUsername')).toBe(1);
    expect(resolveCalls()).toBe(2);
  });

  it('a cached peer Telegram refused as invalid is resolved again once; other refusals keep the cache', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', `id:${channelChatId(GROUP.id)}`, storedChannel(GROUP.id, '1'));
    const { resolver } = setup({ peers });
    const client = await connectedClient(telegram);
    await resolver.resolve(client, groupId);

    resolver.markStale('s1', groupId, { ok: false, error: 'FLOOD_WAIT_30', code: 420 });
    expect(await resolver.resolve(client, groupId)).toMatchObject({ cached: true });
    expect(resolveCalls()).toBe(0);

    resolver.markStale('s1', groupId, { ok: false, error: 'CHANNEL_INVALID', code: 400 });
    const fresh = await resolver.resolve(client, groupId);
    expect(fresh).toMatchObject({ cached: false });
    expect(telegram.count('channels.getChannels')).toBe(1);
    // the new access hash replaced the stale one, in memory and in the PeerCache
    expect(await peers.get('s1', `id:${channelChatId(GROUP.id)}`)).toBe(storedChannel(GROUP.id, '4242'));
    expect(await resolver.resolve(client, groupId)).toMatchObject({ cached: true });
    expect(telegram.count('channels.getChannels')).toBe(1);
  });
});

describe('ids the account never met', () => {
  it('reads the dialogs once, caches every group in them, and remembers what is still unknown', async () => {
    const { resolver } = setup({ known: [] });
    answerDialogs([GROUP, OTHER, basicGroup(777)]);
    const client = await connectedClient(telegram);
    expect(await resolver.resolve(client, unknownId)).toEqual({
      answer: { ok: false, error: 'PEER_ID_INVALID', code: 400 },
    });
    const dialogReads = telegram.count('messages.getDialogs');
    expect(dialogReads).toBeGreaterThanOrEqual(1);
    const before = resolveCalls();

    // still unknown: answered without a call
    expect(await resolver.resolve(client, unknownId)).toEqual({
      answer: { ok: false, error: 'PEER_ID_INVALID', code: 400 },
    });
    // the dialogs' groups: by id and by username, without a call
    expect(await resolver.resolve(client, otherId)).toMatchObject({ peer: { channelId: OTHER.id } });
    expect(await resolver.resolve(client, { kind: 'username', username: 'thegroup' })).toMatchObject({
      peer: { channelId: GROUP.id },
    });
    expect(await resolver.resolve(client, { kind: 'id', chatId: '-777' })).toMatchObject({
      peer: { _: 'inputPeerChat', chatId: 777 },
    });
    expect(resolveCalls()).toBe(before);
    expect(telegram.count('messages.getDialogs')).toBe(dialogReads);
  });

  it('concurrent reads of one session share one scan', async () => {
    const { resolver } = setup({ known: [] });
    answerDialogs([GROUP]);
    const client = await connectedClient(telegram);
    const scans = await Promise.all([
      resolver.readDialogs(client),
      resolver.readDialogs(client),
      resolver.readDialogs(client),
    ]);
    expect(scans).toEqual([null, null, null]);
    const reads = telegram.count('messages.getDialogs');
    expect(await resolver.readDialogs(client)).toBeNull();
    expect(telegram.count('messages.getDialogs')).toBe(reads);
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('a failed dialogs read is not repeated for a minute of the injected clock', async () => {
    const { resolver, clock } = setup({ known: [] });
    telegram.on('messages.getDialogs', rpcError(420, 'FLOOD_WAIT_5'));
    const client = await connectedClient(telegram);
    const flood = { answer: { ok: false, error: 'FLOOD_WAIT_5', code: 420 } };
    expect(await resolver.resolve(client, unknownId)).toEqual(flood);
    expect(telegram.count('messages.getDialogs')).toBe(1);

    clock.jump(59_999);
    expect(await resolver.resolve(client, otherId)).toEqual(flood);
    expect(telegram.count('messages.getDialogs')).toBe(1);

    clock.jump(1);
    answerDialogs([OTHER]);
    expect(await resolver.resolve(client, otherId)).toMatchObject({ peer: { channelId: OTHER.id } });
    expect(telegram.count('messages.getDialogs')).toBeGreaterThan(1);
  });

  it('counts the ids a preflight would have to resolve; none once the dialogs were read', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', `id:${channelChatId(GROUP.id)}`, storedChannel(GROUP.id, '4242'));
    const { resolver } = setup({ peers, known: [] });
    answerDialogs([GROUP, OTHER]);
    const targets = [
      parseGroupTarget(channelChatId(GROUP.id)),
      parseGroupTarget(channelChatId(OTHER.id)),
      parseGroupTarget('-1009999999999'),
      parseGroupTarget('@somegroup'),
    ];
    expect(await resolver.countCold('s1', targets)).toBe(2);
    const client: SessionClient = await connectedClient(telegram);
    expect(await resolver.readDialogs(client)).toBeNull();
    expect(await resolver.countCold('s1', targets)).toBe(0);
    expect(telegram.count('channels.getChannels') + telegram.count('contacts.resolveUsername')).toBe(0);
  });
});

describe('what is no group', () => {
  it('an id mtcute refuses (-1000000000000) and a positive (user) id: PEER_ID_INVALID without a call', async () => {
    const { resolver } = setup();
    const client = await connectedClient(telegram);
    for (const chatId of ['-1000000000000', '5000000001']) {
      expect(await resolver.resolve(client, { kind: 'id', chatId })).toEqual({
        answer: { ok: false, error: 'PEER_ID_INVALID', code: 400 },
      });
    }
    expect(resolveCalls()).toBe(0);
  });

  it('an unknown username: USERNAME_NOT_OCCUPIED', async () => {
    const { resolver } = setup();
    const client = await connectedClient(telegram);
    expect(await resolver.resolve(client, { kind: 'username', username: 'nosuchgroup' })).toEqual({
      answer: { ok: false, error: 'USERNAME_NOT_OCCUPIED', code: 400 },
    });
  });
});

describe('usernames', () => {
  const PUBLIC = channel(1_700_000_003, { username: 'PublicGroup', accessHash: '88' });

  it('the dialogs answer by a chat’s username and its other active names, never an inactive one', async () => {
    const { resolver, peers } = setup({ known: [] });
    const aliased: tl.RawChannel = {
      ...channel(1_700_000_004, { username: 'MainName', accessHash: '44' }),
      usernames: [
        { _: 'username', username: 'MainName', active: true },
        { _: 'username', username: 'SecondName', active: true },
        { _: 'username', username: 'OldName' },
      ],
    };
    answerDialogs([GROUP, aliased]);
    const client = await connectedClient(telegram);
    for (const [username, id] of [
      ['thegroup', GROUP.id],
      ['mainname', aliased.id],
      ['secondname', aliased.id],
    ] as const) {
      expect(await resolver.resolve(client, { kind: 'username', username })).toMatchObject({
        peer: { channelId: id },
      });
    }
    expect(telegram.count('contacts.resolveUsername')).toBe(0);
    expect(await peers.get('s1', 'u:secondname')).toBe(storedChannel(aliased.id, '44'));
    expect(await peers.get('s1', 'u:oldname')).toBeNull();
  });

  it('concurrent lookups of one name share one dialogs read and one resolveUsername', async () => {
    const { resolver } = setup({ known: [PUBLIC] });
    answerDialogs([OTHER]);
    const client = await connectedClient(telegram);
    const chat: ChatRef = { kind: 'username', username: 'publicgroup' };
    const all = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve(client, chat)));
    for (const r of all) expect(r).toMatchObject({ peer: { _: 'inputPeerChannel', channelId: PUBLIC.id } });
    expect(telegram.count('contacts.resolveUsername')).toBe(1);
    expect(
      telegram.calls('messages.getDialogs').filter((c) => c.offsetPeer._ === 'inputPeerEmpty'),
    ).toHaveLength(1);
  });

  it('a name Telegram says is free is not asked again until the dialogs are due for a re-read', async () => {
    const { resolver, clock } = setup({ known: [] });
    answerDialogs([OTHER]);
    const client = await connectedClient(telegram);
    const free = { answer: { ok: false, error: 'USERNAME_NOT_OCCUPIED', code: 400 } };
    const chat: ChatRef = { kind: 'username', username: 'freename' };
    expect(await resolver.resolve(client, chat)).toEqual(free);
    clock.jump(10 * 60_000 - 1);
    expect(await resolver.resolve(client, chat)).toEqual(free);
    expect(telegram.count('contacts.resolveUsername')).toBe(1);

    // due: the dialogs are read again first, and the name is asked once more
    clock.jump(1);
    expect(await resolver.resolve(client, chat)).toEqual(free);
    expect(telegram.count('contacts.resolveUsername')).toBe(2);
    expect(
      telegram.calls('messages.getDialogs').filter((c) => c.offsetPeer._ === 'inputPeerEmpty'),
    ).toHaveLength(2);
  });

  it('a limit on reading the dialogs stops the lookup: no resolveUsername', async () => {
    const { resolver } = setup({ known: [PUBLIC] });
    telegram.on('messages.getDialogs', rpcError(420, 'FLOOD_WAIT_5'));
    const client = await connectedClient(telegram);
    expect(await resolver.resolve(client, { kind: 'username', username: 'publicgroup' })).toEqual({
      answer: { ok: false, error: 'FLOOD_WAIT_5', code: 420 },
    });
    expect(telegram.count('contacts.resolveUsername')).toBe(0);
  });

  it('recheck: an id is only marked stale; a username still leading to the refused peer leaves the refusal', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', 'u:thegroup', storedChannel(GROUP.id, '4242'));
    await peers.put('s1', `id:${channelChatId(GROUP.id)}`, storedChannel(GROUP.id, '4242'));
    const { resolver } = setup({ peers });
    answerDialogs([]);
    const client = await connectedClient(telegram);
    const byName: ChatRef = { kind: 'username', username: 'thegroup' };
    const refused = await resolver.resolve(client, byName);
    if (!('peer' in refused)) throw new Error('expected a peer');
    const invalid = { ok: false as const, error: 'CHANNEL_INVALID', code: 400 };

    // other refusals are not about the name
    expect(
      await resolver.recheck(client, byName, refused.peer, { ok: false, error: 'CHAT_WRITE_FORBIDDEN' }),
    ).toBeNull();
    expect(resolveCalls()).toBe(0);
    // the name is resolved once more (the dialogs first) and still leads to the refused peer: the refusal stands
    expect(await resolver.recheck(client, byName, refused.peer, invalid)).toBeNull();
    expect(telegram.count('messages.getDialogs')).toBeGreaterThanOrEqual(1);
    expect(telegram.count('contacts.resolveUsername')).toBe(1);

    // an id: marked stale, resolved again by the next call, not now
    const byId = await resolver.resolve(client, groupId);
    if (!('peer' in byId)) throw new Error('expected a peer');
    expect(await resolver.recheck(client, groupId, byId.peer, invalid)).toBeNull();
    expect(telegram.count('channels.getChannels')).toBe(0);
    // (mtcute itself has met the chat by now, in the resolveUsername answer)
    expect(await resolver.resolve(client, groupId)).toMatchObject({ cached: false });
  });
});
