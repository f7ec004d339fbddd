/**
 * The real runtime over the real mtcute adapter, offline: `Runtime` → `GatewayRouter` → `MtcuteGateway` → mtcute
 * clients of the network-middleware harness (real peer resolution, Stagger's middlewares, `RpcError.fromTl`), with
 * a stub answering Telegram's side. The runtime's classification is tested on the sandbox
 * (src/runtime/reactions.test.ts); here the point is that raw answers coming through the library drive the same
 * reactions, and that the requests Telegram would see are exactly right.
 *
 * Time: the runtime runs on a virtual clock that never moves while a Telegram call is on the wire (`GatedClock`),
 * so each call takes no virtual time whatever real time the library spends (its internal 5xx retries sleep for
 * real). mtcute's own timers stay on real time and are ended by destroying every client after each test.
 */
import { Long, type tl } from '@mtcute/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGroupTarget } from '../../src/core/group-targets.js';
import type { BotSettings, PostRecord } from '../../src/core/model.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { MemoryRuntimeStore } from '../../src/runtime/memory-store.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { RuntimeStore } from '../../src/runtime/store.js';
import { presentSession } from '../../src/http/presenters.js';
import { openStore, type Store } from '../../src/storage/store.js';
import {
  GatewayRouter,
  type ForwardRequest,
  type Gateway,
  type SessionHandle,
  type SourceRead,
} from '../../src/telegram/gateway.js';
import type { ClientParams } from '../../src/telegram/mtcute/client-factory.js';
import { longToBigint } from '../../src/telegram/mtcute/answers.js';
import {
  MemoryPeerCache,
  MtcuteGateway,
  type CredentialSource,
  type MtcuteGatewayOptions,
  type PeerCache,
  type SessionCredentials,
} from '../../src/telegram/mtcute/mtcute-gateway.js';
import {
  OfflineTelegram,
  rpcError,
  settles,
  type ConnectMode,
  type RpcErrorAnswer,
} from '../support/mtcute/offline-telegram.js';
import {
  albumForwardUpdates,
  API_HASH,
  appConfig,
  frozenAppConfig,
  channel,
  channelChatId,
  channelFull,
  channelMessages,
  chats,
  forumTopics,
  forwardUpdates,
  message,
  resolvedPeer,
  sessionString,
} from '../support/mtcute/fixtures.js';
import type { PostRef } from '../../src/core/post-link.js';
import type { TelegramAnswer } from '../../src/core/outcome.js';

// ---- a virtual clock that waits for Telegram -----------------------------------------------------------------

/** A VirtualClock that does not move on while a gateway call is on the wire. */
class GatedClock extends VirtualClock {
  private busy = 0;
  private waiters: (() => void)[] = [];

  enter(): void {
    this.busy++;
  }

