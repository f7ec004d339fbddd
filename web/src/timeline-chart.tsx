/**
 * The timeline's chart and what goes with it: one row per session, the marks of the slots in the visible range
 * (stacked or counted where they would hide each other: timeline-layout.ts), zoom buttons and drag-to-zoom, the
 * legend with counts, and the per-group table of who posted what where and when.
 */
import { useEffect, useId, useMemo, useRef, useState, type PointerEvent, type RefObject } from 'react';
import type { SlotOutcome } from '../../src/core/slot-outcome.js';
import {
  axisTicks,
  countLabel,
  formatOffset,
  GLYPH,
  glyphSpan,
  isWhole,
  panRange,
  selectionRange,
  stackMarks,
  wholeRange,
  zoomRange,
  type Glyph,
  type Range,
} from './timeline-layout';
import { DataTable } from './ui';

/** A slot of a preview is `planned`; a slot of a cycle that runs or ran has an outcome. */
export type MarkKind = 'planned' | SlotOutcome;

/** Top to bottom in a stack, and the legend's order. */
export const KIND_ORDER: readonly MarkKind[] = [
  'sent',
  'failed',
  'skipped',
  'cancelled',
  'pending',
  'planned',
];

const KIND_CLASS: Record<MarkKind, string> = {
  planned: 'mark-planned',
  pending: 'mark-pending',
  sent: 'mark-delivered',
  failed: 'mark-failed',
  skipped: 'mark-skipped',
  cancelled: 'mark-cancelled',
};

export interface ChartLane {
  key: string;
  label: string;
  /** Under the label: the session's offset in the cycle. */
  sublabel: string;
  /** The span the session's posts cover, drawn as a band. */
  band: Range | null;
  /** The session's offset in a starter plan, drawn as a line. */
  offset: number | null;
}

export interface ChartMark {
  lane: number;
  /** Seconds from the cycle's start. */
  at: number;
  kind: MarkKind;
  /** What a pointer over it says: group, account, time. */
  title: string;
}

/** Up to this many marks at one place are drawn each; more are counted per kind. */
const STACK_CAPACITY = 3;
/** The vertical distance between two glyphs of a stack. */
const PITCH = 12;
const RADIUS = GLYPH.radius;

