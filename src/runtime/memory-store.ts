/**
 * The runtime's persistence in memory: for tests and `stagger simulate`. Same contract as the SQL store
 * (src/storage), including the exactly-once rules of `markSending`.
 */
import type { GroupFacts } from '../core/group-facts.js';
import {
  DEFAULT_BOT_SETTINGS,
  FINAL_POST_STATUSES,
  type BotSettings,
  type BotSnapshot,
  type CounterDelta,
  type CycleRecord,
  type CycleStatus,
  type GroupInfo,
  type PairState,
  type PostRecord,
  type SessionInfo,
} from '../core/model.js';
import type { ExecutionMode } from '../core/plan.js';
import {
  POST_PATCH_FIELDS,
  withPostDefaults,
  type BotRuntimePatch,
  type CommitBatch,
  type Fence,
  type NewCycle,
  type NewPost,
  type PostPatch,
  type PostPatchField,
  type RuntimeStore,
  type SendingMark,
  type SessionPatch,
} from './store.js';

export interface NewBot {
  id?: string;
  userId?: string;
  postLink?: string | null;
  mode?: ExecutionMode | null;
  totalCycleMinutes?: number | null;
  settings?: Partial<BotSettings>;
  desiredState?: 'running' | 'stopped';
  sessions?: (Partial<SessionInfo> & { id?: string })[];
  groups?: (string | GroupInfo)[];
}

interface BotRow extends Omit<BotSnapshot, 'sessions' | 'groups'> {
  sessionIds: string[];
  groups: GroupInfo[];
  lastError: string | null;
  needsAttention: boolean;
  counters: Required<CounterDelta>;
}

const zeroCounters = (): Required<CounterDelta> => ({
  sent: 0,
  duplicates: 0,
  failed: 0,
  skipped: 0,
  floodWaits: 0,
});

export class MemoryRuntimeStore implements RuntimeStore {
  private readonly bots = new Map<string, BotRow>();
  private readonly sessions = new Map<string, SessionInfo>();
  private readonly cycles = new Map<string, CycleRecord>();
  private readonly cyclesByBot = new Map<string, string[]>();
  private readonly posts = new Map<string, PostRecord>();
  private readonly postsByCycle = new Map<string, string[]>();
  private readonly postsByBot = new Map<string, string[]>();
  /** Pair states per bot, keyed by session and group. */
  private readonly pairs = new Map<string, Map<string, PairState>>();
  /** Group facts by session, then group: a bot's planning reads its sessions' facts, not everyone's. */
  private readonly facts = new Map<string, Map<string, GroupFacts>>();
  private nextId = 1;
  /** The lease each bot is held under (owner, epoch); tests change it to simulate a takeover. */
  readonly fences = new Map<string, Fence>();

  private id(): string {
    return String(this.nextId++);
  }

  // ---- setup (tests and simulate) ----

  addBot(spec: NewBot = {}): string {
    const id = spec.id ?? this.id();
    const sessionIds = (spec.sessions ?? []).map((s, i) => {
      const sid = s.id ?? this.id();
      this.sessions.set(sid, {
        id: sid,
        label: s.label ?? `session ${i}`,
        driver: s.driver ?? 'sandbox',
        status: s.status ?? 'active',
        cooldownUntil: s.cooldownUntil ?? null,
        statusReason: s.statusReason ?? null,
        connectFailures: s.connectFailures ?? 0,
        frozen: s.frozen ?? null,
      });
      return sid;
    });
    this.bots.set(id, {
      id,
      userId: spec.userId ?? `user-${id}`,
      postLink: spec.postLink === undefined ? 'https://t.me/stagger_demo/1' : spec.postLink,
      mode: spec.mode ?? null,
      totalCycleMinutes: spec.totalCycleMinutes ?? null,
      settings: { ...DEFAULT_BOT_SETTINGS, ...spec.settings },
      desiredState: spec.desiredState ?? 'running',
      anchorAt: null,
      anchorCycleSeconds: null,
      sessionIds,
      groups: (spec.groups ?? []).map((g) =>
        typeof g === 'string' ? { key: g, slowmodeSeconds: null } : { ...g },
      ),
      lastError: null,
      needsAttention: false,
      counters: zeroCounters(),
    });
    return id;
  }

  setDesiredState(botId: string, state: 'running' | 'stopped'): void {
    this.bot(botId).desiredState = state;
  }

