/**
 * One typed event stream from the runtime. It is the observability API (logs, metrics, the dashboard's live
 * view through SSE) and the test hook: tests assert on the same events an operator sees.
 */
import type { CycleStatus, PostStatus } from '../core/model.js';

interface Base {
  botId: string;
  userId: string;
  at: number;
}

export type RuntimeEvent =
  | (Base & { type: 'bot.started' })
  | (Base & { type: 'bot.stopped'; reason: string })
  | (Base & { type: 'bot.attention'; reason: string; message: string })
  | (Base & {
      type: 'cycle.started';
      cycleId: string;
      number: number;
      mode: string;
      plannedStartAt: number;
      posts: number;
      resumed: boolean;
    })
  | (Base & {
      type: 'cycle.finished';
      cycleId: string;
      number: number;
      status: CycleStatus;
      reason: string | null;
      counts: Partial<Record<PostStatus, number>>;
    })
  | (Base & { type: 'cycle.skipped'; number: number; slots: number; reason: string; plannedStartAt: number })
  | (Base & {
      type: 'post.sent';
      cycleId: string;
      postId: string;
      sessionId: string;
      groupKey: string;
      plannedAt: number;
      duplicate: boolean;
    })
  | (Base & {
      type: 'post.failed' | 'post.skipped' | 'post.cancelled';
      cycleId: string;
      postId: string;
      sessionId: string;
      groupKey: string;
      status: PostStatus;
      reason: string | null;
      error: string | null;
    })
  | (Base & {
      /** A post its session could not send, given to another session of the bot (enterprise). */
      type: 'post.handed_off';
      cycleId: string;
      postId: string;
      /** The group the post goes to (it moved, the group did not). */
      groupKey: string;
      fromSessionId: string;
      toSessionId: string;
      /** Why `fromSessionId` could not post it: a post reason (`session_paused`, `write_forbidden`…). */
      reason: string;
      error: string | null;
    })
  | (Base & {
      type: 'session.paused';
      sessionId: string;
      until: number;
      reason: string;
      error: string | null;
    })
  | (Base & { type: 'session.resumed'; sessionId: string })
  | (Base & { type: 'session.retired'; sessionId: string; reason: string; error: string | null })
  | (Base & { type: 'alert'; level: 'warning' | 'critical'; message: string; sessionId?: string });

export type RuntimeEventType = RuntimeEvent['type'];
export type Listener = (event: RuntimeEvent) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener (a closed SSE stream, a test) must never disturb posting.
        this.onListenerError(error);
      }
    }
  }
}
