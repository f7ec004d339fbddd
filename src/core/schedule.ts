/**
 * When the next cycle starts — the one rule the runner, `/api/bot/status`, the preview and the dashboard use.
 * Starter cycles are anchored (`anchor + k·T`): a slot that cannot start in time is skipped (after an overrun, the
 * next slot after the previous cycle's end — never overlapped or squeezed) or, after downtime, the slot under way
 * runs late rather than losing a whole cycle. Enterprise cycles start `delay_between_cycles` after the previous one
 * completed. Pure: the caller writes the new anchor and the skipped record this returns.
 */
import { cycleSettingsProblem, modeOrDefault, type ExecutionMode } from './plan.js';

export interface LastCycle {
  number: number;
  mode: ExecutionMode;
  slot: number | null;
  plannedStartAt: number;
  /** Null while it runs. */
  finishedAt: number | null;
  /** When a running cycle is expected to end (the estimate used while `finishedAt` is null). */
  expectedEndAt: number;
  status: 'running' | 'finished' | 'stopped' | 'aborted' | 'skipped';
}

export interface ScheduleInput {
  mode: ExecutionMode | null;
  totalCycleMinutes: number | null;
  /** Seconds from an enterprise cycle's end to the next one's start. */
  delayBetweenCycles: number;
  /** The starter anchor and the T (seconds) it was set for. */
  anchor: { at: number; cycleSeconds: number } | null;
  last: LastCycle | null;
  /** When the runner began: a cycle that ended late because nothing was running did not overrun. */
  runnerStartedAt: number;
  now: number;
  /** Cycles are planned this long before they start (the first one starts this long after a start). */
  planningLeadMs: number;
  /** A start this late is still on time. */
  lateStartGraceMs: number;
}

export type SkipReason = 'previous_cycle_overran' | 'not_running';

export interface SkippedSlots {
  /** The number the record of the skipped slots gets. */
  number: number;
  /** The last slot skipped. */
  slot: number;
  slots: number;
  reason: SkipReason;
  /** The first skipped slot's start. */
  plannedStartAt: number;
}

export type NextCycle =
  | {
      ok: true;
      at: number;
      slot: number | null;
      /** The slot's start has passed (nothing was running): posts due before now that cannot go out are missed. */
      late: boolean;
      /** The number the cycle gets (after the skipped record, if any). */
      number: number;
      /** A new starter anchor to store (first cycle, or T changed). */
      newAnchor: { at: number; cycleSeconds: number } | null;
      skipped: SkippedSlots | null;
    }
  | { ok: false; reason: 'bad_settings'; message: string };

/** The schedule's view of a bot: what it stores about its mode, cycle length, delays and anchor. */
export interface ScheduledBot {
  mode: ExecutionMode | null;
  totalCycleMinutes: number | null;
  settings: { delayBetweenCycles: number };
  anchorAt: number | null;
  anchorCycleSeconds: number | null;
}

/** The input of `nextCycleStart` for a stored bot. */
export function scheduleInputOf(
  bot: ScheduledBot,
  at: Pick<ScheduleInput, 'last' | 'runnerStartedAt' | 'now' | 'planningLeadMs' | 'lateStartGraceMs'>,
): ScheduleInput {
  return {
    mode: bot.mode,
    totalCycleMinutes: bot.totalCycleMinutes,
    delayBetweenCycles: bot.settings.delayBetweenCycles,
    anchor:
      bot.anchorAt === null || bot.anchorCycleSeconds === null
        ? null
        : { at: bot.anchorAt, cycleSeconds: bot.anchorCycleSeconds },
    ...at,
  };
}

export function nextCycleStart(input: ScheduleInput): NextCycle {
  const { last, now, planningLeadMs: lead, lateStartGraceMs: grace } = input;
  const mode = modeOrDefault(input.mode);
  const following = (last?.number ?? 0) + 1;
  if (mode === 'enterprise') {
    if (last && last.mode === 'enterprise' && last.status !== 'stopped' && last.status !== 'skipped') {
      const end = last.finishedAt ?? (last.status === 'running' ? last.expectedEndAt : null);
      if (end !== null) {
        // A start that has passed (the cycle could not be planned then: every session was paused) is now — a
        // cycle planned in the past would find its posts past their deadline, and its readiness judged then.
        const due = end + input.delayBetweenCycles * 1000;
        return start(now + lead > due + grace ? now + lead : due, null, false, following);
      }
    }
    return start(now + lead, null, false, following);
  }

  const problem = cycleSettingsProblem(mode, input.totalCycleMinutes);
  if (problem !== null) return { ok: false, reason: 'bad_settings', message: problem };
  const minutes = input.totalCycleMinutes!;
  const periodMs = minutes * 60_000;
  if (input.anchor === null || input.anchor.cycleSeconds !== minutes * 60) {
    const newAnchor = { at: now + lead, cycleSeconds: minutes * 60 };
    return { ...start(newAnchor.at, 0, false, following), newAnchor };
  }
  const anchor = input.anchor.at;
  const sameAnchor =
    last !== null && last.mode === 'starter' && last.slot !== null && last.plannedStartAt >= anchor;
  const slot = sameAnchor ? last.slot! + 1 : 0;
  const at = anchor + slot * periodMs;
  const lastEnd =
    last === null ? null : (last.finishedAt ?? (last.status === 'running' ? last.expectedEndAt : null));
  // The previous cycle ran into this slot — unless it only ended late because nothing was running.
  const overran = lastEnd !== null && lastEnd > at + grace && input.runnerStartedAt <= at;
  if (!overran && now <= at + grace) return start(at, slot, false, following);
  // The slot cannot start in time. After an overrun: the next slot after the previous cycle's end. After
  // downtime: the slot under way now runs late (rather than lose a whole cycle).
  const nextSlot = overran
    ? Math.max(slot + 1, Math.ceil((lastEnd - grace - anchor) / periodMs))
    : Math.max(slot, Math.floor((now - anchor) / periodMs));
  const nextAt = anchor + nextSlot * periodMs;
  const late = now > nextAt + grace;
  if (nextSlot === slot) return start(nextAt, nextSlot, late, following);
  const skipped: SkippedSlots = {
    number: following,
    slot: nextSlot - 1,
    slots: nextSlot - slot,
    reason: overran ? 'previous_cycle_overran' : 'not_running',
    plannedStartAt: at,
  };
  return { ...start(nextAt, nextSlot, late, following + 1), skipped };
}

function start(at: number, slot: number | null, late: boolean, number: number) {
  return { ok: true as const, at, slot, late, number, newAnchor: null, skipped: null };
}
