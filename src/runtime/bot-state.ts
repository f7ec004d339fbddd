/**
 * What one running bot keeps between cycles: its sessions' health (cooldowns, retirement), the time each session
 * last called Telegram, the per-group guard, the (session, group) pair states and group facts, and its concurrency
 * limit.
 * Every change that must survive a restart is written through to the store here, in one place.
 */
import type { GroupFacts } from '../core/group-facts.js';
import type { LaneCall } from '../core/lane-pacing.js';
import type { BotSnapshot, PairState, SessionInfo } from '../core/model.js';
import { afterConnectFailure } from '../core/reachability.js';
import { pauseOverBy } from '../core/session-state.js';
import type { Clock } from './clock.js';
import type { EventBus } from './events.js';
import { GroupGuard } from './group-guard.js';
import type { Lease } from './lease.js';
import type { RuntimeOptions } from './options.js';
import { Semaphore } from './semaphore.js';
import type { Fence, RuntimeStore } from './store.js';

export class BotState {
  readonly botId: string;
  userId: string;
  readonly sessions = new Map<string, SessionInfo>();
  /**
   * Each session's last forward: its place on the lane's schedule, and when it really went out (later by timer
   * lateness, a pause, a stall). The next call is spaced from it (core/lane-pacing.ts).
   */
  readonly lastCall = new Map<string, LaneCall>();
  readonly pairs = new Map<string, PairState>();
  /** What each session knows about each group (core/group-facts.ts), by pairKey. */
  private readonly facts = new Map<string, GroupFacts>();
  private factsLoaded = false;
  guard: GroupGuard = new GroupGuard();
  private readonly slowmodes = new Map<string, number>();
  readonly slots: Semaphore;

  constructor(
    botId: string,
    userId: string,
    private readonly deps: { clock: Clock; store: RuntimeStore; events: EventBus; options: RuntimeOptions },
    readonly lease: Lease | null,
  ) {
    this.botId = botId;
    this.userId = userId;
    this.slots = new Semaphore(deps.options.maxActiveSessions);
  }

  get fence(): Fence | null {
    return this.lease?.fence ?? null;
  }

  /** Whether this process may still call Telegram for the bot (its lease deadline has not passed). */
  holdsLease(): boolean {
    return this.lease === null || this.lease.holds();
  }

  /**
   * Whether the bot is still this process's to call Telegram for: at once while its lease deadline has not passed;
   * past it (a stall kept the renewal from going out), once a renewal says so.
   */
  async stillHoldsLease(signal: AbortSignal): Promise<boolean> {
    return this.holdsLease() || (this.lease !== null && (await this.lease.confirm(signal)));
  }

  async load(bot: BotSnapshot): Promise<void> {
    const [pairs, lastSent, facts] = await Promise.all([
      this.deps.store.loadPairStates(this.botId),
      this.deps.store.lastSentByGroup(this.botId),
      this.deps.store.loadGroupFacts(bot.sessions.map((s) => s.id)),
    ]);
    for (const p of pairs) this.pairs.set(pairKey(p.sessionId, p.groupKey), p);
    this.setFacts(facts);
    for (const g of bot.groups) if (g.slowmodeSeconds) this.slowmodes.set(g.key, g.slowmodeSeconds);
    this.guard = new GroupGuard(lastSent, this.slowmodes);
  }

  /** Takes the stored view of the sessions (an operator may have revived or removed one). */
  refreshSessions(sessions: readonly SessionInfo[]): void {
    this.sessions.clear();
    for (const s of sessions) this.sessions.set(s.id, { ...s });
  }

  session(sessionId: string): SessionInfo | undefined {
    return this.sessions.get(sessionId);
  }

  /** A paused session whose cooldown is over is active again (core/session-state.ts); that is written down here. */
  async refreshCooldown(sessionId: string): Promise<SessionInfo | undefined> {
    const s = this.sessions.get(sessionId);
    if (!s || !pauseOverBy(s, this.deps.clock.now())) return s;
    s.status = 'active';
    s.cooldownUntil = null;
    s.statusReason = null;
    await this.deps.store.updateSession(sessionId, {
      status: 'active',
      cooldownUntil: null,
      statusReason: null,
    });
    this.emit({ type: 'session.resumed', sessionId });
    return s;
  }

  async pause(sessionId: string, seconds: number, reason: string, error: string | null): Promise<number> {
    const now = this.deps.clock.now();
    const until = now + seconds * 1000;
    const s = this.sessions.get(sessionId);
    if (s && s.status !== 'dead') {
      s.status = 'paused';
      s.cooldownUntil = Math.max(s.cooldownUntil ?? 0, until);
      s.statusReason = reason;
      await this.deps.store.updateSession(sessionId, {
        status: 'paused',
        cooldownUntil: s.cooldownUntil,
        statusReason: reason,
      });
    }
    this.emit({ type: 'session.paused', sessionId, until, reason, error });
    if (seconds > this.deps.options.longWaitAlertSeconds) {
      this.emit({
        type: 'alert',
        level: 'warning',
        sessionId,
        message: `session ${s?.label ?? sessionId} paused for ${Math.round(seconds / 60)} min (${error ?? reason})`,
      });
    }
    return until;
  }

