/**
 * `stagger worker`: runs bots without the API, next to any number of other workers and API nodes on one
 * PostgreSQL. Each bot runs in exactly one process (leases with epochs, fenced writes); a dead worker's bots move
 * to the others within seconds. SIGINT/SIGTERM release this worker's leases at once.
 */
import { createProcessLogger } from '../logger.js';
import { Service } from '../service.js';
import { parseOptions, UsageError } from './args.js';
import { configOrUsage, untilSignal, usageOnStartErrorAsync } from './process.js';

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(
      'usage: stagger worker\n\nRuns bots for a cluster on PostgreSQL (DATABASE_URL=postgres://…). Lease timing:\n' +
        'STAGGER_LEASE_SECONDS (default 2.75), STAGGER_LEASE_RENEW_SECONDS (default 0.2); pool: DATABASE_POOL_SIZE.\n' +
        'SIGUSR2 prints its counters (statements sent to the database by path, CPU) as one JSON line on stdout.\n',
    );
    return 0;
  }
  const config = configOrUsage();
  if (!config.databaseUrl) {
    throw new UsageError(
      'workers need DATABASE_URL=postgres://…: several processes must share one database, and the embedded SQLite ' +
        'database is a file of this one process (run `stagger serve` alone instead)',
    );
  }
  const logger = createProcessLogger({ level: config.logLevel, format: config.logFormat });
  const service = await usageOnStartErrorAsync('cannot start', () =>
    Service.start(config, { api: false, runtime: true, logger }),
  );
  const workerId = service.keeper!.workerId;
  process.stdout.write(`worker ${workerId} running\n`);
  // `kill -USR2 <pid>`: the worker's counters as one JSON line on stdout (the cluster benchmark reads them).
  const report = (): void => {
    const statements = service.store.statements?.snapshot() ?? null;
    process.stdout.write(`${JSON.stringify({ worker: workerId, statements, cpu: process.cpuUsage() })}\n`);
  };
  process.on('SIGUSR2', report);
  await untilSignal();
  process.off('SIGUSR2', report);
  await service.close();
  return 0;
}
