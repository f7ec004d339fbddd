/**
 * What `stagger serve` prints on stdout once it listens: the address, the demo tokens on a fresh installation, and —
 * on every start, since a token is shown only once — the command that issues a new one. Log lines go to stderr;
 * at the default level there is none per request, so this stays on the screen.
 */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { DemoCredentials } from '../demo.js';
import type { User } from '../storage/users.js';

/** How many operators the banner names (an installation has a few; the rest are customers). */
const NAMED_OPERATORS = 3;

export type BannerInstallation =
  { kind: 'demo'; demo: DemoCredentials } | { kind: 'empty' } | { kind: 'existing'; users: readonly User[] };

/**
 * The CLI as a person types it from the repository root, with the data directory this process uses when it is not
 * the default one (a token issued into another database would not sign in here). A PostgreSQL URL may hold a
 * password, so it is named, not printed.
 */
export function cliCommand(config: Pick<Config, 'dataDir' | 'databaseUrl'>, args: string): string {
  const command = `npx stagger ${args}`;
  if (config.databaseUrl) return `${command}   (with the same DATABASE_URL)`;
  if (config.dataDir === resolve('./data')) return command;
  return `STAGGER_DATA_DIR=${shellWord(config.dataDir)} ${command}`;
}

function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function tokenHint(config: Pick<Config, 'dataDir' | 'databaseUrl'>, operators: readonly User[]): string[] {
  const named = operators
    .slice(0, NAMED_OPERATORS)
    .map((u) => `user ${u.id} (${JSON.stringify(u.name)})`)
    .join(', ');
  const more = operators.length > NAMED_OPERATORS ? `, and ${operators.length - NAMED_OPERATORS} more` : '';
  return [
    'Tokens are shown once, when issued. To issue a new one for a user (their other tokens keep working):',
    `  ${cliCommand(config, 'users token --id N')}`,
    ...(named ? [`  operators here: ${named}${more}`] : []),
  ];
}

export function serveBanner(
  url: string,
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  installation: BannerInstallation,
): string[] {
  const lines = [`Stagger is running at ${url}`];
  if (installation.kind === 'demo') {
    const { demo } = installation;
    lines.push(
      '',
      'A fresh installation: demo data was created (shown once — keep the tokens):',
      `  operator token:       ${demo.adminToken}`,
      '                        (full control of this installation: every user, session and bot — keep it secret;',
      `                         revoke it with \`${cliCommand(config, `users revoke --user ${demo.adminId}`)}\`)`,
      `  demo customer token:  ${demo.token}   (user ${demo.userId}: 3 sandbox sessions, 20 sandbox groups)`,
      '',
      `Open ${url} and sign in with a token, or try:`,
      `  curl -H "Authorization: Bearer ${demo.token}" ${url}/api/bot/plan`,
      '',
      'Lost a token? Issue a new one (the operator is user ' +
        `${demo.adminId}, the demo customer user ${demo.userId}):`,
      `  ${cliCommand(config, 'users token --id N')}`,
      '',
      'Start with STAGGER_DEMO=0 for an installation without demo data.',
    );
  } else if (installation.kind === 'empty') {
    lines.push(
      '',
      'No users yet (STAGGER_DEMO=0). Create the operator with:',
      `  ${cliCommand(config, 'users add --name NAME --role admin')}`,
    );
  } else {
    lines.push(
      '',
      `Open ${url} and sign in with your API token.`,
      ...tokenHint(
        config,
        installation.users.filter((u) => u.role === 'admin'),
      ),
    );
  }
  lines.push('', 'Logs follow on stderr; LOG_LEVEL=debug adds a line per HTTP request.');
  return lines;
}