function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(260, Math.floor(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function TimelineChart({
  lanes,
  marks,
  domain,
  range,
  onRange,
  now,
  description,
}: {
  lanes: ChartLane[];
  marks: ChartMark[];
  /** The cycle's length in seconds: the whole axis. */
  domain: number;
  range: Range;
  onRange: (range: Range) => void;
  /** Seconds from the cycle's start, while it runs. */
  now: number | null;
  description: string;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const svgRef = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const titleId = useId();

  const narrow = width < 520;
  const labelW = narrow ? 84 : 150;
  const right = narrow ? 10 : 16;
  const top = 26;
  const plotW = Math.max(40, width - labelW - right);
  const span = Math.max(range.to - range.from, 1e-9);
  const px = (s: number) => ((s - range.from) / span) * plotW;
  const x = (s: number) => labelW + px(s);

  const layout = useMemo(() => {
    const visible = marks.filter((m) => m.at >= range.from - 1e-9 && m.at <= range.to + 1e-9);
    const { glyphs, levels } = stackMarks(
      visible.map((m) => ({ lane: m.lane, x: ((m.at - range.from) / span) * plotW, kind: m.kind })),
      { capacity: STACK_CAPACITY, order: KIND_ORDER },
    );
    return { visible, glyphs, levels };
  }, [marks, range.from, span, plotW]);

  // Each row is as tall as its tallest stack.
  const rowTop: number[] = [];
  let y = top;
  const rowH = lanes.map((_, i) => Math.max(40, (layout.levels.get(i) ?? 1) * PITCH + 14));
  for (const h of rowH) {
    rowTop.push(y);
    y += h;
  }
  const height = y + 8;
  const middle = (row: number) => rowTop[row]! + rowH[row]! / 2;

  // A tick label every 80 px at most: the widest ("1:00:00") never reaches the next one.
  const ticks = axisTicks(range, Math.max(2, Math.floor(plotW / 80)));
  const fraction = ticks.length > 1 && ticks[1]! - ticks[0]! < 1;

  function plotX(event: PointerEvent<SVGSVGElement>): number {
    const box = svgRef.current!.getBoundingClientRect();
    return event.clientX - box.left - labelW;
  }

  function glyphTitle(g: Glyph<MarkKind>): string {
    if (g.count === 1) return layout.visible[g.members[0]!]!.title;
    const times = g.members.map((i) => layout.visible[i]!.at);
    const from = formatOffset(Math.min(...times), domain, fraction);
    const to = formatOffset(Math.max(...times), domain, fraction);
    return `${g.count} ${g.kind} ${from === to ? `at ${from}` : `from ${from} to ${to}`}: zoom in to see each`;
  }

  return (
    <div ref={ref} className="chart">
      <svg
        ref={svgRef}
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby={titleId}
        data-testid="timeline-chart"
        data-from={+range.from.toFixed(3)}
        data-to={+range.to.toFixed(3)}
        onPointerDown={(event) => {
          if (event.button !== 0 || plotX(event) < 0) return;
          event.currentTarget.setPointerCapture(event.pointerId);
          setDrag({ x0: plotX(event), x1: plotX(event) });
        }}
        onPointerMove={(event) => {
          if (drag) setDrag({ ...drag, x1: plotX(event) });
        }}
        onPointerUp={(event) => {
          if (!drag) return;
          const selected = selectionRange(drag.x0, plotX(event), range, plotW, domain);
          setDrag(null);
          if (selected) onRange(selected);
        }}
        onPointerCancel={() => setDrag(null)}
      >
        <title id={titleId}>{description}</title>
        {ticks.map((t) => {
          const tx = x(t);
          return (
            <g key={t} className="tick">
              <line x1={tx} x2={tx} y1={top - 4} y2={height - 8} />
              <text x={tx} y={top - 10} textAnchor={tx > width - right - 24 ? 'end' : 'middle'}>
                {formatOffset(t, domain, fraction)}
              </text>
            </g>
          );
        })}
        {lanes.map((lane, i) => {
          const cy = middle(i);
          const band = lane.band && {
            from: Math.max(0, px(lane.band.from)),
            to: Math.min(plotW, px(lane.band.to)),
          };
          const offsetX = lane.offset === null ? null : px(lane.offset);
          return (
            <g key={lane.key} className="lane" data-session={lane.key}>
              <text x={4} y={cy - 2} className="lane-label">
                {narrow && lane.label.length > 11 ? `${lane.label.slice(0, 10)}…` : lane.label}
              </text>
              <text x={4} y={cy + 12} className="lane-offset">
                {lane.sublabel}
              </text>
              {band && band.to >= band.from && (
                <rect
                  className="lane-band"
                  x={labelW + band.from}
                  y={cy - 11}
                  width={Math.max(2, band.to - band.from)}
                  height={22}
                  rx={3}
                />
              )}
              {offsetX !== null && offsetX >= 0 && offsetX <= plotW && (
                <line
                  className="offset-line"
                  x1={labelW + offsetX}
                  x2={labelW + offsetX}
                  y1={cy - 15}
                  y2={cy + 15}
                />
              )}
            </g>
          );
        })}
        {layout.glyphs.map((g) => {
          const gx = labelW + g.x;
          const gy = middle(g.lane) + (g.level - (g.levels - 1) / 2) * PITCH;
          const common = {
            className: KIND_CLASS[g.kind],
            'data-kind': g.kind,
            'data-count': g.count,
            'data-lane': g.lane,
          };
          if (g.count === 1) {
            return (
              <circle key={`${g.lane}-${g.members[0]}`} {...common} cx={gx} cy={gy} r={RADIUS}>
                <title>{glyphTitle(g)}</title>
              </circle>
            );
          }
          const span = glyphSpan(g);
          return (
            <g key={`${g.lane}-${g.members[0]}`} {...common} className={`mark-count ${common.className}`}>
              <title>{glyphTitle(g)}</title>
              <rect x={labelW + span.left} y={gy - 5.5} width={span.right - span.left} height={11} rx={5.5} />
              <text x={labelW + (span.left + span.right) / 2} y={gy + 3.5} textAnchor="middle">
                {countLabel(g.count)}
              </text>
            </g>
          );
        })}
        {now !== null && now >= range.from && now <= range.to && (
          <line className="now-line" x1={x(now)} x2={x(now)} y1={top - 4} y2={height - 8} />
        )}
        {drag && Math.abs(drag.x1 - drag.x0) > 1 && (
          <rect
            className="brush"
            x={labelW + Math.max(0, Math.min(drag.x0, drag.x1))}
            y={top - 4}
            width={Math.min(plotW, Math.max(drag.x0, drag.x1)) - Math.max(0, Math.min(drag.x0, drag.x1))}
            height={height - top - 4}
          />
        )}
      </svg>
    </div>
  );
}

/** Zoom in and out, move earlier or later, back to the whole cycle; and what part of the cycle is shown. */
export function ZoomBar({
  range,
  domain,
  onRange,
}: {
  range: Range;
  domain: number;
  onRange: (range: Range) => void;
}) {
  const whole = isWhole(range, domain);
  const fine = range.to - range.from < 10;
  return (
    <div className="zoom-bar" role="group" aria-label="Zoom">
      <button
        type="button"
        className="secondary"
        onClick={() => onRange(zoomRange(range, 0.5, domain))}
        disabled={range.to - range.from <= Math.min(domain, 1) + 1e-9}
      >
        Zoom in
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() => onRange(zoomRange(range, 2, domain))}
        disabled={whole}
      >
        Zoom out
      </button>
      <button
        type="button"
        className="secondary"
        aria-label="Earlier"
        onClick={() => onRange(panRange(range, -0.5, domain))}
        disabled={range.from <= 0}
      >
        ◀
      </button>
      <button
        type="button"
        className="secondary"
        aria-label="Later"
        onClick={() => onRange(panRange(range, 0.5, domain))}
        disabled={range.to >= domain}
      >
        ▶
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() => onRange(wholeRange(domain))}
        disabled={whole}
      >
        Whole cycle
      </button>
      <span className="muted small" data-testid="zoom-range" aria-live="polite">
        {whole
          ? `The whole cycle (${formatOffset(domain, domain)}). Drag across the chart to zoom in.`
          : `Showing ${formatOffset(range.from, domain, fine)} to ${formatOffset(range.to, domain, fine)} of ${formatOffset(domain, domain)}.`}
      </span>
    </div>
  );
}

export interface LegendItem {
  kind: MarkKind;
  label: string;
  count?: number;
}

/** The legend's marks, drawn as in the chart, each with its count when there is one. */
export function Legend({ items, lines }: { items: LegendItem[]; lines: ('offset' | 'now')[] }) {
  return (
    <ul className="legend" aria-label="Legend">
      {items.map(({ kind, label, count }) => (
        <li key={kind} data-kind={kind}>
          <svg width="14" height="14" aria-hidden="true">
            <circle className={KIND_CLASS[kind]} cx="7" cy="7" r={RADIUS} />
          </svg>
          {count === undefined ? label : `${label} ${count}`}
        </li>
      ))}
      {lines.map((line) => (
        <li key={line}>
          <svg width="14" height="14" aria-hidden="true">
            <line className={line === 'now' ? 'now-line' : 'offset-line'} x1="7" x2="7" y1="1" y2="13" />
          </svg>
          {line === 'now' ? 'now' : 'session offset'}
        </li>
      ))}
    </ul>
  );
}

export interface GroupRow {
  key: string;
  group: string;
  account: string;
  /** Seconds from the cycle's start. */
  at: number;
  /** The wall-clock time, for a cycle that ran. */
  clock: string | null;
  kind: MarkKind;
  /** The outcome in words: "sent", "skipped: …". */
  result: string;
}

/** Groups listed at first, and how many more each "Show more" adds. */
const GROUPS_PAGE = 10;

/**
 * Per group: which session posts (or posted) there, when, and what came of it, for the visible range. One row per
 * group, its posts in time order; the first groups only until asked for more, so a phone's page stays short.
 */
export function GroupsTable({
  rows,
  domain,
  range,
  caption,
}: {
  rows: GroupRow[];
  domain: number;
  range: Range;
  caption: string;
}) {
  const [filter, setFilter] = useState('');
  const [limit, setLimit] = useState(GROUPS_PAGE);
  const filterId = useId();
  const whole = isWhole(range, domain);
  const fine = range.to - range.from < 10;
  const groups = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const byGroup = new Map<string, GroupRow[]>();
    for (const r of rows) {
      if (r.at < range.from - 1e-9 || r.at > range.to + 1e-9) continue;
      if (needle && !r.group.toLowerCase().includes(needle)) continue;
      const list = byGroup.get(r.group);
      if (list) list.push(r);
      else byGroup.set(r.group, [r]);
    }
    for (const list of byGroup.values()) list.sort((a, b) => a.at - b.at);
    return [...byGroup];
  }, [rows, range.from, range.to, filter]);
  const posts = groups.reduce((n, [, list]) => n + list.length, 0);
  const where = whole
    ? 'in the whole cycle'
    : `from ${formatOffset(range.from, domain, fine)} to ${formatOffset(range.to, domain, fine)}`;
  return (
    <section className="by-group" aria-label="By group">
      <div className="by-group-head">
        <h3>By group</h3>
        <div className="field">
          <label htmlFor={filterId} className="sr-only">
            Find a group
          </label>
          <input
            id={filterId}
            type="text"
            placeholder="Find a group"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setLimit(GROUPS_PAGE);
            }}
          />
        </div>
      </div>
      <p className="muted small" data-testid="by-group-summary">
        {posts === 0
          ? 'No post in this part of the cycle.'
          : `${posts} post${posts === 1 ? '' : 's'} to ${groups.length} group${groups.length === 1 ? '' : 's'} ${where}.`}
      </p>
      {groups.length > 0 && (
        <DataTable
          columns={['Group', 'Posts: account, time, result']}
          className="compact by-group-table"
          caption={caption}
        >
          {groups.slice(0, limit).map(([group, list]) => (
            <tr key={group} data-group={group}>
              <td>{group}</td>
              <td>
                <ul className="group-posts">
                  {list.map((r) => (
                    <li key={r.key} data-kind={r.kind}>
                      <span className="account">{r.account}</span>
                      {' · '}
                      <span className="when">
                        +{formatOffset(r.at, domain, fine)}
                        {r.clock && <span className="muted"> ({r.clock})</span>}
                      </span>
                      {' · '}
                      <span className={`result result-${r.kind}`}>{r.result}</span>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {groups.length > limit && (
        <button type="button" className="secondary" onClick={() => setLimit((n) => n + GROUPS_PAGE * 5)}>
          {groups.length - limit <= GROUPS_PAGE * 5
            ? `Show the other ${groups.length - limit} groups`
            : `Show ${GROUPS_PAGE * 5} more groups (${groups.length - limit} not shown)`}
        </button>
      )}
    </section>
  );
}
