/**
 * `stagger serve` (what `npm start` runs): migrations, the runtime, the API on PORT (default 8080), bound to
 * 127.0.0.1 unless HOST is set. A fresh data directory gets demo data, whose tokens are printed once.
 * SIGINT/SIGTERM shut down gracefully: calls on the wire finish, running bots resume on the next start.
 */
import { seedDemo } from '../demo.js';
import { createProcessLogger } from '../logger.js';
import { Service } from '../service.js';
import { numberOption, parseOptions, UsageError } from './args.js';
import { configOrUsage, untilSignal, usageOnStartErrorAsync } from './process.js';
import { serveBanner, type BannerInstallation } from './serve-banner.js';

const help = `usage: stagger serve [--port N] [--host H] [--no-worker]

  --port N       listen on this port (default: PORT or 8080)
  --host H       bind to this address (default: HOST or 127.0.0.1)
  --no-worker    serve the API only; bots run in \`stagger worker\` processes (PostgreSQL only)

Environment: STAGGER_DATA_DIR, DATABASE_URL, STAGGER_SECRET_KEY, PORT, HOST, LOG_LEVEL, LOG_FORMAT,
AUTH_JWT_SECRET, AUTH_JWKS_URL, TELEGRAM_API_ID, TELEGRAM_API_HASH (see README).`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'no-worker': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const config = configOrUsage();
  config.port = numberOption('port', values.port, config.port, { min: 0, max: 65535, integer: true });
  if (values.host) config.host = values.host;
  if (values['no-worker'] && !config.databaseUrl) {
    throw new UsageError(
      '--no-worker needs DATABASE_URL=postgres://…: on SQLite one process runs everything',
    );
  }
  // Logs go to stderr, readable lines on a terminal and JSON otherwise; stdout keeps what a person reads: the
  // address, the demo tokens and how to get a new one.
  const logger = createProcessLogger({ level: config.logLevel, format: config.logFormat });
  const service = await usageOnStartErrorAsync('cannot start', () =>
    Service.start(config, { api: true, runtime: !values['no-worker'], logger }),
  );
  // `serve` always starts the API, which sets the address it listens on.
  const url = service.url!;
  const users = await service.store.users.list();
  const installation: BannerInstallation =
    users.length > 0
      ? { kind: 'existing', users }
      : config.demo
        ? { kind: 'demo', demo: await seedDemo(service.store) }
        : { kind: 'empty' };
  const lines = serveBanner(url, config, installation);
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilSignal();
  await service.close();
  return 0;
}
