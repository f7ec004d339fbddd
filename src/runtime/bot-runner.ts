/**
 * Runs one bot: at most one cycle at a time (the original's per-user lock), cycle after cycle, until stopped.
 * Starter cycles are anchored (`anchor + k*T`); enterprise cycles start `delay_between_cycles` after the previous
 * one completed. A cycle found `running` in the store (after a crash, a restart or a takeover) is resumed first.
 */
import { sourceReadStep, type SourcePost } from '../core/album.js';
import { isStaggerError } from '../core/errors.js';
import {
  FINAL_POST_STATUSES,
  type BotSnapshot,
  type CycleRecord,
  type PostRecord,
  type PostStatus,
  type SessionInfo,
} from '../core/model.js';
import { classifyAnswer, type Outcome, type TelegramAnswer } from '../core/outcome.js';
import { modeOrDefault, planCycle, type ExecutionMode, type Plan } from '../core/plan.js';
import { connectedBy } from '../core/reachability.js';
import { readiness, type Readiness } from '../core/readiness.js';
import { sessionStateAt } from '../core/session-state.js';
import { nextCycleStart, scheduleInputOf } from '../core/schedule.js';
import { parsePostLink, type PostRef } from '../core/post-link.js';
import { judgeSourceAccess, type SourceAccess, type SourceCheckResult } from '../core/source-access.js';
import type { Logger } from '../logger.js';
import { BotState } from './bot-state.js';
import { sleepUntil } from './clock.js';
import { recordFinal } from './post-results.js';
import { CycleExecution, type CycleDeps } from './cycle-execution.js';
import { anyFactsDue } from '../core/group-facts.js';
import { refreshGroupFacts } from './group-facts-refresh.js';
import type { Turns } from './turns.js';
import type { EventBus } from './events.js';
import type { RandomSource } from './random.js';
import type { Lease } from './lease.js';
import type { NewPost, RuntimeStore } from './store.js';

export interface RunnerDeps extends CycleDeps {
  store: RuntimeStore;
  events: EventBus;
  random: RandomSource;
  logger: Logger;
  /** One bot's burst of work (loading, planning) a turn of the event loop (turns.ts). */
  turns: Turns;
}

/** `cancel`: a customer's stop — the rest of the cycle is cancelled. `suspend`: shutdown or hand-over — the
 * cycle stays `running` in the store and is resumed by whoever runs the bot next. */
export type StopMode = 'cancel' | 'suspend';

export type RunnerExit = 'stopped' | 'desired_stopped' | 'deleted' | 'fenced';

/** A cycle's plan, with the sessions usable at its start. */
/** The sessions' states in one string, to tell whether a call changed any. */
function sessionStates(sessions: readonly SessionInfo[]): string {
  return sessions.map((s) => `${s.id}:${s.status}:${s.cooldownUntil ?? ''}`).join(' ');
}

interface CyclePlan {
  ok: true;
  sessions: SessionInfo[];
  mode: ExecutionMode;
  plan: Plan<SessionInfo, string>;
}

interface NextStart {
  at: number;
  slot: number | null;
  /** The slot's start has passed (we were not running): posts due before now that cannot be sent are missed. */
  late: boolean;
  /** The number the cycle gets (after any skipped slot recorded on the way). */
  number: number;
}

const handleOf = (session: SessionInfo) => ({ id: session.id, driver: session.driver });

export class BotRunner {
  readonly botId: string;
  private readonly deps: RunnerDeps;
  private readonly lease: Lease | null;
  private readonly controller = new AbortController();
  private stopMode: StopMode = 'suspend';
  private state: BotState | null = null;
  private attentionMessage: string | null = null;
  private readonly sourceCooldown = new Map<string, number>();
  private done: Promise<RunnerExit> | null = null;
  /** When this runner began (a cycle that ended late because we were down did not overrun). */
  private startedAt = 0;

  constructor(deps: RunnerDeps, botId: string, lease: Lease | null) {
    this.deps = deps;
    this.botId = botId;
    this.lease = lease;
  }

