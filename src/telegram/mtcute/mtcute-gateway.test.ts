import { ConnectionClosedError } from '@fuman/net';
import { Long, MtTimeoutError, type tl } from '@mtcute/core';
import { readStringSession } from '@mtcute/core/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGroupTarget, type GroupTarget } from '../../core/group-targets.js';
import { classifyAnswer, type Outcome } from '../../core/outcome.js';
import { parsePostLink, type PostRef } from '../../core/post-link.js';
import { VirtualClock } from '../../runtime/clock.js';
import type { ForwardRequest, SessionHandle } from '../gateway.js';
import { longToBigint } from './answers.js';
import { MemoryPeerCache, MtcuteGateway, type SessionCredentials } from './mtcute-gateway.js';
import {
  OfflineTelegram,
  onClock,
  PASS_THROUGH,
  rpcError,
  settles,
} from '../../../test/support/mtcute/offline-telegram.js';
import {
  albumForwardUpdates,
  basicGroup,
  channel,
  channelChatId,
  channelFull,
  channelMessages,
  chatFull,
  chats,
  credentials,
  dialogs,
  forwardUpdates,
  message,
  resolvedPeer,
  sessionString,
  storedChannel,
} from '../../../test/support/mtcute/fixtures.js';

type Forward = tl.messages.RawForwardMessagesRequest;

const SOURCE = channel(1_111_111_111, {
  username: 'sourcechan',
  broadcast: true,
  accessHash: '-8070450532247928832',
});
const TARGET = channel(1_234_567_890, { accessHash: '7213010234235321345' });
const TOPIC_GROUP = channel(1_400_000_001, { accessHash: '-1' });
const source: PostRef = parsePostLink('https://t.me/sourcechan/42');
const target: GroupTarget = parseGroupTarget(channelChatId(TARGET.id));

const RESOLVE_METHODS = [
  'contacts.resolveUsername',
  'channels.getChannels',
  'users.getUsers',
  'messages.getDialogs',
];

let telegram: OfflineTelegram;
let gateways: MtcuteGateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  gateways = [];
  await telegram?.destroyAll();
});

function setup(
  o: {
    sessions?: Record<string, SessionCredentials | null>;
    peers?: MemoryPeerCache;
    telegram?: OfflineTelegram;
    callTimeoutMs?: number;
    clock?: VirtualClock;
    dialogRefreshMs?: number;
    usernameResolveIntervalMs?: number;
  } = {},
) {
  telegram = o.telegram ?? new OfflineTelegram();
  const sessions = o.sessions ?? { s1: credentials() };
  const peers = o.peers ?? new MemoryPeerCache();
  const credentialReads: string[] = [];
  const changed: { sessionId: string; authString: string }[] = [];
  const gateway = new MtcuteGateway({
    ...(o.callTimeoutMs !== undefined ? { callTimeoutMs: o.callTimeoutMs } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.dialogRefreshMs !== undefined ? { dialogRefreshMs: o.dialogRefreshMs } : {}),
    ...(o.usernameResolveIntervalMs !== undefined
      ? { usernameResolveIntervalMs: o.usernameResolveIntervalMs }
      : {}),
    credentials: {
      async get(id) {
        credentialReads.push(id);
        return sessions[id] ?? null;
      },
    },
    peers,
    createClient: telegram.createClient,
    onAuthStringChanged: async (sessionId, authString) => {
      changed.push({ sessionId, authString });
    },
  });
  gateways.push(gateway);
  return { gateway, peers, credentialReads, changed };
}

function session(id = 's1'): SessionHandle {
  return { id, driver: 'mtcute' };
}

function request(o: Partial<ForwardRequest> = {}): ForwardRequest {
  return { session: session(), source, target, randomId: 1n, silent: false, hideSender: false, ...o };
}

function resolveCalls(): number {
  return RESOLVE_METHODS.reduce((n, m) => n + telegram.count(m), 0);
}

/** Answers that let the source username and the target id resolve through mtcute's real path. */
function answerPeers(t: OfflineTelegram, extra: tl.RawChannel[] = []): void {
  t.on('contacts.resolveUsername', (req) => {
    const name = (req as tl.contacts.RawResolveUsernameRequest).username.toLowerCase();
    const found = [SOURCE, TARGET, TOPIC_GROUP, ...extra].find((c) => c.username?.toLowerCase() === name);
    return found ? resolvedPeer(found) : rpcError(400, 'USERNAME_NOT_OCCUPIED');
  });
  t.on('channels.getChannels', (req) => {
    const ids = (req as tl.channels.RawGetChannelsRequest).id.map((c) =>
      c._ === 'inputChannel' ? c.channelId : 0,
    );
    const found = [SOURCE, TARGET, TOPIC_GROUP, ...extra].filter((c) => ids.includes(c.id));
    return found.length ? chats(found) : rpcError(400, 'CHANNEL_INVALID');
  });
  t.on('messages.forwardMessages', (req) => forwardUpdates(req, 500));
}

/** One page of dialogs (the first request of a scan), then the empty page that ends mtcute's iteration. */
function answerDialogs(t: OfflineTelegram, list: tl.TypeChat[]): void {
  t.on('messages.getDialogs', (req) =>
    (req as tl.messages.RawGetDialogsRequest).offsetPeer._ === 'inputPeerEmpty' ? dialogs(list) : dialogs([]),
  );
}