  leave(): void {
    if (--this.busy === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  override async settle(): Promise<void> {
    for (;;) {
      await super.settle();
      if (this.busy === 0) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** Tells the clock when a call is on the wire. */
class GatedGateway implements Gateway {
  constructor(
    private readonly inner: Gateway,
    private readonly clock: GatedClock,
  ) {}
  private async gate<T>(run: () => Promise<T>): Promise<T> {
    this.clock.enter();
    try {
      return await run();
    } finally {
      this.clock.leave();
    }
  }
  checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.gate(() => this.inner.checkSource(session, source, signal));
  }
  readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    return this.gate(() => this.inner.readSource(session, source, signal));
  }
  forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.gate(() => this.inner.forward(request, signal));
  }
  preflight(...args: Parameters<Gateway['preflight']>): ReturnType<Gateway['preflight']> {
    return this.gate(() => this.inner.preflight(...args));
  }
  groupFacts(...args: Parameters<Gateway['groupFacts']>): ReturnType<Gateway['groupFacts']> {
    return this.gate(() => this.inner.groupFacts(...args));
  }
  release(sessionId: string): Promise<void> {
    return this.inner.release(sessionId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// ---- Telegram's side ----------------------------------------------------------------------------------------

const SOURCE = channel(1_111_111_111, {
  username: 'sourcechan',
  broadcast: true,
  accessHash: '-8070450532247928832',
});
const POST_LINK = 'https://t.me/sourcechan/42';
const GROUPS = Array.from({ length: 6 }, (_, i) =>
  channel(1_500_000_000 + i, { accessHash: String(7_213_010_234_235_321_345n - BigInt(i)) }),
);
const TOPIC_GROUP = channel(1_400_000_001, { accessHash: '-1' });
const FORUM = channel(1_400_000_002, { accessHash: '-2', forum: true });
const key = (c: tl.RawChannel, topic?: number): string =>
  parseGroupTarget(`${channelChatId(c.id)}${topic === undefined ? '' : `/${topic}`}`).key;
const RESOLVE_METHODS = [
  'contacts.resolveUsername',
  'channels.getChannels',
  'users.getUsers',
  'messages.getDialogs',
];

interface Forwarded {
  session: string;
  channelId: number;
  topMsgId: number | undefined;
  randomId: bigint;
  silent: boolean;
  dropAuthor: boolean;
  /** Virtual time of the call. */
  at: number;
  request: tl.messages.RawForwardMessagesRequest;
}

interface Rule {
  session?: string;
  channelId?: number;
  /** How many calls it answers (default 1). */
  times?: number;
  answer: RpcErrorAnswer | object;
}

let world: World | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await world?.close();
  world = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class World {
  readonly clock = new GatedClock(Date.UTC(2026, 0, 1), { settleTurns: 4 });
  readonly telegram = new OfflineTelegram();
  readonly forwards: Forwarded[] = [];
  readonly events: RuntimeEvent[] = [];
  readonly rules: Rule[] = [];
  /** Session of each harness client, by creation index (each session has its own api id). */
  readonly clientSessions: string[] = [];
  /** Virtual time each harness client was made at (one per connect). */
  readonly clientCreatedAt: number[] = [];
  private readonly sessionByApiId = new Map<number, string>();
  private readonly credentials: CredentialSource;
  /** Called on every forward Telegram sees, before it is answered. */
  onForward: ((f: Forwarded) => void) | null = null;
  /** Groups with slow mode: its seconds (their full channel's slowmode_seconds). */
  readonly slowmodes = new Map<number, number>();
  /** Groups with paid messages: stars a message (what their full channel tells an account). */
  readonly paidStars = new Map<number, number>();
  /** Closed topics of FORUM. */
  readonly closedTopics = new Set<number>();
  /** Answers channels.getFullChannel instead of the channel's full info, when set. */
  fullChannelAnswer: RpcErrorAnswer | null = null;
  runtime!: Runtime;
  gateway!: MtcuteGateway;
  private nextMessageId = 1000;
  private readonly cyclesEnded = new Map<string, number>();
  readonly errors: unknown[] = [];

  /** Session `sessionIds[i]` runs on api id 1000 + i (that is how the stub tells the sessions apart). */
  constructor(
    readonly store: RuntimeStore,
    sessionIds: string[],
    readonly peers: PeerCache = new MemoryPeerCache(),
    credentials?: CredentialSource,
    /** How long before its start a cycle is planned (the runtime's planningLeadMs). */
    private readonly planningLeadMs = 0,
    private readonly gatewayOptions: Partial<MtcuteGatewayOptions> = {},
  ) {
    const own = new Map<string, SessionCredentials>();
    sessionIds.forEach((id, i) => {
      this.sessionByApiId.set(1000 + i, id);
      own.set(id, { authString: sessionString(), apiId: 1000 + i, apiHash: API_HASH });
    });
    this.credentials = credentials ?? { get: async (id) => own.get(id) ?? null };
    this.answerTelegram();
    this.start();
  }

  /** A runtime and a gateway (again after `restart`), wired as `Service` wires them. */
  private start(): void {
    this.gateway = new MtcuteGateway({
      ...this.gatewayOptions,
      credentials: this.credentials,
      peers: this.peers,
      createClient: (params: ClientParams) => {
        this.clientSessions.push(this.sessionByApiId.get(params.apiId) ?? '?');
        this.clientCreatedAt.push(this.clock.now());
        return this.telegram.createClient(params);
      },
    });
    this.runtime = new Runtime({
      clock: this.clock,
      gateway: new GatedGateway(new GatewayRouter({ mtcute: this.gateway }), this.clock),
      store: this.store,
      random: new SeededRandom(7),
      options: { planningLeadMs: this.planningLeadMs },
      logger: { info() {}, warn() {}, error: (obj) => this.errors.push(obj) },
    });
    this.runtime.events.on((e) => {
      this.events.push(e);
      if (e.type === 'cycle.finished' || e.type === 'cycle.skipped')
        this.cyclesEnded.set(e.botId, (this.cyclesEnded.get(e.botId) ?? 0) + 1);
    });
  }

  /** A process restart: the runtime and the gateway go, the stores (and the PeerCache) stay. */
  async restart(): Promise<void> {
    await this.runtime.close();
    await this.gateway.close();
    this.start();
    await this.runtime.resumeAll();
  }

  private answerTelegram(): void {
    const t = this.telegram;
    t.on('contacts.resolveUsername', (req) =>
      (req as tl.contacts.RawResolveUsernameRequest).username.toLowerCase() === 'sourcechan'
        ? resolvedPeer(SOURCE)
        : rpcError(400, 'USERNAME_NOT_OCCUPIED'),
    );
    t.on('channels.getChannels', (req) => {
      const ids = (req as tl.channels.RawGetChannelsRequest).id.map((c) =>
        c._ === 'inputChannel' ? c.channelId : 0,
      );
      const found = [SOURCE, TOPIC_GROUP, FORUM, ...GROUPS].filter((c) => ids.includes(c.id));
      return found.length ? chats(found) : rpcError(400, 'CHANNEL_INVALID');
    });
    t.on('channels.getFullChannel', (req) => {
      if (this.fullChannelAnswer) return this.fullChannelAnswer;
      const input = (req as tl.channels.RawGetFullChannelRequest).channel as tl.RawInputChannel;
      const c = [TOPIC_GROUP, FORUM, ...GROUPS].find((g) => g.id === input.channelId);
      if (!c) return rpcError(400, 'CHANNEL_INVALID');
      const stars = this.paidStars.get(c.id);
      return channelFull(c, this.slowmodes.get(c.id) ?? 0, stars === undefined ? {} : { paidStars: stars });
    });
    t.on('channels.getForumTopicsByID', (req) =>
      forumTopics(
        FORUM,
        (req as tl.channels.RawGetForumTopicsByIDRequest).topics.map((id) => ({
          id,
          closed: this.closedTopics.has(id),
        })),
      ),
    );
    t.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    t.on('messages.forwardMessages', (req, context) => {
      const request = req as tl.messages.RawForwardMessagesRequest;
      const to = request.toPeer as tl.RawInputPeerChannel;
      const session = this.clientSessions[context.clientIndex] ?? '?';
      const forwarded: Forwarded = {
        session,
        channelId: to.channelId,
        topMsgId: request.topMsgId,
        randomId: longToBigint(request.randomId[0]!),
        silent: Boolean(request.silent),
        dropAuthor: Boolean(request.dropAuthor),
        at: this.clock.now(),
        request,
      };
      this.forwards.push(forwarded);
      this.onForward?.(forwarded);
      const rule = this.rules.find(
        (r) =>
          (r.times ?? 1) > 0 &&
          (r.session === undefined || r.session === session) &&
          (r.channelId === undefined || r.channelId === to.channelId),
      );
      if (rule) {
        rule.times = (rule.times ?? 1) - 1;
        return rule.answer;
      }
      if (request.id.length > 1) {
        // An album: one new message per random_id.
        const first = this.nextMessageId;
        this.nextMessageId += request.id.length;
        return albumForwardUpdates(request, first);
      }
      return forwardUpdates(request, this.nextMessageId++);
    });
  }

  /** The next `times` forwards by `session` (or any) to `group` (or any) get `answer`. */
  answer(rule: Rule): void {
    this.rules.push(rule);
  }

  resolveCalls(): number {
    return RESOLVE_METHODS.reduce((n, m) => n + this.telegram.count(m), 0);
  }

  /**
   * The source's reads: `check` — a session's check in a cycle (the post's id alone); `read` — the read when a cycle
   * is planned (the ids around the post, to find its album).
   */
  sourceCalls(kind: 'check' | 'read'): tl.channels.RawGetMessagesRequest[] {
    return this.telegram
      .calls('channels.getMessages')
      .filter((c) => (kind === 'check' ? c.id.length === 1 : c.id.length > 1));
  }

  seconds(at: number): number {
    return (at - Date.UTC(2026, 0, 1)) / 1000;
  }

  forwardsBy(session: string): Forwarded[] {
    return this.forwards.filter((f) => f.session === session);
  }

  cyclesDone(botId: string): number {
    return this.cyclesEnded.get(botId) ?? 0;
  }

  async runCycles(botId: string, cycles: number): Promise<void> {
    await this.clock.runUntilTrue(
      () => this.cyclesDone(botId) >= cycles,
      this.clock.now() + 7 * 24 * 3600_000,
    );
  }

  async close(): Promise<void> {
    await this.runtime.close();
    // A connect left pending would keep its client's destroy (and so the gateway's close) waiting.
    this.telegram.transport.mode = 'refused';
    this.telegram.transport.failPending();
    await this.gateway.close();
    await this.telegram.destroyAll();
  }
}

const SETTINGS: Partial<BotSettings> = {
  delayBetweenPosts: 5,
  delayBetweenCycles: 60,
  minGroupGapSeconds: 0,
};

/** An enterprise bot with mtcute sessions on an in-memory runtime store, started. */
function memoryWorld(o: {
  sessions: number;
  groups: string[];
  settings?: Partial<BotSettings>;
  /** Default: enterprise. */
  starterMinutes?: number;
}): {
  w: World;
  store: MemoryRuntimeStore;
  botId: string;
} {
  const store = new MemoryRuntimeStore();
  const sessionIds = Array.from({ length: o.sessions }, (_, i) => `s${i}`);
  const botId = store.addBot({
    mode: o.starterMinutes === undefined ? 'enterprise' : 'starter',
    totalCycleMinutes: o.starterMinutes ?? null,
    postLink: POST_LINK,
    settings: { ...SETTINGS, ...o.settings },
    sessions: sessionIds.map((id) => ({ id, label: id, driver: 'mtcute' })),
    groups: o.groups,
  });
  world = new World(store, sessionIds);
  world.runtime.startBot(botId);
  return { w: world, store, botId };
}

async function finish(w: World, botId: string, cycles: number): Promise<void> {
  await w.runCycles(botId, cycles);
  await w.runtime.stopBot(botId);
  expect(w.errors).toEqual([]);
}

function postsOf(store: MemoryRuntimeStore, botId: string, cycle = 1): PostRecord[] {
  const c = store.listCycles(botId).find((x) => x.number === cycle)!;
  return store.listPosts(botId).filter((p) => p.cycleId === c.id);
}

const groupKeys = (n: number) => GROUPS.slice(0, n).map((g) => key(g));

// ---- the requests -------------------------------------------------------------------------------------------

describe('the requests Telegram sees', () => {
  it.each([[{ silent: true, hideSender: true }], [{ silent: false, hideSender: false }]])(
    'an enterprise cycle sends exactly one messages.forwardMessages per post (%j)',
    async (flags) => {
      const groups = [key(GROUPS[0]!), key(GROUPS[1]!), key(GROUPS[2]!), key(TOPIC_GROUP, 77)];
      const { w, store, botId } = memoryWorld({ sessions: 2, groups, settings: flags });
      await finish(w, botId, 1);

      const posts = postsOf(store, botId);
      expect(posts.map((p) => p.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
      expect(w.forwards).toHaveLength(4);
      for (const post of posts) {
        const target = parseGroupTarget(post.groupKey);
        const calls = w.forwards.filter((f) => f.randomId === BigInt(post.randomId));
        expect(calls, post.groupKey).toHaveLength(1);
        const call = calls[0]!;
        // our random_id, the post's session, the right peers (with their access hashes), one message id
        expect(call.session).toBe(post.sessionId);
        expect(call.request.randomId[0]!.toString()).toBe(post.randomId);
        expect(call.request.fromPeer).toEqual({
          _: 'inputPeerChannel',
          channelId: SOURCE.id,
          accessHash: expect.any(Long),
        });
        expect((call.request.fromPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe(
          '-8070450532247928832',
        );
        const to = call.request.toPeer as tl.RawInputPeerChannel;
        const group = [...GROUPS, TOPIC_GROUP].find((g) => target.key.startsWith(channelChatId(g.id)))!;
        expect(to).toMatchObject({ _: 'inputPeerChannel', channelId: group.id });
        expect(to.accessHash.toString()).toBe(group.accessHash!.toString());
        expect(call.request.id).toEqual([42]);
        expect(call.topMsgId).toBe(target.topicId);
        expect(call.silent).toBe(flags.silent);
        expect(call.dropAuthor).toBe(flags.hideSender);
        expect(w.seconds(call.at)).toBe(w.seconds(post.plannedAt));
      }
      expect(w.forwards.find((f) => f.channelId === TOPIC_GROUP.id)!.topMsgId).toBe(77);
      // the planned partition: 2 posts each, 5 s apart
      expect(w.forwardsBy('s0').map((f) => w.seconds(f.at))).toEqual([0, 5]);
      expect(w.forwardsBy('s1').map((f) => w.seconds(f.at))).toEqual([0, 5]);
      // one read of the source when the cycle was planned, one check per session before its first post
      expect(w.telegram.count('channels.getMessages')).toBe(3);
      expect(w.sourceCalls('read')).toHaveLength(1);
      expect(w.sourceCalls('check').map((c) => c.id)).toEqual([
        [{ _: 'inputMessageID', id: 42 }],
        [{ _: 'inputMessageID', id: 42 }],
      ]);
    },
  );

  it('one source check per session per cycle; peers are resolved once — the second cycle makes no resolve call', async () => {
    const { w, botId } = memoryWorld({ sessions: 2, groups: groupKeys(4) });
    await w.runCycles(botId, 1);
    expect(w.sourceCalls('check')).toHaveLength(2);
    expect(w.sourceCalls('read')).toHaveLength(1);
    // cold: each session resolves the source once (its dialogs first: a read these tests leave unanswered) and
    // each of its own two targets once, through mtcute
    expect(w.telegram.count('messages.getDialogs')).toBe(2);
    expect(w.telegram.count('contacts.resolveUsername')).toBe(2);
    expect(w.telegram.count('channels.getChannels')).toBe(4);
    const resolvedAfterFirst = w.resolveCalls();
    w.telegram.clearRequests();
    await finish(w, botId, 3);
    expect(w.resolveCalls()).toBe(0);
    expect(w.sourceCalls('check')).toHaveLength(4);
    expect(w.sourceCalls('read')).toHaveLength(2);
    expect(w.telegram.count('messages.forwardMessages')).toBe(8);
    expect(resolvedAfterFirst).toBe(8);
  });
});

// ---- albums -------------------------------------------------------------------------------------------------

/** The source post 42 is the middle one of an album of three (41, 42, 43), next to a post of its own (44). */
function answerAlbum(t: OfflineTelegram): void {
  const inAlbum = (id: number): tl.RawMessage => ({
    ...message(SOURCE.id, id),
    groupedId: Long.fromInt(555),
  });
  t.on(
    'channels.getMessages',
    channelMessages(
      [message(SOURCE.id, 40), inAlbum(41), inAlbum(42), inAlbum(43), message(SOURCE.id, 44)],
      [SOURCE],
    ),
  );
}

const ALBUM = [41, 42, 43];
const randomIdsOf = (f: Forwarded) => f.request.randomId.map((r) => longToBigint(r).toString());

describe('an album', () => {
  it('read once at planning; every forward sends its 3 messages with the 3 random_ids stored then; sent ids kept', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(4) });
    answerAlbum(w.telegram);
    await finish(w, botId, 1);

    // the read at planning: one session, one call for the ids around the post
    const [read, ...moreReads] = w.sourceCalls('read');
    expect(moreReads).toEqual([]);
    expect(read!.id.map((m) => (m as tl.RawInputMessageID).id)).toEqual(
      Array.from({ length: 19 }, (_, i) => 33 + i),
    );
    expect(store.listCycles(botId)[0]!.source).toEqual({ link: POST_LINK, messageIds: ALBUM });

    const posts = postsOf(store, botId);
    expect(posts.every((p) => p.randomIds.length === 3 && p.randomIds[0] === p.randomId)).toBe(true);
    // 4 posts × 3 messages: 12 random_ids, all distinct
    expect(new Set(posts.flatMap((p) => p.randomIds)).size).toBe(12);
    expect(w.forwards).toHaveLength(4);
    for (const post of posts) {
      const [call, ...again] = w.forwards.filter((f) => f.randomId === BigInt(post.randomId));
      expect(again).toEqual([]);
      expect(call!.request.id).toEqual(ALBUM);
      expect(randomIdsOf(call!)).toEqual(post.randomIds);
      expect(post.status).toBe('sent');
      // the target's new messages, matched to the album's messages by random_id
      expect(post.sentMessageIds).toHaveLength(3);
      expect(post.sentMessageIds).toEqual([0, 1, 2].map((i) => post.sentMessageIds[0]! + i));
    }
    expect(new Set(posts.flatMap((p) => p.sentMessageIds)).size).toBe(12);
  });

  it('a retry (TIMEOUT) sends the same 3 messages with the same 3 random_ids', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    answerAlbum(w.telegram);
    w.answer({ channelId: GROUPS[0]!.id, times: 1, answer: rpcError(400, 'TIMEOUT') });
    await finish(w, botId, 1);
    const post = postsOf(store, botId)[0]!;
    const toG0 = w.forwards.filter((f) => f.channelId === GROUPS[0]!.id);
    expect(toG0).toHaveLength(2);
    for (const call of toG0) {
      expect(call.request.id).toEqual(ALBUM);
      expect(randomIdsOf(call)).toEqual(post.randomIds);
    }
    expect(post).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('after a crash with a post left `sending`, the new process sends the same messages and random_ids; Telegram’s duplicate counts as sent', async () => {
    const store = new MemoryRuntimeStore();
    const botId = store.addBot({
      mode: 'enterprise',
      postLink: POST_LINK,
      settings: SETTINGS,
      sessions: [{ id: 's0', label: 's0', driver: 'mtcute' }],
      groups: groupKeys(2),
    });
    // planned a minute ahead of its start: the process goes down between planning and the first post
    world = new World(store, ['s0'], new MemoryPeerCache(), undefined, 60_000);
    const w = world;
    answerAlbum(w.telegram);
    w.runtime.startBot(botId);
    await w.clock.runUntilTrue(() => store.listCycles(botId).length > 0, w.clock.now() + 10_000);
    const planned = postsOf(store, botId);
    expect(planned.map((p) => p.status)).toEqual(['planned', 'planned']);
    // the first post was committed `sending` and reached Telegram; the process died before the answer
    expect(await store.markSending([{ postId: planned[0]!.id, botId, attempts: 1, fence: null }])).toEqual(
      new Set([planned[0]!.id]),
    );
    w.answer({ channelId: GROUPS[0]!.id, answer: rpcError(400, 'RANDOM_ID_DUPLICATE') });
    await w.restart();
    await finish(w, botId, 1);

    const [retry, ...again] = w.forwards.filter((f) => f.channelId === GROUPS[0]!.id);
    expect(again).toEqual([]);
    expect(retry!.request.id).toEqual(ALBUM);
    expect(randomIdsOf(retry!)).toEqual(planned[0]!.randomIds);
    const after = postsOf(store, botId);
    expect(after.map((p) => [p.status, p.attempts])).toEqual([
      ['duplicate', 2],
      ['sent', 1],
    ]);
    expect(randomIdsOf(w.forwards.find((f) => f.channelId === GROUPS[1]!.id)!)).toEqual(
      planned[1]!.randomIds,
    );
  });
});

// ---- the reactions -----------------------------------------------------------------------------------------

describe('each answer class, raw through the library, drives the runtime’s reaction', () => {
  it('FLOOD_WAIT_7: the session pauses exactly that long and makes no call before; the same post then goes out', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(6) });
    w.answer({ session: 's0', channelId: GROUPS[1]!.id, answer: rpcError(420, 'FLOOD_WAIT_7') });
    await finish(w, botId, 1);
    const s0 = w.forwardsBy('s0');
    // 0: g0; 5: g1 → FLOOD_WAIT_7; nothing until 12; 12: g1 again (same random_id); 17: g2
    expect(s0.map((f) => [w.seconds(f.at), f.channelId])).toEqual([
      [0, GROUPS[0]!.id],
      [5, GROUPS[1]!.id],
      [12, GROUPS[1]!.id],
      [17, GROUPS[2]!.id],
    ]);
    expect(s0[1]!.randomId).toBe(s0[2]!.randomId);
    const paused = w.events.find((e) => e.type === 'session.paused')!;
    expect(paused).toMatchObject({ sessionId: 's0', reason: 'flood_wait', error: 'FLOOD_WAIT_7' });
    expect(w.seconds((paused as { until: number }).until)).toBe(12);
    expect(postsOf(store, botId).every((p) => p.status === 'sent')).toBe(true);
    expect(store.botRuntime(botId).counters).toMatchObject({ sent: 6, floodWaits: 1 });
    // the other session went on undisturbed
    expect(w.forwardsBy('s1').map((f) => w.seconds(f.at))).toEqual([0, 5, 10]);
  });

  it('a FLOOD_WAIT past the cycle: the session is paused with that cooldown, its groups handed to the healthy one', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(6) });
    w.answer({ session: 's0', channelId: GROUPS[1]!.id, answer: rpcError(420, 'FLOOD_WAIT_7200') });
    await finish(w, botId, 1);
    expect(w.forwardsBy('s0').map((f) => w.seconds(f.at))).toEqual([0, 5]);
    expect(store.session('s0')).toMatchObject({ status: 'paused', statusReason: 'flood_wait' });
    expect(w.seconds(store.session('s0').cooldownUntil!)).toBe(5 + 7200);
    expect(w.events.filter((e) => e.type === 'post.handed_off')).toHaveLength(2);
    expect(w.events.some((e) => e.type === 'alert' && e.message.includes('120 min'))).toBe(true);
    // every group still got the post exactly once
    const delivered = w.forwards.filter((f) => !(f.session === 's0' && w.seconds(f.at) === 5));
    expect(delivered.map((f) => f.channelId).sort()).toEqual(GROUPS.map((g) => g.id).sort());
    expect(postsOf(store, botId).every((p) => p.status === 'sent')).toBe(true);
  });

  it('SLOWMODE_WAIT_120: a cooldown for that (session, group), the post skipped as slowmode, the session goes on', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(3) });
    w.answer({ channelId: GROUPS[1]!.id, answer: rpcError(420, 'SLOWMODE_WAIT_120') });
    await finish(w, botId, 1);
    expect(postsOf(store, botId).map((p) => [p.status, p.reason, p.error])).toEqual([
      ['sent', null, null],
      ['skipped', 'slowmode', 'SLOWMODE_WAIT_120'],
      ['sent', null, null],
    ]);
    expect(w.seconds(store.pairState('s0', key(GROUPS[1]!))!.cooldownUntil!)).toBe(5 + 120);
    expect((await store.loadBot(botId))!.groups[1]!.slowmodeSeconds).toBe(120);
    expect(w.forwards.map((f) => w.seconds(f.at))).toEqual([0, 5, 10]);
    expect(store.session('s0').status).toBe('active');
  });

  it('PEER_FLOOD: the session is paused for hours; its other posts are skipped as session_limited, not handed over', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(6) });
    w.answer({ session: 's0', answer: rpcError(400, 'PEER_FLOOD') });
    await finish(w, botId, 1);
    expect(w.forwardsBy('s0')).toHaveLength(1);
    const s0 = postsOf(store, botId).filter((p) => p.plannedSessionId === 's0');
    expect(s0.map((p) => [p.status, p.reason, p.sessionId])).toEqual([
      ['skipped', 'session_limited', 's0'],
      ['skipped', 'session_limited', 's0'],
      ['skipped', 'session_limited', 's0'],
    ]);
    expect(store.session('s0')).toMatchObject({ status: 'paused', statusReason: 'peer_flood' });
    expect(store.session('s0').cooldownUntil! - Date.UTC(2026, 0, 1)).toBe(6 * 3600_000);
    expect(w.forwardsBy('s1')).toHaveLength(3);
    expect(w.events.some((e) => e.type === 'post.handed_off')).toBe(false);
  });

  it('AUTH_KEY_UNREGISTERED: the session is retired, its client closed, its groups handed to the healthy session', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(6) });
    w.answer({ session: 's1', channelId: GROUPS[4]!.id, answer: rpcError(401, 'AUTH_KEY_UNREGISTERED') });
    // when s0 takes over s1's groups, the dead key's client is already closed
    const deadClientClosed: boolean[] = [];
    w.onForward = (f) => {
      if (f.session === 's0' && w.seconds(f.at) >= 10)
        deadClientClosed.push(w.telegram.isDestroyed(w.clientSessions.indexOf('s1')));
    };
    await finish(w, botId, 1);
    expect(deadClientClosed.length).toBeGreaterThan(0);
    expect(deadClientClosed.every(Boolean)).toBe(true);
    expect(store.session('s1')).toMatchObject({ status: 'dead', statusReason: 'revoked' });
    expect(w.events.some((e) => e.type === 'session.retired' && e.sessionId === 's1')).toBe(true);
    expect(w.forwardsBy('s1').map((f) => f.channelId)).toEqual([GROUPS[3]!.id, GROUPS[4]!.id]);
    const handed = w.events.filter((e) => e.type === 'post.handed_off');
    expect(handed).toHaveLength(2);
    const posts = postsOf(store, botId);
    expect(posts.map((p) => p.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'sent']);
    // g4 (the refused one) and g5 went out through s0, each exactly once in total
    const toG4 = w.forwards.filter((f) => f.channelId === GROUPS[4]!.id);
    expect(toG4.map((f) => f.session)).toEqual(['s1', 's0']);
    expect(w.forwards.filter((f) => f.channelId === GROUPS[5]!.id).map((f) => f.session)).toEqual(['s0']);
  });

  it('CHAT_WRITE_FORBIDDEN: the pair is parked for hours; the next cycle does not call it again', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    w.answer({ channelId: GROUPS[0]!.id, answer: rpcError(403, 'CHAT_WRITE_FORBIDDEN') });
    await finish(w, botId, 2);
    const toG0 = w.forwards.filter((f) => f.channelId === GROUPS[0]!.id);
    expect(toG0).toHaveLength(1);
    const pair = store.pairState('s0', key(GROUPS[0]!))!;
    expect(pair).toMatchObject({ parkedReason: 'write_forbidden', lastError: 'CHAT_WRITE_FORBIDDEN' });
    expect(pair.parkedUntil! - toG0[0]!.at).toBe(6 * 3600_000);
    const g0 = store.listPosts(botId).filter((p) => p.groupKey === key(GROUPS[0]!));
    expect(g0.map((p) => [p.status, p.reason])).toEqual([
      ['skipped', 'write_forbidden'],
      ['skipped', 'write_forbidden'],
    ]);
    expect(w.forwards.filter((f) => f.channelId === GROUPS[1]!.id)).toHaveLength(2);
  });

  it('CHAT_FORWARDS_RESTRICTED on a forward: the cycle is aborted after that one call', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(4) });
    w.answer({ answer: rpcError(400, 'CHAT_FORWARDS_RESTRICTED') });
    await finish(w, botId, 1);
    expect(w.forwards).toHaveLength(1);
    expect(store.listCycles(botId)[0]).toMatchObject({
      status: 'aborted',
      reason: 'source_invalid:forwards_restricted',
    });
    expect(
      postsOf(store, botId).every((p) => p.status === 'cancelled' && p.reason === 'source_invalid'),
    ).toBe(true);
    expect(store.botRuntime(botId).needsAttention).toBe(true);
  });

  it('a protected source found by the per-cycle check: aborted with no forward at all', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 2, groups: groupKeys(4) });
    w.telegram.on(
      'channels.getMessages',
      channelMessages([message(SOURCE.id, 42, { noforwards: true })], [SOURCE]),
    );
    await finish(w, botId, 1);
    // the read at planning asked no second session; the cycle's first check stopped it
    expect(w.sourceCalls('read')).toHaveLength(1);
    expect(w.sourceCalls('check')).toHaveLength(1);
    expect(w.forwards).toEqual([]);
    expect(store.listCycles(botId)[0]!.reason).toBe('source_invalid:forwards_restricted');
  });

  it('RANDOM_ID_DUPLICATE: counted as sent (duplicate), not retried', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    w.answer({ channelId: GROUPS[0]!.id, answer: rpcError(500, 'RANDOM_ID_DUPLICATE') });
    await finish(w, botId, 1);
    expect(w.forwards).toHaveLength(2);
    expect(postsOf(store, botId).map((p) => [p.status, p.error])).toEqual([
      ['duplicate', 'RANDOM_ID_DUPLICATE'],
      ['sent', null],
    ]);
    expect(store.botRuntime(botId).counters).toMatchObject({ sent: 2, duplicates: 1, failed: 0 });
  });

  it('TIMEOUT: retried by the runtime with the same random_id, spaced by the delay', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    w.answer({ channelId: GROUPS[0]!.id, times: 2, answer: rpcError(400, 'TIMEOUT') });
    await finish(w, botId, 1);
    const toG0 = w.forwards.filter((f) => f.channelId === GROUPS[0]!.id);
    expect(toG0.map((f) => w.seconds(f.at))).toEqual([0, 5, 10]);
    expect(new Set(toG0.map((f) => f.randomId)).size).toBe(1);
    expect(toG0[0]!.randomId).toBe(BigInt(postsOf(store, botId)[0]!.randomId));
    expect(postsOf(store, botId)[0]).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('a 5xx: the library’s bounded retries, then the runtime’s, all with the same random_id', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(1) });
    // 4 answers = one runtime attempt (the call + the library's 3 retries); the runtime's second attempt passes
    w.answer({ times: 4, answer: rpcError(500, 'INTERNAL_SERVER_ERROR') });
    await finish(w, botId, 1);
    expect(w.forwards).toHaveLength(5);
    expect(new Set(w.forwards.map((f) => f.randomId))).toEqual(
      new Set([BigInt(postsOf(store, botId)[0]!.randomId)]),
    );
    // the library's retries take real time, not virtual: the runtime's retry comes one delay later
    expect(w.forwards.map((f) => w.seconds(f.at))).toEqual([0, 0, 0, 0, 5]);
    expect(postsOf(store, botId)[0]).toMatchObject({ status: 'sent', attempts: 2 });
  }, 20_000);

  it('an unknown error twice for one (session, group): skipped for the next 3 cycles', async () => {
    const { w, store, botId } = memoryWorld({
      sessions: 1,
      groups: groupKeys(2),
      settings: { delayBetweenCycles: 10 },
    });
    w.answer({ channelId: GROUPS[0]!.id, times: 2, answer: rpcError(400, 'SOMETHING_NEW') });
    await finish(w, botId, 6);
    const cycles = store.listCycles(botId);
    const g0 = store
      .listPosts(botId)
      .filter((p) => p.groupKey === key(GROUPS[0]!))
      .map((p) => [cycles.find((c) => c.id === p.cycleId)!.number, p.status, p.reason]);
    expect(g0.slice(0, 6)).toEqual([
      [1, 'failed', 'unknown'],
      [2, 'failed', 'unknown'],
      [3, 'skipped', 'unknown_repeated'],
      [4, 'skipped', 'unknown_repeated'],
      [5, 'skipped', 'unknown_repeated'],
      [6, 'sent', null],
    ]);
    expect(w.forwards.filter((f) => f.channelId === GROUPS[0]!.id)).toHaveLength(3);
    expect(store.listPosts(botId).find((p) => p.status === 'failed')!.error).toBe('SOMETHING_NEW');
  });
});