  updateBot(
    botId: string,
    patch: Partial<Pick<BotRow, 'postLink' | 'mode' | 'totalCycleMinutes'>> & {
      settings?: Partial<BotSettings>;
      groups?: string[];
    },
  ): void {
    const bot = this.bot(botId);
    if (patch.postLink !== undefined) bot.postLink = patch.postLink;
    if (patch.mode !== undefined) bot.mode = patch.mode;
    if (patch.totalCycleMinutes !== undefined) bot.totalCycleMinutes = patch.totalCycleMinutes;
    if (patch.settings) bot.settings = { ...bot.settings, ...patch.settings };
    if (patch.groups) bot.groups = patch.groups.map((key) => ({ key, slowmodeSeconds: null }));
  }

  botRuntime(botId: string): Pick<BotRow, 'lastError' | 'needsAttention' | 'counters' | 'anchorAt'> {
    const bot = this.bot(botId);
    return {
      lastError: bot.lastError,
      needsAttention: bot.needsAttention,
      counters: { ...bot.counters },
      anchorAt: bot.anchorAt,
    };
  }

  session(sessionId: string): SessionInfo {
    const s = this.sessions.get(sessionId);
    if (!s) throw new Error(`no session ${sessionId}`);
    return { ...s };
  }

  listCycles(botId: string): CycleRecord[] {
    return (this.cyclesByBot.get(botId) ?? []).map((id) => ({ ...this.cycles.get(id)! }));
  }

  listPosts(botId?: string): PostRecord[] {
    const ids = botId === undefined ? [...this.posts.keys()] : (this.postsByBot.get(botId) ?? []);
    return ids.map((id) => ({ ...this.posts.get(id)! }));
  }

  pairState(sessionId: string, groupKey: string): PairState | undefined {
    for (const pairs of this.pairs.values()) {
      const p = pairs.get(`${sessionId}\u0000${groupKey}`);
      if (p) return { ...p };
    }
    return undefined;
  }

  private bot(botId: string): BotRow {
    const bot = this.bots.get(botId);
    if (!bot) throw new Error(`no bot ${botId}`);
    return bot;
  }

  // ---- RuntimeStore ----

  async loadBot(botId: string): Promise<BotSnapshot | null> {
    const bot = this.bots.get(botId);
    if (!bot) return null;
    const { sessionIds, lastError: _e, needsAttention: _n, counters: _c, ...rest } = bot;
    return {
      ...rest,
      settings: { ...bot.settings },
      sessions: sessionIds.map((id) => ({ ...this.sessions.get(id)! })),
      groups: bot.groups.map((g) => ({ ...g })),
    };
  }

  async listRunningBotIds(): Promise<string[]> {
    return [...this.bots.values()].filter((b) => b.desiredState === 'running').map((b) => b.id);
  }

  async updateBotRuntime(botId: string, patch: BotRuntimePatch): Promise<void> {
    const bot = this.bot(botId);
    if (patch.anchorAt !== undefined) bot.anchorAt = patch.anchorAt;
    if (patch.anchorCycleSeconds !== undefined) bot.anchorCycleSeconds = patch.anchorCycleSeconds;
    if (patch.lastError !== undefined) bot.lastError = patch.lastError;
    if (patch.needsAttention !== undefined) bot.needsAttention = patch.needsAttention;
  }

  async getActiveCycle(botId: string): Promise<{ cycle: CycleRecord; posts: PostRecord[] } | null> {
    const ids = this.cyclesByBot.get(botId) ?? [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const cycle = this.cycles.get(ids[i]!)!;
      if (cycle.status === 'running') {
        const posts = (this.postsByCycle.get(cycle.id) ?? []).map((id) => ({ ...this.posts.get(id)! }));
        return { cycle: { ...cycle }, posts };
      }
    }
    return null;
  }

  async getLastCycle(botId: string): Promise<CycleRecord | null> {
    const ids = this.cyclesByBot.get(botId) ?? [];
    const last = ids[ids.length - 1];
    return last ? { ...this.cycles.get(last)! } : null;
  }

  async createCycle(cycle: NewCycle, posts: NewPost[]): Promise<{ cycle: CycleRecord; posts: PostRecord[] }> {
    const stored: CycleRecord = { ...cycle, source: cycle.source ?? null, id: this.id() };
    this.cycles.set(stored.id, stored);
    this.cyclesByBot.set(cycle.botId, [...(this.cyclesByBot.get(cycle.botId) ?? []), stored.id]);
    const storedPosts = posts.map((p) => ({ ...withPostDefaults(p), id: this.id(), cycleId: stored.id }));
    for (const p of storedPosts) this.posts.set(p.id, p);
    const byBot = this.postsByBot.get(cycle.botId) ?? [];
    for (const p of storedPosts) byBot.push(p.id);
    this.postsByBot.set(cycle.botId, byBot);
    this.postsByCycle.set(
      stored.id,
      storedPosts.map((p) => p.id),
    );
    return { cycle: { ...stored }, posts: storedPosts.map((p) => ({ ...p })) };
  }