describe('forward', () => {
  it('sends the exact messages.forwardMessages request, resolving cold peers through mtcute once', async () => {
    const { gateway, peers } = setup();
    answerPeers(telegram);
    const answer = await gateway.forward(
      request({ randomId: 9223372036854775001n, silent: true, hideSender: true }),
    );
    expect(answer).toEqual({ ok: true, messageId: 500, messageIds: [500] });

    // cold cache: the real resolve path (username → contacts.resolveUsername, id → channels.getChannels)
    expect(telegram.count('contacts.resolveUsername')).toBe(1);
    expect(telegram.count('channels.getChannels')).toBe(1);

    const [sent] = telegram.calls('messages.forwardMessages');
    expect(sent).toBeDefined();
    const call = sent as Forward;
    expect(call.fromPeer).toMatchObject({ _: 'inputPeerChannel', channelId: SOURCE.id });
    expect((call.fromPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('-8070450532247928832');
    expect(call.toPeer).toMatchObject({ _: 'inputPeerChannel', channelId: TARGET.id });
    expect((call.toPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('7213010234235321345');
    expect(call.id).toEqual([42]);
    expect(call.randomId).toHaveLength(1);
    expect(call.randomId[0]!.toString()).toBe('9223372036854775001');
    expect(longToBigint(call.randomId[0]!)).toBe(9223372036854775001n);
    expect(call.silent).toBe(true);
    expect(call.dropAuthor).toBe(true);
    expect(call.topMsgId).toBeUndefined();

    // the PeerCache now holds both peers, as (type, id, accessHash) strings
    expect(JSON.parse((await peers.get('s1', `id:${channelChatId(TARGET.id)}`))!)).toEqual({
      v: 1,
      type: 'channel',
      id: String(TARGET.id),
      accessHash: '7213010234235321345',
    });
    expect(await peers.get('s1', 'u:sourcechan')).not.toBeNull();
  });

  it('converts random ids exactly: negative, int64 min/max, large', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    const ids = [
      -1n,
      -9223372036854775808n,
      9223372036854775807n,
      9223372036854775001n,
      -4611686018427387905n,
      0n,
    ];
    for (const randomId of ids) {
      expect(await gateway.forward(request({ randomId }))).toMatchObject({ ok: true });
    }
    const sent = telegram.calls('messages.forwardMessages').map((c) => c.randomId[0]!);
    expect(sent.map((l) => longToBigint(l))).toEqual(ids);
    expect(sent.map((l) => l.toString())).toEqual(ids.map(String));
    await expect(gateway.forward(request({ randomId: 1n << 63n }))).rejects.toThrow(RangeError);
  });

  it('sends topMsgId for a forum topic and silent/dropAuthor false when not asked', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    const topicTarget = parseGroupTarget(`${channelChatId(TOPIC_GROUP.id)}/77`);
    await gateway.forward(request({ target: topicTarget }));
    const call = telegram.calls('messages.forwardMessages')[0] as Forward;
    expect(call.topMsgId).toBe(77);
    expect(call.silent).toBe(false);
    expect(call.dropAuthor).toBe(false);
    expect(call.toPeer).toMatchObject({ _: 'inputPeerChannel', channelId: TOPIC_GROUP.id });
  });

  it('a warm cache makes zero resolve calls, across many forwards and a new gateway with the same PeerCache', async () => {
    const first = setup();
    answerPeers(telegram);
    await first.gateway.forward(request());
    // the source's username: the dialogs first (unanswered here), then resolveUsername; the target's id
    expect(resolveCalls()).toBe(3);
    for (let i = 0; i < 25; i++) await first.gateway.forward(request({ randomId: BigInt(i + 10) }));
    expect(resolveCalls()).toBe(3);
    await first.gateway.close();

    // a restart: new gateway, new client, empty mtcute storage — only the PeerCache survives
    const peers = first.peers;
    await telegram.destroyAll();
    const second = setup({ peers });
    answerPeers(telegram);
    for (let i = 0; i < 10; i++) {
      expect(await second.gateway.forward(request({ randomId: BigInt(-i - 1) }))).toMatchObject({ ok: true });
    }
    expect(resolveCalls()).toBe(0);
    expect(telegram.count('messages.forwardMessages')).toBe(10);
    const call = telegram.calls('messages.forwardMessages')[0] as Forward;
    expect((call.toPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('7213010234235321345');
    expect((call.fromPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('-8070450532247928832');
  });

  it('an unknown -100 id: dialogs read once, then PEER_ID_INVALID without another dialogs call', async () => {
    const { gateway, peers } = setup();
    answerPeers(telegram);
    const known = channel(1_500_000_001, { username: 'knowngroup', accessHash: '1234' });
    const archived = channel(1_500_000_002, { accessHash: '5678' });
    answerDialogs(telegram, [known, archived, basicGroup(777)]);

    const unknown = parseGroupTarget('-1009999999999');
    expect(await gateway.forward(request({ target: unknown }))).toEqual({
      ok: false,
      error: 'PEER_ID_INVALID',
      code: 400,
    });
    const dialogCalls = telegram.count('messages.getDialogs');
    expect(dialogCalls).toBeGreaterThanOrEqual(1);
    expect(telegram.calls('messages.getDialogs')[0]?.folderId).toBeUndefined(); // archived: 'keep'
    const getChannels = telegram.count('channels.getChannels');

    expect(await gateway.forward(request({ target: unknown }))).toEqual({
      ok: false,
      error: 'PEER_ID_INVALID',
      code: 400,
    });
    expect(telegram.count('messages.getDialogs')).toBe(dialogCalls);
    expect(telegram.count('channels.getChannels')).toBe(getChannels);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
    expect(classifyAnswer({ ok: false, error: 'PEER_ID_INVALID' })).toMatchObject({
      kind: 'group_skip',
      reason: 'unresolved',
    });

    // the scan cached every group of the dialogs: they forward with no resolve call at all
    const before = resolveCalls();
    expect(
      await gateway.forward(request({ target: parseGroupTarget(channelChatId(archived.id)) })),
    ).toMatchObject({ ok: true });
    expect(await gateway.forward(request({ target: parseGroupTarget('@KnownGroup') }))).toMatchObject({
      ok: true,
    });
    expect(await gateway.forward(request({ target: parseGroupTarget('-777') }))).toMatchObject({ ok: true });
    expect(resolveCalls()).toBe(before);
    expect(await peers.get('s1', `id:${channelChatId(known.id)}`)).not.toBeNull();
    const toPeers = telegram.calls('messages.forwardMessages').map((c) => c.toPeer);
    expect(toPeers[0]).toMatchObject({ _: 'inputPeerChannel', channelId: archived.id });
    expect(toPeers[1]).toMatchObject({ _: 'inputPeerChannel', channelId: known.id });
    expect(toPeers[2]).toEqual({ _: 'inputPeerChat', chatId: 777 });
  });

  it('a group joined after the dialogs read is found by a re-read, at most once per session per refresh time', async () => {
    const clock = new VirtualClock();
    const { gateway } = setup({ clock, dialogRefreshMs: 10 * 60_000 });
    answerPeers(telegram);
    answerDialogs(telegram, []);
    /** Dialog scans started: each begins with the first page (no offset peer). */
    const dialogReads = () =>
      telegram.calls('messages.getDialogs').filter((c) => c.offsetPeer._ === 'inputPeerEmpty').length;
    const joinedLater = channel(1_600_000_001, { accessHash: '99' });
    const later = parseGroupTarget(channelChatId(joinedLater.id));
    const unresolved = { ok: false, error: 'PEER_ID_INVALID', code: 400 };

    expect(await gateway.forward(request({ target: later }))).toEqual(unresolved);
    expect(dialogReads()).toBe(1);

    answerDialogs(telegram, [joinedLater]); // the account joins the group
    await clock.advance(9 * 60_000);
    expect(await gateway.forward(request({ target: later }))).toEqual(unresolved);
    expect(dialogReads()).toBe(1);

    await clock.advance(60_000);
    expect(await gateway.forward(request({ target: later }))).toMatchObject({ ok: true });
    expect(dialogReads()).toBe(2);
    expect(telegram.calls('messages.forwardMessages').at(-1)?.toPeer).toMatchObject({
      _: 'inputPeerChannel',
      channelId: joinedLater.id,
    });

    // another target Telegram does not know, right after the re-read: no second re-read
    const never = parseGroupTarget('-1009999999999');
    expect(await gateway.forward(request({ target: never }))).toEqual(unresolved);
    expect(dialogReads()).toBe(2);

    // a released session's next client reads the dialogs afresh
    await gateway.release('s1');
    expect(await gateway.forward(request({ target: never }))).toEqual(unresolved);
    expect(dialogReads()).toBe(3);
  });

  it('an unknown username answers USERNAME_NOT_OCCUPIED (unresolved)', async () => {
    const clock = new VirtualClock();
    const { gateway } = setup({ clock });
    answerPeers(telegram);
    // the source's and the target's names, a second apart on the clock
    const answer = await onClock(
      clock,
      telegram,
      gateway.forward(request({ target: parseGroupTarget('@nosuchgroup') })),
    );
    expect(telegram.count('contacts.resolveUsername')).toBe(2);
    expect(answer).toEqual({ ok: false, error: 'USERNAME_NOT_OCCUPIED', code: 400 });
    expect(classifyAnswer(answer)).toMatchObject({ kind: 'group_skip', reason: 'unresolved' });
  });
});

describe('forward to an @username', () => {
  const JOINED = channel(1_700_000_101, { username: 'JoinedGroup', accessHash: '5151' });
  const PUBLIC = ['groupa', 'groupb', 'groupc', 'groupd'].map((username, i) =>
    channel(1_700_000_111 + i, { username, accessHash: String(6100 + i) }),
  );

  /** Records each contacts.resolveUsername with the virtual time it came at; `answer` may replace the lookup. */
  function recordResolves(clock: VirtualClock, answer?: (username: string) => object | null) {
    const resolves: { username: string; at: number }[] = [];
    telegram.on('contacts.resolveUsername', (req) => {
      const username = (req as tl.contacts.RawResolveUsernameRequest).username.toLowerCase();
      resolves.push({ username, at: clock.now() });
      const forced = answer?.(username);
      if (forced) return forced;
      const found = [SOURCE, ...PUBLIC].find((c) => c.username?.toLowerCase() === username);
      return found ? resolvedPeer(found) : rpcError(400, 'USERNAME_NOT_OCCUPIED');
    });
    return resolves;
  }

  it('a joined group’s username comes from the dialogs: no resolveUsername at all', async () => {
    const { gateway, peers } = setup();
    answerPeers(telegram);
    answerDialogs(telegram, [SOURCE, JOINED]);
    const answer = await gateway.forward(request({ target: parseGroupTarget('@joinedgroup') }));
    expect(answer).toEqual({ ok: true, messageId: 500, messageIds: [500] });
    expect(telegram.count('contacts.resolveUsername')).toBe(0);
    const call = telegram.calls('messages.forwardMessages')[0]!;
    expect(call.toPeer).toMatchObject({ _: 'inputPeerChannel', channelId: JOINED.id });
    expect((call.toPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('5151');
    expect(call.fromPeer).toMatchObject({ _: 'inputPeerChannel', channelId: SOURCE.id });
    expect(await peers.get('s1', 'u:joinedgroup')).toBe(storedChannel(JOINED.id, '5151'));
  });

  it('a name not in the dialogs: one resolveUsername, paced per session on the injected clock', async () => {
    const clock = new VirtualClock();
    const { gateway } = setup({ clock, usernameResolveIntervalMs: 5_000 });
    answerPeers(telegram);
    answerDialogs(telegram, [SOURCE]);
    const resolves = recordResolves(clock);
    for (const c of PUBLIC.slice(0, 3)) {
      const target = parseGroupTarget(`@${c.username!}`);
      expect(await onClock(clock, telegram, gateway.forward(request({ target })))).toMatchObject({
        ok: true,
      });
    }
    expect(resolves.map((r) => r.username)).toEqual(['groupa', 'groupb', 'groupc']);
    expect(resolves.map((r) => r.at - resolves[0]!.at)).toEqual([0, 5_000, 10_000]);
    // known now: forwards to them resolve nothing
    await onClock(
      clock,
      telegram,
      gateway.forward(request({ target: parseGroupTarget('@GroupB'), randomId: 2n })),
    );
    expect(resolves).toHaveLength(3);
    expect(telegram.calls('messages.forwardMessages').map((c) => c.toPeer)).toMatchObject(
      [0, 1, 2, 1].map((i) => ({ channelId: PUBLIC[i]!.id })),
    );
  });

  it('after a FLOOD_WAIT learnt from resolving, the session resolves nothing until it is over', async () => {
    const clock = new VirtualClock();
    const { gateway } = setup({ clock });
    answerPeers(telegram);
    answerDialogs(telegram, [SOURCE]);
    const resolves = recordResolves(clock, (u) => (u === 'groupa' ? rpcError(420, 'FLOOD_WAIT_60') : null));
    const to = (name: string) => request({ target: parseGroupTarget(`@${name}`) });

    expect(await onClock(clock, telegram, gateway.forward(to('groupa')))).toEqual({
      ok: false,
      error: 'FLOOD_WAIT_60',
      code: 420,
    });
    clock.jump(30_000);
    const limited = await onClock(clock, telegram, gateway.forward(to('groupb')));
    expect(limited).toEqual({ ok: false, error: 'FLOOD_WAIT_30', code: 420 });
    expect(classifyAnswer(limited)).toMatchObject({ kind: 'session_pause', seconds: 30 });
    expect(resolves.map((r) => r.username)).toEqual(['groupa']);
    expect(telegram.count('messages.forwardMessages')).toBe(0);

    clock.jump(30_000);
    expect(await onClock(clock, telegram, gateway.forward(to('groupb')))).toMatchObject({ ok: true });
    expect(resolves.map((r) => r.username)).toEqual(['groupa', 'groupb']);
  });

  it('a cached username whose forward answers peer-invalid is dropped and resolved once more', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', 'u:sourcechan', storedChannel(SOURCE.id, SOURCE.accessHash!.toString()));
    const before = channel(1_700_000_200, { accessHash: '1' });
    const moved = PUBLIC[0]!; // @groupa, now another chat than the one cached under its name
    await peers.put('s1', 'u:groupa', storedChannel(before.id, '1'));
    await peers.put('s1', 'u:groupb', storedChannel(before.id, '1'));
    await peers.put('s1', 'u:gone', storedChannel(before.id, '1'));
    const clock = new VirtualClock();
    const { gateway } = setup({ peers, clock });
    answerPeers(telegram);
    answerDialogs(telegram, [SOURCE]);
    const resolves = recordResolves(clock, (u) =>
      u === 'groupb' ? resolvedPeer(before) : u === 'gone' ? rpcError(400, 'USERNAME_NOT_OCCUPIED') : null,
    );
    telegram.on('messages.forwardMessages', (req) =>
      ((req as Forward).toPeer as tl.RawInputPeerChannel).channelId === before.id
        ? rpcError(400, 'CHANNEL_INVALID')
        : forwardUpdates(req, 600),
    );
    const forwardsTo = () =>
      telegram.calls('messages.forwardMessages').map((c) => ({
        channelId: (c.toPeer as tl.RawInputPeerChannel).channelId,
        randomId: c.randomId[0]!.toString(),
      }));

    // the name moved: the post goes once more, with the same random_id, to where the name leads now
    const target = parseGroupTarget('@groupa');
    expect(await onClock(clock, telegram, gateway.forward(request({ target, randomId: 77n })))).toEqual({
      ok: true,
      messageId: 600,
      messageIds: [600],
    });
    expect(forwardsTo()).toEqual([
      { channelId: before.id, randomId: '77' },
      { channelId: moved.id, randomId: '77' },
    ]);
    expect(resolves.map((r) => r.username)).toEqual(['groupa']);
    expect(await peers.get('s1', 'u:groupa')).toBe(storedChannel(moved.id, moved.accessHash!.toString()));
    await onClock(clock, telegram, gateway.forward(request({ target, randomId: 78n })));
    expect(resolves).toHaveLength(1);
    expect(forwardsTo().at(-1)).toEqual({ channelId: moved.id, randomId: '78' });

    // the name still leads to the refused chat: the refusal stands, nothing is sent again
    telegram.clearRequests();
    const same = await onClock(
      clock,
      telegram,
      gateway.forward(request({ target: parseGroupTarget('@groupb') })),
    );
    expect(same).toEqual({ ok: false, error: 'CHANNEL_INVALID', code: 400 });
    expect(telegram.count('messages.forwardMessages')).toBe(1);
    expect(resolves.map((r) => r.username)).toEqual(['groupa', 'groupb']);

    // the name is gone: the answer says so, and the dropped entry is not used again
    telegram.clearRequests();
    const gone = parseGroupTarget('@gone');
    const answer = await onClock(clock, telegram, gateway.forward(request({ target: gone })));
    expect(answer).toEqual({ ok: false, error: 'USERNAME_NOT_OCCUPIED', code: 400 });
    expect(classifyAnswer(answer)).toMatchObject({ kind: 'group_skip', reason: 'unresolved' });
    expect(telegram.count('messages.forwardMessages')).toBe(1);
    expect(await onClock(clock, telegram, gateway.forward(request({ target: gone })))).toEqual(answer);
    expect(telegram.count('messages.forwardMessages')).toBe(1);
    expect(resolves.map((r) => r.username)).toEqual(['groupa', 'groupb', 'gone']);
  });
});

describe('errors: every row of the table in docs/telegram.md, raw through the real library', () => {
  const rows: [string, number, Partial<Outcome>][] = [
    ['FLOOD_WAIT_30', 420, { kind: 'session_pause', seconds: 30, reason: 'flood_wait' }],
    ['FLOOD_WAIT_0', 420, { kind: 'session_pause', seconds: 0, reason: 'flood_wait' }],
    ['FLOOD_PREMIUM_WAIT_7', 420, { kind: 'session_pause', seconds: 7, reason: 'flood_wait' }],
    ['FLOOD_TEST_PHONE_WAIT_30', 420, { kind: 'session_pause', seconds: 30, reason: 'flood_wait' }],
    ['P0NY_FLOODWAIT', 420, { kind: 'session_pause', seconds: null, reason: 'flood_limit' }],
    ['FLOOD_WAIT_12345678901', 420, { kind: 'session_pause', seconds: null, reason: 'flood_limit' }],
    ['SLOWMODE_WAIT_45', 420, { kind: 'group_cooldown', seconds: 45 }],
    ['PEER_FLOOD', 400, { kind: 'session_pause', seconds: null, reason: 'peer_flood' }],
    ['USER_RESTRICTED', 403, { kind: 'session_pause', seconds: null, reason: 'restricted' }],
    ['FROZEN_METHOD_INVALID', 420, { kind: 'session_dead', reason: 'frozen' }],
    ['FROZEN_PARTICIPANT_MISSING', 400, { kind: 'session_dead', reason: 'frozen' }],
    ['CHAT_WRITE_FORBIDDEN', 403, { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_FORBIDDEN', 403, { kind: 'group_skip', reason: 'no_access' }],
    ['CHAT_SEND_PHOTOS_FORBIDDEN', 403, { kind: 'group_skip', reason: 'write_forbidden' }],
    ['CHAT_RESTRICTED', 400, { kind: 'group_skip', reason: 'restricted' }],
    ['CHANNEL_PRIVATE', 406, { kind: 'group_skip', reason: 'no_access' }],
    ['USER_NOT_PARTICIPANT', 400, { kind: 'group_skip', reason: 'not_member' }],
    ['TOPIC_CLOSED', 400, { kind: 'group_skip', reason: 'topic_closed' }],
    ['TOPIC_DELETED', 400, { kind: 'group_skip', reason: 'topic_closed' }],
    ['TOPIC_ID_INVALID', 400, { kind: 'group_skip', reason: 'topic_invalid' }],
    ['ALLOW_PAYMENT_REQUIRED_100', 403, { kind: 'group_skip', reason: 'paid_messages' }],
    ['USER_BANNED_IN_CHANNEL', 400, { kind: 'group_skip', reason: 'banned_in_group' }],
    ['CHAT_ADMIN_REQUIRED', 400, { kind: 'group_skip', reason: 'admin_required' }],
    ['PREMIUM_ACCOUNT_REQUIRED', 403, { kind: 'group_skip', reason: 'premium_required' }],
    ['PAYMENT_UNSUPPORTED', 406, { kind: 'group_skip', reason: 'payment_required' }],
    ['PEER_ID_INVALID', 400, { kind: 'group_skip', reason: 'unresolved' }],
    ['CHANNEL_INVALID', 400, { kind: 'group_skip', reason: 'unresolved' }],
    ['CHAT_ID_INVALID', 400, { kind: 'group_skip', reason: 'unresolved' }],
    ['CHAT_FORWARDS_RESTRICTED', 400, { kind: 'source_invalid', reason: 'forwards_restricted' }],
    ['MSG_ID_INVALID', 400, { kind: 'source_invalid', reason: 'message_missing' }],
    ['MESSAGE_ID_INVALID', 400, { kind: 'source_invalid', reason: 'message_missing' }],
    ['AUTH_KEY_UNREGISTERED', 401, { kind: 'session_dead', reason: 'revoked' }],
    ['SESSION_REVOKED', 401, { kind: 'session_dead', reason: 'revoked' }],
    ['SESSION_EXPIRED', 401, { kind: 'session_dead', reason: 'revoked' }],
    ['AUTH_KEY_INVALID', 401, { kind: 'session_dead', reason: 'revoked' }],
    ['USER_DEACTIVATED', 401, { kind: 'session_dead', reason: 'deactivated' }],
    ['USER_DEACTIVATED_BAN', 401, { kind: 'session_dead', reason: 'banned' }],
    ['PHONE_NUMBER_BANNED', 400, { kind: 'session_dead', reason: 'banned' }],
    ['AUTH_KEY_DUPLICATED', 406, { kind: 'session_dead', reason: 'duplicated' }],
    ['SESSION_PASSWORD_NEEDED', 401, { kind: 'session_dead', reason: 'needs_login' }],
    ['RANDOM_ID_DUPLICATE', 500, { kind: 'duplicate' }],
    // mtcute's own call timeout resolves as this RPC error (see the test with a silent connection below)
    ['TIMEOUT', 400, { kind: 'transient' }],
  ];
  // Internal errors: the library retries these 3 times (1 s apart, same request), then answers.
  const internal: [string, number, Partial<Outcome>][] = [
    ['RPC_CALL_FAIL', 500, { kind: 'transient' }],
    ['INTERNAL_SERVER_ERROR', 500, { kind: 'transient' }],
    ['Timeout', -503, { kind: 'transient', error: 'TIMEOUT' }],
  ];

  /** Each row in its own session and target, all at once: `stub` answers by target channel id. */
  async function runRows(all: [string, number, Partial<Outcome>][]) {
    const sessions: Record<string, SessionCredentials> = {};
    const peers = new MemoryPeerCache();
    all.forEach((_, i) => (sessions[`row${i}`] = credentials()));
    const { gateway } = setup({ sessions, peers });
    const targets = all.map((_, i) => channel(2_000_000_000 + i));
    // warm cache: no resolve noise
    for (let i = 0; i < all.length; i++) {
      const c = targets[i]!;
      await peers.put(
        `row${i}`,
        `id:${channelChatId(c.id)}`,
        JSON.stringify({ v: 1, type: 'channel', id: String(c.id), accessHash: c.accessHash!.toString() }),
      );
      await peers.put(
        `row${i}`,
        'u:sourcechan',
        JSON.stringify({
          v: 1,
          type: 'channel',
          id: String(SOURCE.id),
          accessHash: SOURCE.accessHash!.toString(),
        }),
      );
    }
    telegram.on('messages.forwardMessages', (req) => {
      const to = (req as Forward).toPeer as tl.RawInputPeerChannel;
      const [text, code] = all[to.channelId - 2_000_000_000]!;
      return rpcError(code, text);
    });
    return Promise.all(
      all.map(async ([text, code, expected], i) => {
        const started = performance.now();
        const answer = await gateway.forward(
          request({
            session: session(`row${i}`),
            target: parseGroupTarget(channelChatId(targets[i]!.id)),
            randomId: BigInt(i),
          }),
        );
        const elapsed = performance.now() - started;
        const sent = telegram
          .calls('messages.forwardMessages')
          .filter((c) => (c.toPeer as tl.RawInputPeerChannel).channelId === targets[i]!.id).length;
        return { text, code, expected, answer, elapsed, sent, gateway };
      }),
    );
  }

  it('answers each error raw, classifies it, and never sleeps on or retries a limit', async () => {
    const results = await runRows(rows);
    expect(resolveCalls()).toBe(0);
    for (const r of results) {
      expect(r.answer, r.text).toEqual({ ok: false, error: r.text, code: r.code });
      expect(classifyAnswer(r.answer), r.text).toMatchObject(r.expected);
      expect(r.sent, `${r.text} sent once`).toBe(1);
      expect(r.elapsed, `${r.text} answered at once`).toBeLessThan(500);
    }
  });

  it('a FLOOD_WAIT is not remembered by the library: the next call goes to Telegram and answers at once', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', rpcError(420, 'FLOOD_WAIT_3600'));
    await gateway.forward(request());
    const started = performance.now();
    const again = await gateway.forward(request({ randomId: 2n }));
    expect(again).toEqual({ ok: false, error: 'FLOOD_WAIT_3600', code: 420 });
    expect(performance.now() - started).toBeLessThan(200);
    expect(telegram.count('messages.forwardMessages')).toBe(2);
    const call = telegram.calls('messages.forwardMessages');
    expect(call[0]!.randomId[0]!.toString()).toBe('1');
  });

  it('internal errors: bounded library retries with the same random_id, then a transient answer', async () => {
    const results = await runRows(internal);
    for (const r of results) {
      expect(r.answer, r.text).toEqual({ ok: false, error: r.text, code: r.code });
      expect(classifyAnswer(r.answer), r.text).toMatchObject(r.expected);
      expect(r.sent, `${r.text}: 1 + 3 retries`).toBe(4);
    }
    for (const [i] of internal.entries()) {
      const sent = telegram.requests.filter(
        (q) =>
          q.method === 'messages.forwardMessages' &&
          (q.request as Forward).randomId[0]!.toString() === String(i),
      );
      expect(sent).toHaveLength(4);
    }
  }, 20_000);

  it('a local timeout answers TIMEOUT, a lost connection NETWORK_ERROR — never a throw', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', () => {
      throw new MtTimeoutError(60_000);
    });
    const timeout = await gateway.forward(request());
    expect(timeout).toEqual({ ok: false, error: 'TIMEOUT' });
    expect(classifyAnswer(timeout)).toMatchObject({ kind: 'transient' });

    telegram.on('messages.forwardMessages', () => {
      throw new ConnectionClosedError();
    });
    const lost = await gateway.forward(request({ randomId: 2n }));
    expect(lost).toEqual({ ok: false, error: 'NETWORK_ERROR' });
    expect(classifyAnswer(lost)).toMatchObject({ kind: 'transient' });
  });
});

describe('timeouts and odd ids through the real connection path', () => {
  it('a call Telegram never answers ends with mtcute’s own timeout → TIMEOUT (transient)', async () => {
    const { gateway } = setup({ callTimeoutMs: 150 });
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', PASS_THROUGH);
    const started = performance.now();
    const answer = await gateway.forward(request());
    expect(answer).toEqual({ ok: false, error: 'TIMEOUT', code: 400 });
    expect(classifyAnswer(answer)).toMatchObject({ kind: 'transient' });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(telegram.count('messages.forwardMessages')).toBe(1);
  });

  it('an id that is no chat for mtcute (-1000000000000) → PEER_ID_INVALID without calls', async () => {
    const peers = new MemoryPeerCache();
    await peers.put('s1', 'u:sourcechan', storedChannel(SOURCE.id, SOURCE.accessHash!.toString()));
    const { gateway } = setup({ peers });
    answerPeers(telegram);
    answerDialogs(telegram, []);
    const answer = await gateway.forward(request({ target: parseGroupTarget('-1000000000000') }));
    expect(answer).toEqual({ ok: false, error: 'PEER_ID_INVALID', code: 400 });
    expect(telegram.count('messages.getDialogs')).toBe(0);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
  });
});

describe('forward of an album', () => {
  const album = { messageIds: [41, 42, 43], randomIds: [-9223372036854775808n, 5n, 9223372036854775807n] };

  it('one messages.forwardMessages with every message id and its own random_id, in order', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', (req) => albumForwardUpdates(req, 900));
    const answer = await gateway.forward(request({ randomId: album.randomIds[0]!, ...album, silent: true }));
    expect(telegram.count('messages.forwardMessages')).toBe(1);
    const call = telegram.calls('messages.forwardMessages')[0] as Forward;
    expect(call.id).toEqual([41, 42, 43]);
    expect(call.randomId.map((r) => longToBigint(r))).toEqual(album.randomIds);
    expect(call.silent).toBe(true);
    // each sent message found by its random_id (Telegram listed them last to first)
    expect(answer).toEqual({ ok: true, messageId: 900, messageIds: [900, 901, 902] });
  });

  it('without updateMessageID, the new messages the answer carries', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', (req) => {
      const updates = albumForwardUpdates(req, 700);
      return { ...updates, updates: updates.updates.filter((u) => u._ !== 'updateMessageID') };
    });
    expect(await gateway.forward(request({ randomId: album.randomIds[0]!, ...album }))).toEqual({
      ok: true,
      messageId: 700,
      messageIds: [700, 701, 702],
    });
  });

  it('a random_id Telegram did not report leaves its message out; one it reported twice counts once', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', (req) => {
      const { randomId } = req as Forward;
      return {
        _: 'updates',
        updates: [
          { _: 'updateMessageID', id: 11, randomId: randomId[0]! },
          { _: 'updateMessageID', id: 13, randomId: randomId[2]! },
          { _: 'updateMessageID', id: 99, randomId: Long.fromInt(12345) },
        ],
        users: [],
        chats: [],
        date: 0,
        seq: 0,
      } satisfies tl.RawUpdates;
    });
    expect(await gateway.forward(request({ randomId: album.randomIds[0]!, ...album }))).toEqual({
      ok: true,
      messageId: 11,
      messageIds: [11, 13],
    });
  });

  it('messages without a random_id each are a planning bug: thrown, nothing sent', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    await expect(
      gateway.forward(request({ randomId: 5n, messageIds: [41, 42], randomIds: [5n] })),
    ).rejects.toThrow(RangeError);
    await expect(
      gateway.forward(request({ randomId: 5n, messageIds: [41, 42], randomIds: [6n, 5n] })),
    ).rejects.toThrow(RangeError);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
  });
});

