/**
 * `stagger <command>`: the CLI entry. Each command lives in src/cli/<name>-command.ts and returns an exit code.
 * Bad input → exit 2 with a one-line message on stderr and nothing on stdout.
 */
import { UsageError } from './cli/args.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  plan: {
    summary: 'show the exact timeline of one cycle',
    load: async () => (await import('./cli/plan-command.js')).planCommand,
  },
  serve: {
    summary: 'run the service: API, dashboard and the runtime (what `npm start` runs)',
    load: async () => (await import('./cli/serve-command.js')).serveCommand,
  },
  worker: {
    summary: 'run bots for a cluster of workers on PostgreSQL (no API)',
    load: async () => (await import('./cli/worker-command.js')).workerCommand,
  },
  demo: {
    summary: 'create demo data (an operator and a customer with sandbox sessions) and print their tokens',
    load: async () => (await import('./cli/demo-command.js')).demoCommand,
  },
  users: {
    summary: 'add users and issue API tokens',
    load: async () => (await import('./cli/users-command.js')).usersCommand,
  },
  sessions: {
    summary: 'import Telegram sessions (Telethon file or string, GramJS, Pyrogram or mtcute string)',
    load: async () => (await import('./cli/sessions-command.js')).sessionsCommand,
  },
  migrate: {
    summary: 'apply database migrations (also done on every start)',
    load: async () => (await import('./cli/migrate-command.js')).migrateCommand,
  },
  simulate: {
    summary: 'run a bot on the sandbox Telegram on a virtual clock and show what happened',
    load: async () => (await import('./cli/simulate-command.js')).simulateCommand,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'usage: stagger <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'stagger <command> --help for options',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === undefined) {
    // No command is bad input: the usage goes to stderr (stdout stays for what a command prints).
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`stagger: unknown command "${name}" (try: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  try {
    return await (
      await command.load()
    )(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`stagger ${name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`stagger ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
