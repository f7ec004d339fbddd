/** Operator: every customer's bot at a glance. */
import { useResource } from '../hooks';
import type { AdminBot } from '../types';
import { Badge, DataTable, ErrorText, Loading, Relative } from '../ui';

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
        <DataTable
          columns={[
            'Customer',
            'Status',
            'Mode',
            'Cycle',
            'Next cycle',
            'Sent / failed / flood waits',
            'Sessions',
            'Last error',
          ]}
        >
          {bots.data.bots.map((b) => (
            <tr key={b.botId}>
              <td>
                {b.user ?? `user #${b.userId}`}
                <div className="muted small">bot #{b.botId}</div>
              </td>
              <td>
                <Badge value={b.status} />
                {/* The worst condition, as the customer's Overview says it (absent on a bot whose status failed). */}
                {b.condition && b.condition.level !== 'ok' && b.condition.level !== 'stopped' && (
                  <div className={`small condition-text-${b.condition.level}`}>{b.condition.message}</div>
                )}
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
              <td>{b.latestError?.text ?? b.lastError ?? '—'}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
