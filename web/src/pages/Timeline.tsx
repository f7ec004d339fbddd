/**
 * The plan preview as a chart — one row per session, a tick per planned post at its second in the cycle, each
 * session's offset visible — with the current cycle's real deliveries drawn over it live (from the event stream,
 * and from the history for what happened before this page was opened).
 */
import { useEffect, useMemo, useRef, useState, type FormEvent, type RefObject } from 'react';
import type { PlanJson } from '../../../src/core/plan-json.js';
import type { ExecutionMode } from '../../../src/core/plan.js';
import { count } from '../../../src/core/words.js';
import { query } from '../api';
import { useFeed, useOnEvents } from '../feed';
import { useResource } from '../hooks';
import type { BotStatus, LiveEvent, PlanSource, PostRow, Session } from '../types';
import { DataTable, ErrorText, formatDuration, Loading } from '../ui';

/** The preview as GET /api/bot/plan sends it: sessions by id, groups by key, and the source's last read. */
type Plan = PlanJson<string, string> & { source: PlanSource | null };

/** Beyond this many planned posts the chart draws the first ones only (an SVG of 100k marks is too heavy). */
const MAX_MARKS = 4000;

type Kind = 'sent' | 'failed' | 'skipped';
interface Delivery {
  postId: string;
  sessionId: string;
  group: string;
  /** Seconds from the cycle's start. */
  x: number;
  kind: Kind;
}
interface CurrentCycle {
  number: number;
  startMs: number;
  cycleId: string | null;
  running: boolean;
}

export function Timeline() {
  const [mode, setMode] = useState<ExecutionMode>('starter');
  const [minutes, setMinutes] = useState('60');
  const [planPath, setPlanPath] = useState('/api/bot/plan');
  const plan = useResource<Plan>(planPath);
  const sessions = useResource<{ sessions: Session[] }>('/api/sessions');
  const status = useResource<BotStatus>('/api/bot/status', { refreshMs: 10_000 });
  useOnEvents(['cycle.', 'bot.'], status.reload);
  const { events } = useFeed();

  // The controls start from what the server resolved for a preview with no choices (stored config or plan).
  const initialised = useRef(false);
  useEffect(() => {
    if (!plan.data || initialised.current) return;
    initialised.current = true;
    setMode(plan.data.mode);
    if (plan.data.cycleSeconds) setMinutes(String(Math.round(plan.data.cycleSeconds / 60)));
  }, [plan.data]);

  function preview(event: FormEvent) {
    event.preventDefault();
    const path = `/api/bot/plan${query(
      mode === 'starter' ? { execution_mode: mode, total_cycle_minutes: minutes } : { execution_mode: mode },
    )}`;
    if (path === planPath) plan.reload();
    else setPlanPath(path);
  }

  const cycle = useMemo(() => currentCycle(events, status.data), [events, status.data]);
  const history = useResource<{ posts: PostRow[] }>(
    cycle ? `/api/bot/posts${query({ cycle: cycle.number, limit: 500 })}` : null,
  );
  const deliveries = useMemo(
    () => (cycle ? collectDeliveries(cycle, events, history.data?.posts ?? []) : []),
    [cycle, events, history.data],
  );

  const labels = useMemo(
    () => new Map((sessions.data?.sessions ?? []).map((s) => [s.id, s.label])),
    [sessions.data],
  );

  return (
    <div className="stack">
      <form className="card inline-form" onSubmit={preview} aria-label="Plan preview">
        <div className="field">
          <label htmlFor="plan-mode">Mode</label>
          <select id="plan-mode" value={mode} onChange={(e) => setMode(e.target.value as ExecutionMode)}>
            <option value="starter">starter</option>
            <option value="enterprise">enterprise</option>
          </select>
        </div>
        {mode === 'starter' && (
          <div className="field">
            <label htmlFor="plan-minutes">Cycle length (minutes)</label>
            <input
              id="plan-minutes"
              type="number"
              min={1}
              step={1}
              required
              value={minutes}
              onChange={(e) => setMinutes(e.target.value)}
            />
          </div>
        )}
        <button type="submit">Preview</button>
      </form>
      <ErrorText error={plan.error} />
      {!plan.data ? (
        plan.loading && <Loading what="the plan" />
      ) : (
        <div className="timeline-layout">
          <section className="card" aria-labelledby="chart-title">
            <h2 id="chart-title">
              {plan.data.mode === 'starter'
                ? `Starter cycle of ${formatDuration(plan.data.cycleSeconds ?? 0)}`
                : 'Enterprise cycle'}
              , {count(plan.data.posts.length, 'post')}
              {plan.data.source && plan.data.source.albumSize > 1 && (
                <span data-testid="plan-album">, each an album of {plan.data.source.albumSize}</span>
              )}
            </h2>
            <Chart plan={plan.data} labels={labels} deliveries={deliveries} cycle={cycle} />
            <Legend />
            <p className="muted small" aria-live="polite" data-testid="live-summary">
              {cycle
                ? `Cycle #${cycle.number}${cycle.running ? ' (running)' : ''}: ${
                    deliveries.filter((d) => d.kind === 'sent').length
                  } delivered, ${deliveries.filter((d) => d.kind === 'failed').length} failed, ${
                    deliveries.filter((d) => d.kind === 'skipped').length
                  } skipped so far.`
                : 'No cycle has run yet: start the bot to see deliveries drawn over the plan.'}
            </p>
          </section>
          <aside className="card" aria-labelledby="warnings-title">
            <h2 id="warnings-title">Planner warnings</h2>
            {plan.data.warnings.length === 0 ? (
              <p className="muted">None: this plan keeps its timing.</p>
            ) : (
              <ul className="warnings">
                {plan.data.warnings.map((w) => (
                  // The message is a whole clause: the code beside it would say its first words twice.
                  <li key={w.code} data-code={w.code}>
                    {w.message.charAt(0).toUpperCase() + w.message.slice(1)}.
                  </li>
                ))}
              </ul>
            )}
            <p className="muted small">
              {plan.data.delayBetweenPosts} s between two posts of one session.
              {plan.data.mode === 'starter' &&
                ' Each session starts its run at its offset, spread evenly over the cycle.'}
            </p>
          </aside>
        </div>
      )}
    </div>
  );
}

