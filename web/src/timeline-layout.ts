/**
 * The timeline chart's geometry, as pure functions (no React, no DOM): the visible range of a zoomed chart and its
 * axis, and where the marks go so that none hides another. Marks that would touch (at an hour's scale, 17 posts
 * in 100 s fall on a few pixels) are drawn as one cluster: a few dots stacked one above the other, or, beyond that,
 * one labelled count per kind. Every mark is in exactly one glyph, so the counts drawn always add up.
 */

/** A span of the cycle, in seconds from its start. */
export interface Range {
  from: number;
  to: number;
}

/** A drag narrower than this (pixels) is a click, not a selection. */
export const MIN_DRAG_PX = 6;

/** The narrowest range the chart zooms to: a second (or the whole cycle, when shorter). */
export function minSpanOf(domain: number): number {
  return Math.min(domain, 1);
}

export function wholeRange(domain: number): Range {
  return { from: 0, to: domain };
}

export function isWhole(range: Range, domain: number): boolean {
  return range.from <= 0 && range.to >= domain;
}

/** The range put inside [0, domain], in order, no narrower than the minimum span and no wider than the domain. */
export function clampRange(range: Range, domain: number): Range {
  const minSpan = minSpanOf(domain);
  let from = Math.min(range.from, range.to);
  let to = Math.max(range.from, range.to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return wholeRange(domain);
  if (to - from < minSpan) {
    const middle = (from + to) / 2;
    from = middle - minSpan / 2;
    to = middle + minSpan / 2;
  }
  const span = Math.min(to - from, domain);
  from = Math.min(Math.max(from, 0), domain - span);
  return { from, to: from + span };
}

/** Zoomed by `factor` (below 1: in) around `center` (default: the middle), kept inside the domain. */
export function zoomRange(range: Range, factor: number, domain: number, center?: number): Range {
  const middle = center ?? (range.from + range.to) / 2;
  const span = (range.to - range.from) * factor;
  const clamped = Math.min(Math.max(span, minSpanOf(domain)), domain);
  // The center stays where it is on the screen: the part of the range on each side scales alike.
  const left = range.to > range.from ? (middle - range.from) / (range.to - range.from) : 0.5;
  return clampRange({ from: middle - clamped * left, to: middle + clamped * (1 - left) }, domain);
}

/** Moved by `fraction` of its span (negative: earlier), kept inside the domain. */
export function panRange(range: Range, fraction: number, domain: number): Range {
  const by = (range.to - range.from) * fraction;
  return clampRange({ from: range.from + by, to: range.to + by }, domain);
}

/**
 * The range a drag across the plot selects, from two pixel positions measured from the plot's left edge; null when
 * the drag is too short to mean a selection.
 */
export function selectionRange(
  x0: number,
  x1: number,
  range: Range,
  plotWidth: number,
  domain: number,
): Range | null {
  if (Math.abs(x1 - x0) < MIN_DRAG_PX || plotWidth <= 0) return null;
  const at = (px: number) =>
    range.from + (Math.min(Math.max(px, 0), plotWidth) / plotWidth) * (range.to - range.from);
  return clampRange({ from: at(Math.min(x0, x1)), to: at(Math.max(x0, x1)) }, domain);
}

/** Tick steps the axis may use, in seconds. */
const STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400,
];

/** At most `maxTicks` round values inside the range, for the axis. */
export function axisTicks(range: Range, maxTicks: number): number[] {
  const span = range.to - range.from;
  const step = STEPS.find((s) => span / s <= maxTicks) ?? span / maxTicks;
  const ticks: number[] = [];
  const first = Math.ceil(range.from / step - 1e-9) * step;
  for (let t = first; t <= range.to + 1e-9 && ticks.length <= maxTicks + 1; t += step)
    ticks.push(+t.toFixed(3));
  return ticks;
}

/**
 * A time in the cycle as the axis and the tables write it: seconds in a cycle under 90 s (`45 s`), else a clock
 * from the cycle's start (`40:05`, `1:02:30`); tenths when the axis steps below a second.
 */
