/**
 * Small shared pieces: messages, badges, times, tables, a two-step delete button, the count of sandbox sessions to add, a
 * generic JSON view.
 */
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { POST_STATUSES } from '../../src/core/model.js';
// src/core is pure, so its words may be bundled: the one place reasons are described.
import { explainHandOff, postStatusMeaning } from '../../src/core/reasons.js';
import { clause, count } from '../../src/core/words.js';
import type { ApiError } from './api';
import type { PresentedEvent } from './types';

export function ErrorText({ error }: { error: ApiError | string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

const BADGE: Record<string, string> = {
  running: 'ok',
  active: 'ok',
  sent: 'ok',
  duplicate: 'ok',
  finished: 'ok',
  stopped: 'neutral',
  planned: 'neutral',
  sending: 'neutral',
  inactive: 'neutral',
  needs_attention: 'warn',
  paused: 'warn',
  skipped: 'warn',
  missed: 'warn',
  not_attempted: 'warn',
  cancelled: 'neutral',
  expired: 'warn',
  suspended: 'bad',
  dead: 'bad',
  frozen: 'bad',
  unreachable: 'bad',
  failed: 'bad',
  aborted: 'bad',
};

/** A status word as a badge; `meaning` says what the word means (a tooltip, and read out after the word). */
export function Badge({ value, meaning }: { value: string; meaning?: string | null }) {
  return (
    <span className={`badge badge-${BADGE[value] ?? 'neutral'}`} title={meaning ?? undefined}>
      {value.replaceAll('_', ' ')}
      {meaning && <span className="sr-only"> ({meaning})</span>}
    </span>
  );
}

/** What every post status means, from the server's one table (src/core/reasons.ts): the history's legend. */
export function PostStatusLegend() {
  return (
    <details className="legend" data-testid="status-legend">
      <summary>What the statuses mean</summary>
      <dl className="kv">
        {POST_STATUSES.map((status) => (
          <div key={status}>
            <dt>
              <Badge value={status} />
            </dt>
            <dd>{postStatusMeaning(status)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}

export function formatDuration(seconds: number): string {
  const s = Math.abs(seconds);
  if (s === 0) return '0 s';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** "in 3 min" / "2 min ago", refreshed every second. */
export function Relative({ iso }: { iso: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!iso) return <>—</>;
  const diff = (new Date(iso).getTime() - now) / 1000;
  const text =
    Math.abs(diff) < 1 ? 'now' : diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(diff)} ago`;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {formatTime(iso)} ({text})
    </time>
  );
}

/** A button that asks once more before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  disabled,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className="secondary" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm">
      <button
        ref={confirmRef}
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** "How many" sandbox sessions a form adds (to the pool, or to the customer's own sessions). */
export function HowManyField({
  id,
  max,
  value,
  onChange,
}: {
  id: string;
  max: number;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>How many</label>
      <input
        id={id}
        type="number"
        min={1}
        max={max}
        step={1}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

/**
 * A table with a header row of `columns`; the children are its rows. On a phone each row is a card, every cell
 * under its column's name (styles.css): each cell is given its column's name as `data-label`, also in rows added
 * later (a live page's new rows).
 */
export function DataTable({
  columns,
  className,
  caption,
  children,
}: {
  columns: readonly string[];
  className?: string;
  /** Read by screen readers only. */
  caption?: string;
  children: ReactNode;
}) {
  const body = useRef<HTMLTableSectionElement>(null);
  const names = columns.join('\u0000');
  useLayoutEffect(() => {
    const tbody = body.current;
    if (!tbody) return;
    const labels = names.split('\u0000');
    const label = () => {
      for (const row of Array.from(tbody.rows)) {
        let column = 0;
        for (const cell of Array.from(row.cells)) {
          // A cell across several columns (a row's edit form) is under none of their names.
          const name = cell.colSpan > 1 ? '' : (labels[column] ?? '');
          if (cell.dataset.label !== name) cell.dataset.label = name;
          column += cell.colSpan;
        }
      }
    };
    label();
    // Rows rendered by their own components change without this table rendering again.
    const observer = new MutationObserver(label);
    observer.observe(tbody, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [names]);
  return (
    <div className="table-wrap">
      <table className={className}>
        {caption && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>{children}</tbody>
      </table>
    </div>
  );
}

/** Renders any JSON: arrays of objects as tables, objects as definition lists. */
export function JsonView({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const rows = value as Record<string, unknown>[];
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return (
        <DataTable columns={columns}>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c}>
                  <JsonView value={row[c]} />
                </td>
              ))}
            </tr>
          ))}
        </DataTable>
      );
    }
    return (
      <span>{value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}</span>
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return <span className="muted">empty</span>;
    return (
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>
              <JsonView value={v} />
            </dd>
          </div>
        ))}
      </dl>
    );
  }
  return <span>{String(value)}</span>;
}

const STOP_REASONS: Record<string, string> = {
  'stop:cancel': 'asked from the dashboard or the API',
  'stop:suspend': 'the server is shutting down; the bot resumes when it starts again',
  desired_stopped: 'stopped',
  deleted: 'the customer was deleted',
  fenced: 'another worker took this bot over',
};

/**
 * The plain-words text of an event's reason or error. The API explains Telegram codes and runtime reasons
 * (`reasonText`/`errorText`); free-form reasons ("stopped by the customer") are already words.
 */
function plain(raw: string | null, text: string | undefined): string {
  if (!raw) return text ?? '';
  if (STOP_REASONS[raw]) return STOP_REASONS[raw];
  if (text && !(text.startsWith('Telegram answered ') && /[a-z\s:]/.test(raw))) return text;
  return raw;
}

type HandOff = Extract<PresentedEvent, { type: 'post.handed_off' }>;

/**
 * Hand-offs (one, or several in a row between the same two sessions for the same reason) in one sentence: which
 * groups' posts moved, from which session to which, and why, in the core's words.
 */
export function describeHandOffs(handOffs: readonly HandOff[], sessionName: (id: string) => string): string {
  const first = handOffs[0]!;
  const from = sessionName(first.fromSessionId);
  const groups = handOffs.map((h) => h.groupKey);
  const what = groups.length === 1 ? `The post to ${groups[0]}` : `The posts to ${groups.join(', ')}`;
  const why = explainHandOff(first.reason, from);
  return `${what} moved from ${from} to ${sessionName(first.toSessionId)}${why ? `: ${why}` : ''}.`;
}

/** Turns an event from the live stream into one sentence. */
export function describeEvent(event: PresentedEvent, sessionName: (id: string) => string): string {
  // Reasons in words are whole sentences; here they follow a colon before the sentence's own full stop.
  const reason = clause('reason' in event ? plain(event.reason, event.reasonText) : '');
  const because = clause(('error' in event ? plain(event.error, event.errorText) : '') || reason);
  const why = because ? `${because}.` : 'no reason was given.';
  switch (event.type) {
    case 'bot.started':
      return 'The bot started.';
    case 'bot.stopped':
      return `The bot stopped${reason ? `: ${reason}` : ''}.`;
    case 'bot.attention':
      return `The bot needs attention: ${clause(event.message || reason)}.`;
    case 'cycle.started':
      return `Cycle ${event.number} started (${event.mode}, ${count(event.posts, 'post')}${event.resumed ? ', resumed' : ''}).`;
    case 'cycle.finished':
      return `Cycle ${event.number} ${event.status}${reason ? `: ${reason}` : ''}.`;
    case 'cycle.skipped':
      return `Cycle ${event.number} skipped${reason ? `: ${reason}` : ''}.`;
    case 'post.sent':
      return `Sent to ${event.groupKey} by ${sessionName(event.sessionId)}${event.duplicate ? ' (already delivered)' : ''}.`;
    case 'post.failed':
      return `Failed in ${event.groupKey} (${sessionName(event.sessionId)}): ${why}`;
    case 'post.skipped':
      return `Skipped ${event.groupKey} (${sessionName(event.sessionId)}): ${why}`;
    case 'post.cancelled':
      return `Cancelled ${event.groupKey}: ${why}`;
    case 'post.handed_off':
      return describeHandOffs([event], sessionName);
    case 'session.paused':
      return `${sessionName(event.sessionId)} paused until ${formatTime(event.until)}: ${why}`;
    case 'session.resumed':
      return `${sessionName(event.sessionId)} resumed.`;
    case 'session.retired':
      return `${sessionName(event.sessionId)} was retired: ${why}`;
    case 'alert':
      return `${event.level === 'critical' ? 'Critical: ' : ''}${event.message}`;
    default:
      // A type this build does not know yet (a tab opened before the server was upgraded): its name says enough.
      return (event as { type: string }).type;
  }
}