describe('readSource', () => {
  it('the album around the post, through the session’s client', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    const inAlbum = (id: number): tl.RawMessage => ({
      ...message(SOURCE.id, id),
      groupedId: Long.fromInt(3),
    });
    telegram.on('channels.getMessages', channelMessages([inAlbum(42), inAlbum(43), inAlbum(44)], [SOURCE]));
    expect(await gateway.readSource(session(), source)).toEqual({
      answer: { ok: true },
      messageIds: [42, 43, 44],
    });
    expect(telegram.calls('channels.getMessages')[0]!.id).toHaveLength(19);
  });

  it('a dead key answers as the check does, with no messages, and its client is dropped', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('channels.getMessages', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
    expect(await gateway.readSource(session(), source)).toEqual({
      answer: { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 },
      messageIds: [],
    });
    // the pool saw the answer: the next call is on a new client, the dead one destroyed
    await gateway.readSource(session(), source);
    expect(telegram.clients).toHaveLength(2);
    expect(telegram.isDestroyed(0)).toBe(true);
  });
});

describe('checkSource', () => {
  it('ok when the message is there; one getMessages call', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    expect(await gateway.checkSource(session(), source)).toEqual({ ok: true });
    const [call] = telegram.calls('channels.getMessages');
    expect(call?.channel).toMatchObject({ _: 'inputChannel', channelId: SOURCE.id });
    expect(call?.id).toEqual([{ _: 'inputMessageID', id: 42 }]);
    expect(telegram.count('channels.getMessages')).toBe(1);
  });

  it('a deleted message (messageEmpty) → MSG_ID_INVALID', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('channels.getMessages', channelMessages([{ _: 'messageEmpty', id: 42 }], [SOURCE]));
    const answer = await gateway.checkSource(session(), source);
    expect(answer).toEqual({ ok: false, error: 'MSG_ID_INVALID', code: 400 });
    expect(classifyAnswer(answer, 'source')).toMatchObject({
      kind: 'source_invalid',
      reason: 'message_missing',
    });
  });

  it('protected content (message or chat noforwards) → CHAT_FORWARDS_RESTRICTED', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on(
      'channels.getMessages',
      channelMessages([message(SOURCE.id, 42, { noforwards: true })], [SOURCE]),
    );
    const answer = await gateway.checkSource(session(), source);
    expect(answer).toEqual({ ok: false, error: 'CHAT_FORWARDS_RESTRICTED', code: 400 });
    expect(classifyAnswer(answer, 'source')).toMatchObject({
      kind: 'source_invalid',
      reason: 'forwards_restricted',
    });

    const protectedChat = channel(SOURCE.id, { username: 'sourcechan', broadcast: true, noforwards: true });
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [protectedChat]));
    expect(await gateway.checkSource(session(), source)).toEqual({
      ok: false,
      error: 'CHAT_FORWARDS_RESTRICTED',
      code: 400,
    });
  });

  it('CHANNEL_PRIVATE passes through (this session cannot read the source, in the source phase)', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('channels.getMessages', rpcError(406, 'CHANNEL_PRIVATE'));
    const answer = await gateway.checkSource(session(), source);
    expect(answer).toEqual({ ok: false, error: 'CHANNEL_PRIVATE', code: 406 });
    expect(classifyAnswer(answer, 'source')).toMatchObject({ kind: 'source_unreachable' });
  });

  it('an aborted check answers a transient error', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    const controller = new AbortController();
    controller.abort();
    expect(await gateway.checkSource(session(), source, controller.signal)).toEqual({
      ok: false,
      error: 'NETWORK_ERROR',
    });
  });
});