// ---- knowing the group before posting -------------------------------------------------------------------------

describe('the group’s facts, read through the library before posting', () => {
  it('a paid group is never forwarded to: skipped as paid_messages with its price; facts read once an hour', async () => {
    const { w, store, botId } = memoryWorld({
      sessions: 1,
      groups: groupKeys(3),
      // Cycles about 1010 s apart: four of them fit in the first hour.
      settings: { delayBetweenCycles: 1000 },
    });
    w.paidStars.set(GROUPS[1]!.id, 25);
    await w.runCycles(botId, 2);
    // One full-channel read per group, at the first planning; none at the second.
    const fullReads = () =>
      w.telegram.calls('channels.getFullChannel').map((r) => (r.channel as tl.RawInputChannel).channelId);
    expect(fullReads()).toEqual(GROUPS.slice(0, 3).map((g) => g.id));
    expect(w.forwards.filter((f) => f.channelId === GROUPS[1]!.id)).toEqual([]);
    expect(w.forwards).toHaveLength(4);
    for (const cycle of [1, 2]) {
      expect(postsOf(store, botId, cycle).map((p) => [p.status, p.reason, p.error])).toEqual([
        ['sent', null, null],
        ['skipped', 'paid_messages', 'ALLOW_PAYMENT_REQUIRED_25'],
        ['sent', null, null],
      ]);
    }
    // Past the hour: the next planning reads each group once more.
    await finish(w, botId, 5);
    expect(fullReads()).toHaveLength(6);
    expect(w.forwards.filter((f) => f.channelId === GROUPS[1]!.id)).toEqual([]);
  });

  it('a closed forum topic is skipped as topic_closed without a forward; an open one gets the post', async () => {
    const closed = key(FORUM, 5);
    const open = key(FORUM, 6);
    const { w, store, botId } = memoryWorld({
      sessions: 1,
      groups: [closed, open],
      settings: { minGroupGapSeconds: 0 },
    });
    w.closedTopics.add(5);
    await finish(w, botId, 1);
    expect(w.telegram.calls('channels.getForumTopicsByID').map((r) => r.topics)).toEqual([[5], [6]]);
    expect(postsOf(store, botId).map((p) => [p.groupKey, p.status, p.reason])).toEqual([
      [closed, 'skipped', 'topic_closed'],
      [open, 'sent', null],
    ]);
    expect(w.forwards.map((f) => [f.channelId, f.topMsgId])).toEqual([[FORUM.id, 6]]);
  });

  it('a slow mode read from the full channel spaces the group’s posts across sessions, on the virtual clock', async () => {
    // Starter, T = 4 min: s1 posts 120 s after s0; the group's 150 s slow mode holds it until 150 s (a wait within
    // the 60 s minimum gap it may wait).
    const { w, store, botId } = memoryWorld({
      sessions: 2,
      groups: [key(GROUPS[0]!)],
      starterMinutes: 4,
      settings: { minGroupGapSeconds: 60 },
    });
    w.slowmodes.set(GROUPS[0]!.id, 150);
    await finish(w, botId, 1);
    expect(w.forwards.map((f) => [f.session, w.seconds(f.at)])).toEqual([
      ['s0', 0],
      ['s1', 150],
    ]);
    expect(w.telegram.count('channels.getFullChannel')).toBe(2);
    expect((await store.loadBot(botId))!.groups[0]!.slowmodeSeconds).toBe(150);
  });

  it('facts that could not be read: the forward’s ALLOW_PAYMENT_REQUIRED_X is a paid_messages skip, parked', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    w.fullChannelAnswer = rpcError(400, 'TIMEOUT');
    w.answer({ channelId: GROUPS[0]!.id, answer: rpcError(403, 'ALLOW_PAYMENT_REQUIRED_30') });
    await finish(w, botId, 1);
    expect(postsOf(store, botId).map((p) => [p.status, p.reason, p.error])).toEqual([
      ['skipped', 'paid_messages', 'ALLOW_PAYMENT_REQUIRED_30'],
      ['sent', null, null],
    ]);
    expect(store.pairState('s0', key(GROUPS[0]!))).toMatchObject({ parkedReason: 'paid_messages' });
    // Stagger never offers to pay: the forward carried no allow_paid_stars.
    expect(w.forwards[0]!.request.allowPaidStars).toBeUndefined();
  });
});

