/**
 * A whole Stagger on a virtual clock: the real runtime, the sandbox Telegram and in-memory repositories. It is
 * what `stagger simulate` runs and what the runtime tests drive — one implementation; only the Clock, the
 * Gateway and the repositories differ from `stagger serve`.
 */
import { StaggerError } from '../core/errors.js';
import { parseGroupTarget } from '../core/group-targets.js';
import type { ExecutionMode } from '../core/plan.js';
import { DEFAULT_BOT_SETTINGS, type CycleStatus, type PostStatus } from '../core/model.js';
import { sessionStateAt } from '../core/session-state.js';
import { SandboxGateway, type SandboxOptions } from '../telegram/sandbox/sandbox-gateway.js';
import {
  MemorySandboxStore,
  type SandboxGroup,
  type SandboxMethod,
  type SandboxStore,
} from '../telegram/sandbox/sandbox-store.js';
import type { TelegramAnswer } from '../core/outcome.js';
import type { PostRef } from '../core/post-link.js';
import type { ForwardRequest, Gateway, SessionHandle, SourceRead } from '../telegram/gateway.js';
import { ClockStallError, VirtualClock, type Clock } from './clock.js';
import type { RuntimeEvent } from './events.js';
import { MemoryRuntimeStore, type NewBot } from './memory-store.js';
import type { RuntimeOptions } from './options.js';
import { SeededRandom } from './random.js';
import { Runtime } from './runtime.js';
import type { RuntimeStore } from './store.js';

/** 2026-01-01T00:00:00Z: simulations start at a round, fixed instant so runs repeat exactly. */
export const SIMULATION_EPOCH = Date.UTC(2026, 0, 1);

export interface GatewayCall {
  /** `readSource`: the read when a cycle is planned; `checkSource`: each session's check in the cycle. */
  method: 'readSource' | 'checkSource' | 'forward';
  sessionId: string;
  groupKey: string | null;
  randomId: string | null;
  /** A forward: the source messages it sent and their random_ids; a read: the messages it found. */
  messageIds: number[];
  randomIds: string[];
  at: number;
  answer: TelegramAnswer;
}

/** One group's facts read by a session (kept apart from the calls: those are the posting path). */
export interface FactRead {
  sessionId: string;
  groupKey: string;
  at: number;
  error: string | null;
}

