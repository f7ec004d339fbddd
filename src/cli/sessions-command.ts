/**
 * `stagger sessions import --user ID FILE|STRING [--label L] [--api-id N --api-hash H]`: imports a Telethon
 * `.session` file, a Telethon, GramJS or Pyrogram string session, or an mtcute string for a customer. Corrupt or
 * truncated input, and a bot's session, is refused with a clear error and nothing is stored.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { configOrUsage, usageOnStaggerErrorAsync } from './process.js';
import { parseSessionString, parseTelethonSessionFile } from '../telegram/mtcute/session-formats.js';
import { storeImportedSession } from '../telegram/session-import.js';
import { asUsageError, groupUsage, numberOption, parseOptions, recordIdOption, UsageError } from './args.js';
import { withStore } from './store-command.js';

const help = 'usage: stagger sessions import --user ID FILE|STRING [--label L] [--api-id N --api-hash H]';

/** Telegram's api_id is a 32-bit integer (`int` in its schema). */
const MAX_API_ID = 2 ** 31 - 1;

/**
 * A session string: hundreds of base64 characters (the shortest, a Telethon string, has 353). GramJS writes the
 * standard alphabet, so its strings may hold "/" and must not be taken for a path that does not exist.
 */
const SESSION_STRING = /^[A-Za-z0-9_\-+/]{300,}={0,2}$/;

export async function sessionsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = groupUsage(sub, help);
  if (usage !== null) return usage;
  if (sub !== 'import') throw new UsageError(`unknown subcommand "${sub}" (import)`);
  const { values, positionals } = parseOptions(
    rest,
    {
      user: { type: 'string' },
      label: { type: 'string' },
      'api-id': { type: 'string' },
      'api-hash': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const userId = recordIdOption('user', values.user, 'a user id');
  if (positionals.length !== 1) throw new UsageError('give exactly one FILE or STRING to import');
  const input = positionals[0]!;
  const config = configOrUsage();
  const apiIdOption = numberOption('api-id', values['api-id'], undefined, {
    min: 1,
    max: MAX_API_ID,
    integer: true,
  });
  if (values['api-hash'] !== undefined && !/^[0-9a-fA-F]{32}$/.test(values['api-hash'])) {
    throw new UsageError('--api-hash must be 32 hex digits');
  }
  // A path that does not exist is reported as such, not parsed as a (broken) session string.
  const looksLikePath =
    !SESSION_STRING.test(input) &&
    (input.includes('/') || input.endsWith('.session') || input.endsWith('.txt'));
  if (looksLikePath && !existsSync(input)) throw new UsageError(`no such file: ${input}`);
  if (looksLikePath && !statSync(input).isFile()) throw new UsageError(`not a file: ${input}`);
  let imported;
  try {
    imported =
      existsSync(input) && statSync(input).isFile()
        ? input.endsWith('.session')
          ? parseTelethonSessionFile(new Uint8Array(readInput(input)))
          : parseSessionString(readInput(input).toString('utf8').trim())
        : parseSessionString(input);
  } catch (error) {
    asUsageError(error);
  }
  const apiId = apiIdOption ?? imported.apiId ?? config.telegram.apiId;
  const apiHash = values['api-hash'] ?? config.telegram.apiHash;
  if (!apiId || !apiHash) {
    throw new UsageError(
      'give --api-id and --api-hash (from my.telegram.org), or set TELEGRAM_API_ID and TELEGRAM_API_HASH',
    );
  }
  const created = await withStore(async (store) => {
    if (!(await store.users.get(userId))) throw new UsageError(`there is no user ${userId}`);
    return usageOnStaggerErrorAsync(() =>
      storeImportedSession(store, { ownerUserId: userId, imported, label: values.label, apiId, apiHash }),
    );
  });
  process.stdout.write(`session ${created.id} imported (${imported.format}) for user ${userId}\n`);
  return 0;
}

/** The file's bytes; a file that cannot be read (permissions…) is bad input, named with its error code. */
function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
