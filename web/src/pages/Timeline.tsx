/**
 * The timeline: the current cycle as it runs or ran, drawn from that cycle's own slots and their outcomes (GET
 * /api/bot/cycles/:number, kept up to date by the live events of that cycle); and, apart from it, a preview of a
 * plan (GET /api/bot/plan) for the choices in the form. A preview is never drawn over the cycle, nor the cycle's
 * results over a preview: each has its own chart, counts and axis. Both charts zoom (buttons, or a drag across the
 * chart) and list, per group, who posts there and when.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { PlanJson } from '../../../src/core/plan-json.js';
import type { ExecutionMode } from '../../../src/core/plan.js';
import { count } from '../../../src/core/words.js';
import { query } from '../api';
import { useFeed, useOnEvents } from '../feed';
import { useResource } from '../hooks';
import { liveCounts, liveSlots } from '../live-cycle';
import {
  GroupsTable,
  KIND_ORDER,
  Legend,
  TimelineChart,
  ZoomBar,
  type ChartLane,
  type ChartMark,
  type GroupRow,
  type LegendItem,
  type MarkKind,
} from '../timeline-chart';
import { clampRange, formatOffset, wholeRange, type Range } from '../timeline-layout';
import type { BotStatus, CycleSlot, CycleView, PlanSource, Session } from '../types';
import { Badge, DataTable, ErrorText, formatDuration, formatTime, Loading } from '../ui';

/** The preview as GET /api/bot/plan sends it: sessions by id, groups by key, and the source's last read. */
type Plan = PlanJson<string, string> & { source: PlanSource | null };

/** Beyond this many planned posts a preview draws the first ones only (as the cycle view lists 5,000 slots). */
const MAX_MARKS = 5000;

type View = 'cycle' | 'preview';

export function Timeline() {
  const [mode, setMode] = useState<ExecutionMode>('starter');
  const [minutes, setMinutes] = useState('60');
  const [planPath, setPlanPath] = useState('/api/bot/plan');
  const [chosen, setChosen] = useState<View | null>(null);
  const plan = useResource<Plan>(planPath);
  const sessions = useResource<{ sessions: Session[] }>('/api/sessions');
  const status = useResource<BotStatus>('/api/bot/status', { refreshMs: 10_000 });
  useOnEvents(['cycle.', 'bot.'], status.reload);

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
    setChosen('preview');
    const path = `/api/bot/plan${query(
      mode === 'starter' ? { execution_mode: mode, total_cycle_minutes: minutes } : { execution_mode: mode },
    )}`;
    if (path === planPath) plan.reload();
    else setPlanPath(path);
  }

  const labels = useMemo(
    () => new Map((sessions.data?.sessions ?? []).map((s) => [s.id, s.label])),
    [sessions.data],
  );
  const cycleNumber = status.data?.cycle?.number ?? null;
  // Until the customer picks one, the page follows the bot: its cycle once there is one, else the preview.
  const view: View = chosen ?? (cycleNumber !== null ? 'cycle' : 'preview');

  return (
    <div className="stack">
      {cycleNumber !== null && (
        <div className="tabs" role="tablist" aria-label="What the timeline shows">
          {(['cycle', 'preview'] as const).map((v) => (
            <button
              key={v}
              type="button"
              role="tab"
              id={`timeline-tab-${v}`}
              aria-selected={view === v}
              aria-controls="timeline-panel"
              className={view === v ? 'tab selected' : 'tab'}
              onClick={() => setChosen(v)}
            >
              {v === 'cycle' ? `Cycle #${cycleNumber}` : 'Plan preview'}
            </button>
          ))}
        </div>
      )}
      <div
        id="timeline-panel"
        className="stack"
        {...(cycleNumber !== null ? { role: 'tabpanel', 'aria-labelledby': `timeline-tab-${view}` } : {})}
      >
        {view === 'cycle' && cycleNumber !== null ? (
          <CurrentCycle number={cycleNumber} labels={labels} botStopped={status.data?.status === 'stopped'} />
        ) : (
          <>
            <form className="card inline-form" onSubmit={preview} aria-label="Plan preview">
              <div className="field">
                <label htmlFor="plan-mode">Mode</label>
                <select
                  id="plan-mode"
                  value={mode}
                  onChange={(e) => setMode(e.target.value as ExecutionMode)}
                >
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
              <p className="muted small form-note">
                A preview shows how a cycle would be planned with these choices; nothing is sent and the
                running bot is not changed.
              </p>
            </form>
            <ErrorText error={plan.error} />
            {!plan.data ? (
              plan.loading && <Loading what="the plan" />
            ) : (
              <PlanPreview plan={plan.data} labels={labels} noCycleYet={cycleNumber === null} />
            )}
          </>
        )}
      </div>
    </div>
  );
}