// ---- the durable PeerCache on SQLite ------------------------------------------------------------------------

describe('on SQLite: the durable PeerCache survives a restart', () => {
  it('cycle 1 resolves, cycle 2 does not, and a new gateway over the same PeerCache does not either', async () => {
    const { store, botId, sessionIds, credentials } = await sqliteBot({
      sessions: 2,
      groups: groupKeys(4),
      settings: { ...SETTINGS, delayBetweenCycles: 10 },
    });
    const peers: PeerCache = {
      get: (sessionId, k) => store.sessions.peerCacheGet(sessionId, k),
      put: (sessionId, k, value) => store.sessions.peerCachePut(sessionId, k, value),
    };
    world = new World(store.runtime, sessionIds, peers, credentials);
    const w = world;
    await w.runtime.resumeAll();
    await w.runCycles(botId, 1);
    expect(w.resolveCalls()).toBeGreaterThan(0);
    // stored per session: the source and that session's targets
    for (const id of sessionIds) expect(await store.sessions.peerCacheGet(id, 'u:sourcechan')).not.toBeNull();

    w.telegram.clearRequests();
    await w.runCycles(botId, 2);
    expect(w.resolveCalls()).toBe(0);
    expect(w.telegram.count('messages.forwardMessages')).toBe(4);

    // restart: a new runtime, a new gateway, new clients with empty mtcute storage — only the PeerCache is left
    const clientsBefore = w.telegram.clients.length;
    await w.restart();
    w.telegram.clearRequests();
    await w.runCycles(botId, 3);
    await w.runtime.stopBot(botId);
    expect(w.telegram.clients.length).toBeGreaterThan(clientsBefore);
    expect(w.resolveCalls()).toBe(0);
    expect(w.telegram.count('messages.forwardMessages')).toBe(4);
    expect(w.sourceCalls('check')).toHaveLength(sessionIds.length);
    expect(w.sourceCalls('read')).toHaveLength(1);
    const last = w.telegram.calls('messages.forwardMessages');
    for (const call of last) {
      const to = call.toPeer as tl.RawInputPeerChannel;
      expect(to.accessHash.toString()).toBe(
        GROUPS.find((g) => g.id === to.channelId)!.accessHash!.toString(),
      );
      expect((call.fromPeer as tl.RawInputPeerChannel).accessHash.toString()).toBe('-8070450532247928832');
    }
    const page = await store.bots.posts(botId, { limit: 100 });
    expect(page.posts.filter((p) => p.status === 'sent')).toHaveLength(12);
    expect(w.errors).toEqual([]);
  });
});

