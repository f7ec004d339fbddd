/**
 * The live event stream, and the post history in two views: what happened (latest first) and what is still
 * planned (soonest first). Both follow the same live stream: the history reloads the rows it shows when the bot
 * does something. Each row says what happened in one plain sentence, in the server's words for its reason.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
// src/core is pure (no I/O, no Node), so its lists and words may be bundled: the ones the server uses.
import { postStatusesOf, type PostView } from '../../../src/core/model.js';
import { publicMessageLink } from '../../../src/core/group-targets.js';
import { api, messageOf, query } from '../api';
import { useFeed, useOnEvents } from '../feed';
import { useAction, useMediaQuery, useResource } from '../hooks';
import type { LiveEvent, PostRow, Session } from '../types';
import { postStatusMeaning } from '../../../src/core/reasons.js';
import {
  Badge,
  DataTable,
  describeEvent,
  describeHandOffs,
  ErrorText,
  formatTime,
  Loading,
  PostStatusLegend,
} from '../ui';

const SHOWN_EVENTS = 100;
/** Rows a page of the history loads: fewer on a phone, where each row is a card of its own. */
const PAGE_ROWS = 50;
const PHONE_PAGE_ROWS = 10;
/** The most the API answers at once: a live reload of more rows than this keeps the first ones fresh. */
const MAX_ROWS = 500;
/** Phones and narrow windows (as in styles.css). */
const NARROW = '(max-width: 760px)';

type SessionName = (id: string) => string;

export function Activity() {
  const sessions = useResource<{ sessions: Session[] }>('/api/sessions');
  const names = useMemo(
    () => new Map((sessions.data?.sessions ?? []).map((s) => [s.id, s.label])),
    [sessions.data],
  );
  const sessionName = (id: string) => names.get(id) ?? `session #${id}`;
  return (
    <div className="stack">
      <LiveEvents sessionName={sessionName} />
      <History sessionName={sessionName} />
    </div>
  );
}

/** One line of the feed: an event, or several hand-offs in a row between the same two sessions. */
type FeedLine = { event: LiveEvent; handOffs: Extract<LiveEvent, { type: 'post.handed_off' }>[] };

function feedLines(events: readonly LiveEvent[]): FeedLine[] {
  const lines: FeedLine[] = [];
  for (const event of events) {
    const last = lines[lines.length - 1];
    if (event.type === 'post.handed_off') {
      const first = last?.handOffs[0];
      if (
        first &&
        first.fromSessionId === event.fromSessionId &&
        first.toSessionId === event.toSessionId &&
        first.reason === event.reason
      ) {
        last.handOffs.push(event);
        last.event = event;
        continue;
      }
      lines.push({ event, handOffs: [event] });
    } else {
      lines.push({ event, handOffs: [] });
    }
  }
  return lines;
}