function currentCycle(events: LiveEvent[], status: BotStatus | null): CurrentCycle | null {
  let started: Extract<LiveEvent, { type: 'cycle.started' }> | undefined;
  for (let i = events.length - 1; i >= 0 && !started; i--) {
    const event = events[i]!;
    if (event.type === 'cycle.started') started = event;
  }
  const fromStatus = status?.cycle ?? null;
  const running = status ? status.status !== 'stopped' && fromStatus?.status === 'running' : false;
  if (started && (!fromStatus || started.number >= fromStatus.number)) {
    const { cycleId, seq } = started;
    const finished = events.some((e) => e.type === 'cycle.finished' && e.cycleId === cycleId && e.seq > seq);
    return {
      number: started.number,
      startMs: started.plannedStartAt,
      cycleId,
      running: !finished && (status ? status.status !== 'stopped' : true),
    };
  }
  if (fromStatus?.startedAt) {
    return { number: fromStatus.number, startMs: Date.parse(fromStatus.startedAt), cycleId: null, running };
  }
  return null;
}

function collectDeliveries(cycle: CurrentCycle, events: LiveEvent[], history: PostRow[]): Delivery[] {
  const out = new Map<string, Delivery>();
  for (const p of history) {
    if (p.cycle !== cycle.number) continue;
    let kind: Kind | null = null;
    let at: string | null = null;
    if (p.status === 'sent' || p.status === 'duplicate') [kind, at] = ['sent', p.sentAt];
    else if (p.status === 'failed') [kind, at] = ['failed', p.plannedAt];
    else if (p.status === 'skipped' || p.status === 'missed' || p.status === 'not_attempted')
      [kind, at] = ['skipped', p.plannedAt];
    if (!kind || !at) continue;
    out.set(p.id, {
      postId: p.id,
      sessionId: p.sessionId,
      group: p.group,
      x: (Date.parse(at) - cycle.startMs) / 1000,
      kind,
    });
  }
  for (const e of events) {
    if (e.type !== 'post.sent' && e.type !== 'post.failed' && e.type !== 'post.skipped') continue;
    const kind: Kind = e.type === 'post.sent' ? 'sent' : e.type === 'post.failed' ? 'failed' : 'skipped';
    const inCycle = cycle.cycleId !== null ? e.cycleId === cycle.cycleId : e.at >= cycle.startMs;
    if (!inCycle) continue;
    out.set(e.postId, {
      postId: e.postId,
      sessionId: e.sessionId,
      group: e.groupKey,
      x: (e.at - cycle.startMs) / 1000,
      kind,
    });
  }
  return [...out.values()];
}

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

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