// ---- connections that do not open, frozen accounts ----------------------------------------------------------

/**
 * A started bot of `sessions` mtcute sessions on a SQLite store (enterprise; starter with `starterMinutes`), and the
 * credentials as `Service` reads them.
 */
async function sqliteBot(o: {
  sessions: number;
  groups: string[];
  settings?: typeof SETTINGS;
  starterMinutes?: number | undefined;
}): Promise<{ store: Store; botId: string; sessionIds: string[]; credentials: CredentialSource }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-rt-mtcute-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir });
  cleanups.push(() => store.close());
  const user = await store.users.create({ name: 'sqlite customer', maxSessions: o.sessions });
  const sessionIds: string[] = [];
  for (let i = 0; i < o.sessions; i++) {
    const s = await store.sessions.create({
      ownerUserId: user.id,
      label: `account ${i}`,
      driver: 'mtcute',
      authString: sessionString(),
      apiId: 1000 + i,
      apiHash: API_HASH,
    });
    sessionIds.push(s.id);
  }
  const botId = await store.bots.ensureForUser(user.id);
  await store.bots.setPostLink(botId, POST_LINK);
  await store.bots.setGroups(botId, o.groups);
  await store.bots.setSettings(botId, o.settings ?? SETTINGS);
  if (o.starterMinutes) await store.bots.start(botId, 'starter', o.starterMinutes);
  else await store.bots.start(botId, 'enterprise', null);
  const credentials: CredentialSource = {
    async get(id) {
      const c = await store.sessions.credentials(id);
      return c && c.apiId && c.apiHash
        ? { authString: c.authString, apiId: c.apiId, apiHash: c.apiHash }
        : null;
    },
  };
  return { store, botId, sessionIds, credentials };
}