function labelOf(labels: Map<string, string>, id: string, i: number): string {
  return labels.get(id) ?? `session ${i + 1}`;
}

/** The visible range of a chart: the whole cycle until zoomed; kept inside the cycle when it changes. */
function useRange(domain: number): [Range, (range: Range) => void] {
  const [range, setRange] = useState<Range | null>(null);
  return [range ? clampRange(range, domain) : wholeRange(domain), setRange];
}

function PlanPreview({
  plan,
  labels,
  noCycleYet,
}: {
  plan: Plan;
  labels: Map<string, string>;
  noCycleYet: boolean;
}) {
  const lastPost = plan.posts.reduce((m, p) => Math.max(m, p.atSeconds), 0);
  const domain = Math.max(plan.cycleSeconds ?? lastPost + plan.delayBetweenPosts, 1);
  const [range, setRange] = useRange(domain);

  const { lanes, marks, rows } = useMemo(() => {
    const laneOf = new Map(plan.sessions.map((s, i) => [s.session, i]));
    const span = new Map<string, { count: number; first: number; last: number }>();
    for (const p of plan.posts) {
      const lane = span.get(p.session);
      if (lane) {
        lane.count++;
        lane.last = p.atSeconds;
      } else span.set(p.session, { count: 1, first: p.atSeconds, last: p.atSeconds });
    }
    const lanes = plan.sessions.map((s, i): ChartLane & { count: number } => {
      const lane = span.get(s.session);
      return {
        key: s.session,
        label: labelOf(labels, s.session, i),
        sublabel: `+${formatDuration(s.offsetSeconds)}`,
        band: lane ? { from: s.offsetSeconds, to: lane.last } : null,
        offset: plan.mode === 'starter' ? s.offsetSeconds : null,
        count: lane?.count ?? 0,
      };
    });
    const drawn = plan.posts.slice(0, MAX_MARKS);
    const marks = drawn.map((p): ChartMark => ({
      lane: laneOf.get(p.session) ?? 0,
      at: p.atSeconds,
      kind: 'planned',
      title: `${p.group}: planned at ${formatOffset(p.atSeconds, domain, true)} for ${
        lanes[laneOf.get(p.session) ?? 0]?.label ?? p.session
      }`,
    }));
    const rows = drawn.map((p, i): GroupRow => ({
      key: String(i),
      group: p.group,
      account: lanes[laneOf.get(p.session) ?? 0]?.label ?? p.session,
      at: p.atSeconds,
      clock: null,
      kind: 'planned',
      result: 'planned',
    }));
    return { lanes, marks, rows };
  }, [plan, labels, domain]);

  return (
    <div className="timeline-layout">
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">
          Preview:{' '}
          {plan.mode === 'starter'
            ? `starter cycle of ${formatDuration(plan.cycleSeconds ?? 0)}`
            : 'enterprise cycle'}
          , {count(plan.posts.length, 'post')}
          {plan.source && plan.source.albumSize > 1 && (
            <span data-testid="plan-album">, each an album of {plan.source.albumSize}</span>
          )}
        </h2>
        <p className="muted small" data-testid="preview-note">
          {noCycleYet
            ? 'No cycle has run yet: start the bot and its cycle shows here as it runs.'
            : 'A plan for these choices, not what the bot is doing: the Cycle tab shows the cycle as it runs.'}
        </p>
        <ZoomBar range={range} domain={domain} onRange={setRange} />
        <TimelineChart
          lanes={lanes}
          marks={marks}
          domain={domain}
          range={range}
          onRange={setRange}
          now={null}
          description={`Preview: ${count(plan.sessions.length, 'session')}, ${count(plan.posts.length, 'post')} over ${formatDuration(domain)}.`}
        />
        {plan.posts.length > MAX_MARKS && (
          <p className="muted small">
            Showing the first {MAX_MARKS} of {plan.posts.length} planned posts.
          </p>
        )}
        <Legend
          items={[{ kind: 'planned', label: 'planned', count: plan.posts.length }]}
          lines={plan.mode === 'starter' ? ['offset'] : []}
        />
        <DataTable
          columns={['Session', 'Offset', 'Posts']}
          className="compact"
          caption="Sessions in this plan"
        >
          {lanes.map((lane) => (
            <tr key={lane.key}>
              <td>{lane.label}</td>
              <td>{formatDuration(lane.offset ?? 0)}</td>
              <td>{lane.count}</td>
            </tr>
          ))}
        </DataTable>
        <GroupsTable rows={rows} domain={domain} range={range} caption="Planned posts by group" />
      </section>
      <aside className="card" aria-labelledby="warnings-title">
        <h2 id="warnings-title">Planner warnings</h2>
        {plan.warnings.length === 0 ? (
          <p className="muted">None: this plan keeps its timing.</p>
        ) : (
          <ul className="warnings">
            {plan.warnings.map((w) => (
              // The message is a whole clause: the code beside it would say its first words twice.
              <li key={w.code} data-code={w.code}>
                {w.message.charAt(0).toUpperCase() + w.message.slice(1)}.
              </li>
            ))}
          </ul>
        )}
        <p className="muted small">
          {plan.delayBetweenPosts} s between two posts of one session.
          {plan.mode === 'starter' &&
            ' Each session starts its run at its offset, spread evenly over the cycle.'}
        </p>
      </aside>
    </div>
  );
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

const OUTCOME_WORDS: Record<Exclude<MarkKind, 'planned'>, string> = {
  sent: 'sent',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  pending: 'pending',
};

/** When a slot's mark goes on the axis: a sent post when it was sent, any other at its planned time. */
function slotTime(slot: CycleSlot, startMs: number): number {
  const at = slot.outcome === 'sent' && slot.sentAt ? slot.sentAt : slot.plannedAt;
  return at ? Math.max(0, (Date.parse(at) - startMs) / 1000) : 0;
}

function slotResult(slot: CycleSlot, labels: Map<string, string>): string {
  const handed =
    slot.plannedSessionId !== slot.sessionId
      ? `, handed over from ${labels.get(slot.plannedSessionId) ?? 'another session'}`
      : '';
  switch (slot.outcome) {
    case 'sent':
      return `${slot.status === 'duplicate' ? 'sent (Telegram already had it)' : 'sent'}${handed}`;
    case 'pending':
      return `${slot.status === 'sending' ? 'sending now' : 'not sent yet'}${handed}`;
    default: {
      // The reason's words name the outcome already ("Skipped: …", "Cancelled: …"); an error's do not.
      const word = OUTCOME_WORDS[slot.outcome];
      if (slot.reasonText?.toLowerCase().startsWith(word)) return `${slot.reasonText}${handed}`;
      const why = slot.reasonText ?? slot.errorText;
      return `${word}${why ? `: ${why}` : ''}${handed}`;
    }
  }
}

function CurrentCycle({
  number,
  labels,
  botStopped,
}: {
  number: number;
  labels: Map<string, string>;
  botStopped: boolean;
}) {
  const resource = useResource<CycleView>(`/api/bot/cycles/${number}`);
  const data = resource.data;
  const running = data?.cycle.status === 'running';
  // The events fill in what happens between two reads; a read after each change of the cycle, and now and then
  // while it runs, keeps the slots exact (hand-offs, a page opened mid-cycle, an event missed while offline).
  useOnEvents(['cycle.'], resource.reload);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(resource.reload, 15_000);
    return () => clearInterval(timer);
  }, [running, resource.reload]);
  const { events } = useFeed();
  const now = useNow(running);

  if (!data) {
    return (
      <>
        <ErrorText error={resource.error} />
        {resource.loading && <Loading what={`cycle #${number}`} />}
      </>
    );
  }
  return <CycleChart view={data} events={events} labels={labels} now={now} botStopped={botStopped} />;
}

