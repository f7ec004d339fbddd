/**
 * The planner: turns a customer's configuration into the exact timeline of one cycle. Pure and deterministic —
 * the API and CLI show its result as a preview, the runtime only executes it, tests assert on it.
 *
 * Distribution and offsets follow the seed note (`distribute_groups_starter/enterprise`, `i * T / n`);
 * warnings add what the note left for the operator to discover at run time.
 */
import { CoreErrorCode, StaggerError } from './errors.js';
import { count } from './words.js';

export const EXECUTION_MODES = ['starter', 'enterprise'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

/** The seed note's default `delay_between_posts`. */
export const DEFAULT_DELAY_BETWEEN_POSTS = 5;

export interface PlanInput<S = string, G = string> {
  /** `starter` or `enterprise`; anything else is rejected, never silently replaced. */
  mode: string;
  sessions: readonly S[];
  groups: readonly G[];
  /** Seconds between two posts of one session. Default 5. */
  delayBetweenPosts?: number | undefined;
  /** Starter only: the cycle length T in minutes, > 0. */
  totalCycleMinutes?: number | null | undefined;
  /** Optional: the per-group guard's minimum gap, so the plan can warn when the rhythm would break it. */
  minGroupGapSeconds?: number | undefined;
}

export interface SessionPlan<S = string, G = string> {
  index: number;
  session: S;
  /** Seconds from cycle start; starter `i * T / n` kept exact (not rounded), enterprise 0. */
  offsetSeconds: number;
  groups: G[];
}

export interface PostSlot<S = string, G = string> {
  /** Position in the cycle's order: by `atSeconds`, then session index. */
  seq: number;
  sessionIndex: number;
  session: S;
  /** Position of the group in the session's own list (the j of `offset + j * delay`). */
  slot: number;
  group: G;
  atSeconds: number;
}

export interface PlanWarning {
  code: PlanWarningCode;
  message: string;
}

export const PlanWarningCode = {
  NoSessions: 'NO_SESSIONS',
  NoGroups: 'NO_GROUPS',
  IdleSessions: 'IDLE_SESSIONS',
  SessionsOverlap: 'SESSIONS_OVERLAP',
  CycleOverrun: 'CYCLE_OVERRUN',
  RhythmBelowGroupGap: 'RHYTHM_BELOW_GROUP_GAP',
} as const;
export type PlanWarningCode = (typeof PlanWarningCode)[keyof typeof PlanWarningCode];

export interface Plan<S = string, G = string> {
  mode: ExecutionMode;
  /** T in seconds for starter; null for enterprise (its cycle ends when its last post is done). */
  cycleSeconds: number | null;
  delayBetweenPosts: number;
  sessions: SessionPlan<S, G>[];
  posts: PostSlot<S, G>[];
  /** Time of the last post from cycle start; 0 for an empty plan. */
  lastPostAtSeconds: number;
  warnings: PlanWarning[];
}

/** With no mode given anywhere, the mode is enterprise (DESIGN.md §1). */
export function modeOrDefault(mode: ExecutionMode | null | undefined): ExecutionMode {
  return mode ?? 'enterprise';
}

/** Why a cycle of this mode and length cannot be planned, or null (starter needs a cycle length). */
export function cycleSettingsProblem(
  mode: ExecutionMode | null | undefined,
  totalCycleMinutes: number | null | undefined,
): string | null {
  return modeOrDefault(mode) === 'starter' && !((totalCycleMinutes ?? 0) > 0)
    ? 'starter mode needs total_cycle_minutes > 0'
    : null;
}

export function isExecutionMode(value: unknown): value is ExecutionMode {
  return value === 'starter' || value === 'enterprise';
}

export function assertExecutionMode(value: unknown): ExecutionMode {
  if (isExecutionMode(value)) return value;
  throw new StaggerError(
    CoreErrorCode.InvalidExecutionMode,
    `invalid execution mode ${JSON.stringify(value)}: expected "starter" or "enterprise"`,
    { details: { value } },
  );
}

/** Starter: every session gets all groups, as copies, order kept. */
export function distributeStarter<G>(groups: readonly G[], sessionCount: number): G[][] {
  const out: G[][] = [];
  for (let i = 0; i < sessionCount; i++) out.push(groups.slice());
  return out;
}

/**
 * Enterprise: contiguous slices, order kept; sizes `floor(G/n)`, plus one for the first `G mod n` sessions
 * (10 groups, 3 sessions → 4, 3, 3).
 */
export function distributeEnterprise<G>(groups: readonly G[], sessionCount: number): G[][] {
  if (sessionCount <= 0) return [];
  const base = Math.floor(groups.length / sessionCount);
  const remainder = groups.length % sessionCount;
  const out: G[][] = [];
  let start = 0;
  for (let i = 0; i < sessionCount; i++) {
    const count = base + (i < remainder ? 1 : 0);
    out.push(groups.slice(start, start + count));
    start += count;
  }
  return out;
}

/** Starter offsets `i * T / n`, multiplied before dividing so that `n * T / n` is exactly T. */
export function starterOffsets(sessionCount: number, cycleSeconds: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < sessionCount; i++) out.push((i * cycleSeconds) / sessionCount);
  return out;
}

