/**
 * Everything the runtime asks of Telegram, behind one interface with two implementations: the real one on
 * mtcute and the sandbox. A gateway never throws for a Telegram answer: it reports `TelegramAnswer` and
 * `src/core/outcome.ts` classifies it. Throwing is for bugs and for "this gateway cannot work at all".
 */
import type { GroupFactsRead } from '../core/group-facts.js';
import type { GroupTarget } from '../core/group-targets.js';
import type { SessionDriver } from '../core/model.js';
import type { TelegramAnswer } from '../core/outcome.js';
import type { PostRef } from '../core/post-link.js';

export interface SessionHandle {
  id: string;
  driver: SessionDriver;
}

export interface ForwardRequest {
  session: SessionHandle;
  source: PostRef;
  target: GroupTarget;
  /** Signed 64-bit, fixed at planning time; the same on every retry so Telegram can deduplicate. */
  randomId: bigint;
  /**
   * The source chat's messages to forward, in order (an album: all of it); without it, `source.messageId` alone.
   * `randomIds` has one random_id per message (the first is `randomId`); both fixed at planning.
   */
  messageIds?: readonly number[];
  randomIds?: readonly bigint[];
  silent: boolean;
  /** Forward without the "Forwarded from" header (`drop_author`). */
  hideSender: boolean;
  /** Diagnostics the sandbox records beside a delivery (bot, post, worker, lease epoch). Telegram never sees it. */
  trace?: Readonly<Record<string, string>>;
}

/** The messages of a forward, each with its random_id: `messageIds` and `randomIds` paired, or the one message. */
export function forwardedMessages(request: ForwardRequest): { messageId: number; randomId: bigint }[] {
  const ids = request.messageIds ?? [request.source.messageId];
  const randomIds = request.randomIds ?? [request.randomId];
  // A planning bug, never a Telegram answer: each message needs its own random_id for exactly-once.
  if (ids.length === 0 || ids.length !== randomIds.length || randomIds[0] !== request.randomId) {
    throw new RangeError(
      `a forward of ${ids.length} message(s) with ${randomIds.length} random_id(s) (the first must be randomId)`,
    );
  }
  return ids.map((messageId, i) => ({ messageId, randomId: randomIds[i]! }));
}

/**
 * A read of the source post: the answer (as `checkSource`'s) and, when it is ok, the post's message ids in order —
 * all of its album when it is one of one (same `grouped_id`), else the post's own id.
 */
export interface SourceRead {
  answer: TelegramAnswer;
  messageIds: number[];
}

/**
 * What a session knows about one group, as read (src/core/group-facts.ts keeps the fields: membership, rights, slow
 * mode, paid messages, a topic's state, the public name); null: not known. `error`: why the check failed.
 */
export type PreflightRow = GroupFactsRead;

export interface PreflightReport {
  source: { ok: boolean; error: string | null };
  rows: PreflightRow[];
}

export interface Gateway {
  /** Is the source post there and forwardable? One call per session per cycle, before its first forward. */
  checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer>;
  /** `checkSource`, and which messages make up the post (its album): read once when a cycle is planned. */
  readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead>;
  /** Forward one post (all its messages) to one target with the given random_ids. */
  forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer>;
  /** For each (session, group): membership, write permission, slow mode; and whether the source is forwardable. */
  preflight(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport>;
  /**
   * One session's facts about its targets (a row per target, in their order), read one after another: a dead key
   * or a limit ends the reads, and the targets not read carry that error (nothing is retried through a limit). An
   * abort ends them too; then only the targets read are answered.
   */
  groupFacts(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    signal?: AbortSignal,
  ): Promise<PreflightRow[]>;
  /** Close this session's connection (its bot stopped, or the lease was lost). Idempotent. */
  release(sessionId: string): Promise<void>;
  /** Close everything. Idempotent. */
  close(): Promise<void>;
}

/** Sends each call to the gateway of the session's driver, so sandbox and real sessions live side by side. */
export class GatewayRouter implements Gateway {
  private readonly drivers: Partial<Record<SessionDriver, Gateway>>;
  private readonly sessionDrivers = new Map<string, SessionDriver>();

  constructor(drivers: Partial<Record<SessionDriver, Gateway>>) {
    this.drivers = drivers;
  }

  private pick(session: SessionHandle): Gateway {
    this.sessionDrivers.set(session.id, session.driver);
    const gateway = this.drivers[session.driver];
    if (!gateway) throw new Error(`no gateway for session driver "${session.driver}"`);
    return gateway;
  }

  checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.pick(session).checkSource(session, source, signal);
  }

  readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    return this.pick(session).readSource(session, source, signal);
  }

  forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.pick(request.session).forward(request, signal);
  }

  groupFacts(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    signal?: AbortSignal,
  ): Promise<PreflightRow[]> {
    return this.pick(session).groupFacts(session, targets, signal);
  }

  async preflight(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport> {
    const byDriver = new Map<SessionDriver, SessionHandle[]>();
    for (const s of sessions) {
      // Remembered for every session: `release` must find the client a preflight opened for any of them.
      this.sessionDrivers.set(s.id, s.driver);
      byDriver.set(s.driver, [...(byDriver.get(s.driver) ?? []), s]);
    }
    const reports = await Promise.all(
      [...byDriver].map(([driver, list]) =>
        this.pick({ id: list[0]!.id, driver }).preflight(list, targets, source),
      ),
    );
    const failed = reports.find((r) => !r.source.ok);
    return {
      source: failed ? failed.source : (reports[0]?.source ?? { ok: source !== null, error: null }),
      rows: reports.flatMap((r) => r.rows),
    };
  }

  async release(sessionId: string): Promise<void> {
    const driver = this.sessionDrivers.get(sessionId);
    if (driver) await this.drivers[driver]?.release(sessionId);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.drivers).map((g) => g?.close()));
  }
}