function CycleChart({
  view,
  events,
  labels,
  now,
  botStopped,
}: {
  view: CycleView;
  events: ReturnType<typeof useFeed>['events'];
  labels: Map<string, string>;
  now: number;
  botStopped: boolean;
}) {
  const { cycle } = view;
  const startMs = cycle.startedAt ? Date.parse(cycle.startedAt) : 0;
  const slots = useMemo(() => liveSlots(view, events), [view, events]);
  const counts = liveCounts(view, slots);
  const running = cycle.status === 'running';

  const { lanes, marks, rows, domain } = useMemo(() => {
    const times = slots.map((s) => slotTime(s, startMs));
    // Rows in the order the sessions first post in this cycle (a starter cycle: by offset).
    const order = [...slots].sort(
      (a, b) => (a.plannedAt ?? '').localeCompare(b.plannedAt ?? '') || a.seq - b.seq,
    );
    const laneOf = new Map<string, number>();
    for (const s of order) if (!laneOf.has(s.sessionId)) laneOf.set(s.sessionId, laneOf.size);
    const spans = new Map<string, Range>();
    slots.forEach((s, i) => {
      const span = spans.get(s.sessionId);
      const t = times[i]!;
      if (span) spans.set(s.sessionId, { from: Math.min(span.from, t), to: Math.max(span.to, t) });
      else spans.set(s.sessionId, { from: t, to: t });
    });
    const lanes = [...laneOf.keys()].map((id, i): ChartLane => {
      const span = spans.get(id)!;
      return {
        key: id,
        label: labelOf(labels, id, i),
        sublabel: `+${formatDuration(Math.round(span.from))}`,
        band: span,
        offset: null,
      };
    });
    const last = times.reduce((m, t) => Math.max(m, t), 0);
    const expected =
      cycle.mode === 'starter' && cycle.cycleSeconds
        ? cycle.cycleSeconds
        : cycle.expectedEndAt
          ? ((Date.parse(cycle.expectedEndAt) - startMs) / 1000) * 1.05
          : 0;
    // The cycle's own length; a post sent late (after a FLOOD_WAIT) widens it, nothing else does.
    const domain = Math.max(expected, last > expected ? last * 1.02 : 0, 1);
    const accountOf = (s: CycleSlot) => lanes[laneOf.get(s.sessionId) ?? 0]?.label ?? s.sessionId;
    const marks = slots.map((s, i): ChartMark => ({
      lane: laneOf.get(s.sessionId) ?? 0,
      at: times[i]!,
      kind: s.outcome,
      title: `${s.group}: ${slotResult(s, labels)} — ${accountOf(s)}, ${formatOffset(times[i]!, domain, true)}`,
    }));
    const rows = slots.map((s, i): GroupRow => ({
      key: s.id,
      group: s.group,
      account: accountOf(s),
      at: times[i]!,
      clock: formatTime(s.outcome === 'sent' && s.sentAt ? s.sentAt : s.plannedAt),
      kind: s.outcome,
      result: slotResult(s, labels),
    }));
    return { lanes, marks, rows, domain };
  }, [slots, startMs, labels, cycle.mode, cycle.cycleSeconds, cycle.expectedEndAt]);

  const [range, setRange] = useRange(domain);
  const nowSeconds = running ? (now - startMs) / 1000 : null;
  // A cycle that is over has no pending slot (the core's rule): its legend lists final outcomes only.
  const kinds = KIND_ORDER.filter((k): k is Exclude<MarkKind, 'planned'> => k !== 'planned').filter(
    (k) => k !== 'pending' || running || counts.pending > 0,
  );
  const legend: LegendItem[] = kinds.map((k) => ({ kind: k, label: OUTCOME_WORDS[k], count: counts[k] }));
  const parts = kinds.map((k) => `${counts[k]} ${OUTCOME_WORDS[k]}`).join(', ');
  const state = running
    ? botStopped
      ? 'stopping'
      : 'running'
    : `${cycle.status}${cycle.finishedAt ? ` at ${formatTime(cycle.finishedAt)}` : ''}`;

  return (
    <div className="timeline-layout">
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">
          Cycle #{cycle.number}:{' '}
          {cycle.mode === 'starter' ? `starter, ${formatDuration(cycle.cycleSeconds ?? 0)}` : 'enterprise'},{' '}
          {count(counts.planned, 'post')}
        </h2>
        <p className="muted small" aria-live="polite" data-testid="live-summary">
          {`Cycle #${cycle.number} (${state}): ${parts} of ${count(counts.planned, 'post')}.`}
        </p>
        <ZoomBar range={range} domain={domain} onRange={setRange} />
        <TimelineChart
          lanes={lanes}
          marks={marks}
          domain={domain}
          range={range}
          onRange={setRange}
          now={nowSeconds}
          description={`Cycle #${cycle.number}: ${count(lanes.length, 'session')}, ${count(counts.planned, 'post')}: ${parts}.`}
        />
        {view.truncated && (
          <p className="muted small">
            Showing the first {slots.length} of {counts.planned} posts; the counts cover them all.
          </p>
        )}
        <Legend items={legend} lines={running ? ['now'] : []} />
        <DataTable
          columns={['Session', 'Posts', 'Result']}
          className="compact"
          caption="Sessions in this cycle"
        >
          {lanes.map((lane) => {
            const own = slots.filter((s) => s.sessionId === lane.key);
            const by = kinds
              .map((k) => [k, own.filter((s) => s.outcome === k).length] as const)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${n} ${OUTCOME_WORDS[k]}`)
              .join(', ');
            return (
              <tr key={lane.key}>
                <td>{lane.label}</td>
                <td>{own.length}</td>
                <td>{by || '—'}</td>
              </tr>
            );
          })}
        </DataTable>
        <GroupsTable
          rows={rows}
          domain={domain}
          range={range}
          caption={`Posts of cycle #${cycle.number} by group`}
        />
      </section>
      <aside className="card" aria-labelledby="cycle-facts-title">
        <h2 id="cycle-facts-title">This cycle</h2>
        <dl className="kv">
          <div>
            <dt>State</dt>
            <dd>
              <Badge value={cycle.status} />
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatTime(cycle.startedAt)}</dd>
          </div>
          {cycle.finishedAt && (
            <div>
              <dt>Ended</dt>
              <dd>{formatTime(cycle.finishedAt)}</dd>
            </div>
          )}
          {cycle.reasonText && (
            <div>
              <dt>Why</dt>
              <dd>{cycle.reasonText}</dd>
            </div>
          )}
        </dl>
        <p className="muted small">
          Each mark is one post of this cycle, where it went out (sent) or was due (every other outcome).
          Marks that would cover each other are stacked, or counted with a number.
        </p>
      </aside>
    </div>
  );
}