/** Records every call the runtime makes, then lets the sandbox answer it. */
class RecordingGateway implements Gateway {
  constructor(
    private readonly inner: Gateway,
    private readonly clock: Clock,
    readonly calls: GatewayCall[],
    readonly factReads: FactRead[],
  ) {}
  async readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    const at = this.clock.now();
    const read = await this.inner.readSource(session, source, signal);
    this.calls.push({
      method: 'readSource',
      sessionId: session.id,
      groupKey: null,
      randomId: null,
      messageIds: [...read.messageIds],
      randomIds: [],
      at,
      answer: read.answer,
    });
    return read;
  }
  async checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    const at = this.clock.now();
    const answer = await this.inner.checkSource(session, source, signal);
    this.calls.push({
      method: 'checkSource',
      sessionId: session.id,
      groupKey: null,
      randomId: null,
      messageIds: [],
      randomIds: [],
      at,
      answer,
    });
    return answer;
  }
  async forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer> {
    const at = this.clock.now();
    const answer = await this.inner.forward(request, signal);
    this.calls.push({
      method: 'forward',
      sessionId: request.session.id,
      groupKey: request.target.key,
      randomId: request.randomId.toString(),
      messageIds: [...(request.messageIds ?? [request.source.messageId])],
      randomIds: (request.randomIds ?? [request.randomId]).map(String),
      at,
      answer,
    });
    return answer;
  }
  preflight(...args: Parameters<Gateway['preflight']>): ReturnType<Gateway['preflight']> {
    return this.inner.preflight(...args);
  }
  async groupFacts(...args: Parameters<Gateway['groupFacts']>): ReturnType<Gateway['groupFacts']> {
    const at = this.clock.now();
    const rows = await this.inner.groupFacts(...args);
    for (const r of rows)
      this.factReads.push({ sessionId: r.sessionId, groupKey: r.groupKey, at, error: r.error });
    return rows;
  }
  release(sessionId: string): Promise<void> {
    return this.inner.release(sessionId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface WorldOptions {
  seed?: number;
  /** Persist to these instead of memory (a SQL store: the runtime scenarios run on SQLite too). */
  stores?: { runtime: RuntimeStore; sandbox: SandboxStore };
  startAt?: number;
  options?: Partial<RuntimeOptions>;
  sandbox?: Partial<Pick<SandboxOptions, 'latencyMs' | 'flood' | 'openWorld'>>;
}

/** The parts of one simulated installation, for tests that need to reach in. */
export class SimulatedWorld {
  readonly clock: VirtualClock;
  /** The in-memory repositories (the default) — for tests that inspect them directly. */
  readonly store = new MemoryRuntimeStore();
  /** What the runtime persists to: `store`, or a SQL store given in the options. */
  readonly runtimeStore: RuntimeStore;
  readonly sandboxStore: SandboxStore;
  readonly sandbox: SandboxGateway;
  runtime: Runtime;
  readonly events: RuntimeEvent[] = [];
  /** Every call the runtime made to (sandbox) Telegram, in order. */
  readonly calls: GatewayCall[] = [];
  /** Every group's facts the runtime read, in order (a row per target). */
  readonly factReads: FactRead[] = [];
  /** What the runtime logged as errors (tests assert there are none unless they provoke them). */
  readonly errors: { obj: object; msg: string | undefined }[] = [];
  readonly startAt: number;
  private readonly cyclesEnded = new Map<string, number>();
  private readonly seed: number;
  private readonly runtimeOptions: Partial<RuntimeOptions> | undefined;

  constructor(options: WorldOptions = {}) {
    this.startAt = options.startAt ?? SIMULATION_EPOCH;
    this.clock = new VirtualClock(this.startAt);
    this.seed = options.seed ?? 1;
    // Simulations start their first cycle at once, so times read from 0 as in the seed note's examples.
    this.runtimeOptions = { planningLeadMs: 0, ...options.options };
    this.runtimeStore = options.stores?.runtime ?? this.store;
    this.sandboxStore = options.stores?.sandbox ?? new MemorySandboxStore();
    this.sandbox = new SandboxGateway({
      clock: this.clock,
      store: this.sandboxStore,
      seed: this.seed,
      flood: options.sandbox?.flood ?? { burst: 1_000, refillPerSecond: 100 },
      ...(options.sandbox?.latencyMs ? { latencyMs: options.sandbox.latencyMs } : {}),
      ...(options.sandbox?.openWorld !== undefined ? { openWorld: options.sandbox.openWorld } : {}),
    });
    this.runtime = this.createRuntime(this.seed);
  }

  private createRuntime(seed: number): Runtime {
    const runtime = new Runtime({
      clock: this.clock,
      gateway: new RecordingGateway(this.sandbox, this.clock, this.calls, this.factReads),
      store: this.runtimeStore,
      random: new SeededRandom(seed),
      logger: {
        info() {},
        warn() {},
        error: (obj, msg) => {
          this.errors.push({ obj, msg });
        },
      },
      ...(this.runtimeOptions ? { options: this.runtimeOptions } : {}),
    });
    runtime.events.on((e) => {
      this.events.push(e);
      if (e.type === 'cycle.finished' || e.type === 'cycle.skipped') {
        this.cyclesEnded.set(e.botId, (this.cyclesEnded.get(e.botId) ?? 0) + 1);
      }
    });
    return runtime;
  }

  /**
   * A process restart: the runtime shuts down as `serve` does on SIGTERM (cycles stay `running` in the store),
   * time passes, and a new runtime resumes every running bot from the store alone.
   */
  async restart(downSeconds = 0): Promise<void> {
    await this.runtime.close();
    if (downSeconds > 0) this.clock.jump(downSeconds * 1000);
    this.runtime = this.createRuntime(this.seed + 1);
    await this.runtime.resumeAll();
  }

  addBot(spec: NewBot): string {
    return this.store.addBot(spec);
  }

  async putGroup(group: Partial<SandboxGroup> & { key: string }): Promise<void> {
    await this.sandboxStore.putGroup({
      isChannel: false,
      members: null,
      readOnly: [],
      banned: [],
      slowmodeSeconds: 0,
      paidStars: 0,
      closedTopics: [],
      ...group,
    });
  }

  /**
   * From `atSeconds` (since the start) on, the next `times` forwards by the session (or any) get `error`
   * (`method: 'source'` aims at the per-cycle source check instead, `'read'` at the read when a cycle is planned,
   * `'facts'` at the reads of group facts).
   */
  async fault(spec: {
    session?: string;
    group?: string;
    error: string;
    atSeconds?: number;
    times?: number;
    method?: SandboxMethod;
  }): Promise<void> {
    await this.sandboxStore.addFault({
      accountId: spec.session ?? null,
      groupKey: spec.group ?? null,
      method: spec.method ?? 'forward',
      fromAt: this.startAt + (spec.atSeconds ?? 0) * 1000,
      error: spec.error,
      remaining: spec.times ?? 1,
    });
  }

  seconds(at: number): number {
    return (at - this.startAt) / 1000;
  }

  cyclesDone(botId: string): number {
    return this.cyclesEnded.get(botId) ?? 0;
  }

  /** Runs the clock until the bot has ended `cycles` cycles (finished, aborted or skipped). */
  async runCycles(botId: string, cycles: number, limitSeconds = 366 * 24 * 3600): Promise<void> {
    await this.clock.runUntilTrue(
      () => this.cyclesDone(botId) >= cycles,
      this.clock.now() + limitSeconds * 1000,
    );
  }

  async deliveries(): Promise<
    { session: string; group: string; atSeconds: number; randomId: string; trace: Record<string, string> }[]
  > {
    return (await this.sandboxStore.listDeliveries()).map((d) => ({
      session: d.accountId,
      group: d.groupKey,
      atSeconds: this.seconds(d.at),
      randomId: d.randomId,
      trace: d.trace,
    }));
  }
}

// ---- `stagger simulate` ----

export interface SimulationSpec {
  mode: ExecutionMode;
  sessions: number;
  groups: string[];
  delayBetweenPosts: number;
  totalCycleMinutes?: number | undefined;
  minGroupGapSeconds?: number | undefined;
  delayBetweenCycles?: number | undefined;
  cycles: number;
  seed: number;
  faults: { session: number; error: string; atSeconds: number }[];
}

/**
 * What happened on the way to the results, in time order: a forward Telegram refused while its post went on (to be
 * retried, or handed to another session), a post handed from one session to another, a session paused, active
 * again, or retired. One shape for every kind; the fields a kind does not have are null.
 */
export interface SimulationEvent {
  type: 'attempt_failed' | 'handed_off' | 'session_paused' | 'session_resumed' | 'session_retired';
  cycle: number;
  atSeconds: number;
  session: number;
  group: string | null;
  /** handed_off: the session that has the post now. */
  toSession: number | null;
  /** session_paused: when it may post again. */
  untilSeconds: number | null;
  /** session_paused, session_retired: the session's reason (`flood_wait`, `revoked`…). */
  reason: string | null;
  /** What Telegram answered (attempt_failed; the pause or retirement's cause). */
  error: string | null;
}

export interface SimulationResult {
  deliveries: { cycle: number; session: number; group: string; atSeconds: number }[];
  results: {
    cycle: number;
    session: number;
    group: string;
    status: PostStatus;
    outcome: string | null;
    reason: string | null;
    atSeconds: number;
    /** When the plan had it due (a post sent later waited for a pause, the group's gap, or a hand-off). */
    plannedAtSeconds: number;
  }[];
  events: SimulationEvent[];
  cycles: {
    number: number;
    status: CycleStatus;
    reason: string | null;
    startSeconds: number;
    endSeconds: number | null;
  }[];
  /** Each session's effective state when the simulation ended (core/session-state.ts, as the API shows it). */
  sessions: { index: number; state: string; reason: string | null }[];
  warnings: { code: string; message: string }[];
}

/**
 * Names like `g0` (from `--groups G`) are labels, not Telegram targets: they get stand-in chat ids for the
 * sandbox and are shown by their label again in the result.
 */
function groupKeys(labels: readonly string[]): { keys: string[]; label: (key: string) => string } {
  const toLabel = new Map<string, string>();
  const keys = labels.map((label, i) => {
    let key = label;
    try {
      parseGroupTarget(label);
    } catch {
      key = `-100${1_000_000_000 + i}`;
    }
    toLabel.set(key, label);
    return key;
  });
  return { keys, label: (key) => toLabel.get(key) ?? key };
}

export const SimulationErrorCode = {
  /** The bot did not end the cycles asked for within the simulation's horizon (sessions paused for too long…). */
  DidNotEnd: 'SIMULATION_DID_NOT_END',
} as const;

/** The latest instant a Date can hold (ms since the epoch): no horizon reaches beyond it. */
const MAX_DATE_MS = 8.64e15;
const YEAR_SECONDS = 366 * 24 * 3600;

/**
 * How long (virtual seconds) a simulation may run before it counts as stuck: a year, plus for every cycle an upper
 * bound of its length — its slot twice (a starter cycle that overruns skips the next slot), all its posts one after
 * another twice (sessions that drop out hand theirs on), and the pause after it.
 */
export function simulationHorizonSeconds(
  spec: Pick<
    SimulationSpec,
    'cycles' | 'groups' | 'delayBetweenPosts' | 'totalCycleMinutes' | 'delayBetweenCycles'
  >,
  startAt = SIMULATION_EPOCH,
): number {
  const slot = (spec.totalCycleMinutes ?? 0) * 60;
  const posting = spec.groups.length * spec.delayBetweenPosts;
  const pause = spec.delayBetweenCycles ?? DEFAULT_BOT_SETTINGS.delayBetweenCycles;
  const horizon = YEAR_SECONDS + spec.cycles * (2 * slot + 2 * posting + pause);
  return Math.min(horizon, Math.floor((MAX_DATE_MS - startAt) / 1000) - YEAR_SECONDS);
}

function attemptFirst(e: SimulationEvent): number {
  return e.type === 'attempt_failed' ? 0 : 1;
}

export async function runSimulation(spec: SimulationSpec): Promise<SimulationResult> {
  const world = new SimulatedWorld({ seed: spec.seed });
  const groups = groupKeys(spec.groups);
  const sessionIds = Array.from({ length: spec.sessions }, (_, i) => String(i));
  const botId = world.addBot({
    mode: spec.mode,
    totalCycleMinutes: spec.totalCycleMinutes ?? null,
    settings: {
      delayBetweenPosts: spec.delayBetweenPosts,
      ...(spec.minGroupGapSeconds !== undefined ? { minGroupGapSeconds: spec.minGroupGapSeconds } : {}),
      ...(spec.delayBetweenCycles !== undefined ? { delayBetweenCycles: spec.delayBetweenCycles } : {}),
    },
    sessions: sessionIds.map((id) => ({ id, label: `session ${id}` })),
    groups: groups.keys,
  });
  for (const f of spec.faults)
    await world.fault({ session: String(f.session), error: f.error, atSeconds: f.atSeconds });

  // Stop in the same turn the K-th cycle ends, so that no (K+1)-th cycle begins.
  let stopping: Promise<void> | null = null;
  world.runtime.events.on(() => {
    if (!stopping && world.cyclesDone(botId) >= spec.cycles)
      stopping = world.runtime.stopBot(botId, 'cancel');
  });
  world.runtime.startBot(botId);
  const done = (): boolean => world.cyclesDone(botId) >= spec.cycles;
  // Nothing changes a simulated bot's sessions or groups from outside: once no cycle runs and every session is
  // dead (or there are none, or no groups), no further cycle can ever start — stop there instead of waiting.
  const hopeless = (): boolean =>
    (spec.groups.length === 0 || sessionIds.every((id) => world.store.session(id).status === 'dead')) &&
    world.store.listCycles(botId).every((c) => c.finishedAt !== null);
  const horizon = simulationHorizonSeconds(spec);
  try {
    await world.clock.runUntilTrue(() => done() || hopeless(), world.clock.now() + horizon * 1000);
  } catch (error) {
    if (!(error instanceof ClockStallError)) throw error;
    const attention = world.events.findLast((e) => e.type === 'bot.attention');
    throw new StaggerError(
      SimulationErrorCode.DidNotEnd,
      `the bot ended ${world.cyclesDone(botId)} of ${spec.cycles} cycle(s) within ${Math.round(horizon / 86_400)} ` +
        `days of virtual time${attention?.type === 'bot.attention' ? ` (${attention.message})` : ''}`,
      { details: { cyclesEnded: world.cyclesDone(botId), cycles: spec.cycles, horizonSeconds: horizon } },
    );
  }
  const stoppedEarly = !done();
  if (stoppedEarly && !stopping) stopping = world.runtime.stopBot(botId, 'cancel');
  await world.clock.runUntilIdle();
  await stopping;

  const cycles = world.store.listCycles(botId);
  const cycleNumber = new Map(cycles.map((c) => [c.id, c.number]));
  const postById = new Map(world.store.listPosts(botId).map((p) => [p.id, p]));
  const deliveries = (await world.deliveries()).map((d) => ({
    cycle: cycleNumber.get(d.trace.cycleId ?? '') ?? 0,
    session: Number(d.session),
    group: groups.label(d.group),
    atSeconds: d.atSeconds,
  }));
  const results: SimulationResult['results'] = [];
  const events: SimulationEvent[] = [];
  // Session events carry no cycle: they belong to the cycle that had begun by then (the first, before any).
  const cycleAt = (at: number): number =>
    cycles.findLast((c) => c.plannedStartAt <= at)?.number ?? cycles[0]?.number ?? 0;
  const event = (
    e: Pick<SimulationEvent, 'type' | 'cycle' | 'session'> & Partial<SimulationEvent>,
    at: number,
  ): SimulationEvent => ({
    group: null,
    toSession: null,
    untilSeconds: null,
    reason: null,
    error: null,
    ...e,
    atSeconds: world.seconds(at),
  });
  /** Where each post ended, to tell a refused attempt that ended its post from one after which it went on. */
  const ending = new Map<string, { sessionId: string; at: number; error: string | null }>();
  for (const e of world.events) {
    switch (e.type) {
      case 'post.sent':
      case 'post.failed':
      case 'post.skipped':
      case 'post.cancelled': {
        const post = postById.get(e.postId);
        if (!post) continue;
        const error = e.type === 'post.sent' ? (e.duplicate ? 'RANDOM_ID_DUPLICATE' : null) : e.error;
        ending.set(post.randomId, { sessionId: e.sessionId, at: e.at, error });
        results.push({
          cycle: cycleNumber.get(e.cycleId) ?? 0,
          session: Number(e.sessionId),
          group: groups.label(e.groupKey),
          status: e.type === 'post.sent' ? (e.duplicate ? 'duplicate' : 'sent') : e.status,
          outcome: error,
          reason: e.type === 'post.sent' ? null : e.reason,
          atSeconds: world.seconds(e.at),
          plannedAtSeconds: world.seconds(post.plannedAt),
        });
        break;
      }
      case 'post.handed_off': {
        const post = postById.get(e.postId);
        if (!post) continue;
        events.push(
          event(
            {
              type: 'handed_off',
              cycle: cycleNumber.get(e.cycleId) ?? 0,
              session: Number(e.fromSessionId),
              toSession: Number(e.toSessionId),
              group: groups.label(post.groupKey),
            },
            e.at,
          ),
        );
        break;
      }
      case 'session.paused':
        events.push(
          event(
            {
              type: 'session_paused',
              cycle: cycleAt(e.at),
              session: Number(e.sessionId),
              untilSeconds: world.seconds(e.until),
              reason: e.reason,
              error: e.error,
            },
            e.at,
          ),
        );
        break;
      case 'session.resumed':
        events.push(
          event({ type: 'session_resumed', cycle: cycleAt(e.at), session: Number(e.sessionId) }, e.at),
        );
        break;
      case 'session.retired':
        events.push(
          event(
            {
              type: 'session_retired',
              cycle: cycleAt(e.at),
              session: Number(e.sessionId),
              reason: e.reason,
              error: e.error,
            },
            e.at,
          ),
        );
        break;
      default:
        break;
    }
  }
  // A forward Telegram refused is shown on its own unless it was the post's end (the result line says it then).
  const postByRandomId = new Map(world.store.listPosts(botId).map((p) => [p.randomId, p]));
  for (const call of world.calls) {
    if (call.method !== 'forward' || call.answer.ok || call.randomId === null) continue;
    const post = postByRandomId.get(call.randomId);
    if (!post) continue;
    const end = ending.get(post.randomId);
    if (end && end.sessionId === call.sessionId && end.at === call.at && end.error === call.answer.error)
      continue;
    events.push(
      event(
        {
          type: 'attempt_failed',
          cycle: cycleNumber.get(post.cycleId) ?? 0,
          session: Number(call.sessionId),
          group: groups.label(post.groupKey),
          error: call.answer.error,
        },
        call.at,
      ),
    );
  }
  // In time order; at one instant an attempt comes before what followed from it (a sort keeps the rest's order).
  events.sort((a, b) => a.atSeconds - b.atSeconds || attemptFirst(a) - attemptFirst(b));
  const warnings = new Map<string, { code: string; message: string }>();
  for (const c of cycles) for (const w of c.warnings) warnings.set(w.code, w);
  if (stoppedEarly) {
    const ended = `the bot ended ${world.cyclesDone(botId)} of ${spec.cycles} cycle(s)`;
    const warning =
      sessionIds.length === 0
        ? { code: 'NO_SESSIONS', message: `there was no session to post with: nothing was posted; ${ended}` }
        : spec.groups.length === 0
          ? { code: 'NO_GROUPS', message: `the group list is empty: nothing was posted; ${ended}` }
          : { code: 'NO_USABLE_SESSION', message: `every session is dead: ${ended}` };
    warnings.set(warning.code, warning);
  }
  return {
    deliveries,
    results,
    events,
    cycles: cycles.map((c) => ({
      number: c.number,
      status: c.status,
      reason: c.reason,
      startSeconds: world.seconds(c.plannedStartAt),
      endSeconds: c.finishedAt === null ? null : world.seconds(c.finishedAt),
    })),
    sessions: sessionIds.map((id, index) => {
      const s = sessionStateAt(world.store.session(id), world.clock.now());
      return { index, state: s.status, reason: s.statusReason };
    }),
    warnings: [...warnings.values()],
  };
}
