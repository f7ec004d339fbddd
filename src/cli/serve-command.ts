/**
 * `stagger serve` (what `npm start` runs): migrations, the runtime, the API on PORT (default 8080), bound to
 * 127.0.0.1 unless HOST is set. A fresh data directory gets demo data, whose tokens are printed once.
 * SIGINT/SIGTERM shut down gracefully: calls on the wire finish, running bots resume on the next start.
 */
import { isFresh, seedDemo } from '../demo.js';
import pino from 'pino';
import { createLogger } from '../logger.js';
import { Service } from '../service.js';
import { numberOption, parseOptions, UsageError } from './args.js';
import { configOrUsage, untilSignal, usageOnStartErrorAsync } from './process.js';

const help = `usage: stagger serve [--port N] [--host H] [--no-worker]

  --port N       listen on this port (default: PORT or 8080)
  --host H       bind to this address (default: HOST or 127.0.0.1)
  --no-worker    serve the API only; bots run in \`stagger worker\` processes (PostgreSQL only)

Environment: STAGGER_DATA_DIR, DATABASE_URL, STAGGER_SECRET_KEY, PORT, HOST, LOG_LEVEL, AUTH_JWT_SECRET,
AUTH_JWKS_URL, TELEGRAM_API_ID, TELEGRAM_API_HASH (see README).`;

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
  // Logs (JSON lines) go to stderr; stdout keeps what a person reads: the address and the demo tokens.
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ fd: 2, sync: false }),
  });
  const service = await usageOnStartErrorAsync('cannot start', () =>
    Service.start(config, { api: true, runtime: !values['no-worker'], logger }),
  );
  const lines = [`Stagger is running at ${service.url}`];
  if ((await isFresh(service.store)) && config.demo) {
    const demo = await seedDemo(service.store);
    lines.push(
      '',
      'A fresh installation: demo data was created (shown once — keep the tokens):',
      `  operator token:       ${demo.adminToken}`,
      '                        (full control of this installation: every user, session and bot — keep it secret;',
      `                         revoke it with \`stagger users revoke --user ${demo.adminId}\`)`,
      `  demo customer token:  ${demo.token}   (user ${demo.userId}: 3 sandbox sessions, 20 sandbox groups)`,
      '',
      `Open ${service.url} and sign in with a token, or try:`,
      `  curl -H "Authorization: Bearer ${demo.token}" ${service.url}/api/bot/plan`,
      '',
      'Start with STAGGER_DEMO=0 for an installation without demo data.',
    );
  } else if (await isFresh(service.store)) {
    lines.push(
      '',
      'No users yet (STAGGER_DEMO=0). Create the operator with:',
      '  stagger users add --name NAME --role admin',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilSignal();
  await service.close();
  return 0;
}
