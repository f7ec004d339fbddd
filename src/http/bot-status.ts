/**
 * A bot's status as GET /api/bot/status shows it (the admin list of every bot shows the same): running or not,
 * the latest cycle's counts, when the next cycle starts, its sessions and counters, and how it is doing — every
 * current condition worst first (core/condition.ts) and the last error, so that no screen reads "on schedule" or
 * "no error" while posts are skipped or every session is paused.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { botConditions, worstCondition, type Condition } from '../core/condition.js';
import { type PostRecord, type PostStatus } from '../core/model.js';
import { EXECUTION_MODES } from '../core/plan.js';
import { explainText, type ExplainPolicy } from '../core/reasons.js';
import type { BotConfig } from '../storage/bots.js';
import type { AppDeps } from './deps.js';
import { nextCycleStart, scheduleInputOf, type LastCycle, type NextCycle } from '../core/schedule.js';
import { sessionStateAt } from '../core/session-state.js';
import { countSlotOutcomes } from '../core/slot-outcome.js';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from '../runtime/options.js';
import { iso } from './presenters.js';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** One condition of the bot (core/condition.ts), its end as ISO text. */
export const ConditionView = Type.Object({
  level: literals(['ok', 'stopped', 'warning', 'critical'] as const),
  code: Type.String({
    description:
      'running, stopped, no_sessions, no_usable_session, sessions_all_paused, not_ready, source_invalid, sessions_frozen, sessions_dead, sessions_limited, sessions_unreachable, posts_failed, sessions_paused or posts_skipped',
  }),
  message: Type.String({ description: 'what is wrong and why, in plain words' }),
  action: nullable(
    Type.Object({
      where: literals(['sessions', 'post_and_groups', 'activity'] as const),
      label: Type.String(),
    }),
  ),
  until: nullable(Type.String({ description: 'when it ends by itself (the first pause’s end)' })),
  sessionIds: Type.Array(Type.String()),
});

/** A cycle's posts by outcome (core/slot-outcome.ts): the status's and the cycle view's counts. */
export const PostCounts = Type.Object({
  planned: Type.Integer({ description: 'every post of the cycle' }),
  sent: Type.Integer(),
  failed: Type.Integer(),
  skipped: Type.Integer({ description: 'skipped, missed and not attempted' }),
  cancelled: Type.Integer({ description: 'cancelled by a stop (or a source that cannot be forwarded)' }),
  pending: Type.Integer({ description: 'planned or sending: what a stop now would cancel' }),
  done: Type.Integer({
    description: 'sent or decided (sent + failed + skipped); cancelled posts are not done',
  }),
});

/** The answer of GET /api/bot/status. */
export const BotStatusView = Type.Object({
  status: literals(['running', 'stopped', 'needs_attention'] as const),
  execution_mode: nullable(literals(EXECUTION_MODES)),
  total_cycle_minutes: nullable(Type.Number()),
  cycle: nullable(
    Type.Object({
      number: Type.Integer(),
      status: literals(['running', 'finished', 'stopped', 'aborted', 'skipped'] as const),
      startedAt: nullable(Type.String()),
      finishedAt: nullable(Type.String()),
      posts: PostCounts,
    }),
  ),
  nextCycleAt: nullable(Type.String()),
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      label: Type.String(),
      state: literals(['active', 'paused', 'dead'] as const),
      cooldownUntil: nullable(Type.String()),
    }),
  ),
  stats: Type.Object(
    { sent: Type.Integer(), failed: Type.Integer(), floodWaits: Type.Integer() },
    { description: 'counted over the bot’s whole life (every cycle), unlike `cycle.posts`' },
  ),
  lastError: nullable(Type.String({ description: 'what the runner last said when it needed attention' })),
  condition: Type.Composite([ConditionView], {
    description: 'the worst current condition: the one a status line shows (the first of `conditions`)',
  }),
  conditions: Type.Array(ConditionView, { description: 'every current condition, worst first' }),
  latestError: nullable(
    Type.Object(
      {
        text: Type.String({ description: 'the error in plain words' }),
        code: nullable(Type.String({ description: 'the raw reason or Telegram error' })),
        cycle: nullable(Type.Integer()),
        group: nullable(Type.String()),
        sessionId: nullable(Type.String()),
        at: nullable(Type.String()),
      },
      {
        description:
          'the last error: the runner’s while it needs attention, else the latest cycle’s last failed or skipped post; null when there is none',
      },
    ),
  ),
});
export type BotStatusView = Static<typeof BotStatusView>;

