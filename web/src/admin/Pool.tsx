/** Operator: every session, the pool (sessions with no owner), assigning and unassigning. */
import { useMemo, useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAction, useResource } from '../hooks';
import type { PoolSession, User } from '../types';
import { Badge, DataTable, ErrorText, HowManyField, Loading, Notice, Relative } from '../ui';
import { count as countOf } from '../../../src/core/words.js';

export function AdminPool() {
  const sessions = useResource<{ sessions: PoolSession[] }>('/api/admin/sessions');
  const users = useResource<{ users: User[] }>('/api/admin/users');
  const names = useMemo(() => new Map((users.data?.users ?? []).map((u) => [u.id, u.name])), [users.data]);
  const { error, run } = useAction();
  const [choice, setChoice] = useState<Record<string, string>>({});
  const all = sessions.data?.sessions ?? [];
  const pool = all.filter((s) => s.ownerUserId === null).length;

  function act(path: string, payload?: unknown) {
    return run(async () => {
      await api('POST', path, payload);
      sessions.reload();
    });
  }

  return (
    <div className="stack">
      <AddToPool onAdded={sessions.reload} />
      <section className="card" aria-labelledby="all-sessions-title">
        <h2 id="all-sessions-title">All sessions</h2>
        <p className="muted small">
          {countOf(all.length, 'session')}, {pool} in the pool (no owner). A customer with no session of their
          own is given pool sessions, up to their plan’s limit, when they start.
        </p>
        <ErrorText error={error ?? sessions.error} />
        {!sessions.data ? (
          sessions.loading && <Loading what="the sessions" />
        ) : (
          <DataTable columns={['Session', 'State', 'Cooldown until', 'Owner', 'Assign']}>
            {all.map((s) => (
              <tr key={s.id}>
                <td>
                  {s.label}
                  <div className="muted small">
                    {s.driver} · #{s.id}
                  </div>
                </td>
                <td>
                  <Badge value={s.state} />
                </td>
                <td>{s.cooldownUntil ? <Relative iso={s.cooldownUntil} /> : '—'}</td>
                <td>{s.ownerUserId ? (names.get(s.ownerUserId) ?? `user #${s.ownerUserId}`) : 'pool'}</td>
                <td>
                  {s.ownerUserId ? (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => act(`/api/admin/sessions/${s.id}/unassign`)}
                      aria-label={`Return ${s.label} to the pool`}
                    >
                      Unassign
                    </button>
                  ) : (
                    <form
                      className="row-actions"
                      onSubmit={(e) => {
                        e.preventDefault();
                        const userId = choice[s.id];
                        if (userId) void act(`/api/admin/sessions/${s.id}/assign`, { userId });
                      }}
                    >
                      <label className="sr-only" htmlFor={`assign-${s.id}`}>
                        Assign {s.label} to
                      </label>
                      <select
                        id={`assign-${s.id}`}
                        value={choice[s.id] ?? ''}
                        onChange={(e) => setChoice({ ...choice, [s.id]: e.target.value })}
                      >
                        <option value="">choose a user…</option>
                        {(users.data?.users ?? []).map((u) => (
                          <option key={u.id} value={u.id}>
                            {u.name}
                          </option>
                        ))}
                      </select>
                      <button type="submit" className="secondary" disabled={!choice[s.id]}>
                        Assign
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </div>
  );
}

function AddToPool({ onAdded }: { onAdded: () => void }) {
  const [count, setCount] = useState('3');
  const [done, setDone] = useState<string | null>(null);
  const { error, run } = useAction();

  function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    void run(async () => {
      const answer = await api<{ sessions: PoolSession[] }>('POST', '/api/admin/sessions', {
        driver: 'sandbox',
        count: Number(count),
      });
      setDone(`Added ${countOf(answer.sessions.length, 'sandbox session')} to the pool.`);
      onAdded();
    });
  }

  return (
    <section className="card" aria-labelledby="pool-add-title">
      <h2 id="pool-add-title">Add sandbox sessions to the pool</h2>
      <form className="inline-form" onSubmit={submit}>
        <HowManyField id="pool-count" max={100} value={count} onChange={setCount} />
        <button type="submit">Add to pool</button>
      </form>
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}
