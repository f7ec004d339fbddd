/**
 * Operator: the workers and their leases when bots run in several processes on PostgreSQL. The installation is
 * asked first, so that a one-process installation is said in words without a refused request.
 */
import { useResource } from '../hooks';
import { ErrorText, JsonView, Loading } from '../ui';

interface Installation {
  cluster: boolean;
  database: 'sqlite' | 'postgres';
  message: string;
}

export function AdminCluster() {
  const installation = useResource<Installation>('/api/admin/installation');
  const single = installation.data?.cluster === false;
  const cluster = useResource<Record<string, unknown>>(
    installation.data?.cluster ? '/api/admin/cluster' : null,
    { refreshMs: 10_000 },
  );
  if (!installation.data) {
    return (
      <section className="card" aria-labelledby="cluster-title">
        <h2 id="cluster-title">Workers and leases</h2>
        <ErrorText error={installation.error} />
        {installation.loading && <Loading what="the installation" />}
      </section>
    );
  }
  if (single) {
    return (
      <section className="card" aria-labelledby="cluster-title">
        <h2 id="cluster-title">A single process</h2>
        <p data-testid="cluster-unavailable">
          This installation runs in one process (
          {installation.data.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}
          ): the API, the dashboard and every bot run here, so there are no workers or leases to show.
        </p>
        <p className="muted small">
          The cluster view appears when Stagger runs on PostgreSQL with separate <code>stagger worker</code>{' '}
          processes.
        </p>
      </section>
    );
  }
  return (
    <section className="card" aria-labelledby="cluster-title">
      <h2 id="cluster-title">Workers and leases</h2>
      <ErrorText error={cluster.error} />
      {!cluster.data
        ? cluster.loading && <Loading what="the cluster" />
        : Object.entries(cluster.data).map(([key, value]) => (
            <div key={key} className="cluster-part">
              <h3>{key}</h3>
              <JsonView value={value} />
            </div>
          ))}
    </section>
  );
}
