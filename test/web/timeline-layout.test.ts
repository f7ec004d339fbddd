/** The timeline's geometry without a browser: zoom ranges stay inside the cycle, and no mark hides another. */
import { describe, expect, it } from 'vitest';
import {
  axisTicks,
  clampRange,
  countLabel,
  formatOffset,
  glyphSpan,
  panRange,
  selectionRange,
  stackMarks,
  zoomRange,
  type Mark,
} from '../../web/src/timeline-layout.js';

const HOUR = 3600;

describe('the visible range', () => {
  it('zooms in and out around its middle, never past the cycle nor below a second', () => {
    const whole = { from: 0, to: HOUR };
    expect(zoomRange(whole, 0.5, HOUR)).toEqual({ from: 900, to: 2700 });
    expect(zoomRange({ from: 900, to: 2700 }, 2, HOUR)).toEqual(whole);
    expect(zoomRange(whole, 4, HOUR)).toEqual(whole);
    expect(zoomRange({ from: 10, to: 11 }, 0.1, HOUR)).toEqual({ from: 10, to: 11 });
    // around a point: the point keeps its place on the screen
    const around = zoomRange({ from: 0, to: 100 }, 0.5, HOUR, 20);
    expect(around).toEqual({ from: 10, to: 60 });
  });

  it('is pushed back inside the cycle at either end, and put in order', () => {
    expect(clampRange({ from: -50, to: 50 }, HOUR)).toEqual({ from: 0, to: 100 });
    expect(clampRange({ from: 3550, to: 3700 }, HOUR)).toEqual({ from: 3450, to: 3600 });
    expect(clampRange({ from: 200, to: 100 }, HOUR)).toEqual({ from: 100, to: 200 });
    expect(clampRange({ from: Number.NaN, to: 5 }, HOUR)).toEqual({ from: 0, to: HOUR });
    expect(clampRange({ from: 0, to: 5 }, 0.5)).toEqual({ from: 0, to: 0.5 });
    expect(panRange({ from: 0, to: 100 }, -0.5, HOUR)).toEqual({ from: 0, to: 100 });
    expect(panRange({ from: 0, to: 100 }, 0.5, HOUR)).toEqual({ from: 50, to: 150 });
  });

  it('takes a drag across the plot as the range under it, and a short one as nothing', () => {
    const range = { from: 0, to: HOUR };
    expect(selectionRange(100, 300, range, 1000, HOUR)).toEqual({ from: 360, to: 1080 });
    expect(selectionRange(300, 100, range, 1000, HOUR)).toEqual({ from: 360, to: 1080 });
    expect(selectionRange(-40, 50, range, 1000, HOUR)).toEqual({ from: 0, to: 180 });
    expect(selectionRange(100, 104, range, 1000, HOUR)).toBeNull();
  });

  it('ticks the axis at round values inside the range, written as a clock past 90 s', () => {
    expect(axisTicks({ from: 0, to: HOUR }, 8)).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600]);
    expect(axisTicks({ from: 2400, to: 2500 }, 5)).toEqual([2400, 2430, 2460, 2490]);
    expect(axisTicks({ from: 0.3, to: 1.3 }, 5)).toEqual([0.4, 0.6, 0.8, 1, 1.2]);
    expect(formatOffset(2430, HOUR)).toBe('40:30');
    expect(formatOffset(3750, 2 * HOUR)).toBe('1:02:30');
    expect(formatOffset(45, 60)).toBe('45 s');
    expect(formatOffset(40.5, HOUR, true)).toBe('0:40.5');
  });
});

describe('stacking marks', () => {
  const options = { capacity: 3, order: ['sent', 'failed', 'skipped'] as const };
  type Kind = (typeof options.order)[number];
  const total = (glyphs: { count: number }[]) => glyphs.reduce((n, g) => n + g.count, 0);

  it('draws marks that do not touch as they are, one each, where they are', () => {
    const marks: Mark<Kind>[] = [0, 10, 60].map((x) => ({ lane: 0, x, kind: 'sent' }));
    const { glyphs } = stackMarks(marks, options);
    expect(glyphs.map((g) => [g.x, g.count, g.level, g.levels])).toEqual([
      [0, 1, 0, 1],
      [10, 1, 0, 1],
      [60, 1, 0, 1],
    ]);
  });

  it('stacks a few marks at one moment instead of drawing them on top of each other', () => {
    const marks: Mark<Kind>[] = [
      { lane: 0, x: 50, kind: 'skipped' },
      { lane: 0, x: 50, kind: 'sent' },
      { lane: 0, x: 51, kind: 'failed' },
      { lane: 1, x: 50, kind: 'sent' },
    ];
    const { glyphs, levels } = stackMarks(marks, options);
    const lane0 = glyphs.filter((g) => g.lane === 0);
    expect(lane0.map((g) => [g.x, g.kind, g.level, g.levels, g.members])).toEqual([
      [50, 'sent', 0, 3, [1]],
      [50, 'failed', 1, 3, [2]],
      [50, 'skipped', 2, 3, [0]],
    ]);
    expect(levels.get(0)).toBe(3);
    expect(levels.get(1)).toBe(1);
  });

  it('shows 14 skips at one moment as one count of 14, beside the other kinds there', () => {
    const marks: Mark<Kind>[] = [
      ...Array.from({ length: 14 }, () => ({ lane: 0, x: 200, kind: 'skipped' as const })),
      { lane: 0, x: 205, kind: 'sent' },
      // within the count's width: taken in, not drawn under it
      { lane: 0, x: 220, kind: 'sent' },
      { lane: 0, x: 400, kind: 'sent' },
    ];
    const { glyphs } = stackMarks(marks, options);
    expect(glyphs.map((g) => [g.x, g.kind, g.count, g.level])).toEqual([
      [200, 'sent', 2, 0],
      [200, 'skipped', 14, 1],
      [400, 'sent', 1, 0],
    ]);
    expect(total(glyphs)).toBe(marks.length);
    expect(countLabel(14)).toBe('14');
    expect(countLabel(4321)).toBe('4k');
  });

  it('keeps every mark in exactly one glyph, and no two glyphs of a lane overlapping', () => {
    // 17 deliveries in 100 s of an hour's axis 800 px wide (0.22 px a second), and everything in between
    for (const spread of [0.05, 0.22, 1, 3, 9, 40]) {
      const marks: Mark<Kind>[] = Array.from({ length: 150 }, (_, i) => ({
        lane: i % 3,
        x: ((i * 37) % 1000) * spread,
        kind: options.order[i % 3]!,
      }));
      const { glyphs } = stackMarks(marks, options);
      expect(total(glyphs)).toBe(150);
      expect(new Set(glyphs.flatMap((g) => g.members)).size).toBe(150);
      for (const a of glyphs)
        for (const b of glyphs) {
          if (a === b || a.lane !== b.lane) continue;
          const stacked = a.x === b.x && a.levels === b.levels && a.level !== b.level;
          const [sa, sb] = [glyphSpan(a), glyphSpan(b)];
          const apart = sa.right <= sb.left || sb.right <= sa.left;
          expect(stacked || apart, `${spread}: ${a.x}×${a.count} / ${b.x}×${b.count}`).toBe(true);
        }
    }
  });
});
