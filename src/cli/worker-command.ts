/**
 * `stagger worker`: runs bots without the API, next to any number of other workers and API nodes on one
 * PostgreSQL. Each bot runs in exactly one process (leases with epochs, fenced writes); a dead worker's bots move
 * to the others within seconds. SIGINT/SIGTERM release this worker's leases at once.
 */
import pino from 'pino';
import { readConfig } from '../config.js';
import { StaggerError } from '../core/errors.js';
import { createLogger } from '../logger.js';
import { Service } from '../service.js';
import { parseOptions, UsageError } from './args.js';

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(
      'usage: stagger worker\n\nRuns bots for a cluster on PostgreSQL (DATABASE_URL=postgres://…). Lease timing:\n' +
        'STAGGER_LEASE_SECONDS (default 5), STAGGER_LEASE_RENEW_SECONDS (default 1); pool: DATABASE_POOL_SIZE.\n',
    );
    return 0;
  }
  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    throw error;
  }
  if (!config.databaseUrl) {
    throw new UsageError(
      'workers need DATABASE_URL=postgres://…: several processes must share one database, and the embedded SQLite ' +
        'database is a file of this one process (run `stagger serve` alone instead)',
    );
  }
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ fd: 2, sync: false }),
  });
  let service: Service;
  try {
    service = await Service.start(config, { api: false, runtime: true, logger });
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.write(`worker ${service.keeper!.workerId} running\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await service.close();
  return 0;
}