/** An enterprise bot of `sessions` mtcute sessions on a SQLite store, wired as `Service` wires it; started. */
async function sqliteWorld(o: {
  sessions: number;
  groups: string[];
  gateway?: Partial<MtcuteGatewayOptions>;
  connect?: ConnectMode;
  /** Starter mode with this cycle length (minutes); enterprise without. */
  starterMinutes?: number;
}): Promise<{ w: World; store: Store; botId: string; sessionIds: string[] }> {
  const { store, botId, sessionIds, credentials } = await sqliteBot(o);
  world = new World(store.runtime, sessionIds, new MemoryPeerCache(), credentials, 0, {
    onFreezeChanged: (sessionId, freeze) => store.sessions.setFreeze(sessionId, freeze),
    ...o.gateway,
  });
  const w = world;
  if (o.connect) w.telegram.transport.mode = o.connect;
  await w.runtime.resumeAll();
  return { w, store, botId, sessionIds };
}

describe('a session whose data centre does not answer', () => {
  it('stop resolves at once while the connect is still pending; nothing is sent; the client is destroyed afterwards', async () => {
    const { w, store, botId } = memoryWorld({ sessions: 1, groups: groupKeys(2) });
    w.telegram.transport.mode = 'never';
    await settles(() => w.telegram.transport.pendingConnects === 1);
    const at = w.clock.now();
    await w.runtime.stopBot(botId);
    // stopped while the connect had not settled, and without any (virtual) time passing
    expect(w.telegram.transport.pendingConnects).toBe(1);
    expect(w.clock.now()).toBe(at);
    expect(w.runtime.isRunning(botId)).toBe(false);
    expect(w.telegram.requests.map((r) => r.method)).toEqual([]);
    // the connect was the planning read's (the source, for its album): stopped before a cycle was planned
    expect(postsOf(store, botId)).toEqual([]);
    // the runtime releases the session: its client is destroyed (mtcute's reconnects end only so), in the background
    await settles(() => w.telegram.destroyRequested(0));
    expect(w.telegram.transport.pendingConnects).toBe(1);
    // once the system gives the TCP connect up (and a retry is refused), the destroy completes
    w.telegram.transport.mode = 'refused';
    w.telegram.transport.failPending();
    await w.gateway.release('s0');
    expect(w.telegram.isDestroyed(0)).toBe(true);
    expect(w.telegram.clients).toHaveLength(1);
    expect(w.errors).toEqual([]);
  });

  it('failed connects in a row: the session waits longer each time, then shows as unreachable; a connect that works clears it', async () => {
    const { w, store, botId, sessionIds } = await sqliteWorld({
      sessions: 1,
      groups: groupKeys(2),
      connect: 'refused',
      gateway: { connectTimeoutMs: 30 },
    });
    const [id] = sessionIds as [string];
    const pauses = () =>
      w.events.flatMap((e) =>
        e.type === 'session.paused' ? [{ reason: e.reason, ms: e.until - e.at }] : [],
      );
    await w.clock.runUntilTrue(() => pauses().length >= 5, w.clock.now() + 24 * 3600_000);

    // core/reachability.ts with the runtime's defaults: 10 s doubling; connecting, then unreachable at the 5th
    expect(pauses()).toEqual([
      { reason: 'connecting', ms: 10_000 },
      { reason: 'connecting', ms: 20_000 },
      { reason: 'connecting', ms: 40_000 },
      { reason: 'connecting', ms: 80_000 },
      { reason: 'unreachable', ms: 160_000 },
    ]);
    // no connect before the wait is over: each attempt (one client each) at least its wait after the one before
    const made = w.clientCreatedAt;
    expect(made).toHaveLength(5);
    for (let i = 1; i < made.length; i++)
      expect(made[i]! - made[i - 1]!).toBeGreaterThanOrEqual(pauses()[i - 1]!.ms);
    expect(w.forwards).toEqual([]);
    expect(
      w.events.some((e) => e.type === 'alert' && /cannot reach Telegram: 5 connects/.test(e.message)),
    ).toBe(true);

    // what the API shows: unreachable, with when it is tried again
    const record = (await store.sessions.get(id))!;
    const shown = presentSession(record, w.clock.now());
    expect(shown).toMatchObject({
      state: 'paused',
      stateReason: 'unreachable',
      stateText: expect.stringContaining('cannot be reached'),
      cooldownUntil: new Date(record.cooldownUntil!).toISOString(),
      connectFailures: 5,
    });
    // the failed connects were the planning reads': no cycle was planned for a session out of reach
    expect((await store.bots.posts(botId, { limit: 100 })).posts).toEqual([]);
    expect((await store.bots.get(botId))?.lastError).toMatch(/paused/);

    // the data centre answers again: the next connect (after the wait) works, posts go out, the count is cleared
    w.telegram.transport.mode = 'open';
    const sentBefore = w.forwards.length;
    await w.clock.runUntilTrue(() => w.forwards.length >= sentBefore + 2, w.clock.now() + 24 * 3600_000);
    expect(w.seconds(w.forwards[0]!.at)).toBeGreaterThanOrEqual(w.seconds(record.cooldownUntil!));
    await w.runtime.stopBot(botId);
    expect(await store.sessions.get(id)).toMatchObject({
      status: 'active',
      statusReason: null,
      connectFailures: 0,
    });
    expect(presentSession((await store.sessions.get(id))!, w.clock.now())).toMatchObject({
      state: 'active',
      connectFailures: 0,
    });
  });
});

