/**
 * What the runtime needs from persistence. Implemented in memory (tests, `stagger simulate`) and by the SQL
 * repositories (SQLite, PostgreSQL). Writes that matter for exactly-once (`markSending`, `writeResults`) take
 * batches, so that posts falling due together share one commit.
 */
import type { GroupFacts } from '../core/group-facts.js';
import type {
  BotSnapshot,
  CounterDelta,
  CycleRecord,
  CycleStatus,
  PairState,
  PostRecord,
  PostStatus,
  SessionStatus,
} from '../core/model.js';

/** Proof of ownership checked in the same statement that marks a post `sending` (scale-out fencing). */
export interface Fence {
  ownerId: string;
  epoch: number;
}

export interface SendingMark {
  postId: string;
  botId: string;
  attempts: number;
  /**
   * Null where no lease is used (one process owns everything). Leases exist only on PostgreSQL (and in memory, for
   * tests): a fenced mark reaching SQLite fails its whole commit rather than being marked unchecked.
   */
  fence: Fence | null;
}

/** One commit of the runtime: outcomes (patches) and counters are written first, then the marks. */
export interface CommitBatch {
  marks: readonly SendingMark[];
  patches: readonly PostPatch[];
  counters: ReadonlyMap<string, CounterDelta>;
  /**
   * The writer's lease for each bot whose outcomes (patches, counters) are in the batch, as on a mark: a stale
   * owner's outcomes are refused (the new owner retries a `sending` post with its random_id, which Telegram
   * deduplicates). Unlike a mark, an outcome needs no unexpired lease — only that nobody took the bot over since:
   * it records a call that already happened. A bot not in the map writes without a lease (one process owns all).
   */
  fences?: ReadonlyMap<string, Fence>;
}

export interface PostPatch {
  postId: string;
  botId: string;
  status?: PostStatus;
  reason?: string | null;
  error?: string | null;
  attempts?: number;
  sentAt?: number | null;
  sessionId?: string;
  plannedAt?: number;
  sentMessageIds?: number[];
}

/** The post fields a patch may set; `postId` and `botId` only say which post. */
export type PostPatchField = Exclude<keyof PostPatch, 'postId' | 'botId'>;

/**
 * How a patched value is stored: `text`; `integer` (a count); `bigint` (epoch milliseconds, a JS number); `id` (a
 * 64-bit id as a decimal string, bound as a bigint on SQLite and as the string itself on PostgreSQL); `json` (a
 * list of small numbers, stored as its JSON text).
 */
export type PatchValue = 'text' | 'integer' | 'bigint' | 'id' | 'json';

/**
 * Where each field of a patch is stored: the one list every store writes patches from (SQLite's prepared
 * statements, PostgreSQL's batch statement, the memory store). A field added to PostPatch without an entry here
 * does not compile.
 */
export const POST_PATCH_COLUMNS = {
  status: { column: 'status', value: 'text' },
  reason: { column: 'reason', value: 'text' },
  error: { column: 'error', value: 'text' },
  attempts: { column: 'attempts', value: 'integer' },
  sentAt: { column: 'sent_at', value: 'bigint' },
  sessionId: { column: 'session_id', value: 'id' },
  plannedAt: { column: 'planned_at', value: 'bigint' },
  sentMessageIds: { column: 'sent_message_ids', value: 'json' },
} as const satisfies {
  readonly [F in PostPatchField]: { readonly column: string; readonly value: PatchValue };
};

/** The patchable fields in the table's order (a statement's columns come in this order). */
export const POST_PATCH_FIELDS = Object.keys(POST_PATCH_COLUMNS) as readonly PostPatchField[];

export interface SessionPatch {
  status?: SessionStatus;
  cooldownUntil?: number | null;
  statusReason?: string | null;
  connectFailures?: number;
}

export interface BotRuntimePatch {
  anchorAt?: number | null;
  anchorCycleSeconds?: number | null;
  lastError?: string | null;
  needsAttention?: boolean;
}

/** The value a patch field is written as: JSON text for `json`, the value itself otherwise. */
export function patchValue(field: PostPatchField, value: unknown): unknown {
  return POST_PATCH_COLUMNS[field].value === 'json' ? JSON.stringify(value) : value;
}

/** `source` defaults to null: a cycle planned without reading the source (a skipped slot, a test). */
export type NewCycle = Omit<CycleRecord, 'id' | 'source'> & { source?: CycleRecord['source'] };
/** `randomIds` defaults to `[randomId]` (one message), `sentMessageIds` to none. */
export type NewPost = Omit<PostRecord, 'id' | 'cycleId' | 'randomIds' | 'sentMessageIds'> &
  Partial<Pick<PostRecord, 'randomIds' | 'sentMessageIds'>>;

/** A new post with what it may leave out filled in: one message (its random_id), no sent message known. */
export function withPostDefaults(p: NewPost): Omit<PostRecord, 'id' | 'cycleId'> {
  return { ...p, randomIds: p.randomIds ?? [p.randomId], sentMessageIds: p.sentMessageIds ?? [] };
}

export interface RuntimeStore {
  loadBot(botId: string): Promise<BotSnapshot | null>;
  listRunningBotIds(): Promise<string[]>;
  updateBotRuntime(botId: string, patch: BotRuntimePatch): Promise<void>;

  /** The cycle still `running` for this bot (after a crash or restart), with its posts in seq order. */
  getActiveCycle(botId: string): Promise<{ cycle: CycleRecord; posts: PostRecord[] } | null>;
  getLastCycle(botId: string): Promise<CycleRecord | null>;
  /** Stores the cycle and all its posts (random_ids fixed) in one transaction. */
  createCycle(cycle: NewCycle, posts: NewPost[]): Promise<{ cycle: CycleRecord; posts: PostRecord[] }>;
  finishCycle(cycleId: string, status: CycleStatus, reason: string | null, finishedAt: number): Promise<void>;

  /**
   * One commit for a batch: outcomes (and counters) of finished calls, then `sending` marks (attempts set) of
   * posts about to be called. Returns the ids it marked; a mark is refused when the fence no longer holds
   * (another worker owns the bot, or the lease expired) or the post is already final; a bot's outcomes are refused
   * when another worker took it over (`fences`).
   */
  commit(batch: CommitBatch): Promise<Set<string>>;
  /** `commit` with marks only. */
  markSending(marks: readonly SendingMark[]): Promise<Set<string>>;
  /** `commit` with outcomes only. */
  writeResults(patches: readonly PostPatch[], counters: ReadonlyMap<string, CounterDelta>): Promise<void>;

  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
  loadPairStates(botId: string): Promise<PairState[]>;
  savePairState(botId: string, state: PairState): Promise<void>;
  /** When each group last received a post from this bot (seeds the per-group guard after a restart). */
  lastSentByGroup(botId: string): Promise<Map<string, number>>;
  setGroupSlowmode(botId: string, groupKey: string, seconds: number): Promise<void>;

  /** What these sessions know about their groups (src/core/group-facts.ts), in no particular order. */
  loadGroupFacts(sessionIds: readonly string[]): Promise<GroupFacts[]>;
  /** Stores facts as read: one row per (session, group), the last read replacing the one before. */
  saveGroupFacts(facts: readonly GroupFacts[]): Promise<void>;
}
