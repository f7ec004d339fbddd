/** Operator: the workers and their leases when bots run in several processes on PostgreSQL. */
import { useResource } from '../hooks';
import { ErrorText, JsonView, Loading } from '../ui';

export function AdminCluster() {
  const cluster = useResource<Record<string, unknown>>('/api/admin/cluster', { refreshMs: 10_000 });
  if (cluster.error?.code === 'CLUSTER_NOT_AVAILABLE') {
    return (
      <section className="card" aria-labelledby="cluster-title">
        <h2 id="cluster-title">No cluster here</h2>
        <p data-testid="cluster-unavailable">
          This installation runs everything in one process, so there are no workers or leases to show. (The
          server says: {cluster.error.message}.)
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
