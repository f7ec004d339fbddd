/**
 * The shapes the public API answers with (see GET /api/openapi.json and src/http/routes), built on the server's own
 * types. The API's presenters (src/http) infer their answers and export no types for them, and their modules need
 * Node, so the answers are spelled here with the server's field types. Only types cross from src/: these imports
 * are erased from the bundle.
 */
import type { Condition } from '../../src/core/condition.js';
import type { CycleStatus, PostStatus, SessionDriver, SessionStatus } from '../../src/core/model.js';
import type { ExecutionMode } from '../../src/core/plan.js';
import type { SlotCounts, SlotOutcome } from '../../src/core/slot-outcome.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';

export type BotState = 'running' | 'stopped' | 'needs_attention';

export interface CyclePosts {
  planned: number;
  sent: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Planned or sending: what a stop now would cancel. */
  pending: number;
  /** Sent or decided (sent + failed + skipped); cancelled posts are not done. */
  done: number;
}

/** A condition of the bot as the server judged it (src/core/condition.ts), its end as ISO text. */
export type BotCondition = Omit<Condition, 'until'> & { until: string | null };

/** The last error: the runner's words while it needs attention, else the latest cycle's last failed or skipped post. */
export interface LatestError {
  text: string;
  code: string | null;
  cycle: number | null;
  group: string | null;
  sessionId: string | null;
  at: string | null;
}

export interface BotStatus {
  status: BotState;
  execution_mode: ExecutionMode | null;
  total_cycle_minutes: number | null;
  cycle: {
    number: number;
    status: CycleStatus;
    startedAt: string | null;
    finishedAt: string | null;
    posts: CyclePosts;
  } | null;
  nextCycleAt: string | null;
  sessions: { id: string; label: string; state: SessionStatus; cooldownUntil: string | null }[];
  /** Over the bot's whole life (every cycle), unlike `cycle.posts`. */
  stats: { sent: number; failed: number; floodWaits: number };
  lastError: string | null;
  /** The worst current condition: what the status line says. */
  condition: BotCondition;
  /** Every current condition, worst first. */
  conditions: BotCondition[];
  latestError: LatestError | null;
}

export interface Session {
  id: string;
  label: string;
  driver: SessionDriver;
  state: SessionStatus;
  stateReason: string | null;
  /** The state's reason in words (a session's own kind of reason). */
  stateText: string | null;
  cooldownUntil: string | null;
  /** Failed connects in a row (unreachable from the server's policy number on, retried at `cooldownUntil`). */
  connectFailures: number;
  /** Set while Telegram keeps the account frozen. */
  frozen: SessionFreeze | null;
  account: { id: string | null; username: string | null; name: string | null } | null;
  createdAt: string | null;
}

/** A freeze of a Telegram account: since when, when Telegram deletes it unless appealed, where to appeal. */
export interface SessionFreeze {
  since: string | null;
  until: string | null;
  appealUrl: string | null;
}

export interface PoolSession extends Session {
  ownerUserId: string | null;
}

export interface PostRow {
  id: string;
  cycle: number;
  seq: number;
  /** The session that sends it; another than `plannedSessionId` after a hand-off. */
  sessionId: string;
  plannedSessionId: string;
  group: string;
  plannedAt: string | null;
  status: PostStatus;
  reason: string | null;
  reasonText: string | null;
  error: string | null;
  errorText: string | null;
  attempts: number;
  sentAt: string | null;
  /** When its result came about (sent, or decided); null while still to come. */
  happenedAt: string | null;
  /** How many messages the post forwards: an album of N photos is N. */
  albumSize: number;
  /** The messages the forward created in the group, in order (empty when not known). */
  sentMessageIds: number[];
  /** The group's public username as last read (null: none known); a group given as `@name` needs none. */
  groupUsername: string | null;
}

/** What the preview knows of the source post from its last read (null: not read yet, or another link since). */
export interface PlanSource {
  link: string;
  messageIds: number[];
  albumSize: number;
}

/** What one session knows of one group (GET /api/bot/groups), read at planning or by a preflight. */
export interface GroupFactsView {
  sessionId: string;
  checkedAt: string | null;
  member: boolean | null;
  canWrite: boolean | null;
  slowmodeSeconds: number | null;
  paidStars: number | null;
  topicClosed: boolean | null;
  error: string | null;
  /** The post reason these facts give (`paid_messages`, `topic_closed`…), and its words. */
  skipReason: string | null;
  skipText: string | null;
  /** The facts in short words: `paid: 25 stars — skipped`, `slow mode 5 min`. */
  factsText: string[];
}

export interface GroupView {
  key: string;
  chat: string;
  topicId: number | null;
  facts: GroupFactsView[];
}

export interface Settings {
  delay_between_posts: number;
  delay_between_cycles: number;
  min_group_gap_seconds: number;
  silent: boolean;
  hide_sender: boolean;
}

// The same as src/storage/users.ts's, whose module needs Node (a browser type check cannot load it).
export type PlanType = 'STARTER' | 'ENTERPRISE';
export type PlanStatus = 'active' | 'inactive' | 'expired' | 'suspended';
export type Role = 'admin' | 'user';

export interface User {
  id: string;
  name: string;
  role: Role;
  plan_type: PlanType | null;
  plan_status: PlanStatus;
  max_sessions: number;
  createdAt: string | null;
}

export interface AdminBot extends BotStatus {
  botId: string;
  userId: string;
  user: string | null;
}

/**
 * The data of one Server-Sent Event of GET /api/bot/events (its SSE event name is `type`): the runtime's event as
 * the server presents it, with its time as ISO text and, where it has a reason or an error, that in plain words.
 */
export type PresentedEvent = RuntimeEvent & { time: string; reasonText?: string; errorText?: string };

/** An event as the feed keeps it; `seq` is a local sequence number (unique within this page), for React keys. */
export type LiveEvent = PresentedEvent & { seq: number };

/** A cycle as it ran (GET /api/bot/cycles/:number): its own mode and times, and every slot with its outcome. */
export interface CycleView {
  cycle: {
    id: string;
    number: number;
    mode: ExecutionMode;
    cycleSeconds: number | null;
    status: CycleStatus;
    reason: string | null;
    reasonText: string | null;
    startedAt: string | null;
    deadlineAt: string | null;
    expectedEndAt: string | null;
    finishedAt: string | null;
  };
  counts: SlotCounts;
  slots: CycleSlot[];
  /** The cycle has more slots than listed (its counts cover them all). */
  truncated: boolean;
}

export interface CycleSlot extends PostRow {
  plannedSessionId: string;
  outcome: SlotOutcome;
}