  async finishCycle(
    cycleId: string,
    status: CycleStatus,
    reason: string | null,
    finishedAt: number,
  ): Promise<void> {
    const cycle = this.cycles.get(cycleId);
    if (!cycle) throw new Error(`no cycle ${cycleId}`);
    Object.assign(cycle, { status, reason, finishedAt });
  }

  /** The same order as the SQL stores: outcomes and counters first, then the marks. */
  async commit(batch: CommitBatch): Promise<Set<string>> {
    // A bot's outcomes under a fence need its lease still with that owner and epoch (expired or not).
    const stale = (botId: string): boolean => {
      const fence = batch.fences?.get(botId);
      const held = this.fences.get(botId);
      return fence !== undefined && (!held || fence.ownerId !== held.ownerId || fence.epoch !== held.epoch);
    };
    for (const patch of batch.patches) if (!stale(patch.botId)) this.applyPatch(patch);
    for (const [botId, delta] of batch.counters) {
      const bot = this.bots.get(botId);
      if (!bot || stale(botId)) continue;
      for (const [k, v] of Object.entries(delta) as [keyof CounterDelta, number][]) bot.counters[k] += v;
    }
    const accepted = new Set<string>();
    for (const mark of batch.marks) if (this.applyMark(mark)) accepted.add(mark.postId);
    return accepted;
  }

  markSending(marks: readonly SendingMark[]): Promise<Set<string>> {
    return this.commit({ marks, patches: [], counters: new Map() });
  }

  async writeResults(
    patches: readonly PostPatch[],
    counters: ReadonlyMap<string, CounterDelta>,
  ): Promise<void> {
    await this.commit({ marks: [], patches, counters });
  }

  /** Sets the fields the SQL stores have columns for (a post's field has the patch field's name). */
  private applyPatch(patch: PostPatch): void {
    const post = this.posts.get(patch.postId) as Record<PostPatchField, unknown> | undefined;
    if (!post) return;
    for (const field of POST_PATCH_FIELDS) if (patch[field] !== undefined) post[field] = patch[field];
  }

  private applyMark(mark: SendingMark): boolean {
    // A fenced mark needs the bot's lease held with the same owner and epoch (as PostgreSQL checks).
    const held = this.fences.get(mark.botId);
    const fence = mark.fence;
    if (fence && (!held || fence.ownerId !== held.ownerId || fence.epoch !== held.epoch)) return false;
    const post = this.posts.get(mark.postId);
    if (!post || FINAL_POST_STATUSES.has(post.status)) return false;
    post.status = 'sending';
    post.attempts = mark.attempts;
    return true;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    if (patch.status !== undefined) s.status = patch.status;
    if (patch.cooldownUntil !== undefined) s.cooldownUntil = patch.cooldownUntil;
    if (patch.statusReason !== undefined) s.statusReason = patch.statusReason;
    if (patch.connectFailures !== undefined) s.connectFailures = patch.connectFailures;
  }

  async loadPairStates(botId: string): Promise<PairState[]> {
    return [...(this.pairs.get(botId)?.values() ?? [])].map((p) => ({ ...p }));
  }

  async savePairState(botId: string, state: PairState): Promise<void> {
    const pairs = this.pairs.get(botId) ?? new Map<string, PairState>();
    pairs.set(`${state.sessionId}\u0000${state.groupKey}`, { ...state });
    this.pairs.set(botId, pairs);
  }

  async lastSentByGroup(botId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of this.postsByBot.get(botId) ?? []) {
      const p = this.posts.get(id)!;
      if (p.sentAt === null) continue;
      if (p.status !== 'sent' && p.status !== 'duplicate') continue;
      out.set(p.groupKey, Math.max(out.get(p.groupKey) ?? 0, p.sentAt));
    }
    return out;
  }

  async setGroupSlowmode(botId: string, groupKey: string, seconds: number): Promise<void> {
    const group = this.bot(botId).groups.find((g) => g.key === groupKey);
    if (group) group.slowmodeSeconds = seconds;
  }

  async loadGroupFacts(sessionIds: readonly string[]): Promise<GroupFacts[]> {
    const out: GroupFacts[] = [];
    for (const id of new Set(sessionIds))
      for (const f of this.facts.get(id)?.values() ?? []) out.push({ ...f });
    return out;
  }

  async saveGroupFacts(facts: readonly GroupFacts[]): Promise<void> {
    for (const f of facts) {
      let bySession = this.facts.get(f.sessionId);
      if (!bySession) this.facts.set(f.sessionId, (bySession = new Map()));
      bySession.set(f.groupKey, { ...f });
    }
  }
}
