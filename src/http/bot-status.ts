/**
 * A bot's status as GET /api/bot/status shows it (the admin list of every bot shows the same): running or not,
 * the latest cycle's counts, when the next cycle starts, its sessions and counters.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { PostStatus } from '../core/model.js';
import type { BotConfig } from '../storage/bots.js';
import type { AppDeps } from './deps.js';
import { nextCycleStart, scheduleInputOf, type LastCycle, type NextCycle } from '../core/schedule.js';
import { sessionStateAt } from '../core/session-state.js';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from '../runtime/options.js';
import { iso } from './presenters.js';
import { DateTime, Nullable, StringEnum } from './schemas.js';

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** GET /api/bot/status (and each bot of GET /api/admin/bots). */
export const BotStatusView = Type.Object({
  status: StringEnum(['running', 'stopped', 'needs_attention'], {
    description: 'needs_attention: running, but something stops it from posting (see lastError)',
  }),
  execution_mode: Nullable(StringEnum(['starter', 'enterprise']), {
    description: 'null until first started',
  }),
  total_cycle_minutes: Nullable(Type.Integer({ description: 'starter mode’s cycle length' })),
  cycle: Nullable(
    Type.Object({
      number: Type.Integer({ minimum: 1 }),
      status: StringEnum(['running', 'finished', 'stopped', 'aborted', 'skipped']),
      startedAt: Nullable(DateTime('when the cycle was planned to start')),
      finishedAt: Nullable(DateTime()),
      posts: Type.Object(
        {
          planned: Count('every post of the cycle'),
          sent: Count('sent (a duplicate found already sent counts as sent)'),
          failed: Count('failed'),
          skipped: Count('skipped, missed or not attempted'),
          cancelled: Count('cancelled by a stop'),
          pending: Count('not decided yet'),
        },
        { description: 'this cycle’s posts by result' },
      ),
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
    { description: 'lifetime counters of the bot (kept across restarts and history pruning)' },
  ),
  lastError: Nullable(Type.String()),
});

export const BOT_STATUS_EXAMPLE: Static<typeof BotStatusView> = {
  status: 'running',
  execution_mode: 'starter',
  total_cycle_minutes: 60,
  cycle: {
    number: 3,
    status: 'running',
    startedAt: '2026-01-01T12:00:00.000Z',
    finishedAt: null,
    posts: { planned: 22, sent: 8, failed: 0, skipped: 1, cancelled: 0, pending: 13 },
  },
  nextCycleAt: '2026-01-01T13:00:00.000Z',
  sessions: [{ id: '7', label: '@ada', state: 'active', cooldownUntil: null }],
  stats: { sent: 28, failed: 1, floodWaits: 2 },
  lastError: null,
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

export async function botStatus(deps: AppDeps, bot: BotConfig): Promise<Static<typeof BotStatusView>> {
  const { store } = deps;
  const sessions = await store.sessions.listByOwner(bot.userId);
  const cycle = await store.bots.latestCycle(bot.id);
  let cycleView = null;
  if (cycle) {
    const counts = await store.bots.cyclePostCounts(cycle.id);
    const n = (...s: PostStatus[]) => s.reduce((sum, k) => sum + (counts[k] ?? 0), 0);
    cycleView = {
      number: cycle.number,
      status: cycle.status,
      startedAt: iso(cycle.plannedStartAt),
      finishedAt: iso(cycle.finishedAt),
      posts: {
        planned: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0),
        sent: n('sent', 'duplicate'),
        failed: n('failed'),
        skipped: n('skipped', 'missed', 'not_attempted'),
        cancelled: n('cancelled'),
        pending: n('planned', 'sending'),
      },
    };
  }
  const running = bot.desiredState === 'running';
  const now = deps.clock.now();
  const policy = deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
  const next = running && cycle ? nextCycleFor(bot, cycle, now, policy) : null;
  const nextCycleAt = next?.ok ? next.at : null;
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
  };
}
