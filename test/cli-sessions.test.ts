/**
 * `stagger sessions import --user ID FILE|STRING`, in-process through `main()`: a Telethon `.session` file, a file
 * holding a string, and strings of every format are stored as mtcute sessions for the user; corrupt input is exit 2
 * with one line on stderr, nothing on stdout, nothing stored, and no secret printed.
 */
import { readStringSession } from '@mtcute/core/utils.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './support/cli.js';
import { openStore } from '../src/storage/store.js';
import {
  API_HASH,
  API_ID,
  authKey,
  gramjsString,
  mtcuteString,
  pyrogramString,
  telethonSessionFile,
  telethonString,
  urlsafeBase64,
} from './support/mtcute/fixtures.js';

const run = runCli;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stagger-cli-sessions-'));
  dirs.push(d);
  return d;
}

let dataDir: string;
let userId: string;

beforeEach(async () => {
  dataDir = tempDir();
  vi.stubEnv('STAGGER_DATA_DIR', dataDir);
  vi.stubEnv('TELEGRAM_API_ID', String(API_ID));
  vi.stubEnv('TELEGRAM_API_HASH', API_HASH);
  const added = await run('users', 'add', '--name', 'Importer', '--max-sessions', '5', '--json');
  expect(added.code).toBe(0);
  userId = JSON.parse(added.stdout).id;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function stored(): Promise<
  { format: string; key: Buffer; apiId: number | null; apiHash: string | null }[]
> {
  const store = await openStore({ dataDir });
  try {
    const out = [];
    for (const s of await store.sessions.listByOwner(userId)) {
      expect(s.driver).toBe('mtcute');
      const c = (await store.sessions.credentials(s.id))!;
      out.push({
        format: s.label,
        key: Buffer.from(readStringSession(c.authString).authKey),
        apiId: c.apiId,
        apiHash: c.apiHash,
      });
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('stagger sessions import', () => {
  it('a Telethon .session file', async () => {
    const key = authKey();
    const file = join(tempDir(), 'account.session');
    telethonSessionFile(file, [{ dcId: 2, address: '149.154.167.51', port: 443, authKey: key }]);
    const { code, stdout, stderr } = await run('sessions', 'import', '--user', userId, file);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(new RegExp(`^session \\d+ imported \\(telethon-file\\) for user ${userId}\\n$`));
    const [session] = await stored();
    expect(session!.key.equals(Buffer.from(key))).toBe(true);
    expect(session).toMatchObject({ format: 'imported telethon-file', apiId: API_ID, apiHash: API_HASH });
  });

  it.each([
    [
      'a Telethon string',
      (k: Uint8Array) => telethonString(4, [149, 154, 167, 91], 443, k),
      'telethon-string',
    ],
    ['a GramJS string', (k: Uint8Array) => gramjsString(2, '149.154.167.51', 443, k), 'gramjs-string'],
    [
      'a Pyrogram string',
      (k: Uint8Array) => pyrogramString({ dcId: 2, apiId: 99, authKey: k, userId: 42n }),
      'pyrogram-string',
    ],
    ['an mtcute string', (k: Uint8Array) => mtcuteString(k), 'mtcute-string'],
  ])('%s given on the command line', async (_name, make, format) => {
    const key = authKey();
    const input = make(key);
    const { code, stdout, stderr } = await run(
      'sessions',
      'import',
      '--user',
      userId,
      '--label',
      'mine',
      input,
    );
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain(`(${format})`);
    expect(stdout).not.toContain(input.slice(1, 25));
    const [session] = await stored();
    expect(session!.key.equals(Buffer.from(key))).toBe(true);
    expect(session!.format).toBe('mine');
  });

  it('a GramJS string holding "/" (standard base64) is read as a string, not as a missing file', async () => {
    const key = authKey();
    key.fill(0xff, 0, 6); // three 0xff bytes in one base64 group: "////"
    const input = gramjsString(2, '149.154.167.51', 443, key);
    expect(input).toContain('/');
    const { code, stdout, stderr } = await run('sessions', 'import', '--user', userId, input);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain('(gramjs-string)');
    const [session] = await stored();
    expect(session!.key.equals(Buffer.from(key))).toBe(true);
  });

  it('a mistyped path is reported as a missing file, and the same session is not imported twice', async () => {
    const missing = await run('sessions', 'import', '--user', userId, '/no/such/dir/account.session');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file: \/no\/such\/dir\/account.session/);
    const input = mtcuteString(authKey());
    expect((await run('sessions', 'import', '--user', userId, input)).code).toBe(0);
    const again = await run('sessions', 'import', '--user', userId, input);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already imported/);
    expect(await stored()).toHaveLength(1);
  });

  it('a string in a file, with --api-id/--api-hash over the environment', async () => {
    const key = authKey();
    const file = join(tempDir(), 'session.txt');
    writeFileSync(file, `${telethonString(2, [149, 154, 167, 51], 443, key)}\n`);
    const hash = 'ffffffffffffffffffffffffffffffff';
    const { code } = await run(
      'sessions',
      'import',
      '--user',
      userId,
      '--api-id',
      '777',
      '--api-hash',
      hash,
      file,
    );
    expect(code).toBe(0);
    expect(await stored()).toEqual([
      expect.objectContaining({ format: 'imported telethon-string', apiId: 777, apiHash: hash }),
    ]);
  });

  describe('bad input → exit 2, one line on stderr, nothing on stdout, nothing stored, no secret', () => {
    const key = authKey();
    const telethon = telethonString(2, [149, 154, 167, 51], 443, key);
    const secrets = [
      telethon.slice(1, 40),
      Buffer.from(key).toString('hex').slice(0, 40),
      urlsafeBase64(key).slice(0, 40),
    ];

    const cases: [string, () => string[], RegExp][] = [
      ['a truncated Telethon string', () => [telethon.slice(0, 200)], /truncated/],
      [
        'a Telethon string with a bad character',
        () => [`${telethon.slice(0, 50)}!${telethon.slice(51)}`],
        /base64/,
      ],
      [
        'a truncated Pyrogram string',
        () => [pyrogramString({ dcId: 2, apiId: 1, authKey: key, userId: 1n }).slice(0, 300)],
        /unrecognised|truncated/,
      ],
      [
        'a Pyrogram string of a bot',
        () => [pyrogramString({ dcId: 2, apiId: 1, authKey: key, userId: 1n, isBot: true })],
        /bots cannot forward into groups the way Stagger needs; import a user account/,
      ],
      [
        'a padded mtcute string',
        () => [
          Buffer.concat([Buffer.from(mtcuteString(key), 'base64url'), Buffer.alloc(8, 1)]).toString(
            'base64url',
          ),
        ],
        /mtcute/,
      ],
      [
        'a corrupt .session file',
        () => {
          const file = join(tempDir(), 'broken.session');
          writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4000, 0xab)]));
          return [file];
        },
        /could not be read/,
      ],
      [
        'a .session file that is no database',
        () => {
          const file = join(tempDir(), 'text.session');
          writeFileSync(file, 'hello');
          return [file];
        },
        /not an SQLite/,
      ],
      [
        'a truncated .session file',
        () => {
          const file = join(tempDir(), 'cut.session');
          const bytes = telethonSessionFile(join(tempDir(), 'whole.session'), [
            { dcId: 2, address: '149.154.167.51', port: 443, authKey: key },
          ]);
          writeFileSync(file, bytes.subarray(0, 3000));
          return [file];
        },
        /could not be read|damaged/,
      ],
    ];
    it.each(cases)('%s', async (_name, input, pattern) => {
      const { code, stdout, stderr } = await run('sessions', 'import', '--user', userId, ...input());
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^stagger sessions: /);
      expect(stderr).toMatch(pattern);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      for (const secret of secrets) expect(stderr).not.toContain(secret);
      expect(await stored()).toEqual([]);
    });

    it('no user, an unknown user, two inputs, no API credentials', async () => {
      const good = telethon;
      const results = [
        await run('sessions', 'import', good),
        await run('sessions', 'import', '--user', '999999', good),
        await run('sessions', 'import', '--user', userId, good, good),
      ];
      vi.stubEnv('TELEGRAM_API_ID', '');
      vi.stubEnv('TELEGRAM_API_HASH', '');
      results.push(await run('sessions', 'import', '--user', userId, good));
      const messages = results.map((r) => {
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).not.toContain(good.slice(1, 40));
        return r.stderr;
      });
      expect(messages[0]).toMatch(/--user ID/);
      expect(messages[1]).toMatch(/no user 999999/);
      expect(messages[2]).toMatch(/exactly one FILE or STRING/);
      expect(messages[3]).toMatch(/--api-id and --api-hash|TELEGRAM_API_ID/);
      expect(await stored()).toEqual([]);
    });
  });
});