  /** The sessions this runner used (to close their connections when it ends). */
  sessionIds(): string[] {
    return this.state ? [...this.state.sessions.keys()] : [];
  }

  start(): Promise<RunnerExit> {
    this.done ??= this.loop();
    return this.done;
  }

  /** Ends the runner: waits only for the call on the wire. Idempotent; a `cancel` wins over a `suspend`. */
  async stop(mode: StopMode): Promise<void> {
    if (mode === 'cancel') this.stopMode = 'cancel';
    this.controller.abort();
    await this.done?.catch(() => undefined);
  }

  private get st(): BotState {
    if (!this.state) throw new Error('bot runner used before it loaded its state');
    return this.state;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async loop(): Promise<RunnerExit> {
    const { store, clock } = this.deps;
    this.startedAt = clock.now();
    const signal = this.controller.signal;
    // Loading and planning take turns with every other bot's (turns.ts): a restart of a thousand bots is no
    // seconds-long stretch without a timer. Loading is due at once.
    await this.deps.turns.next(this.startedAt);
    const first = await store.loadBot(this.botId);
    if (!first) return 'deleted';
    const state = new BotState(this.botId, first.userId, this.deps, this.lease);
    this.state = state;
    await this.deps.turns.next(this.startedAt);
    await state.load(first);
    state.emit({ type: 'bot.started' });
    let exit: RunnerExit = 'stopped';
    let snapshot: BotSnapshot | null = first;
    try {
      while (!signal.aborted) {
        // The configuration is read afresh for every cycle (the first time, it was just read).
        const bot = snapshot ?? (await store.loadBot(this.botId));
        snapshot = null;
        if (!bot) return (exit = 'deleted');
        if (bot.desiredState !== 'running') return (exit = 'desired_stopped');
        state.userId = bot.userId;
        state.refreshSessions(bot.sessions);

        let active = await store.getActiveCycle(this.botId);
        let resumedAt: number | null = active ? clock.now() : null;
        if (!active) {
          const last = await store.getLastCycle(this.botId);
          const next = await this.nextStart(bot, last);
          if (next === null) {
            if (!(await clock.sleep(this.deps.options.recheckSeconds * 1000, signal))) break;
            continue;
          }
          // Plan ahead of the start, so that planning and the source check do not make the first posts late.
          const planAt = next.at - this.deps.options.planningLeadMs;
          if (planAt > clock.now()) {
            // Facts due by then are read while waiting, so that reading them does not make the cycle late.
            await this.readFactsAhead(bot, next);
            if (!(await sleepUntil(clock, planAt, signal))) break;
            continue; // configuration may have changed while waiting: take it again
          }
          active = await this.planNext(bot, next);
          if (!active) {
            if (!(await clock.sleep(this.deps.options.recheckSeconds * 1000, signal))) break;
            continue;
          }
          if (next.late) resumedAt = clock.now();
        }
        const end = await this.execute(bot, active.cycle, active.posts, resumedAt);
        if (end === 'fenced') return (exit = 'fenced');
      }
      return exit;
    } finally {
      await this.deps.batcher.drain();
      state.emit({ type: 'bot.stopped', reason: signal.aborted ? `stop:${this.stopMode}` : exit });
    }
  }

  /**
   * When the next cycle starts (core/schedule.ts decides), or null when the configuration cannot run (reported as
   * needing attention). What the rule returns to keep — a new anchor, skipped slots — is written here.
   */
  private async nextStart(bot: BotSnapshot, last: CycleRecord | null): Promise<NextStart | null> {
    const { store, clock, options } = this.deps;
    const now = clock.now();
    const next = nextCycleStart(
      scheduleInputOf(bot, {
        last,
        runnerStartedAt: this.startedAt,
        now,
        planningLeadMs: options.planningLeadMs,
        lateStartGraceMs: options.lateStartGraceMs,
      }),
    );
    if (!next.ok) {
      await this.attention(next.reason, next.message);
      return null;
    }
    if (next.newAnchor) {
      await store.updateBotRuntime(this.botId, {
        anchorAt: next.newAnchor.at,
        anchorCycleSeconds: next.newAnchor.cycleSeconds,
      });
    }
    if (next.skipped) {
      const { skipped } = next;
      await store.createCycle(
        {
          botId: this.botId,
          number: skipped.number,
          mode: 'starter',
          slot: skipped.slot,
          cycleSeconds: bot.totalCycleMinutes! * 60,
          plannedStartAt: skipped.plannedStartAt,
          deadlineAt: skipped.plannedStartAt,
          expectedEndAt: skipped.plannedStartAt,
          finishedAt: now,
          status: 'skipped',
          reason: `${skipped.reason}: ${skipped.slots} slot(s) skipped`,
          warnings: [],
        },
        [],
      );
      this.st.emit({
        type: 'cycle.skipped',
        number: skipped.number,
        slots: skipped.slots,
        reason: skipped.reason,
        plannedStartAt: skipped.plannedStartAt,
      });
    }
    if (next.late && next.slot !== null) {
      this.st.emit({
        type: 'alert',
        level: 'warning',
        message: `cycle slot ${next.slot} started ${Math.round((now - next.at) / 1000)} s late (Stagger was not running)`,
      });
    }
    return { at: next.at, slot: next.slot, late: next.late, number: next.number };
  }

  private async attention(reason: string, message: string): Promise<void> {
    if (this.attentionMessage === message) return;
    this.attentionMessage = message;
    await this.deps.store.updateBotRuntime(this.botId, { needsAttention: true, lastError: message });
    this.st.emit({ type: 'bot.attention', reason, message });
  }

  private async clearAttention(): Promise<void> {
    if (this.attentionMessage === null) return;
    this.attentionMessage = null;
    await this.deps.store.updateBotRuntime(this.botId, { needsAttention: false });
  }

  private source(bot: BotSnapshot): PostRef | null {
    if (!bot.postLink) return null;
    try {
      return parsePostLink(bot.postLink);
    } catch (error) {
      if (isStaggerError(error)) return null;
      throw error;
    }
  }

  /** The cycle's plan with the sessions usable at its start, or why the bot cannot run. */
  private planAt(bot: BotSnapshot, at: number): CyclePlan | Extract<Readiness<SessionInfo>, { ok: false }> {
    const st = this.st;
    // The sessions refreshed in this runner's state (a pause that ended is over) decide, at the cycle's start.
    const ready = readiness(
      {
        postLink: bot.postLink,
        groupCount: bot.groups.length,
        sessions: bot.sessions.map((s) => st.session(s.id) ?? s),
        mode: bot.mode,
        totalCycleMinutes: bot.totalCycleMinutes,
      },
      at,
    );
    if (!ready.ok) return ready;
    const sessions = ready.usable;
    const mode = modeOrDefault(bot.mode);
    const plan = planCycle({
      mode,
      sessions,
      groups: bot.groups.map((g) => g.key),
      delayBetweenPosts: bot.settings.delayBetweenPosts,
      totalCycleMinutes: bot.totalCycleMinutes,
      minGroupGapSeconds: bot.settings.minGroupGapSeconds,
    });
    return { ok: true, sessions, mode, plan };
  }

  /**
   * Reads the facts the cycle will need that are due (core/group-facts.ts): the planned pairs, and in enterprise
   * mode who could take over a group its planned session may not post to.
   */
  private async refreshFacts(bot: BotSnapshot, planned: CyclePlan, due: number): Promise<void> {
    await refreshGroupFacts(this.deps, this.st, {
      due,
      botId: this.botId,
      mode: planned.mode,
      planned: planned.plan.posts.map((p) => ({ sessionId: p.session.id, groupKey: p.group })),
      sessions: planned.sessions,
      allSessionIds: bot.sessions.map((s) => s.id),
      signal: this.controller.signal,
    });
  }

  /** Before waiting for the next cycle: its due facts, read now (planning then finds them fresh). */
  private async readFactsAhead(bot: BotSnapshot, next: NextStart): Promise<void> {
    // Mostly nothing is due (facts are read hourly): then neither a plan nor a read of the stored facts is needed.
    const due = anyFactsDue(
      bot.sessions.map((s) => s.id),
      bot.groups.map((g) => g.key),
      this.st.factsOf,
      this.deps.clock.now(),
      this.deps.options.groupFactsRefreshSeconds * 1000,
    );
    if (!due) return;
    const planned = this.planAt(bot, next.at);
    if (planned.ok) await this.refreshFacts(bot, planned, next.at - this.deps.options.planningLeadMs);
  }

  /** Plans the cycle, fixes every post's random_id, and stores it all in one transaction. */
  private async planNext(
    bot: BotSnapshot,
    next: NextStart,
  ): Promise<{ cycle: CycleRecord; posts: PostRecord[] } | null> {
    const { store, random, turns, options } = this.deps;
    // The plan is due before its start's lead: the bot whose cycle starts soonest plans first.
    const due = next.at - options.planningLeadMs;
    await turns.next(due);
    let planned = this.planAt(bot, next.at);
    if (!planned.ok) {
      await this.attention(planned.reason, planned.message);
      return null;
    }
    // Which messages the post is (an album: all of it), read once now so every post's random_ids are fixed with it.
    const states = sessionStates(planned.sessions);
    const sourcePost = await this.readSourcePost(bot, planned.sessions);
    if (sourcePost === 'halt') return null;
    const messageCount = sourcePost?.messageIds.length ?? 1;
    // A session the read found dead or limited (the runner's state is updated in place) is left out: planned again.
    if (sessionStates(planned.sessions) !== states) {
      planned = this.planAt(bot, next.at);
      if (!planned.ok) {
        await this.attention(planned.reason, planned.message);
        return null;
      }
    }
    const { mode, plan } = planned;
    // Know the groups before posting (paid messages, closed topics, rights, slow mode): stale facts are read now.
    await this.refreshFacts(bot, planned, due);
    if (this.controller.signal.aborted) return null;
    await turns.next(due);
    const runMs = (plan.lastPostAtSeconds + plan.delayBetweenPosts) * 1000;
    const expectedEndAt = next.at + runMs;
    const deadlineAt =
      plan.cycleSeconds !== null
        ? next.at + Math.max(plan.cycleSeconds * 1000, runMs)
        : expectedEndAt + bot.settings.delayBetweenCycles * 1000;
    const posts: NewPost[] = plan.posts.map((p) => {
      const randomIds = Array.from({ length: messageCount }, () => random.nextRandomId().toString());
      return {
        botId: this.botId,
        seq: p.seq,
        sessionId: p.session.id,
        plannedSessionId: p.session.id,
        groupKey: p.group,
        plannedAt: next.at + Math.round(p.atSeconds * 1000),
        randomId: randomIds[0]!,
        randomIds,
        status: 'planned',
        reason: null,
        error: null,
        attempts: 0,
        sentAt: null,
      };
    });
    return store.createCycle(
      {
        botId: this.botId,
        number: next.number,
        mode,
        slot: next.slot,
        cycleSeconds: plan.cycleSeconds,
        plannedStartAt: next.at,
        deadlineAt,
        expectedEndAt,
        finishedAt: null,
        status: 'running',
        reason: null,
        warnings: plan.warnings.map((w) => ({ code: w.code, message: w.message })),
        source: sourcePost,
      },
      posts,
    );
  }

  /**
   * The source post's messages, read at planning by the first usable session that can (core/album.ts decides when
   * to ask the next one); null when none could — the cycle then forwards the link's one message, and its own checks
   * deal with the source as ever. 'halt': the runner was stopped meanwhile.
   */
  private async readSourcePost(
    bot: BotSnapshot,
    usable: readonly SessionInfo[],
  ): Promise<SourcePost | null | 'halt'> {
    const source = this.source(bot);
    if (!source) return null;
    for (const info of usable) {
      const session = await this.st.refreshCooldown(info.id);
      // Only a session free to call now: one usable at the cycle's start may still be paused at planning.
      if (!session || this.sourceCooling(session.id)) continue;
      if (sessionStateAt(session, this.deps.clock.now()).status !== 'active') continue;
      let messageIds: number[] = [];
      const outcome = await this.askSource(session, async (signal) => {
        const read = await this.deps.gateway.readSource(handleOf(session), source, signal);
        messageIds = read.messageIds;
        return read.answer;
      });
      if (outcome === 'halt') return 'halt';
      const step = sourceReadStep(outcome);
      if (step === 'use') {
        return {
          link: source.canonical,
          messageIds: messageIds.length > 0 ? messageIds : [source.messageId],
        };
      }
      if (step === 'stop') return null;
    }
    return null;
  }

  private async execute(
    bot: BotSnapshot,
    cycle: CycleRecord,
    posts: PostRecord[],
    resumedAt: number | null,
  ): Promise<'done' | 'fenced' | 'interrupted'> {
    const st = this.st;
    const signal = this.controller.signal;
    st.emit({
      type: 'cycle.started',
      cycleId: cycle.id,
      number: cycle.number,
      mode: cycle.mode,
      plannedStartAt: cycle.plannedStartAt,
      posts: posts.length,
      resumed: resumedAt !== null,
    });
    const source = this.source(bot);
    const access = source ? await this.checkSource(bot, source) : null;
    if (access === 'halt') return this.interrupted(cycle, posts, false);
    if (!source || !access || access.verdict.kind === 'stop') {
      const stop = access?.verdict.kind === 'stop' ? access.verdict : null;
      const error = stop?.error ?? null;
      for (const post of posts) {
        if (!FINAL_POST_STATUSES.has(post.status))
          await this.writeFinal(post, 'cancelled', 'source_invalid', error);
      }
      return this.close(cycle, posts, 'aborted', stop?.reason ?? 'source_invalid:no_post', error);
    }
    const execution = new CycleExecution(this.deps, {
      bot,
      cycle,
      posts,
      source,
      sourceUnreachable: new Map(access.unreachable.map((u) => [u.sessionId, u.error])),
      state: st,
      signal,
      resumedAt,
      trace: this.lease ? { ownerId: this.lease.fence.ownerId, epoch: String(this.lease.fence.epoch) } : {},
    });
    const end = await execution.run();
    if (end.status === 'interrupted') return this.interrupted(cycle, posts, end.fenced);
    if (end.status === 'aborted') return this.close(cycle, posts, 'aborted', end.reason, end.error);
    return this.close(cycle, posts, 'finished', null, null);
  }

  private async interrupted(
    cycle: CycleRecord,
    posts: PostRecord[],
    fenced: boolean,
  ): Promise<'fenced' | 'interrupted'> {
    if (fenced) return 'fenced';
    if (this.stopMode === 'cancel') {
      // A `sending` post's call finished before we got here; anything not final was never started.
      await Promise.all(
        posts
          .filter((post) => !FINAL_POST_STATUSES.has(post.status))
          .map((post) => this.writeFinal(post, 'cancelled', 'stopped', null)),
      );
      await this.close(cycle, posts, 'stopped', 'stopped by the customer', null);
    }
    return 'interrupted';
  }

  private async close(
    cycle: CycleRecord,
    posts: PostRecord[],
    status: 'finished' | 'aborted' | 'stopped',
    reason: string | null,
    error: string | null,
  ): Promise<'done'> {
    const { store, clock, batcher } = this.deps;
    await batcher.drain();
    const finishedAt = clock.now();
    await store.finishCycle(cycle.id, status, reason, finishedAt);
    const counts: Partial<Record<PostStatus, number>> = {};
    for (const p of posts) counts[p.status] = (counts[p.status] ?? 0) + 1;
    this.st.emit({ type: 'cycle.finished', cycleId: cycle.id, number: cycle.number, status, reason, counts });
    if (status === 'aborted') {
      await this.attention(
        'source_invalid',
        `the cycle stopped: the source post cannot be forwarded (${error ?? reason})`,
      );
    } else if (status === 'finished') {
      await this.clearAttention();
    }
    return 'done';
  }

  private writeFinal(post: PostRecord, status: PostStatus, reason: string, error: string | null) {
    return recordFinal({ batcher: this.deps.batcher, state: this.st }, post, status, reason, error);
  }

  /**
   * Which sessions can read the source post, and whether the cycle runs (core/source-access.ts decides): each
   * active session checks it once per cycle, before its first post. A protected or deleted post stops the checks
   * at once (it is the same for every session); session trouble is applied as on a forward.
   */
  private async checkSource(bot: BotSnapshot, source: PostRef): Promise<SourceAccess | 'halt'> {
    const checks: SourceCheckResult[] = [];
    for (const info of bot.sessions) {
      const session = await this.st.refreshCooldown(info.id);
      // Dead or frozen: it posts nothing, so it reads nothing either.
      const state = session ? sessionStateAt(session, this.deps.clock.now()).status : 'dead';
      if (!session || state === 'dead') continue;
      // Paused or rate-limited on reading: unchecked, it may still post later in the cycle.
      const outcome =
        state === 'active' && !this.sourceCooling(session.id)
          ? await this.checkSourceAs(session, source)
          : null;
      if (outcome === 'halt') return 'halt';
      checks.push({ sessionId: session.id, outcome });
      if (outcome?.kind === 'source_invalid') break;
    }
    return judgeSourceAccess(checks);
  }

  /** One session's source check; null when it gave no answer or is rate-limited on reading. */
  private async checkSourceAs(session: SessionInfo, source: PostRef): Promise<Outcome | null | 'halt'> {
    const outcome = await this.askSource(session, (signal) =>
      this.deps.gateway.checkSource(handleOf(session), source, signal),
    );
    return outcome !== 'halt' && outcome?.kind === 'session_pause' ? null : outcome;
  }

  /** Whether a FLOOD_WAIT on reading keeps this session from reading the source for now. */
  private sourceCooling(sessionId: string): boolean {
    return (this.sourceCooldown.get(sessionId) ?? 0) > this.deps.clock.now();
  }

  /**
   * One session's read of the source (the cycle's check, or the read at planning), retried while the failure is
   * transient; null when it gave no answer. Session trouble is applied as on a forward.
   */
  private async askSource(
    session: SessionInfo,
    ask: (signal: AbortSignal) => Promise<TelegramAnswer>,
  ): Promise<Outcome | null | 'halt'> {
    const { clock, options, logger } = this.deps;
    const signal = this.controller.signal;
    for (let attempt = 1; attempt <= options.maxTransientAttempts; attempt++) {
      let answer: TelegramAnswer;
      try {
        answer = await ask(signal);
      } catch (error) {
        logger.error({ err: error, botId: this.botId }, 'source check threw; treated as a network error');
        answer = { ok: false, error: 'NETWORK_ERROR' };
      }
      const outcome = classifyAnswer(answer, 'source');
      if (outcome.kind === 'session_unreachable') {
        // Its connection did not open: it waits (core/reachability.ts) and is unchecked; its posts wait or go on.
        await this.st.connectFailed(session.id, outcome.error);
        return null;
      }
      if (connectedBy(outcome)) await this.st.connected(session.id);
      if (outcome.kind === 'transient') {
        if (!(await clock.sleep(options.transientBackoffMs * 2 ** (attempt - 1), signal))) return 'halt';
        continue;
      }
      if (outcome.kind === 'session_dead') await this.st.retire(session.id, outcome.reason, outcome.error);
      if (outcome.kind === 'session_pause') {
        // A FLOOD_WAIT on reading messages is about that method only: this session skips the check for a while.
        this.sourceCooldown.set(
          session.id,
          clock.now() + (outcome.seconds ?? options.limitedPauseSeconds) * 1000,
        );
        return outcome;
      }
      if (outcome.kind === 'unknown' || outcome.kind === 'group_skip' || outcome.kind === 'group_cooldown') {
        logger.warn(
          { botId: this.botId, sessionId: session.id, error: outcome.error },
          'unclear answer to the source check; going ahead',
        );
      }
      return outcome;
    }
    return null;
  }
}