const STEPS = [
  0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400,
];

function tickLabel(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${+(seconds / 60).toFixed(1)} min`;
  return `${+(seconds / 3600).toFixed(1)} h`;
}

function Chart({
  plan,
  labels,
  deliveries,
  cycle,
}: {
  plan: Plan;
  labels: Map<string, string>;
  deliveries: Delivery[];
  cycle: CurrentCycle | null;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const now = useNow(cycle?.running ?? false);

  // Row i is plan.sessions[i], which names its session: posts and deliveries find their row by session id.
  const rowOf = useMemo(() => new Map(plan.sessions.map((s, i) => [s.session, i])), [plan]);
  const strays = deliveries.filter((d) => !rowOf.has(d.sessionId));
  const rows = plan.sessions.length + (strays.length > 0 ? 1 : 0);

  const lastPost = plan.posts.length > 0 ? plan.posts[plan.posts.length - 1]!.atSeconds : 0;
  const maxDelivery = deliveries.reduce((m, d) => Math.max(m, d.x), 0);
  const domain = Math.max(plan.cycleSeconds ?? lastPost + plan.delayBetweenPosts, maxDelivery * 1.02, 1);

  const narrow = width < 520;
  const labelW = narrow ? 84 : 150;
  const right = 16;
  const top = 26;
  const rowH = 40;
  const height = top + Math.max(rows, 1) * rowH + 8;
  const plotW = Math.max(40, width - labelW - right);
  const x = (s: number) => labelW + (Math.min(Math.max(s, 0), domain) / domain) * plotW;
  /** The vertical middle of row `row`. */
  const middle = (row: number) => top + row * rowH + rowH / 2;
  const step = STEPS.find((st) => domain / st <= (narrow ? 5 : 10)) ?? domain / 5;
  const ticks: number[] = [];
  for (let t = 0; t <= domain + 1e-9; t += step) ticks.push(+t.toFixed(3));

  const perSession = new Map<string, { count: number; end: number }>();
  for (const p of plan.posts) {
    const lane = perSession.get(p.session);
    if (lane) {
      lane.count++;
      lane.end = p.atSeconds;
    } else perSession.set(p.session, { count: 1, end: p.atSeconds });
  }
  const lanes = plan.sessions.map((s, i) => {
    const lane = perSession.get(s.session);
    const label = labels.get(s.session) ?? `session ${i + 1}`;
    return { ...s, label, count: lane?.count ?? 0, end: lane?.end ?? s.offsetSeconds };
  });
  const marks = plan.posts.slice(0, MAX_MARKS);
  const nowX = cycle?.running ? (now - cycle.startMs) / 1000 : null;

  return (
    <div ref={ref} className="chart">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby="chart-svg-title"
        data-testid="timeline-chart"
      >
        <title id="chart-svg-title">
          {`Plan: ${count(plan.sessions.length, 'session')}, ${count(plan.posts.length, 'post')} over ${formatDuration(domain)}; ${count(deliveries.length, 'result')} drawn for the current cycle.`}
        </title>
        {ticks.map((t) => (
          <g key={t} className="tick">
            <line x1={x(t)} x2={x(t)} y1={top - 4} y2={height - 8} />
            <text x={x(t)} y={top - 10} textAnchor="middle">
              {tickLabel(t)}
            </text>
          </g>
        ))}
        {lanes.map((lane, i) => {
          const cy = middle(i);
          const { label } = lane;
          return (
            <g key={lane.index} className="lane" data-session={lane.session}>
              <text x={4} y={cy - 2} className="lane-label">
                {narrow && label.length > 11 ? `${label.slice(0, 10)}…` : label}
              </text>
              <text x={4} y={cy + 12} className="lane-offset">
                {`+${formatDuration(lane.offsetSeconds)}`}
              </text>
              {lane.count > 0 && (
                <rect
                  className="lane-band"
                  x={x(lane.offsetSeconds)}
                  y={cy - 11}
                  width={Math.max(2, x(lane.end) - x(lane.offsetSeconds))}
                  height={22}
                  rx={3}
                />
              )}
              <line
                className="offset-line"
                x1={x(lane.offsetSeconds)}
                x2={x(lane.offsetSeconds)}
                y1={cy - 15}
                y2={cy + 15}
              />
            </g>
          );
        })}
        {strays.length > 0 && (
          <text x={4} y={middle(plan.sessions.length)} className="lane-label">
            other
          </text>
        )}
        {marks.map((p, k) => {
          const cy = middle(rowOf.get(p.session) ?? 0);
          return (
            <line
              key={k}
              className="mark-planned"
              x1={x(p.atSeconds)}
              x2={x(p.atSeconds)}
              y1={cy - 8}
              y2={cy + 8}
            >
              <title>{`${p.group} at ${formatDuration(p.atSeconds)}`}</title>
            </line>
          );
        })}
        {deliveries.map((d) => {
          const cy = middle(rowOf.get(d.sessionId) ?? plan.sessions.length);
          return (
            <circle
              key={d.postId}
              className={`mark-${d.kind === 'sent' ? 'delivered' : d.kind}`}
              cx={x(d.x)}
              cy={cy}
              r={4}
            >
              <title>{`${d.kind} ${d.group} at ${formatDuration(Math.max(0, d.x))}`}</title>
            </circle>
          );
        })}
        {nowX !== null && nowX >= 0 && nowX <= domain && (
          <line className="now-line" x1={x(nowX)} x2={x(nowX)} y1={top - 4} y2={height - 8} />
        )}
      </svg>
      {plan.posts.length > MAX_MARKS && (
        <p className="muted small">
          Showing the first {MAX_MARKS} of {plan.posts.length} planned posts.
        </p>
      )}
      <DataTable
        columns={['Session', 'Offset', 'Planned', 'Delivered']}
        className="compact"
        caption="Sessions in this plan"
      >
        {lanes.map((lane) => (
          <tr key={lane.index}>
            <td>{lane.label}</td>
            <td>{formatDuration(lane.offsetSeconds)}</td>
            <td>{lane.count}</td>
            <td>{deliveries.filter((d) => d.sessionId === lane.session && d.kind === 'sent').length}</td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}

/** The legend's marks, drawn as in the chart: a short vertical line or a dot. */
const LEGEND: { shape: 'line' | 'circle'; className: string; label: string }[] = [
  { shape: 'line', className: 'mark-planned', label: 'planned' },
  { shape: 'circle', className: 'mark-delivered', label: 'delivered' },
  { shape: 'circle', className: 'mark-failed', label: 'failed' },
  { shape: 'circle', className: 'mark-skipped', label: 'skipped' },
  { shape: 'line', className: 'offset-line', label: 'session offset' },
  { shape: 'line', className: 'now-line', label: 'now' },
];

function Legend() {
  return (
    <ul className="legend" aria-label="Legend">
      {LEGEND.map(({ shape, className, label }) => (
        <li key={label}>
          <svg width="14" height="14" aria-hidden="true">
            {shape === 'line' ? (
              <line className={className} x1="7" x2="7" y1="1" y2="13" />
            ) : (
              <circle className={className} cx="7" cy="7" r="4" />
            )}
          </svg>
          {label}
        </li>
      ))}
    </ul>
  );
}