  /**
   * The session's connection did not open: one more failed connect in a row. The core's rule says how long it waits
   * before the next (a pause, so nothing plans or posts from it meanwhile) and whether it is now unreachable.
   */
  async connectFailed(sessionId: string, error: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    const failure = afterConnectFailure(s?.connectFailures ?? 0, this.deps.options);
    if (s) s.connectFailures = failure.failures;
    await this.deps.store.updateSession(sessionId, { connectFailures: failure.failures });
    const until = await this.pause(sessionId, failure.pauseMs / 1000, failure.reason, error);
    if (failure.failures === this.deps.options.connectFailuresBeforeUnreachable) {
      this.emit({
        type: 'alert',
        level: 'warning',
        sessionId,
        message: `session ${s?.label ?? sessionId} cannot reach Telegram: ${failure.failures} connects in a row failed (${error}); tried again at ${new Date(until).toISOString()}`,
      });
    }
  }

  /** Telegram answered a call of the session: its connection works, the count of failed connects starts again. */
  async connected(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s || s.connectFailures === 0) return;
    s.connectFailures = 0;
    await this.deps.store.updateSession(sessionId, { connectFailures: 0 });
  }

  async retire(sessionId: string, reason: string, error: string | null): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (s) {
      s.status = 'dead';
      s.statusReason = reason;
      s.cooldownUntil = null;
    }
    await this.deps.store.updateSession(sessionId, {
      status: 'dead',
      statusReason: reason,
      cooldownUntil: null,
    });
    this.emit({ type: 'session.retired', sessionId, reason, error });
    this.emit({
      type: 'alert',
      level: 'critical',
      sessionId,
      message: `session ${s?.label ?? sessionId} retired: ${error ?? reason}; log it in again to use it`,
    });
  }

  /** Slow mode learned from Telegram (SLOWMODE_WAIT, preflight): the guard spaces the group's posts by it. */
  async learnSlowmode(groupKey: string, seconds: number): Promise<void> {
    if (seconds <= (this.slowmodes.get(groupKey) ?? 0)) return;
    this.slowmodes.set(groupKey, seconds);
    this.guard.setSlowmode(groupKey, seconds);
    await this.deps.store.setGroupSlowmode(this.botId, groupKey, seconds);
  }

  /** The known facts of (session, group), or undefined. */
  readonly factsOf = (sessionId: string, groupKey: string): GroupFacts | undefined =>
    this.facts.get(pairKey(sessionId, groupKey));

  /**
   * The stored facts replace what was known. Returns those read since the last time (by a preflight): they are new
   * reads for this runner too. The first load returns none — what was read before it began is in the bot's groups.
   */
  setFacts(list: readonly GroupFacts[]): GroupFacts[] {
    const first = !this.factsLoaded;
    this.factsLoaded = true;
    const newer = first
      ? []
      : list.filter(
          (f) => f.checkedAt > (this.facts.get(pairKey(f.sessionId, f.groupKey))?.checkedAt ?? -Infinity),
        );
    this.facts.clear();
    for (const f of list) this.facts.set(pairKey(f.sessionId, f.groupKey), f);
    return newer;
  }

  /** Facts just read from Telegram: known from now on, and the slow mode they give goes to the guard. */
  async noteFacts(list: readonly GroupFacts[]): Promise<void> {
    for (const f of list) {
      this.facts.set(pairKey(f.sessionId, f.groupKey), f);
      if (f.slowmodeSeconds !== null) await this.knowSlowmode(f.groupKey, f.slowmodeSeconds);
    }
  }

  /**
   * The slow mode the group's settings say (a read of its facts): taken as it is, also when lower than what a
   * SLOWMODE_WAIT taught (the group's admins may have shortened or ended it).
   */
  private async knowSlowmode(groupKey: string, seconds: number): Promise<void> {
    if ((this.slowmodes.get(groupKey) ?? 0) === seconds) return;
    this.slowmodes.set(groupKey, seconds);
    this.guard.setSlowmode(groupKey, seconds);
    await this.deps.store.setGroupSlowmode(this.botId, groupKey, seconds);
  }

  async savePair(state: PairState): Promise<void> {
    await this.deps.store.savePairState(this.botId, state);
  }

  emit(event: DistributiveOmit<Parameters<EventBus['emit']>[0], 'botId' | 'userId' | 'at'>): void {
    this.deps.events.emit({
      ...event,
      botId: this.botId,
      userId: this.userId,
      at: this.deps.clock.now(),
    } as Parameters<EventBus['emit']>[0]);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function pairKey(sessionId: string, groupKey: string): string {
  return `${sessionId}\u0000${groupKey}`;
}
