/**
 * The domain model shared by the runtime, the storage and the API: bots, their sessions and groups, cycles and
 * posts. Plain data; ids are strings (database ids, 64-bit values and random_ids never pass through a JS number).
 * Times are epoch milliseconds.
 */
import type { SourcePost } from './album.js';
import type { FreezeState } from './freeze.js';
import type { ExecutionMode } from './plan.js';

export type SessionDriver = 'sandbox' | 'mtcute';

/** `paused`: a cooldown with an end (FLOOD_WAIT, PEER_FLOOD…). `dead`: retired until someone logs in again. */
export type SessionStatus = 'active' | 'paused' | 'dead';

export interface SessionInfo {
  id: string;
  label: string;
  driver: SessionDriver;
  status: SessionStatus;
  /** While paused: no forwarding before this time. */
  cooldownUntil: number | null;
  /** Why it is paused or dead, e.g. `flood_wait`, `peer_flood`, `revoked`. */
  statusReason: string | null;
  /** Failed connects in a row (core/reachability.ts: the wait before the next, and when it is unreachable). */
  connectFailures: number;
  /** What Telegram last said of a freeze of the account (core/freeze.ts); null: not frozen. */
  frozen: FreezeState | null;
}

export interface GroupInfo {
  /** The canonical target key (`-1001234567890`, `@name`, with `/topic`) — stable across edits of the list. */
  key: string;
  /** Slow mode interval learned from Telegram or preflight, if known. */
  slowmodeSeconds: number | null;
}

export interface BotSettings {
  /** Seconds between two posts of one session. */
  delayBetweenPosts: number;
  /** Enterprise: seconds from the end of a cycle to the start of the next. */
  delayBetweenCycles: number;
  /** No group receives two posts from this bot closer than this. */
  minGroupGapSeconds: number;
  silent: boolean;
  hideSender: boolean;
}

export const DEFAULT_BOT_SETTINGS: BotSettings = {
  delayBetweenPosts: 5,
  delayBetweenCycles: 300,
  minGroupGapSeconds: 60,
  silent: false,
  hideSender: false,
};

export type DesiredState = 'running' | 'stopped';

export interface BotSnapshot {
  id: string;
  userId: string;
  postLink: string | null;
  mode: ExecutionMode | null;
  totalCycleMinutes: number | null;
  settings: BotSettings;
  desiredState: DesiredState;
  /** Starter: cycle k starts at `anchorAt + k * T`. Kept across restarts while the bot runs. */
  anchorAt: number | null;
  /** The T (seconds) the anchor was set for; a changed T starts a new anchor. */
  anchorCycleSeconds: number | null;
  /** Sessions in their planning order (stable: by id). */
  sessions: SessionInfo[];
  /** Groups in the customer's order. */
  groups: GroupInfo[];
}

export type CycleStatus = 'running' | 'finished' | 'stopped' | 'aborted' | 'skipped';

export interface CycleRecord {
  id: string;
  botId: string;
  /** 1, 2, 3… per bot, skipped slots included. */
  number: number;
  mode: ExecutionMode;
  /** Starter: the anchored slot k of this cycle; null for enterprise. */
  slot: number | null;
  cycleSeconds: number | null;
  plannedStartAt: number;
  /** No post of this cycle is sent after this (the next cycle's turn). */
  deadlineAt: number;
  /** When the plan's last post is due (enterprise: a FLOOD_WAIT past it hands groups over). */
  expectedEndAt: number;
  finishedAt: number | null;
  status: CycleStatus;
  reason: string | null;
  /** The planner's warnings, as shown in the preview. */
  warnings: { code: string; message: string }[];
  /**
   * The source post as read when the cycle was planned (an album: all its message ids); null when no session could
   * read it then, or the cycle was planned before albums were read: its posts forward the link's one message.
   */
  source: SourcePost | null;
}

/**
 * `planned → sending → sent | duplicate | failed | skipped`; or `planned → skipped | cancelled | missed |
 * not_attempted`. `sending` is committed before the Telegram call, so after a crash it means "maybe delivered":
 * retried with the same random_id, never handed to another session.
 */
export const POST_STATUSES = [
  'planned',
  'sending',
  'sent',
  'duplicate',
  'failed',
  'skipped',
  'cancelled',
  'missed',
  'not_attempted',
] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

export const FINAL_POST_STATUSES: ReadonlySet<PostStatus> = new Set([
  'sent',
  'duplicate',
  'failed',
  'skipped',
  'cancelled',
  'missed',
  'not_attempted',
]);

/**
 * The history's views: `done` holds what happened (a post with its final status), `planned` what is still to
 * come (planned, or being sent now), `all` both (newest post first, as the history always answered).
 */
export const POST_VIEWS = ['all', 'done', 'planned'] as const;
export type PostView = (typeof POST_VIEWS)[number];

/** The statuses a view shows. */
export function postStatusesOf(view: PostView): PostStatus[] {
  if (view === 'all') return [...POST_STATUSES];
  const done = view === 'done';
  return POST_STATUSES.filter((s) => FINAL_POST_STATUSES.has(s) === done);
}

export interface PostRecord {
  id: string;
  cycleId: string;
  botId: string;
  seq: number;
  /** The session that sends it now (changes on an enterprise hand-off). */
  sessionId: string;
  /** The session the plan gave it to. */
  plannedSessionId: string;
  groupKey: string;
  plannedAt: number;
  /** Fixed when the cycle is planned; the same on every retry (Telegram deduplicates on it). Decimal int64. */
  randomId: string;
  /**
   * One random_id per message the post forwards, fixed with `randomId` (its first): an album of N has N, in the
   * order of the cycle's `source.messageIds`; a single message has `[randomId]`.
   */
  randomIds: string[];
  status: PostStatus;
  /** Why it was skipped/cancelled/failed, in our words (`group_gap`, `session_paused`, a Telegram error…). */
  reason: string | null;
  /** The raw Telegram error of the last attempt, if any. */
  error: string | null;
  attempts: number;
  sentAt: number | null;
  /** The ids of the messages the forward created in the group, as Telegram answered; empty when not known. */
  sentMessageIds: number[];
}

/** What the runtime knows about one (session, group) pair. */
export interface PairState {
  sessionId: string;
  groupKey: string;
  /** SLOWMODE_WAIT: this session may not post there before this time. */
  cooldownUntil: number | null;
  /** group_skip: parked until this time, then re-checked. */
  parkedUntil: number | null;
  parkedReason: string | null;
  /** Unknown errors in a row; two → skipped for three cycles. */
  unknownFailures: number;
  /** Skipped while the bot's cycle number is ≤ this. */
  skipThroughCycle: number | null;
  lastError: string | null;
}

/** A pair nothing has happened to yet. */
export function freshPair(sessionId: string, groupKey: string): PairState {
  return {
    sessionId,
    groupKey,
    cooldownUntil: null,
    parkedUntil: null,
    parkedReason: null,
    unknownFailures: 0,
    skipThroughCycle: null,
    lastError: null,
  };
}

export interface CounterDelta {
  sent?: number;
  duplicates?: number;
  failed?: number;
  skipped?: number;
  floodWaits?: number;
}
