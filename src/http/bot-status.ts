/**
 * A bot's status as GET /api/bot/status shows it (the admin list of every bot shows the same): running or not,
 * the latest cycle's counts, when the next cycle starts, its sessions and counters, and how it is doing — every
 * current condition worst first (core/condition.ts) and the last error, so that no screen reads "on schedule" or
 * "no error" while posts are skipped or every session is paused.
 */
import { Type, type Static } from '@sinclair/typebox';
import { botConditions, worstCondition, type Condition } from '../core/condition.js';
import type { PostRecord, PostStatus } from '../core/model.js';
import { EXECUTION_MODES } from '../core/plan.js';
import { explainText, type ExplainPolicy } from '../core/reasons.js';
import type { BotConfig } from '../storage/bots.js';
import type { AppDeps } from './deps.js';
import { nextCycleStart, scheduleInputOf, type LastCycle, type NextCycle } from '../core/schedule.js';
import { sessionStateAt } from '../core/session-state.js';
import { countSlotOutcomes } from '../core/slot-outcome.js';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from '../runtime/options.js';
import { iso } from './presenters.js';
import { DateTime, Nullable, StringEnum } from './schemas.js';

const Count = (description?: string) =>
  Type.Integer({ minimum: 0, ...(description === undefined ? {} : { description }) });

/** One condition of the bot (core/condition.ts), its end as ISO text. */
export const ConditionView = Type.Object({
  level: StringEnum(['ok', 'stopped', 'warning', 'critical']),
  code: Type.String({
    description:
      'running, stopped, no_sessions, no_usable_session, sessions_all_paused, not_ready, source_invalid, sessions_frozen, sessions_dead, sessions_limited, sessions_unreachable, posts_failed, sessions_paused or posts_skipped',
  }),
  message: Type.String({ description: 'what is wrong and why, in plain words' }),
  action: Nullable(
    Type.Object({
      where: StringEnum(['sessions', 'post_and_groups', 'activity']),
      label: Type.String(),
    }),
  ),
  until: Nullable(DateTime('when it ends by itself (the first pause’s end)')),
  sessionIds: Type.Array(Type.String()),
});

/** A cycle's posts by outcome (core/slot-outcome.ts): the status's and the cycle view's counts. */
export const PostCounts = Type.Object(
  {
    planned: Count('every post of the cycle'),
    sent: Count('sent (a duplicate found already sent counts as sent)'),
    failed: Count('failed'),
    skipped: Count('skipped, missed or not attempted'),
    cancelled: Count('cancelled by a stop (or a source that cannot be forwarded)'),
    pending: Count('planned or sending: what a stop now would cancel'),
    done: Count('sent or decided (sent + failed + skipped); cancelled posts are not done'),
  },
  { description: 'the cycle’s posts by result' },
);

/** GET /api/bot/status (and each bot of GET /api/admin/bots). */
export const BotStatusView = Type.Object({
  status: StringEnum(['running', 'stopped', 'needs_attention'], {
    description: 'needs_attention: running, but something stops it from posting (see lastError)',
  }),
  execution_mode: Nullable(StringEnum(EXECUTION_MODES), {
    description: 'null until first started',
  }),
  total_cycle_minutes: Nullable(Type.Integer({ description: 'starter mode’s cycle length' })),
  cycle: Nullable(
    Type.Object({
      number: Type.Integer({ minimum: 1 }),
      status: StringEnum(['running', 'finished', 'stopped', 'aborted', 'skipped']),
      startedAt: Nullable(DateTime('when the cycle was planned to start')),
      finishedAt: Nullable(DateTime()),
      posts: PostCounts,
    }),
    { description: 'the latest cycle; null before the first' },
  ),
  nextCycleAt: Nullable(DateTime('when the next cycle starts; null when stopped or not known')),
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      label: Type.String(),
      state: StringEnum(['active', 'paused', 'dead']),
      cooldownUntil: Nullable(DateTime()),
    }),
  ),
  stats: Type.Object(
    {
      sent: Count('posts sent'),
      failed: Count('posts failed'),
      floodWaits: Count('FLOOD_WAITs Telegram answered'),
    },
    {
      description:
        'counted over the bot’s whole life (every cycle, kept across restarts), unlike `cycle.posts`',
    },
  ),
  lastError: Nullable(Type.String({ description: 'what the runner last said when it needed attention' })),
  condition: Type.Composite([ConditionView], {
    description: 'the worst current condition: the one a status line shows (the first of `conditions`)',
  }),
  conditions: Type.Array(ConditionView, { description: 'every current condition, worst first' }),
  latestError: Nullable(
    Type.Object(
      {
        text: Type.String({ description: 'the error in plain words' }),
        code: Nullable(Type.String({ description: 'the raw reason or Telegram error' })),
        cycle: Nullable(Type.Integer()),
        group: Nullable(Type.String()),
        sessionId: Nullable(Type.String()),
        at: Nullable(DateTime()),
      },
      {
        description:
          'the last error: the runner’s while it needs attention, else the latest cycle’s last failed or skipped post; null when there is none',
      },
    ),
  ),
});

export type BotStatusView = Static<typeof BotStatusView>;

export const BOT_STATUS_EXAMPLE: Static<typeof BotStatusView> = {
  status: 'running',
  execution_mode: 'starter',
  total_cycle_minutes: 60,
  cycle: {
    number: 3,
    status: 'running',
    startedAt: '2026-01-01T12:00:00.000Z',
    finishedAt: null,
    posts: { planned: 22, sent: 8, failed: 0, skipped: 1, cancelled: 0, pending: 13, done: 9 },
  },
  nextCycleAt: '2026-01-01T13:00:00.000Z',
  sessions: [{ id: '7', label: '@ada', state: 'active', cooldownUntil: null }],
  stats: { sent: 28, failed: 1, floodWaits: 2 },
  lastError: null,
  condition: {
    level: 'warning',
    code: 'posts_skipped',
    message: '1 post of cycle #3 was skipped: the group’s slow mode had not passed.',
    action: { where: 'activity', label: 'See the activity' },
    until: null,
    sessionIds: [],
  },
  conditions: [
    {
      level: 'warning',
      code: 'posts_skipped',
      message: '1 post of cycle #3 was skipped: the group’s slow mode had not passed.',
      action: { where: 'activity', label: 'See the activity' },
      until: null,
      sessionIds: [],
    },
  ],
  latestError: {
    text: 'The group’s slow mode had not passed.',
    code: 'group_slowmode',
    cycle: 3,
    group: '@rust_jobs',
    sessionId: '7',
    at: '2026-01-01T12:05:00.000Z',
  },
};

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