describe('clients', () => {
  it('concurrent first calls share one client and one connect; release closes it; both idempotent', async () => {
    const { gateway, credentialReads } = setup();
    answerPeers(telegram);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => gateway.forward(request({ randomId: BigInt(i) }))),
    );
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(telegram.clients).toHaveLength(1);
    expect(credentialReads).toEqual(['s1']);

    await Promise.all([gateway.release('s1'), gateway.release('s1')]);
    await gateway.release('s1');
    expect(telegram.isDestroyed(0)).toBe(true);

    await gateway.forward(request({ randomId: 99n }));
    expect(telegram.clients).toHaveLength(2);
    await gateway.close();
    await gateway.close();
    expect(telegram.isDestroyed(1)).toBe(true);
    await expect(gateway.forward(request())).rejects.toThrow(/closed/);
  });

  it('never two live clients: a call racing a release waits for the old client to be destroyed', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    await gateway.forward(request());
    const release = gateway.release('s1');
    const next = gateway.forward(request({ randomId: 2n }));
    await Promise.all([release, next]);
    expect(telegram.clients).toHaveLength(2);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(telegram.isDestroyed(1)).toBe(false);
  });

  it('missing credentials or an unusable auth string → AUTH_KEY_UNREGISTERED, no client kept', async () => {
    const { gateway } = setup({
      sessions: {
        gone: null,
        broken: { authString: 'not-a-session', apiId: 1, apiHash: 'x' },
        nohash: { ...credentials(), apiHash: '' },
      },
    });
    for (const id of ['gone', 'broken', 'nohash']) {
      const answer = await gateway.forward(request({ session: session(id) }));
      expect(answer).toEqual({ ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 });
      expect(classifyAnswer(answer)).toMatchObject({ kind: 'session_dead' });
    }
    expect(telegram.clients).toHaveLength(0);
  });

  it('a dead session answer closes its client', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.on('messages.forwardMessages', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
    expect(await gateway.forward(request())).toMatchObject({ error: 'AUTH_KEY_UNREGISTERED' });
    await gateway.release('s1'); // waits for the close already under way
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('reports a changed key or DC (e.g. after a DC migration) when the client closes', async () => {
    const { gateway, changed } = setup();
    answerPeers(telegram);
    await gateway.forward(request());
    // what mtcute does on USER_MIGRATE: another primary DC (and key) in the client's storage
    const moved = credentials(sessionString(4)).authString;
    await telegram.clients[0]!.importSession(moved, true);
    await gateway.release('s1');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.sessionId).toBe('s1');
    expect(readStringSession(changed[0]!.authString).primaryDcs.main.id).toBe(4);
  });

  it('does not report an unchanged session as changed', async () => {
    const { gateway, changed } = setup();
    answerPeers(telegram);
    await gateway.forward(request());
    await gateway.close();
    expect(changed).toEqual([]);
  });
});