function LiveEvents({ sessionName }: { sessionName: SessionName }) {
  const { events, state } = useFeed();
  const lines = feedLines(events.slice(-SHOWN_EVENTS)).reverse();
  return (
    <section className="card" aria-labelledby="live-title">
      <h2 id="live-title">
        Live events{' '}
        <span className={`live live-${state}`}>
          {state === 'open' ? 'connected' : state === 'connecting' ? 'connecting…' : 'offline'}
        </span>
      </h2>
      {lines.length === 0 ? (
        <p className="muted">
          Nothing yet since you opened the dashboard. Events appear here as the bot works.
        </p>
      ) : (
        <ol className="events" aria-live="polite" aria-relevant="additions">
          {lines.map(({ event: e, handOffs }) => (
            <li
              key={e.seq}
              className={`event event-${e.type.replace('.', '-')}`}
              {...(handOffs.length > 0 ? { 'data-groups': handOffs.map((h) => h.groupKey).join(' ') } : {})}
            >
              <time dateTime={e.time}>{formatTime(e.time)}</time>{' '}
              {handOffs.length > 0 ? describeHandOffs(handOffs, sessionName) : describeEvent(e, sessionName)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

interface Filters {
  status: string;
  cycle: string;
}

const VIEWS: { view: Exclude<PostView, 'all'>; label: string; empty: string }[] = [
  { view: 'done', label: 'What happened', empty: 'No posts yet' },
  { view: 'planned', label: 'Planned', empty: 'No posts are planned now' },
];

function History({ sessionName }: { sessionName: SessionName }) {
  const narrow = useMediaQuery(NARROW);
  const pageRows = narrow ? PHONE_PAGE_ROWS : PAGE_ROWS;
  const [view, setView] = useState<'done' | 'planned'>('done');
  const [draft, setDraft] = useState<Filters>({ status: '', cycle: '' });
  const [filters, setFilters] = useState<Filters>({ status: '', cycle: '' });
  /** `keep`: a live reload, which keeps as many rows as are shown; else the first page again. */
  const [tick, setTick] = useState({ n: 0, keep: false });
  const [posts, setPosts] = useState<PostRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const shown = useRef(0);
  shown.current = posts?.length ?? 0;
  const { error, setError, busy, setBusy, run } = useAction();
  const status = view === 'done' ? filters.status : '';
  useOnEvents(['post.', 'cycle.'], () => setTick((t) => ({ n: t.n + 1, keep: true })), 500);

  useEffect(() => {
    let current = true;
    const limit = tick.keep ? Math.min(MAX_ROWS, Math.max(pageRows, shown.current)) : pageRows;
    if (!tick.keep) setBusy(true);
    api<{ posts: PostRow[]; nextCursor: string | null }>(
      'GET',
      `/api/bot/posts${query({ view, status, cycle: filters.cycle, limit })}`,
    )
      .then((page) => {
        if (!current) return;
        setPosts(page.posts);
        setCursor(page.nextCursor);
        setError(null);
      })
      .catch((caught: unknown) => current && setError(messageOf(caught)))
      .finally(() => current && setBusy(false));
    return () => {
      current = false;
    };
  }, [view, status, filters.cycle, pageRows, tick]);

  async function older() {
    if (!cursor) return;
    await run(async () => {
      const page = await api<{ posts: PostRow[]; nextCursor: string | null }>(
        'GET',
        `/api/bot/posts${query({ view, status, cycle: filters.cycle, limit: pageRows, cursor })}`,
      );
      setPosts((old) => [...(old ?? []), ...page.posts]);
      setCursor(page.nextCursor);
    });
  }

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters({ ...draft });
    setTick((t) => ({ n: t.n + 1, keep: false }));
  }

  function show(next: 'done' | 'planned') {
    if (next === view) return;
    setView(next);
    setPosts(null);
    setTick((t) => ({ n: t.n + 1, keep: false }));
  }

  const current = VIEWS.find((v) => v.view === view)!;
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">Post history</h2>
      <div className="tabs" role="tablist" aria-label="Which posts">
        {VIEWS.map((v) => (
          <button
            key={v.view}
            type="button"
            role="tab"
            id={`history-tab-${v.view}`}
            aria-selected={v.view === view}
            aria-controls="history-panel"
            className={v.view === view ? 'tab tab-current' : 'tab'}
            onClick={() => show(v.view)}
          >
            {v.label}
          </button>
        ))}
      </div>
      <div
        id="history-panel"
        className="history-panel"
        role="tabpanel"
        aria-labelledby={`history-tab-${view}`}
      >
        <p className="muted small">
          {view === 'done'
            ? 'Latest first, by when each post was sent or decided. Updates live.'
            : 'Posts still to come in the running cycle, soonest first. Updates live.'}
        </p>
        <form className="inline-form" onSubmit={apply} aria-label="Filter the history">
          {view === 'done' && (
            <div className="field">
              <label htmlFor="history-status">Status</label>
              <select
                id="history-status"
                value={draft.status}
                onChange={(e) => setDraft({ ...draft, status: e.target.value })}
              >
                <option value="">any</option>
                {postStatusesOf('done').map((s) => (
                  <option key={s} value={s}>
                    {s.replaceAll('_', ' ')}
                  </option>
                ))}
              </select>
            </div>
          )}
          <div className="field">
            <label htmlFor="history-cycle">Cycle</label>
            <input
              id="history-cycle"
              type="number"
              min={1}
              step={1}
              placeholder="any"
              value={draft.cycle}
              onChange={(e) => setDraft({ ...draft, cycle: e.target.value })}
            />
          </div>
          <button type="submit">Show</button>
        </form>
        <PostStatusLegend />
        <ErrorText error={error} />
        {posts === null ? (
          busy && <Loading what="the history" />
        ) : posts.length === 0 ? (
          <p className="muted">{filters.cycle || status ? 'No posts match these filters' : current.empty}.</p>
        ) : (
          <DataTable
            columns={[view === 'done' ? 'When' : 'Due', 'Group', 'Session', 'Status', 'What happened']}
            className={`history history-${view}`}
          >
            {posts.map((p) => (
              <HistoryRow key={p.id} post={p} sessionName={sessionName} />
            ))}
          </DataTable>
        )}
        <div className="actions">
          {cursor && (
            <button type="button" className="secondary" onClick={older} disabled={busy}>
              {view === 'done' ? 'Older posts' : 'Later posts'}
            </button>
          )}
        </div>
      </div>
    </section>
  );
}

/** A Telegram error name (FLOOD_WAIT_30), kept as a small detail beside the words for people who look it up. */
const TELEGRAM_CODE = /^[A-Z][A-Z0-9_]*$/;

function HistoryRow({ post: p, sessionName }: { post: PostRow; sessionName: SessionName }) {
  const handedOver = p.plannedSessionId !== p.sessionId;
  const when = p.happenedAt ?? p.plannedAt;
  const late =
    p.sentAt !== null && p.plannedAt !== null && Date.parse(p.sentAt) - Date.parse(p.plannedAt) >= 1000;
  // One sentence: the reason in the server's words; else the error's; else, for a post that moved, where from.
  const reason = p.reasonText ?? (p.status === 'sent' ? null : p.errorText);
  const sentence =
    reason ??
    (handedOver
      ? `Handed over from ${sessionName(p.plannedSessionId)} to ${sessionName(p.sessionId)}.`
      : null);
  return (
    <tr data-status={p.status} data-post={p.id}>
      <td className="when">
        <time dateTime={when ?? undefined}>{formatTime(when)}</time>
        <div className="muted small">
          cycle #{p.cycle}
          <span title="The post’s place in the cycle’s plan"> · post {p.seq + 1}</span>
          {late && ` · planned ${formatTime(p.plannedAt)}`}
        </div>
      </td>
      <td className="group">
        <code>{p.group}</code>
        {p.albumSize > 1 && <div className="muted small">album of {p.albumSize}</div>}
      </td>
      <td className="session">
        {sessionName(p.sessionId)}
        {handedOver && reason && (
          <div className="muted small" data-testid="handed-over">
            handed over from {sessionName(p.plannedSessionId)}
          </div>
        )}
      </td>
      <td className="status">
        <Badge value={p.status} meaning={postStatusMeaning(p.status)} />
        {p.attempts > 1 && <div className="muted small">{p.attempts} attempts</div>}
      </td>
      <td className="reason">
        {sentence && <span data-testid="post-why">{sentence}</span>}
        {p.error && TELEGRAM_CODE.test(p.error) && p.status !== 'sent' && (
          <>
            {' '}
            <code className="muted small code" title="Telegram’s answer">
              {p.error}
            </code>
          </>
        )}
        <SentMessages post={p} />
      </td>
    </tr>
  );
}

/**
 * The messages a post created in its group: a link to each where the group is public (t.me/<name>/<id>), else its
 * id. An album's photos are one message each.
 */
function SentMessages({ post }: { post: PostRow }) {
  if (post.sentMessageIds.length === 0) return null;
  return (
    <div className="muted small sent-messages">
      {post.sentMessageIds.length > 1 ? 'messages ' : 'message '}
      {post.sentMessageIds.map((id, i) => {
        const link = publicMessageLink(post.group, id, post.groupUsername);
        return (
          <span key={id}>
            {i > 0 && ', '}
            {link ? (
              <a href={link} target="_blank" rel="noreferrer noopener">
                {id}
              </a>
            ) : (
              id
            )}
          </span>
        );
      })}
    </div>
  );
}
