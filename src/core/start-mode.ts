/**
 * Which mode a start uses — the original's rules (seed note, `bot_control.py`): the request body first (only
 * `starter` or `enterprise`; starter needs a positive integer `total_cycle_minutes`), else the customer's plan
 * (`STARTER` → starter, 60 minutes), else enterprise. Pure, so the API, the CLI and the tests share it.
 */
import { CoreErrorCode, StaggerError } from './errors.js';
import { checkRange, LIMITS } from './limits.js';
import { isExecutionMode, type ExecutionMode } from './plan.js';

export interface StartRequest {
  execution_mode?: unknown;
  total_cycle_minutes?: unknown;
}

export interface StartMode {
  mode: ExecutionMode;
  totalCycleMinutes: number | null;
  /** Where the mode came from. */
  source: 'request' | 'plan' | 'stored' | 'default';
}

/** The STARTER plan's cycle when the request names none (the original's default). */
export const STARTER_PLAN_DEFAULT_MINUTES = 60;

function positiveMinutes(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new StaggerError(
      CoreErrorCode.StarterRequiresCycleMinutes,
      `starter mode requires total_cycle_minutes, a whole number of minutes > 0 (got ${JSON.stringify(value) ?? 'none'})`,
    );
  }
  // Beyond the limit the cycle's end is no representable time (1e308 minutes crashed the runtime).
  return checkRange(
    LIMITS.totalCycleMinutes,
    'total_cycle_minutes',
    value,
    CoreErrorCode.InvalidCycleMinutes,
  );
}

export function resolveStartMode(
  request: StartRequest | null | undefined,
  planType: string | null,
  stored?: { mode: ExecutionMode | null; totalCycleMinutes: number | null },
): StartMode {
  const mode = request?.execution_mode;
  const minutes = request?.total_cycle_minutes;
  if (mode !== undefined && mode !== null) {
    if (!isExecutionMode(mode)) {
      throw new StaggerError(
        CoreErrorCode.InvalidExecutionMode,
        `invalid execution_mode ${JSON.stringify(mode)}: expected "starter" or "enterprise"`,
      );
    }
    if (mode === 'starter') return { mode, totalCycleMinutes: positiveMinutes(minutes), source: 'request' };
    return { mode, totalCycleMinutes: null, source: 'request' };
  }
  // A previewed or stored configuration (plan preview of a configured bot) comes before the plan's default.
  if (stored?.mode) {
    if (stored.mode === 'starter') {
      const m =
        minutes !== undefined && minutes !== null ? positiveMinutes(minutes) : stored.totalCycleMinutes;
      return { mode: 'starter', totalCycleMinutes: m ?? STARTER_PLAN_DEFAULT_MINUTES, source: 'stored' };
    }
    return { mode: 'enterprise', totalCycleMinutes: null, source: 'stored' };
  }
  if (planType === 'STARTER') {
    const m =
      minutes !== undefined && minutes !== null ? positiveMinutes(minutes) : STARTER_PLAN_DEFAULT_MINUTES;
    return { mode: 'starter', totalCycleMinutes: m, source: 'plan' };
  }
  return { mode: 'enterprise', totalCycleMinutes: null, source: 'default' };
}