/**
 * The next cycle's start by the runner's own rule (core/schedule.ts), seen from outside the runner: the latest
 * cycle as it is now (a running one counts as ending when it is expected to), the runner taken as running all along.
 */
export function nextCycleFor(
  bot: BotConfig,
  last: LastCycle | null,
  now: number,
  policy: Pick<RuntimeOptions, 'planningLeadMs' | 'lateStartGraceMs'>,
): NextCycle {
  return nextCycleStart(
    scheduleInputOf(bot, {
      last,
      runnerStartedAt: Number.NEGATIVE_INFINITY,
      now,
      planningLeadMs: policy.planningLeadMs,
      lateStartGraceMs: policy.lateStartGraceMs,
    }),
  );
}

export async function botStatus(deps: AppDeps, bot: BotConfig): Promise<BotStatusView> {
  const { store } = deps;
  const sessions = await store.sessions.listByOwner(bot.userId);
  const cycle = await store.bots.latestCycle(bot.id);
  const outcomes = cycle ? await store.bots.cycleOutcomes(cycle.id) : [];
  const counts: Partial<Record<PostStatus, number>> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + o.count;
  // Counted by the one table of slot outcomes (core/slot-outcome.ts), as the cycle view and timeline count.
  const cycleView = cycle
    ? {
        number: cycle.number,
        status: cycle.status,
        startedAt: iso(cycle.plannedStartAt),
        finishedAt: iso(cycle.finishedAt),
        posts: countSlotOutcomes(counts),
      }
    : null;
  const running = bot.desiredState === 'running';
  const now = deps.clock.now();
  const policy = deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
  const next = running && cycle ? nextCycleFor(bot, cycle, now, policy) : null;
  const nextCycleAt = next?.ok ? next.at : null;
  const conditions = botConditions(
    {
      running,
      bot: {
        postLink: bot.postLink,
        groupCount: bot.groups.length,
        mode: bot.mode,
        totalCycleMinutes: bot.totalCycleMinutes,
      },
      sessions,
      cycle: cycle
        ? { number: cycle.number, status: cycle.status, reason: cycle.reason, posts: outcomes }
        : null,
    },
    now,
    policy,
  );
  const problem =
    cycle && !(running && bot.needsAttention) ? await store.bots.latestPostProblem(cycle.id) : null;
  return {
    status: running ? (bot.needsAttention ? 'needs_attention' : 'running') : 'stopped',
    execution_mode: bot.mode,
    total_cycle_minutes: bot.totalCycleMinutes,
    cycle: cycleView,
    nextCycleAt: iso(nextCycleAt),
    sessions: sessions.map((s) => {
      const state = sessionStateAt(s, now);
      return { id: s.id, label: s.label, state: state.status, cooldownUntil: iso(state.cooldownUntil) };
    }),
    stats: { sent: bot.counters.sent, failed: bot.counters.failed, floodWaits: bot.counters.floodWaits },
    lastError: bot.lastError,
    condition: presentCondition(worstCondition(conditions)),
    conditions: conditions.map(presentCondition),
    latestError: latestError(bot, running, problem, cycle?.number ?? null, policy),
  };
}

function presentCondition(c: Condition) {
  return { ...c, until: iso(c.until), sessionIds: [...c.sessionIds] };
}

/**
 * The last error: the runner's own words while it needs attention; else the latest cycle's last failed or skipped
 * post, in the post's words (a skip's words say what the account's pause meant for that post); else the runner's
 * last words from before, if any.
 */
function latestError(
  bot: BotConfig,
  running: boolean,
  post: PostRecord | null,
  cycle: number | null,
  policy: ExplainPolicy,
): BotStatusView['latestError'] {
  const attention = running && bot.needsAttention && bot.lastError !== null;
  if (!attention && post) {
    const code = post.error ?? post.reason;
    const text =
      (post.reason ? explainText('post', post.reason, policy, post.error) : null) ??
      (post.error ? explainText('error', post.error, policy) : null) ??
      code ??
      post.status;
    return {
      text,
      code,
      cycle,
      group: post.groupKey,
      sessionId: post.sessionId,
      at: iso(post.plannedAt),
    };
  }
  if (bot.lastError === null) return null;
  return { text: bot.lastError, code: null, cycle: null, group: null, sessionId: null, at: null };
}