describe('a frozen account', () => {
  it('the connect reads the freeze: the session is stored frozen and retired, its groups go to the healthy one, it never forwards', async () => {
    const { w, store, botId, sessionIds } = await sqliteWorld({ sessions: 2, groups: groupKeys(4) });
    const [frozenId, healthyId] = sessionIds as [string, string];
    w.telegram.on('help.getAppConfig', (_request, { clientIndex }) =>
      w.clientSessions[clientIndex] === frozenId
        ? frozenAppConfig({ since: 1_760_000_000, until: 4_000_000_000 })
        : appConfig({ some_other_key: 1 }),
    );
    await w.runCycles(botId, 2);
    await w.runtime.stopBot(botId);

    // no messages.forwardMessages (nor any read of the source) from the frozen account, ever
    expect(w.forwardsBy(frozenId)).toEqual([]);
    const frozenCalls = w.telegram.requests.filter((r) => w.clientSessions[r.clientIndex] === frozenId);
    expect(frozenCalls.map((r) => r.method)).toEqual(['help.getAppConfig']);
    // its groups were handed to the healthy session: every group got the post in both cycles
    expect(w.forwardsBy(healthyId)).toHaveLength(8);
    // connected once: not planned, not connected again in the second cycle
    expect(w.clientSessions.filter((s) => s === frozenId)).toHaveLength(1);

    const frozen = (await store.sessions.get(frozenId))!;
    expect(frozen).toMatchObject({
      status: 'dead',
      statusReason: 'frozen',
      frozen: {
        since: 1_760_000_000_000,
        until: 4_000_000_000_000,
        appealUrl: 'https://t.me/spambot?start=frozen_appeal',
      },
    });
    expect(presentSession(frozen, w.clock.now())).toMatchObject({
      state: 'dead',
      stateReason: 'frozen',
      frozen: { appealUrl: 'https://t.me/spambot?start=frozen_appeal' },
    });
    expect(w.events.some((e) => e.type === 'session.retired' && e.reason === 'frozen')).toBe(true);
    // without the freeze keys nothing changes for the other account
    expect(await store.sessions.get(healthyId)).toMatchObject({ status: 'active', frozen: null });
    expect(w.errors).toEqual([]);
  });

  it('in starter mode the freeze found when planning keeps it out of the plan; so does a freeze stored before the start', async () => {
    const { w, store, botId, sessionIds } = await sqliteWorld({
      sessions: 2,
      groups: groupKeys(2),
      starterMinutes: 2,
    });
    const [frozenId, healthyId] = sessionIds as [string, string];
    w.telegram.on('help.getAppConfig', (_request, { clientIndex }) =>
      w.clientSessions[clientIndex] === frozenId ? frozenAppConfig() : appConfig(),
    );
    await w.runCycles(botId, 1);
    // the planning read connected it first and found the freeze: the cycle is planned without it
    const cycle = (await store.bots.posts(botId, { limit: 100 })).posts;
    expect(cycle.filter((p) => p.sessionId === frozenId)).toEqual([]);
    expect(cycle.map((p) => p.status)).toEqual(['sent', 'sent']);
    expect(w.forwardsBy(frozenId)).toEqual([]);
    expect(w.forwardsBy(healthyId)).toHaveLength(2);
    await w.runtime.stopBot(botId);

    // now stored frozen: the next start plans without it, and does not connect it at all
    const clients = w.telegram.clients.length;
    await store.sessions.setStatus(frozenId, 'active', null);
    await store.bots.start(botId, 'starter', 2);
    w.runtime.startBot(botId);
    await w.runCycles(botId, 2);
    await w.runtime.stopBot(botId);
    expect(w.clientSessions.slice(clients)).not.toContain(frozenId);
    expect(w.forwardsBy(frozenId)).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});
