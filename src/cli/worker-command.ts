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
        'STAGGER_LEASE_SECONDS (default 5), STAGGER_LEASE_RENEW_SECONDS (default 1); pool: DATABASE_POOL_SIZE.\n',
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
  process.stdout.write(`worker ${service.keeper!.workerId} running\n`);
  await untilSignal();
  await service.close();
  return 0;
}