export function formatOffset(seconds: number, domain: number, fraction = false): string {
  const s = Math.max(0, seconds);
  if (domain < 90) return `${fraction ? +s.toFixed(1) : Math.round(s)} s`;
  const whole = Math.floor(s);
  const tenths = fraction ? `.${Math.round((s - whole) * 10) % 10}` : '';
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const sec = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}${tenths}` : `${m}:${sec}${tenths}`;
}

/** A mark to place: its row, its position in pixels from the plot's left edge, and its kind. */
export interface Mark<K extends string> {
  lane: number;
  x: number;
  kind: K;
}

/** One drawn thing: a single mark, or `count` marks of one kind drawn as one labelled count. */
export interface Glyph<K extends string> {
  lane: number;
  /** Pixels from the plot's left edge: where the cluster's first mark is. */
  x: number;
  kind: K;
  count: number;
  /**
   * Its place in the cluster's stack (0 first) and the stack's height: it sits `level - (levels - 1) / 2` rows off
   * the lane's middle.
   */
  level: number;
  levels: number;
  /** The marks it stands for (indices into the input). */
  members: number[];
}

/** The text of a count: the number, or thousands (`5k`) past 999 — three characters at most. */
export function countLabel(count: number): string {
  return count < 1000 ? String(count) : `${Math.floor(count / 1000)}k`;
}

/** Geometry of the glyphs, in pixels: a dot's radius, and a count's width per character of its label. */
export const GLYPH = { radius: 4, padding: 8, perChar: 6 };

/**
 * Where a glyph spans horizontally: a dot around its x, a count from its x on (it covers the stretch of time its
 * posts fall in, which starts at its x).
 */
export function glyphSpan(g: { x: number; count: number }): { left: number; right: number } {
  if (g.count === 1) return { left: g.x - GLYPH.radius, right: g.x + GLYPH.radius };
  return {
    left: g.x - GLYPH.radius,
    right: g.x - GLYPH.radius + GLYPH.padding + countLabel(g.count).length * GLYPH.perChar,
  };
}

/** Marks closer than this many pixels would touch: they are one cluster. */
const DOT_COLUMN = 2 * GLYPH.radius + 2;
/** A cluster drawn as counts takes in every mark up to this far on: wider than a three-character count. */
const COUNT_COLUMN = GLYPH.padding + 3 * GLYPH.perChar + 4;

export interface StackOptions<K extends string> {
  /** Up to this many marks a cluster draws each one; beyond, one labelled count per kind. */
  capacity: number;
  /** The order of kinds in a stack, top first. */
  order: readonly K[];
}

/**
 * Places marks so that none hides another. In each lane, from left to right, a mark joins the cluster of the mark
 * before it when they would touch. A cluster of up to `capacity` marks stacks them, one above the other; a larger
 * one takes in every mark of the next few pixels too and draws one glyph per kind with its count. A cluster starts
 * where the previous one's glyphs end, so no two glyphs of a lane overlap.
 */
export function stackMarks<K extends string>(
  marks: readonly Mark<K>[],
  options: StackOptions<K>,
): { glyphs: Glyph<K>[]; levels: Map<number, number> } {
  const rank = new Map(options.order.map((k, i) => [k, i]));
  const byLane = new Map<number, number[]>();
  marks.forEach((m, i) => {
    const list = byLane.get(m.lane);
    if (list) list.push(i);
    else byLane.set(m.lane, [i]);
  });
  const byKind = (a: number, b: number) =>
    (rank.get(marks[a]!.kind) ?? 99) - (rank.get(marks[b]!.kind) ?? 99) || marks[a]!.x - marks[b]!.x;
  const glyphs: Glyph<K>[] = [];
  const levels = new Map<number, number>();
  for (const [lane, indices] of byLane) {
    indices.sort((a, b) => marks[a]!.x - marks[b]!.x || a - b);
    let start = 0;
    while (start < indices.length) {
      const x0 = marks[indices[start]!]!.x;
      const within = (end: number, column: number) => {
        while (end < indices.length && marks[indices[end]!]!.x - x0 < column) end++;
        return end;
      };
      let end = within(start + 1, DOT_COLUMN);
      let stack: { kind: K; members: number[] }[];
      if (end - start <= options.capacity) {
        stack = indices
          .slice(start, end)
          .sort(byKind)
          .map((i) => ({ kind: marks[i]!.kind, members: [i] }));
      } else {
        end = within(end, COUNT_COLUMN);
        const kinds = new Map<K, number[]>();
        for (const i of indices.slice(start, end).sort(byKind)) {
          const kind = marks[i]!.kind;
          const list = kinds.get(kind);
          if (list) list.push(i);
          else kinds.set(kind, [i]);
        }
        stack = [...kinds].map(([kind, members]) => ({ kind, members }));
      }
      stack.forEach((g, level) =>
        glyphs.push({
          lane,
          x: x0,
          kind: g.kind,
          count: g.members.length,
          level,
          levels: stack.length,
          members: g.members,
        }),
      );
      levels.set(lane, Math.max(levels.get(lane) ?? 0, stack.length));
      start = end;
    }
  }
  return { glyphs, levels };
}
