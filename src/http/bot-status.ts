/**
 * A bot's status as GET /api/bot/status shows it (the admin list of every bot shows the same): running or not,
 * the latest cycle's counts, when the next cycle starts, its sessions and counters.
 */
import type { BotConfig } from '../storage/bots.js';
import type { AppDeps } from './deps.js';
import { nextCycleStart, scheduleInputOf, type LastCycle, type NextCycle } from '../core/schedule.js';
import { sessionStateAt } from '../core/session-state.js';
import { countSlotOutcomes } from '../core/slot-outcome.js';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from '../runtime/options.js';
import { iso } from './presenters.js';

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

export async function botStatus(deps: AppDeps, bot: BotConfig) {
  const { store } = deps;
  const sessions = await store.sessions.listByOwner(bot.userId);
  const cycle = await store.bots.latestCycle(bot.id);
  let cycleView = null;
  if (cycle) {
    cycleView = {
      number: cycle.number,
      status: cycle.status,
      startedAt: iso(cycle.plannedStartAt),
      finishedAt: iso(cycle.finishedAt),
      // Counted by the one table of slot outcomes (core/slot-outcome.ts), as the cycle view and timeline count.
      posts: countSlotOutcomes(await store.bots.cyclePostCounts(cycle.id)),
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
