/**
 * Executes one planned cycle: one lane per session, each sending its posts in order at their planned times, and
 * a reaction to every outcome (notes/telegram-errors.md). It never throws on a Telegram answer and never stops at
 * the first failure: every post ends with a result.
 *
 * Timing rules it keeps, whatever happens:
 * - a session never calls forward twice closer than `delay_between_posts` (retries and hand-offs included), but
 *   for the little a late lane may catch up by to get back on its plan (core/lane-pacing.ts);
 * - the per-group guard (min group gap, slow mode) holds across all sessions of the bot;
 * - a post the group's facts forbid (paid messages, a closed topic, no right to write) is never sent: it is
 *   skipped, or in enterprise mode handed to a session the facts allow (core/group-facts.ts);
 * - no post is sent after the cycle's deadline (the next cycle's turn).
 */
import { messagesToForward } from '../core/album.js';
import { decideByFacts } from '../core/group-facts.js';
import { groupSpacing } from '../core/group-spacing.js';
import { parseGroupTarget, type GroupTarget } from '../core/group-targets.js';
import { laneCallAt, nextCall, type LanePacing } from '../core/lane-pacing.js';
import {
  FINAL_POST_STATUSES,
  type BotSnapshot,
  type CounterDelta,
  type CycleRecord,
  type PostRecord,
  type PostStatus,
  type SessionInfo,
} from '../core/model.js';
import { classifyAnswer, type Outcome, type TelegramAnswer } from '../core/outcome.js';
import { react, type Effect } from '../core/reaction.js';
import { connectedBy } from '../core/reachability.js';
import {
  isLimitedAt,
  pauseOverBy,
  sessionStateAt,
  unavailableReason,
  usableAt,
} from '../core/session-state.js';
import type { PostRef } from '../core/post-link.js';
import type { Gateway } from '../telegram/gateway.js';
import type { Logger } from '../logger.js';
import { pairKey, type BotState } from './bot-state.js';
import { sleepUntil, type Clock } from './clock.js';
import type { GuardReservation } from './group-guard.js';
import { recordFinal } from './post-results.js';
import type { RuntimeOptions } from './options.js';
import type { WriteBatcher } from './write-batcher.js';

export interface CycleDeps {
  clock: Clock;
  gateway: Gateway;
  batcher: WriteBatcher;
  options: RuntimeOptions;
  logger: Logger;
}

export interface CycleInput {
  bot: BotSnapshot;
  cycle: CycleRecord;
  posts: PostRecord[];
  source: PostRef;
  /** Sessions that cannot read the source this cycle (the source check), with Telegram's answer. */
  sourceUnreachable: ReadonlyMap<string, string>;
  state: BotState;
  /** Aborts on any stop of the bot. */
  signal: AbortSignal;
  /** Set when this cycle is resumed after a restart: posts due before it that can no longer be sent are `missed`. */
  resumedAt: number | null;
  /** Recorded by the sandbox beside each delivery (worker id, lease epoch). */
  trace: Readonly<Record<string, string>>;
}

export type CycleEnd =
  | { status: 'finished' }
  | { status: 'aborted'; reason: string; error: string | null }
  /** Stopped from outside (stop, shutdown) or the lease was lost: `pending` posts were not touched. */
  | { status: 'interrupted'; fenced: boolean; pending: PostRecord[] };

interface Lane {
  sessionId: string;
  queue: PostRecord[];
  running: boolean;
  holdsSlot: boolean;
}

/** What a lane does next; a number: sleep until then (ms on the clock), then take the same post again. */
type Step = 'done' | 'again' | 'lane_over' | 'halt' | number;

export class CycleExecution {
  private readonly lanes = new Map<string, Lane>();
  private readonly running = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private halt: { kind: 'aborted'; reason: string; error: string | null } | { kind: 'fenced' } | null = null;
  private failure: unknown = null;
  private readonly reservations = new Map<string, GuardReservation>();
  private readonly notBefore = new Map<string, number>();
  /**
   * The end of a wait the rules made a post's call take beyond its lane's schedule (the group guard, a permit):
   * the call's place on the schedule moves there.
   */
  private readonly waitedUntil = new Map<string, number>();
  private readonly bannedIn = new Map<string, Set<string>>();
  private readonly targets = new Map<string, GroupTarget>();
  /** Known for the rest of the cycle: from the source check, or from a forward that could not read the source. */
  private readonly sourceUnreachable: Map<string, string>;
  private readonly delayMs: number;
  private readonly pacing: LanePacing;
  private readonly signal: AbortSignal;

