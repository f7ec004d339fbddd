/** Operator: every customer's bot at a glance. */
import { useResource } from '../hooks';
import type { AdminBot } from '../types';
import { Badge, ErrorText, Loading, Relative } from '../ui';

export function AdminBots() {
  const bots = useResource<{ bots: AdminBot[] }>('/api/admin/bots', { refreshMs: 5000 });
  return (
    <section className="card" aria-labelledby="bots-title">
      <h2 id="bots-title">Bots</h2>
      <ErrorText error={bots.error} />
      {!bots.data ? (
        bots.loading && <Loading what="the bots" />
      ) : bots.data.bots.length === 0 ? (
        <p className="muted">No bot yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Status</th>
                <th scope="col">Mode</th>
                <th scope="col">Cycle</th>
                <th scope="col">Next cycle</th>
                <th scope="col">Sent / failed / flood waits</th>
                <th scope="col">Sessions</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {bots.data.bots.map((b) => (
                <tr key={b.botId}>
                  <td>
                    {b.user ?? `user #${b.userId}`}
                    <div className="muted small">bot #{b.botId}</div>
                  </td>
                  <td>
                    <Badge value={b.status} />
                  </td>
                  <td>
                    {b.execution_mode ?? '—'}
                    {b.execution_mode === 'starter' &&
                      b.total_cycle_minutes !== null &&
                      ` (${b.total_cycle_minutes} min)`}
                  </td>
                  <td>
                    {b.cycle ? (
                      <>
                        #{b.cycle.number} <Badge value={b.cycle.status} />
                        <div className="muted small">
                          {b.cycle.posts.sent}/{b.cycle.posts.planned} sent
                        </div>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{b.nextCycleAt ? <Relative iso={b.nextCycleAt} /> : '—'}</td>
                  <td>
                    {b.stats.sent} / {b.stats.failed} / {b.stats.floodWaits}
                  </td>
                  <td>{b.sessions.length}</td>
                  <td>{b.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