describe('preflight', () => {
  const open = channel(1_600_000_001, { accessHash: '11' });
  const left = channel(1_600_000_002, { accessHash: '12', left: true });
  const muted = channel(1_600_000_003, {
    accessHash: '13',
    defaultBannedRights: { sendMessages: true },
    username: 'Muted_Group',
  });
  const banned = channel(1_600_000_004, { accessHash: '14', bannedRights: { sendMessages: true } });
  const admin = channel(1_600_000_005, {
    accessHash: '15',
    defaultBannedRights: { sendMessages: true },
    adminRights: { deleteMessages: true },
  });
  const broadcast = channel(1_600_000_006, { accessHash: '16', broadcast: true });
  const group = basicGroup(4242);
  const all = [open, left, muted, banned, admin, broadcast];
  const targets = [...all.map((c) => parseGroupTarget(channelChatId(c.id))), parseGroupTarget('-4242')];

  function answerFull(t: OfflineTelegram, slowmode: Record<number, number> = {}) {
    let active = 0;
    const state = { maxActive: 0 };
    t.on('channels.getFullChannel', async (req) => {
      active++;
      state.maxActive = Math.max(state.maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      const c = all.find((x) => x.id === input.channelId)!;
      return channelFull(c, slowmode[c.id]);
    });
    t.on('messages.getFullChat', chatFull(group));
    return state;
  }

  it('membership, write permission and slow mode per (session, group), with the source check, sequential per session', async () => {
    const { gateway } = setup({ sessions: { s1: credentials(), s2: credentials() } });
    answerPeers(telegram, all);
    answerDialogs(telegram, [...all, group]);
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    const state = answerFull(telegram, { [open.id]: 30 });

    const report = await gateway.preflight([session('s1'), session('s2')], targets, source);
    expect(report.source).toEqual({ ok: true, error: null });
    expect(report.rows).toHaveLength(targets.length * 2);
    const s1 = report.rows.filter((r) => r.sessionId === 's1');
    // a public group's name comes with it (its sent messages can be linked); the others have none
    expect(s1.map((r) => r.username)).toEqual([null, null, 'Muted_Group', null, null, null, null]);
    expect(s1.map((r) => [r.groupKey, r.member, r.canWrite, r.slowmodeSeconds, r.error])).toEqual([
      [channelChatId(open.id), true, true, 30, null],
      [channelChatId(left.id), false, false, 0, null],
      [channelChatId(muted.id), true, false, 0, null],
      [channelChatId(banned.id), true, false, 0, null],
      [channelChatId(admin.id), true, true, 0, null],
      [channelChatId(broadcast.id), true, false, 0, null],
      ['-4242', true, true, 0, null],
    ]);
    // many cold ids: one dialogs read per session instead of one resolve per group
    expect(telegram.count('channels.getChannels')).toBe(0);
    expect(telegram.count('messages.getDialogs')).toBeLessThanOrEqual(4);
    // at most one call per session on the wire (2 sessions)
    expect(state.maxActive).toBeLessThanOrEqual(2);

    // again: the cache is warm, no resolve at all
    telegram.clearRequests();
    await gateway.preflight([session('s1'), session('s2')], targets, source);
    expect(resolveCalls()).toBe(0);
  });

  it('no target and no source: no client is made for any session, nothing is connected', async () => {
    const { gateway, credentialReads } = setup({ sessions: { s1: credentials(), s2: credentials() } });
    const report = await gateway.preflight([session('s1'), session('s2')], [], null);
    expect(report).toEqual({ source: { ok: false, error: null }, rows: [] });
    expect(credentialReads).toEqual([]);
    expect(telegram.clients).toHaveLength(0);
    expect(telegram.transport.connections).toHaveLength(0);
  });

  it('targets of one session go one after another', async () => {
    const { gateway } = setup();
    answerPeers(telegram, all);
    answerDialogs(telegram, [...all, group]);
    const state = answerFull(telegram);
    await gateway.preflight([session('s1')], targets, null);
    expect(state.maxActive).toBe(1);
  });

  it('a limit stops the session’s checks: no call is retried through it', async () => {
    const { gateway } = setup();
    answerPeers(telegram, all);
    answerDialogs(telegram, [...all, group]);
    let n = 0;
    telegram.on('channels.getFullChannel', (req) => {
      n++;
      if (n === 2) return rpcError(420, 'FLOOD_WAIT_120');
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      return channelFull(all.find((x) => x.id === input.channelId)!);
    });
    const report = await gateway.preflight([session('s1')], targets, null);
    expect(report.source).toEqual({ ok: false, error: null });
    expect(telegram.count('channels.getFullChannel')).toBe(2);
    expect(report.rows[0]).toMatchObject({ member: true, error: null });
    expect(report.rows.slice(1).every((r) => r.error === 'FLOOD_WAIT_120' && r.member === null)).toBe(true);
  });

  it('reports a source that cannot be forwarded, and sessions without credentials', async () => {
    const { gateway } = setup({ sessions: { s1: credentials() } });
    answerPeers(telegram, all);
    telegram.on('channels.getMessages', channelMessages([{ _: 'messageEmpty', id: 42 }], [SOURCE]));
    answerFull(telegram);
    const report = await gateway.preflight([session('s1'), session('gone')], targets.slice(0, 1), source);
    expect(report.source).toEqual({ ok: false, error: 'MSG_ID_INVALID' });
    expect(report.rows).toEqual([
      {
        sessionId: 's1',
        groupKey: channelChatId(open.id),
        member: true,
        canWrite: true,
        slowmodeSeconds: 0,
        paidStars: 0,
        topicClosed: null,
        username: null,
        error: null,
      },
      {
        sessionId: 'gone',
        groupKey: channelChatId(open.id),
        member: null,
        canWrite: null,
        slowmodeSeconds: null,
        paidStars: null,
        topicClosed: null,
        username: null,
        error: 'AUTH_KEY_UNREGISTERED',
      },
    ]);
  });
});

describe('a session whose connection does not open', () => {
  it('a forward or a source check waiting for the connection ends with the caller’s signal; nothing is sent', async () => {
    const { gateway } = setup();
    answerPeers(telegram);
    telegram.transport.mode = 'never';
    const stop = new AbortController();
    const forward = gateway.forward(request(), stop.signal);
    const check = gateway.checkSource(session(), source, stop.signal);
    await settles(() => telegram.transport.pendingConnects > 0);
    stop.abort();
    // answered while the connect is still pending, as a transient failure (the caller is stopping)
    expect(await forward).toEqual({ ok: false, error: 'NETWORK_ERROR' });
    expect(await check).toEqual({ ok: false, error: 'NETWORK_ERROR' });
    expect(telegram.transport.pendingConnects).toBe(1);
    expect(telegram.requests).toEqual([]);
    telegram.transport.mode = 'refused';
    telegram.transport.failPending();
  });

  it('a connection that does not open in time is answered CONNECT_TIMEOUT, classified as the session out of reach', async () => {
    const clock = new VirtualClock();
    telegram = new OfflineTelegram();
    const gateway = new MtcuteGateway({
      credentials: { get: async () => credentials() },
      peers: new MemoryPeerCache(),
      createClient: telegram.createClient,
      clock,
      connectTimeoutMs: 5_000,
    });
    gateways.push(gateway);
    telegram.transport.mode = 'refused';
    const forward = gateway.forward(request());
    await settles(() => clock.pending > 0);
    await clock.advance(5_000);
    const answer = await forward;
    expect(answer).toEqual({ ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' });
    expect(classifyAnswer(answer, 'forward')).toEqual({
      kind: 'session_unreachable',
      error: 'CONNECT_TIMEOUT',
    });
    expect(telegram.count('messages.forwardMessages')).toBe(0);
  });
});