export function planCycle<S, G>(input: PlanInput<S, G>): Plan<S, G> {
  const mode = assertExecutionMode(input.mode);
  const delay = input.delayBetweenPosts ?? DEFAULT_DELAY_BETWEEN_POSTS;
  if (!Number.isFinite(delay) || delay < 0) {
    throw new StaggerError(
      CoreErrorCode.InvalidDelay,
      `delay between posts must be a number of seconds ≥ 0, got ${String(delay)}`,
    );
  }
  let cycleSeconds: number | null = null;
  if (mode === 'starter') {
    const minutes = input.totalCycleMinutes;
    if (minutes === null || minutes === undefined || !Number.isFinite(minutes) || minutes <= 0) {
      throw new StaggerError(
        CoreErrorCode.StarterRequiresCycleMinutes,
        `starter mode requires total_cycle_minutes > 0, got ${minutes === undefined ? 'none' : String(minutes)}`,
      );
    }
    cycleSeconds = minutes * 60;
  }

  const n = input.sessions.length;
  const groupCount = input.groups.length;
  const warnings: PlanWarning[] = [];
  if (n === 0) {
    // The code says "no sessions" already: the words say what it means, not the code again.
    warnings.push({
      code: PlanWarningCode.NoSessions,
      message: 'there is no session to post with: nothing will be posted',
    });
  }
  if (groupCount === 0) {
    warnings.push({
      code: PlanWarningCode.NoGroups,
      message: 'the group list is empty: nothing will be posted',
    });
  }

  const distribution =
    mode === 'starter' ? distributeStarter(input.groups, n) : distributeEnterprise(input.groups, n);
  const offsets = mode === 'starter' && cycleSeconds !== null ? starterOffsets(n, cycleSeconds) : [];
  const sessions: SessionPlan<S, G>[] = input.sessions.map((session, index) => ({
    index,
    session,
    offsetSeconds: offsets[index] ?? 0,
    groups: distribution[index] ?? [],
  }));

  if (mode === 'enterprise' && n > groupCount && n > 0 && groupCount > 0) {
    warnings.push({
      code: PlanWarningCode.IdleSessions,
      message: `${n - groupCount} of ${count(n, 'session')} ${n - groupCount === 1 ? 'has' : 'have'} no group (more sessions than groups); ${n - groupCount === 1 ? 'it stays' : 'they stay'} idle`,
    });
  }
  if (mode === 'starter' && cycleSeconds !== null && n > 0 && groupCount > 0) {
    const spacing = cycleSeconds / n;
    const run = groupCount * delay;
    if (n > 1 && run > spacing) {
      warnings.push({
        code: PlanWarningCode.SessionsOverlap,
        message:
          `a session's run (${count(groupCount, 'group')} × ${delay} s = ${run} s) is longer than the spacing between ` +
          `sessions (T/n = ${formatSeconds(spacing)} s): sessions overlap in time`,
      });
    }
    const last = ((n - 1) * cycleSeconds) / n + (groupCount - 1) * delay;
    if (last >= cycleSeconds) {
      warnings.push({
        code: PlanWarningCode.CycleOverrun,
        message:
          `the last post is due at ${formatSeconds(last)} s, not before the cycle length ` +
          `(${formatSeconds(cycleSeconds)} s): the next cycle cannot start on time and its slot will be skipped`,
      });
    }
    const gap = input.minGroupGapSeconds;
    if (gap !== undefined && spacing < gap) {
      warnings.push({
        code: PlanWarningCode.RhythmBelowGroupGap,
        message:
          `each group would get a post every ${formatSeconds(spacing)} s (T/n), closer than the minimum group ` +
          `gap of ${gap} s: the guard will skip posts`,
      });
    }
  }

  const posts = mergeLanes(sessions, delay);
  const lastPost = posts[posts.length - 1];
  return {
    mode,
    cycleSeconds,
    delayBetweenPosts: delay,
    sessions,
    posts,
    lastPostAtSeconds: lastPost ? lastPost.atSeconds : 0,
    warnings,
  };
}

/**
 * Every session's lane is already in time order (`offset + j * delay`), so the cycle's order is a k-way merge of
 * the lanes by (time, session index) — O(P log n) instead of sorting a million slots.
 */
function mergeLanes<S, G>(sessions: readonly SessionPlan<S, G>[], delay: number): PostSlot<S, G>[] {
  const total = sessions.reduce((sum, s) => sum + s.groups.length, 0);
  const posts: PostSlot<S, G>[] = new Array<PostSlot<S, G>>(total);
  // A binary min-heap of lane indexes, keyed by the time of the lane's next slot, then the lane index.
  const next = new Array<number>(sessions.length).fill(0);
  const timeOf = (lane: number): number => {
    const s = sessions[lane]!;
    return s.offsetSeconds + next[lane]! * delay;
  };
  const less = (a: number, b: number): boolean => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    return ta < tb || (ta === tb && a < b);
  };
  const heap: number[] = [];
  const push = (lane: number): void => {
    heap.push(lane);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const siftDown = (): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  sessions.forEach((s, lane) => {
    if (s.groups.length > 0) push(lane);
  });
  let seq = 0;
  while (heap.length > 0) {
    const lane = heap[0]!;
    const s = sessions[lane]!;
    const j = next[lane]!;
    posts[seq] = {
      seq,
      sessionIndex: lane,
      session: s.session,
      slot: j,
      group: s.groups[j]!,
      atSeconds: s.offsetSeconds + j * delay,
    };
    seq++;
    next[lane] = j + 1;
    if (j + 1 < s.groups.length) {
      siftDown();
    } else {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown();
      }
    }
  }
  return posts;
}

function formatSeconds(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
