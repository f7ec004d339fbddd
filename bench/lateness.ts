/**
 * Dispatch lateness (the time the work started − the time it was due) of one benchmark run: percentiles of the
 * whole window and of each slice of it (a second, a minute), so that a tail that grows over time shows.
 */

export interface Percentiles {
  posts: number;
  p50_ms: number;
  p99_ms: number;
  p99_9_ms: number;
  max_ms: number;
}

/** Percentiles of an already sorted list (nearest rank, as report.ts). */
function rank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(values: Float64Array): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    posts: sorted.length,
    p50_ms: rank(sorted, 50),
    p99_ms: rank(sorted, 99),
    p99_9_ms: rank(sorted, 99.9),
    max_ms: rank(sorted, 100),
  };
}

/** One sample: when it was due and how late it started (both ms). */
export interface Sample {
  dueAt: number;
  lateMs: number;
}

export interface SliceFigures extends Percentiles {
  /** Index of the slice from the window's start (second 0, minute 0…). */
  slice: number;
  /** Share of the slice's posts more than 5 ms late: about the share of lanes behind their plan. */
  late_over_5ms_pct: number;
}

/** The figures of each `sliceMs` of the window, by due time. */
export function slices(
  dueAt: Float64Array,
  lateMs: Float64Array,
  windowStart: number,
  sliceMs: number,
): SliceFigures[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < dueAt.length; i++) {
    const k = Math.floor((dueAt[i]! - windowStart) / sliceMs);
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(lateMs[i]!);
  }
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((slice) => {
      const values = Float64Array.from(groups.get(slice)!);
      const late = values.reduce((n, v) => n + (v > 5 ? 1 : 0), 0);
      return { slice, ...percentiles(values), late_over_5ms_pct: (late / values.length) * 100 };
    });
}