  constructor(
    private readonly deps: CycleDeps,
    private readonly input: CycleInput,
  ) {
    this.delayMs = input.bot.settings.delayBetweenPosts * 1000;
    this.pacing = {
      delayMs: this.delayMs,
      catchUpShare: deps.options.laneCatchUpShare,
      catchUpLimitMs: deps.options.laneCatchUpLimitMs,
    };
    this.sourceUnreachable = new Map(input.sourceUnreachable);
    this.signal = this.controller.signal;
    if (input.signal.aborted) this.controller.abort();
    else input.signal.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  async run(): Promise<CycleEnd> {
    for (const post of this.input.posts) {
      if (!FINAL_POST_STATUSES.has(post.status)) this.lane(post.sessionId).queue.push(post);
    }
    // A session that cannot read the source posts nothing: its posts go to sessions that can, as a dead one's.
    for (const lane of [...this.lanes.values()]) {
      const error = this.sourceUnreachable.get(lane.sessionId);
      if (error !== undefined) await this.endLane(lane, 'source_unreachable', error);
    }
    for (const lane of this.lanes.values()) this.startLane(lane);
    while (this.running.size > 0) await Promise.all([...this.running]);
    if (this.failure) throw this.failure;

    const pending = this.input.posts.filter((p) => !FINAL_POST_STATUSES.has(p.status));
    if (this.halt?.kind === 'aborted') {
      const error = this.halt.error;
      await Promise.all(pending.map((post) => this.finish(post, 'cancelled', 'source_invalid', error)));
      return { status: 'aborted', reason: this.halt.reason, error: this.halt.error };
    }
    if (this.halt?.kind === 'fenced' || this.input.signal.aborted) {
      return { status: 'interrupted', fenced: this.halt?.kind === 'fenced', pending };
    }
    return { status: 'finished' };
  }

  private lane(sessionId: string): Lane {
    let lane = this.lanes.get(sessionId);
    if (!lane) {
      lane = { sessionId, queue: [], running: false, holdsSlot: false };
      this.lanes.set(sessionId, lane);
    }
    return lane;
  }

  private startLane(lane: Lane): void {
    if (lane.running || lane.queue.length === 0 || this.signal.aborted) return;
    lane.running = true;
    const done: Promise<void> = this.runLane(lane)
      .catch((error: unknown) => {
        // A storage failure: stop every lane; the runner restarts the bot and resumes from the database.
        this.failure ??= error;
        this.controller.abort();
      })
      .finally(() => {
        lane.running = false;
        if (lane.holdsSlot) {
          lane.holdsSlot = false;
          this.input.state.slots.release();
        }
        this.running.delete(done);
      });
    this.running.add(done);
  }

  private async runLane(lane: Lane): Promise<void> {
    while (lane.queue.length > 0 && !this.signal.aborted) {
      const step = await this.step(lane, lane.queue[0]!);
      if (typeof step === 'number') {
        // The lane sleeps here, not inside the step: what stays alive until the post is due (and so outlives the
        // young generation, to be collected by a major GC) is one sleep, not every frame of the decision.
        if (!(await sleepUntil(this.deps.clock, step, this.signal))) return;
      } else if (step === 'done') lane.queue.shift();
      else if (step === 'lane_over' || step === 'halt') return;
    }
  }

  /** Decides what to do with the lane's next post: wait, skip, hand over, or send. */
  private async step(lane: Lane, post: PostRecord): Promise<Step> {
    const { clock } = this.deps;
    const { bot, cycle, state } = this.input;
    let session = state.session(lane.sessionId);
    // A pause that ended is written down first (rare: most posts find their session active).
    if (session && pauseOverBy(session, clock.now())) session = await state.refreshCooldown(lane.sessionId);
    if (!session) return this.endLane(lane, 'session_removed', null);
    // Dead, or frozen by Telegram (core/session-state.ts): nothing more is sent from it.
    const effective = sessionStateAt(session, clock.now());
    if (effective.status === 'dead')
      return this.endLane(lane, unavailableReason(effective), effective.statusReason);
    if (isLimitedAt(session, clock.now()))
      return this.skipLane(lane, 'session_limited', session.statusReason);

    const now = clock.now();
    const retrying = post.status === 'sending';
    const pair = state.pairs.get(pairKey(session.id, post.groupKey));
    if (!retrying && pair) {
      if (pair.skipThroughCycle !== null && pair.skipThroughCycle >= cycle.number) {
        return this.finish(post, 'skipped', 'unknown_repeated', pair.lastError);
      }
      if (pair.parkedUntil !== null && pair.parkedUntil > now) {
        return this.finish(post, 'skipped', pair.parkedReason ?? 'pair_parked', pair.lastError);
      }
      if (pair.cooldownUntil !== null && pair.cooldownUntil > now) {
        return this.finish(post, 'skipped', 'slowmode', pair.lastError);
      }
    }
    if (!retrying) {
      // What is known of the group before posting: a post the facts forbid is never sent.
      const facts = decideByFacts({
        mode: cycle.mode,
        sessionId: session.id,
        groupKey: post.groupKey,
        candidates: this.healthyIds,
        facts: state.factsOf,
      });
      if (facts.kind === 'skip') return this.finish(post, 'skipped', facts.reason, facts.error);
      if (facts.kind === 'hand_over') return this.handOver(post, facts.to, facts.reason, facts.error);
    }

    // Due at its planned time, or when a rule lets it go (a retry's backoff, the end of a FLOOD_WAIT).
    let due = Math.max(post.plannedAt, this.notBefore.get(post.id) ?? Number.NEGATIVE_INFINITY);
    if (session.status === 'paused') {
      const until = session.cooldownUntil ?? Number.POSITIVE_INFINITY;
      const limit = cycle.mode === 'enterprise' ? cycle.expectedEndAt : cycle.deadlineAt;
      if (until > limit)
        return this.endLane(lane, unavailableReason(sessionStateAt(session, now)), session.statusReason);
      due = Math.max(due, until);
      // Waiting out a FLOOD_WAIT moves the call's place: once the pause is over (and forgotten), the lane must not
      // count that wait as lateness to make up — no shorter spacing right after Telegram asked for a wait.
      this.waitedUntil.set(post.id, Math.max(this.waitedUntil.get(post.id) ?? until, until));
      if (lane.holdsSlot) {
        // Waiting out a FLOOD_WAIT must not keep another session from posting.
        lane.holdsSlot = false;
        state.slots.release();
      }
    }
    // The session's spacing, and its lane's way back to its schedule when it is late (core/lane-pacing.ts).
    const pace = nextCall(state.lastCall.get(session.id) ?? null, due, this.pacing);
    const at = pace.at;
    if (Math.max(at, now) > cycle.deadlineAt) return this.late(post);
    if (at > now) return at;

    if (!retrying && !this.reservations.has(post.id)) {
      const spacing = groupSpacing({
        lastPostAt: state.guard.lastAt(post.groupKey),
        minGapSeconds: bot.settings.minGroupGapSeconds,
        slowmodeSeconds: state.guard.slowmodeOf(post.groupKey),
        now,
        deadlineAt: cycle.deadlineAt,
      });
      if (spacing.kind === 'skip') return this.finish(post, 'skipped', spacing.reason, null);
      if (spacing.kind === 'wait') {
        // Waiting keeps the session's order; the call's place moves to the group's turn.
        this.waitedUntil.set(post.id, spacing.until);
        return spacing.until;
      }
    }

    if (!lane.holdsSlot) {
      if (!(await state.slots.acquire(this.signal))) return 'halt';
      lane.holdsSlot = true;
      if (clock.now() > now) {
        // Waiting for a permit is a scheduling decision: the call's place moves to when the permit came.
        this.waitedUntil.set(post.id, clock.now());
        return 'again';
      }
    }
    const waited = this.waitedUntil.get(post.id) ?? Number.NEGATIVE_INFINITY;
    return this.send(lane, session, post, Math.max(pace.target, waited));
  }

  private target(groupKey: string): GroupTarget | null {
    let target = this.targets.get(groupKey);
    if (!target) {
      try {
        target = parseGroupTarget(groupKey);
      } catch {
        return null;
      }
      this.targets.set(groupKey, target);
    }
    return target;
  }

  /** Calls forward for the post; `place` is the call's place on the lane's schedule. */
  private async send(lane: Lane, session: SessionInfo, post: PostRecord, place: number): Promise<Step> {
    const { clock, gateway, batcher, logger } = this.deps;
    const { state, bot } = this.input;
    const now = clock.now();
    const target = this.target(post.groupKey);
    if (!target) return this.finish(post, 'failed', 'invalid_target', null);
    const reservation = this.reservations.get(post.id) ?? state.guard.reserve(post.groupKey, now);
    this.reservations.set(post.id, reservation);
    const attempts = post.attempts + 1;
    if (!(await state.stillHoldsLease(this.signal))) return this.notOurs(post);
    const marked = await batcher.markSending({
      postId: post.id,
      botId: bot.id,
      attempts,
      fence: state.fence,
    });
    // Our own deadline is checked again just before the call: a process paused past it does not post until a
    // renewal says the lease is still its own (then nobody can have taken the bot over meanwhile).
    if (!marked || !(await state.stillHoldsLease(this.signal))) return this.notOurs(post);
    post.status = 'sending';
    post.attempts = attempts;
    const call = laneCallAt(place, now, this.pacing);
    // Updated in place: a new record per post would live until the next post and end as old-generation garbage.
    const last = state.lastCall.get(session.id);
    if (last) {
      last.target = call.target;
      last.actual = call.actual;
    } else state.lastCall.set(session.id, call);

    // Every message of the post (an album: all of it), with the random_ids fixed at planning — the same on a retry.
    const messages = messagesToForward(this.input.cycle.source, this.input.source, post.randomIds);
    let answer: TelegramAnswer;
    try {
      // The signal ends only a wait for the session's connection (nothing is on the wire yet): a post on the wire
      // finishes; a stop cancels only what has not started.
      answer = await gateway.forward(
        {
          session: { id: session.id, driver: session.driver },
          source: this.input.source,
          target,
          randomId: BigInt(post.randomId),
          messageIds: messages.messageIds,
          randomIds: messages.randomIds.map((id) => BigInt(id)),
          silent: bot.settings.silent,
          hideSender: bot.settings.hideSender,
          trace: { ...this.input.trace, botId: bot.id, cycleId: post.cycleId, postId: post.id },
        },
        this.signal,
      );
    } catch (error) {
      logger.error(
        { err: error, botId: bot.id, postId: post.id },
        'gateway threw; treated as a network error',
      );
      answer = { ok: false, error: 'NETWORK_ERROR' };
    }
    const outcome = classifyAnswer(answer, 'forward');
    // Stopped while the call waited for a connection or an answer: nothing is known of this try, so the stop
    // decides (the post is cancelled, or resumed with the same random_id); it is not failed for the stop.
    if (outcome.kind === 'transient' && this.signal.aborted) return 'halt';
    if (connectedBy(outcome)) await state.connected(session.id);
    return this.react(lane, session, post, outcome);
  }

  /** Applies the core's reaction to one answer (core/reaction.ts), in its order; decides nothing itself. */
  private async react(lane: Lane, session: SessionInfo, post: PostRecord, outcome: Outcome): Promise<Step> {
    const { state, cycle } = this.input;
    const reaction = react(outcome, {
      now: this.deps.clock.now(),
      attempts: post.attempts,
      delayMs: this.delayMs,
      cycleNumber: cycle.number,
      sessionId: session.id,
      groupKey: post.groupKey,
      pair: state.pairs.get(pairKey(session.id, post.groupKey)) ?? null,
      bannedIn: this.bannedIn.get(session.id) ?? new Set(),
      policy: this.deps.options,
    });
    for (const effect of reaction.effects) await this.apply(session, post, effect);
    const next = reaction.lane;
    switch (next.kind) {
      case 'next':
        return 'done';
      case 'again':
        return 'again';
      case 'skip_rest':
        lane.queue.shift();
        return this.skipLane(lane, next.reason, next.error);
      case 'end':
        return this.endLane(lane, next.reason, next.error);
      case 'halt':
        return 'halt';
    }
  }

  private async apply(session: SessionInfo, post: PostRecord, effect: Effect): Promise<void> {
    const { state } = this.input;
    switch (effect.type) {
      case 'guard':
        if (effect.action === 'release') this.releaseGuard(post);
        else this.reservations.delete(post.id);
        return;
      case 'save_pair':
        state.pairs.set(pairKey(effect.pair.sessionId, effect.pair.groupKey), effect.pair);
        return state.savePair(effect.pair);
      case 'learn_slowmode':
        return state.learnSlowmode(post.groupKey, effect.seconds);
      case 'finish':
        await this.finish(
          post,
          effect.status,
          effect.reason,
          effect.error,
          effect.sentAt,
          effect.sentMessageIds,
        );
        return;
      case 'retry':
        this.notBefore.set(post.id, effect.notBefore);
        post.error = effect.error;
        return;
      case 'put_back':
        return this.putBack(post, effect.error, effect.floodWait ? { floodWaits: 1 } : undefined);
      case 'pause_session':
        await state.pause(session.id, effect.seconds, effect.reason, effect.error);
        return;
      case 'retire_session':
        return state.retire(session.id, effect.reason, effect.error);
      case 'connect_failed':
        return state.connectFailed(session.id, effect.error);
      case 'note_banned': {
        const groups = this.bannedIn.get(session.id) ?? new Set<string>();
        groups.add(post.groupKey);
        this.bannedIn.set(session.id, groups);
        return;
      }
      case 'note_source_unreachable':
        this.sourceUnreachable.set(session.id, effect.error);
        return;
      case 'halt_cycle':
        this.halt ??= { kind: 'aborted', reason: effect.reason, error: effect.error };
        this.controller.abort();
        return;
    }
  }

  /**
   * This process lost the right to run the bot (the lease moved on, or our deadline passed). Nothing more is
   * sent or written for it here: the new owner resumes from the store (a post marked `sending` is retried there
   * with the same random_id).
   */
  private fenced(post: PostRecord): Step {
    this.releaseGuard(post);
    this.halt = { kind: 'fenced' };
    this.controller.abort();
    return 'halt';
  }

  /** The lease did not hold: fenced — unless the bot is being stopped here anyway (the stop decides, as ever). */
  private notOurs(post: PostRecord): Step {
    if (!this.signal.aborted) return this.fenced(post);
    this.releaseGuard(post);
    return 'halt';
  }

  private releaseGuard(post: PostRecord): void {
    const reservation = this.reservations.get(post.id);
    if (reservation) this.input.state.guard.release(reservation);
    this.reservations.delete(post.id);
  }

  /** A post that cannot be sent before the deadline: missed if it was due while we were down, else not attempted. */
  private late(post: PostRecord): Promise<Step> {
    const { resumedAt } = this.input;
    const missed = resumedAt !== null && post.plannedAt < resumedAt;
    return this.finish(post, missed ? 'missed' : 'not_attempted', missed ? 'missed' : 'cycle_deadline', null);
  }

  /**
   * The session cannot go on this cycle. Enterprise hands its remaining groups to healthy sessions (each still
   * posted once); starter skips them (the other sessions post to every group anyway).
   */
  private async endLane(lane: Lane, reason: string, error: string | null): Promise<Step> {
    const rest = lane.queue.splice(0);
    if (this.input.cycle.mode !== 'enterprise') {
      for (const post of rest) await this.giveUp(post, reason, error);
      return 'lane_over';
    }
    const healthy = this.healthy(lane.sessionId);
    if (healthy.length === 0) {
      for (const post of rest) await this.giveUp(post, reason, error);
      return 'lane_over';
    }
    const touched = new Set<Lane>();
    for (const post of rest) {
      if (post.status === 'sending') {
        // Its fate is unknown (a crash between the call and the answer): another account must not post it too.
        await this.finish(post, 'failed', reason, error ?? 'DELIVERY_UNKNOWN');
        continue;
      }
      touched.add(
        await this.moveTo(
          post,
          healthy.map((s) => s.id),
          reason,
          error,
        ),
      );
    }
    for (const target of touched) this.startLane(target);
    return 'lane_over';
  }

  /** The ids of `healthy(excluding)`, for the facts' decision (one function for the cycle, not one a post). */
  private readonly healthyIds = (excluding: string): string[] => this.healthy(excluding).map((s) => s.id);

  /**
   * Healthy sessions other than `excluding`: alive, not limited, able to read the source, and free again before
   * the cycle is due to end (a short FLOOD_WAIT is fine).
   */
  private healthy(excluding: string): SessionInfo[] {
    const { state, bot, cycle } = this.input;
    return bot.sessions
      .map((s) => state.session(s.id))
      .filter(
        (s): s is SessionInfo =>
          s !== undefined &&
          s.id !== excluding &&
          !this.sourceUnreachable.has(s.id) &&
          !isLimitedAt(s, this.deps.clock.now()) &&
          usableAt(s, cycle.expectedEndAt),
      );
  }

  /**
   * Gives a post to the lane with the least to do among these sessions' (a hand-off); returns that lane. `reason`
   * and `error` say why its session could not post it (the post's words for that, had it been skipped).
   */
  private async moveTo(
    post: PostRecord,
    sessionIds: readonly string[],
    reason: string,
    error: string | null,
  ): Promise<Lane> {
    let target = this.lane(sessionIds[0]!);
    for (const id of sessionIds) {
      const candidate = this.lane(id);
      if (candidate.queue.length < target.queue.length) target = candidate;
    }
    const from = post.sessionId;
    post.sessionId = target.sessionId;
    // Timing chosen for the old lane does not hold in the new one.
    this.notBefore.delete(post.id);
    this.waitedUntil.delete(post.id);
    await this.deps.batcher.writeResult(
      { postId: post.id, botId: post.botId, sessionId: target.sessionId },
      undefined,
      this.input.state.fence,
    );
    this.input.state.emit({
      type: 'post.handed_off',
      cycleId: post.cycleId,
      postId: post.id,
      groupKey: post.groupKey,
      fromSessionId: from,
      toSessionId: target.sessionId,
      reason,
      error,
    });
    target.queue.push(post);
    return target;
  }

  /**
   * The facts say this session may not post there, but these may (enterprise): the post goes to one of them. The
   * lane is done with it ('done' takes it off this lane's queue).
   */
  private async handOver(
    post: PostRecord,
    sessionIds: readonly string[],
    reason: string,
    error: string | null,
  ): Promise<Step> {
    this.startLane(await this.moveTo(post, sessionIds, reason, error));
    return 'done';
  }

  private async skipLane(lane: Lane, reason: string, error: string | null): Promise<Step> {
    for (const post of lane.queue.splice(0)) await this.giveUp(post, reason, error);
    return 'lane_over';
  }

  private giveUp(post: PostRecord, reason: string, error: string | null): Promise<Step> {
    return post.status === 'sending'
      ? this.finish(post, 'failed', reason, error ?? 'DELIVERY_UNKNOWN')
      : this.finish(post, 'skipped', reason, error);
  }

  private async putBack(post: PostRecord, error: string, counters?: CounterDelta): Promise<void> {
    post.status = 'planned';
    post.error = error;
    await this.deps.batcher.writeResult(
      { postId: post.id, botId: post.botId, status: 'planned', error },
      counters,
      this.input.state.fence,
    );
  }

  /** Records a post's final result (one batched write) and tells the event stream. */
  async finish(
    post: PostRecord,
    status: PostStatus,
    reason: string | null,
    error: string | null,
    sentAt: number | null = null,
    sentMessageIds: readonly number[] = [],
  ): Promise<'done'> {
    this.notBefore.delete(post.id);
    this.waitedUntil.delete(post.id);
    await recordFinal(
      { batcher: this.deps.batcher, state: this.input.state },
      post,
      status,
      reason,
      error,
      sentAt,
      sentMessageIds,
    );
    return 'done';
  }
}
