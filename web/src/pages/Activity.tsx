/** The live event stream and the post history (filters, paging), each failure with its reason in plain words. */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
// src/core is pure (no I/O, no Node), so its status list may be bundled: the one list the server validates with.
import { POST_STATUSES } from '../../../src/core/model.js';
import { publicMessageLink } from '../../../src/core/group-targets.js';
import { api, messageOf, query } from '../api';
import { useFeed } from '../feed';
import { useAction, useResource } from '../hooks';
import type { PostRow, Session } from '../types';
import { postStatusMeaning } from '../../../src/core/reasons.js';
import { Badge, DataTable, describeEvent, ErrorText, formatTime, Loading, PostStatusLegend } from '../ui';

const SHOWN_EVENTS = 100;

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

function LiveEvents({ sessionName }: { sessionName: (id: string) => string }) {
  const { events, state } = useFeed();
  const shown = events.slice(-SHOWN_EVENTS).reverse();
  return (
    <section className="card" aria-labelledby="live-title">
      <h2 id="live-title">
        Live events{' '}
        <span className={`live live-${state}`}>
          {state === 'open' ? 'connected' : state === 'connecting' ? 'connecting…' : 'offline'}
        </span>
      </h2>
      {shown.length === 0 ? (
        <p className="muted">
          Nothing yet since you opened the dashboard. Events appear here as the bot works.
        </p>
      ) : (
        <ol className="events" aria-live="polite" aria-relevant="additions">
          {shown.map((e) => (
            <li key={e.seq} className={`event event-${e.type.replace('.', '-')}`}>
              <time dateTime={e.time}>{formatTime(e.time)}</time> <span className="event-type">{e.type}</span>{' '}
              {describeEvent(e, sessionName)}
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

function History({ sessionName }: { sessionName: (id: string) => string }) {
  const [draft, setDraft] = useState<Filters>({ status: '', cycle: '' });
  const [filters, setFilters] = useState<Filters>({ status: '', cycle: '' });
  const [refresh, setRefresh] = useState(0);
  const [posts, setPosts] = useState<PostRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const { error, setError, busy, setBusy, run } = useAction();

  useEffect(() => {
    let current = true;
    setBusy(true);
    setError(null);
    api<{ posts: PostRow[]; nextCursor: string | null }>(
      'GET',
      `/api/bot/posts${query({ status: filters.status, cycle: filters.cycle, limit: 50 })}`,
    )
      .then((page) => {
        if (!current) return;
        setPosts(page.posts);
        setCursor(page.nextCursor);
      })
      .catch((caught: unknown) => current && setError(messageOf(caught)))
      .finally(() => current && setBusy(false));
    return () => {
      current = false;
    };
  }, [filters, refresh]);

  async function older() {
    if (!cursor) return;
    await run(async () => {
      const page = await api<{ posts: PostRow[]; nextCursor: string | null }>(
        'GET',
        `/api/bot/posts${query({ status: filters.status, cycle: filters.cycle, limit: 50, cursor })}`,
      );
      setPosts((old) => [...(old ?? []), ...page.posts]);
      setCursor(page.nextCursor);
    });
  }

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters({ ...draft });
    setRefresh((n) => n + 1);
  }

  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">Post history</h2>
      <form className="inline-form" onSubmit={apply} aria-label="Filter the history">
        <div className="field">
          <label htmlFor="history-status">Status</label>
          <select
            id="history-status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.target.value })}
          >
            <option value="">any</option>
            {POST_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </div>
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
        <p className="muted">No posts{filters.status || filters.cycle ? ' match these filters' : ' yet'}.</p>
      ) : (
        <DataTable
          columns={['Cycle · post', 'Planned', 'Group', 'Session', 'Status', 'Why', 'Sent']}
          className="history"
        >
          {posts.map((p) => (
            <tr key={p.id} data-status={p.status}>
              <td>
                #{p.cycle}
                <span className="muted small" title="The post’s place in the cycle’s plan">
                  {' '}
                  · post {p.seq + 1}
                </span>
              </td>
              <td>{formatTime(p.plannedAt)}</td>
              <td>
                <code>{p.group}</code>
                {p.albumSize > 1 && <div className="muted small">album of {p.albumSize}</div>}
              </td>
              <td>{sessionName(p.sessionId)}</td>
              <td>
                <Badge value={p.status} meaning={postStatusMeaning(p.status)} />
                {p.attempts > 1 && <div className="muted small">{p.attempts} attempts</div>}
              </td>
              <td className="reason">
                {p.reasonText && <div>{p.reasonText}</div>}
                {p.errorText && p.errorText !== p.reasonText && <div>{p.errorText}</div>}
                {(p.reason || p.error) && (
                  <div className="muted small">{[p.reason, p.error].filter(Boolean).join(' · ')}</div>
                )}
              </td>
              <td>
                {formatTime(p.sentAt)}
                <SentMessages post={p} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <div className="actions">
        {cursor && (
          <button type="button" className="secondary" onClick={older} disabled={busy}>
            Older posts
          </button>
        )}
        <button type="button" className="secondary" onClick={() => setRefresh((n) => n + 1)} disabled={busy}>
          Refresh
        </button>
      </div>
    </section>
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
