/**
 * A bot's status as GET /api/bot/status shows it (the admin list of every bot shows the same): running or not,
 * the latest cycle's counts, when the next cycle starts, its sessions and counters.
 */
import type { PostStatus } from '../core/model.js';
import type { BotConfig } from '../storage/bots.js';
import type { AppDeps } from './deps.js';
import { iso } from './presenters.js';

export async function botStatus(deps: AppDeps, bot: BotConfig) {
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
  let nextCycleAt: number | null = null;
  if (running && cycle) {
    if (
      cycle.mode === 'starter' &&
      cycle.cycleSeconds !== null &&
      bot.anchorAt !== null &&
      cycle.slot !== null
    ) {
      nextCycleAt = Math.max(
        bot.anchorAt + (cycle.slot + 1) * cycle.cycleSeconds * 1000,
        cycle.finishedAt ?? 0,
      );
    } else if (cycle.mode === 'enterprise') {
      nextCycleAt = (cycle.finishedAt ?? cycle.expectedEndAt) + bot.settings.delayBetweenCycles * 1000;
    }
  }
  return {
    status: running ? (bot.needsAttention ? 'needs_attention' : 'running') : 'stopped',
    execution_mode: bot.mode,
    total_cycle_minutes: bot.totalCycleMinutes,
    cycle: cycleView,
    nextCycleAt: iso(nextCycleAt),
    sessions: sessions.map((s) => ({
      id: s.id,
      label: s.label,
      state: s.status,
      cooldownUntil: iso(s.cooldownUntil),
    })),
    stats: { sent: bot.counters.sent, failed: bot.counters.failed, floodWaits: bot.counters.floodWaits },
    lastError: bot.lastError,
  };
}
