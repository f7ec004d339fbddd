/**
 * The CLI: `plan` and `simulate` contracts (JSON shapes, exit codes), bad input → exit 2 with one line on stderr
 * and nothing on stdout, and the database commands. Most run `main()` in-process; one goes through the real
 * `bin/stagger.mjs` the way `npx stagger` does.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './support/cli.js';
import { runStagger } from './support/processes.js';
import { LIMITS, type NumberRange } from '../src/core/limits.js';
import { API_HASH, API_ID, authKey, telethonString } from './support/mtcute/fixtures.js';

const run = runCli;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stagger-cli-'));
  dirs.push(d);
  return d;
}

describe('stagger plan', () => {
  it('prints the JSON contract, posts sorted by time then session', async () => {
    const { code, stdout, stderr } = await run(
      'plan',
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '3',
      '--cycle-minutes',
      '60',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      mode: 'starter',
      cycleSeconds: 3600,
      delayBetweenPosts: 5,
      sessions: [
        { index: 0, session: 0, offsetSeconds: 0, groups: ['g0', 'g1', 'g2'] },
        { index: 1, session: 1, offsetSeconds: 1800, groups: ['g0', 'g1', 'g2'] },
      ],
      posts: [
        { session: 0, group: 'g0', atSeconds: 0 },
        { session: 0, group: 'g1', atSeconds: 5 },
        { session: 0, group: 'g2', atSeconds: 10 },
        { session: 1, group: 'g0', atSeconds: 1800 },
        { session: 1, group: 'g1', atSeconds: 1805 },
        { session: 1, group: 'g2', atSeconds: 1810 },
      ],
      warnings: [],
    });
  });

  it('defaults to enterprise, delay 5 and the table format that reads like the seed note', async () => {
    const { code, stdout } = await run('plan', '--sessions', '3', '--groups', '10');
    expect(code).toBe(0);
    expect(stdout).toContain('Mode: enterprise');
    expect(stdout).toContain(
      'Session 0: starts immediately\n  - g0: 0s\n  - g1: 5s\n  - g2: 10s\n  - g3: 15s\n  Duration: 15s, first post to last (4 posts)',
    );
    expect(stdout).toContain('Session 2: starts immediately\n  - g7: 0s');
  });

  it('reads real targets from a groups file, with duplicate warnings', async () => {
    const file = join(tempDir(), 'groups.txt');
    writeFileSync(file, '# my groups\n-1001234567890\n@some_group\n\n@Some_Group\n-1001234567890/7\n');
    const { code, stdout } = await run(
      'plan',
      '--mode',
      'enterprise',
      '--sessions',
      '2',
      '--groups-file',
      file,
      '--format',
      'json',
    );
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.sessions.map((s: { groups: string[] }) => s.groups)).toEqual([
      ['-1001234567890', '@some_group'],
      ['-1001234567890/7'],
    ]);
    expect(plan.warnings).toEqual([expect.objectContaining({ code: 'DUPLICATE_GROUP' })]);
  });

  it('shows the planner’s warnings', async () => {
    const { stdout } = await run(
      'plan',
      '--mode',
      'enterprise',
      '--sessions',
      '5',
      '--groups',
      '2',
      '--format',
      'json',
    );
    expect(JSON.parse(stdout).warnings.map((w: { code: string }) => w.code)).toEqual(['IDLE_SESSIONS']);
  });

  it.each([
    [
      ['plan', '--mode', 'rotational', '--sessions', '2', '--groups', '3'],
      /--mode must be starter or enterprise/,
    ],
    [['plan', '--mode', 'starter', '--sessions', '2', '--groups', '3'], /requires --cycle-minutes/],
    [
      ['plan', '--mode', 'starter', '--sessions', '2', '--groups', '3', '--cycle-minutes', '0'],
      /--cycle-minutes must be at least 1 minutes, got 0/,
    ],
    [['plan', '--sessions=-1', '--groups', '3'], /--sessions must be at least 0 sessions, got -1/],
    [['plan', '--sessions', '-1', '--groups', '3'], /--sessions/],
    [['plan', '--sessions', 'two', '--groups', '3'], /--sessions must be a number/],
    [['plan', '--sessions', '2', '--groups', '3', '--delay=-5'], /--delay must be at least 0.2 seconds/],
    [['plan', '--sessions', '2', '--groups', '3', '--delay', 'abc'], /--delay must be a number/],
    [['plan', '--sessions', '2'], /--groups G or --groups-file FILE is required/],
    [['plan', '--groups', '2'], /--sessions N is required/],
    [['plan', '--sessions', '2', '--groups-file', '/nonexistent/file.txt'], /cannot read --groups-file/],
    [['plan', '--sessions', '2', '--groups', '3', '--format', 'xml'], /--format must be one of table, json/],
    [['plan', '--sessions', '2', '--groups', '3', '--wat'], /Unknown option/],
    [['nonsense'], /unknown command "nonsense"/],
  ])('bad input %j → exit 2, one line on stderr, nothing on stdout', async (argv, message) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the bad line of a groups file', async () => {
    const file = join(tempDir(), 'bad.txt');
    writeFileSync(file, '-1001\n12345\n');
    const { code, stderr, stdout } = await run('plan', '--sessions', '1', '--groups-file', file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/line 2/);
  });
});

describe('stagger simulate', () => {
  it('runs the note’s example on the sandbox and prints the JSON contract', async () => {
    const { code, stdout } = await run(
      'simulate',
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '10',
      '--cycle-minutes',
      '60',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(
      expect.arrayContaining(['deliveries', 'results', 'sessions', 'warnings']),
    );
    expect(result.deliveries.map((d: { atSeconds: number }) => d.atSeconds)).toEqual([
      0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 1800, 1805, 1810, 1815, 1820, 1825, 1830, 1835, 1840, 1845,
    ]);
    expect(result.deliveries[0]).toEqual({ cycle: 1, session: 0, group: 'g0', atSeconds: 0 });
    expect(result.results[0]).toMatchObject({
      cycle: 1,
      session: 0,
      group: 'g0',
      status: 'sent',
      outcome: null,
      atSeconds: 0,
    });
    expect(result.sessions).toEqual([
      { index: 0, state: 'active', reason: null },
      { index: 1, state: 'active', reason: null },
    ]);
  });

  it('applies faults: a session retired, a flood wait', async () => {
    const { code, stdout } = await run(
      'simulate',
      '--mode',
      'enterprise',
      '--sessions',
      '3',
      '--groups',
      '9',
      '--fault',
      '2:AUTH_KEY_UNREGISTERED@0',
      '--fault',
      '1:FLOOD_WAIT_3@5',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.sessions[2]).toEqual({ index: 2, state: 'dead', reason: 'revoked' });
    // Every group still delivered once: session 2's groups were handed to the others.
    expect(result.deliveries.map((d: { group: string }) => d.group).sort()).toEqual([
      'g0',
      'g1',
      'g2',
      'g3',
      'g4',
      'g5',
      'g6',
      'g7',
      'g8',
    ]);
    expect(result.results.some((r: { outcome: string }) => r.outcome === 'FLOOD_WAIT_3')).toBe(false);
  });

  it.each([
    [['simulate', '--sessions', '2', '--groups', '3', '--fault', '1:FLOOD_WAIT'], /SESSION:ERROR@SECONDS/],
    [['simulate', '--sessions', '2', '--groups', '3', '--fault', '5:PEER_FLOOD@0'], /no session 5/],
    [['simulate', '--sessions', '2', '--groups', '3', '--cycles', '0'], /--cycles must be ≥ 1/],
    [['simulate', '--sessions', '2', '--groups', '3', '--seed', 'x'], /--seed must be a number/],
  ])('bad input %j → exit 2', async (argv, message) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });
});

describe('database commands', () => {
  it('users add --json, users token, demo --json, migrate', async () => {
    const dir = tempDir();
    vi.stubEnv('STAGGER_DATA_DIR', dir);
    try {
      const migrated = await run('migrate');
      expect(migrated.code).toBe(0);
      const added = await run(
        'users',
        'add',
        '--name',
        'Ann',
        '--role',
        'admin',
        '--plan',
        'ENTERPRISE',
        '--max-sessions',
        '4',
        '--json',
      );
      expect(added.code).toBe(0);
      const { id, token } = JSON.parse(added.stdout);
      expect(id).toMatch(/^\d+$/);
      expect(token).toMatch(/^stg_/);
      const again = await run('users', 'token', '--id', id, '--json');
      expect(JSON.parse(again.stdout).token).not.toBe(token);
      const demo = await run('demo', '--json');
      expect(Object.keys(JSON.parse(demo.stdout)).sort()).toEqual(['adminToken', 'token', 'userId']);
      const status = await run('migrate', '--status');
      expect(status.stdout).toContain('applied  0001_initial');
      expect((await run('users', 'add', '--role', 'admin')).stderr).toMatch(/--name NAME is required/);
      expect((await run('users', 'add', '--name', 'B', '--plan', 'GOLD')).code).toBe(2);
      expect((await run('users', 'token', '--id', '999999')).stderr).toMatch(/no user 999999/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('users revoke: one token by id, or every token of a user; a revoked token stops working', async () => {
    const dir = tempDir();
    vi.stubEnv('STAGGER_DATA_DIR', dir);
    try {
      const { id, token } = JSON.parse((await run('users', 'add', '--name', 'Rev', '--json')).stdout);
      const second = JSON.parse((await run('users', 'token', '--id', id, '--json')).stdout).token;
      const { openStore } = await import('../src/storage/store.js');
      const check = async () => {
        const store = await openStore({ dataDir: dir });
        try {
          return {
            first: (await store.users.authenticate(token)) !== null,
            second: (await store.users.authenticate(second)) !== null,
            tokenIds: (await store.users.listTokens(id)).map((t) => t.id),
          };
        } finally {
          await store.close();
        }
      };
      const before = await check();
      expect(before).toMatchObject({ first: true, second: true });
      const oldest = before.tokenIds.at(-1)!;
      const one = await run('users', 'revoke', '--token', oldest, '--json');
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout)).toEqual({ revoked: 1 });
      expect(await check()).toMatchObject({ first: false, second: true });
      expect(JSON.parse((await run('users', 'revoke', '--user', id, '--json')).stdout)).toEqual({
        revoked: 1,
      });
      expect(await check()).toMatchObject({ first: false, second: false });
      expect((await run('users', 'revoke', '--token', '999999')).stderr).toMatch(/no token 999999/);
      expect((await run('users', 'revoke')).stderr).toMatch(/either --token/);
      expect((await run('users', 'revoke', '--user', '9999999999999999999')).code).toBe(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

/** Bad input: exit 2, one line on stderr (no stack trace), nothing on stdout. Returns the line. */
async function refused(argv: string[], message: RegExp): Promise<string> {
  const { code, stdout, stderr } = await run(...argv);
  expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
  expect(stderr.trim()).toMatch(message);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  return stderr.trim();
}

/** The database commands below work in a data directory of their own. */
function ownDataDir(): void {
  beforeEach(() => {
    vi.stubEnv('STAGGER_DATA_DIR', tempDir());
    vi.stubEnv('TELEGRAM_API_ID', String(API_ID));
    vi.stubEnv('TELEGRAM_API_HASH', API_HASH);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
}

describe('usage', () => {
  it('no command: the usage on stderr, exit 2, nothing on stdout', async () => {
    const { code, stdout, stderr } = await run();
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^usage: stagger <command>/);
  });

  it.each([[['--help']], [['-h']], [['help']], [['users', '--help']], [['sessions', '--help']]])(
    '%j: the usage on stdout, exit 0',
    async (argv) => {
      const { code, stdout, stderr } = await run(...argv);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: stagger /);
    },
  );

  it.each([[['users']], [['sessions']]])(
    '%j without a subcommand: the usage on stderr, exit 2',
    async (argv) => {
      const { code, stdout, stderr } = await run(...argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(new RegExp(`^usage: stagger ${argv[0]} `));
    },
  );

  it('an unknown subcommand is one line', async () => {
    await refused(['users', 'remove'], /^stagger users: unknown subcommand "remove" \(add, token, revoke\)$/);
    await refused(['sessions', 'export'], /^stagger sessions: unknown subcommand "export" \(import\)$/);
  });
});

describe('negative numbers reach the range check', () => {
  ownDataDir();
  it.each([
    [
      ['plan', '--sessions', '-1', '--groups', '3'],
      /^stagger plan: --sessions must be at least 0 sessions, got -1$/,
    ],
    [
      ['plan', '--sessions', '2', '--groups', '3', '--delay', '-5'],
      /--delay must be at least 0\.2 seconds, got -5$/,
    ],
    [
      ['plan', '--sessions', '2', '--groups', '3', '--delay', '-0.5'],
      /--delay must be at least 0\.2 seconds, got -0\.5$/,
    ],
    [['plan', '--sessions', '2', '--groups', '-3'], /--groups must be ≥ 0, got -3$/],
    [
      ['plan', '--sessions', '2', '--groups', '3', '--min-group-gap', '-.5'],
      /--min-group-gap must be at least 0 seconds, got -\.5$/,
    ],
    [
      ['plan', '--mode', 'starter', '--sessions', '2', '--groups', '3', '--cycle-minutes', '-60'],
      /--cycle-minutes must be at least 1 minutes, got -60$/,
    ],
    [['simulate', '--sessions', '2', '--groups', '3', '--cycles', '-1'], /--cycles must be ≥ 1, got -1$/],
    [
      ['simulate', '--sessions', '2', '--groups', '3', '--delay-between-cycles', '-1e3'],
      /--delay-between-cycles must be at least 0 seconds, got -1e3$/,
    ],
    [
      ['users', 'add', '--name', 'Ann', '--max-sessions', '-2'],
      /--max-sessions must be at least 0 sessions, got -2$/,
    ],
    [['users', 'token', '--id', '-1'], /--id must be a user id/],
  ])('%j → exit 2 naming the range', async (argv, message) => {
    await refused(argv, message);
  });

  it('an option followed by another option is still node’s one-line complaint', async () => {
    await refused(
      ['plan', '--sessions', '--groups', '3'],
      /^stagger plan: Option '--sessions' argument is ambiguous/,
    );
  });
});

describe('the CLI accepts exactly the API’s ranges (LIMITS)', () => {
  ownDataDir();
  const plan = ['plan', '--sessions', '2', '--groups', '3'];
  const starter = ['plan', '--mode', 'starter', '--sessions', '2', '--groups', '3'];
  const simulate = ['simulate', '--sessions', '1', '--groups', '1'];
  const cases: [string, string[], NumberRange][] = [
    ['delay', plan, LIMITS.delayBetweenPosts],
    ['cycle-minutes', starter, LIMITS.totalCycleMinutes],
    ['min-group-gap', plan, LIMITS.minGroupGapSeconds],
    ['sessions', ['plan', '--groups', '3'], LIMITS.planSessions],
    ['delay-between-cycles', simulate, LIMITS.delayBetweenCycles],
  ];

  it.each(cases)(
    '--%s: both ends pass, just outside is exit 2 naming the limit',
    async (name, argv, limit) => {
      for (const ok of [limit.min, limit.max]) {
        const { code, stderr } = await run(...argv, `--${name}`, String(ok), '--format', 'json');
        expect({ ok, code, stderr }).toEqual({ ok, code: 0, stderr: '' });
      }
      const step = limit.integer ? 1 : 0.1;
      const below = String(limit.min - step);
      const above = String(limit.max + step);
      await refused(
        // --name=value, as the value below a minimum of 0 is negative (`--name -1` is tested with the others).
        [...argv, `--${name}=${below}`],
        new RegExp(`--${name} must be at least ${limit.min} ${limit.unit}, got ${below}$`),
      );
      await refused(
        [...argv, `--${name}`, above],
        new RegExp(`--${name} must be at most ${limit.max} ${limit.unit}, got ${above}$`),
      );
      await refused(
        [...argv, `--${name}`, '1e308'],
        new RegExp(`--${name} must be at most ${limit.max} ${limit.unit}, got 1e308$`),
      );
      if (limit.integer)
        await refused([...argv, `--${name}`, '1.5'], new RegExp(`--${name} must be a whole number`));
    },
  );

  it('--delay 0 passed the CLI while the API refused it; now both refuse below 0.2', async () => {
    expect(await refused([...plan, '--delay', '0'], /./)).toBe(
      'stagger plan: --delay must be at least 0.2 seconds, got 0',
    );
  });

  it('--cycle-minutes: 1e308, 1.5 and 0 are refused with the limit; a missing value keeps its message', async () => {
    await refused(
      [...starter, '--cycle-minutes', '1e308'],
      /--cycle-minutes must be at most 525600 minutes, got 1e308$/,
    );
    await refused(
      [...starter, '--cycle-minutes', '1e400'],
      /--cycle-minutes must be at most 525600 minutes, got 1e400$/,
    );
    await refused([...starter, '--cycle-minutes', '1.5'], /--cycle-minutes must be a whole number/);
    await refused([...starter, '--cycle-minutes', '0'], /--cycle-minutes must be at least 1 minutes, got 0$/);
    await refused(starter, /starter mode requires --cycle-minutes M with M > 0/);
  });

  it('users add --max-sessions: the operator’s limit', async () => {
    const { max } = LIMITS.maxSessions;
    const added = await run('users', 'add', '--name', 'Ann', '--max-sessions', String(max), '--json');
    expect(added.code).toBe(0);
    await refused(
      ['users', 'add', '--name', 'Bob', '--max-sessions', String(max + 1)],
      new RegExp(`--max-sessions must be at most ${max} sessions, got ${max + 1}$`),
    );
  });
});

describe('plan --sessions 0', () => {
  it('exit 0 with the NO_SESSIONS warning (as the API preview answers), and a header that counts the groups given', async () => {
    const table = await run('plan', '--sessions', '0', '--groups', '3');
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    expect(table.stdout.split('\n')[0]).toBe(
      'Mode: enterprise · cycle ends after its last post · delay 5s · 0 sessions · 3 groups · 0 posts',
    );
    expect(table.stdout).toContain('NO_SESSIONS: there is no session to post with: nothing will be posted');
    const json = await run('plan', '--sessions', '0', '--groups', '3', '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      sessions: [],
      posts: [],
      warnings: [
        { code: 'NO_SESSIONS', message: 'there is no session to post with: nothing will be posted' },
      ],
    });
  });
});

describe('database ids beyond 64 bits', () => {
  ownDataDir();
  it.each([['9999999999999999999'], ['9223372036854775808'], ['0'], ['1.5'], ['12abc']])(
    'users token --id %s → exit 2, one line',
    async (id) => {
      await refused(
        ['users', 'token', '--id', id],
        /^stagger users: --id must be a user id: a positive whole number below 2\^63/,
      );
    },
  );

  it('the largest id is an id: there is no such user', async () => {
    await refused(['users', 'token', '--id', '9223372036854775807'], /there is no user 9223372036854775807$/);
  });

  it('sessions import --user 9999999999999999999 → exit 2, one line', async () => {
    const good = telethonString(2, [149, 154, 167, 51], 443, authKey());
    await refused(
      ['sessions', 'import', '--user', '9999999999999999999', good],
      /^stagger sessions: --user must be a user id: a positive whole number below 2\^63/,
    );
  });
});

describe('no stack traces for bad input', () => {
  ownDataDir();
  it('a data directory that is a file, or a database file that is no database', async () => {
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, 'x');
    vi.stubEnv('STAGGER_DATA_DIR', file);
    for (const argv of [['migrate'], ['users', 'add', '--name', 'Ann'], ['demo']]) {
      await refused(argv, new RegExp(`cannot open the database in ${file}: EEXIST`));
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'stagger.db'), 'this is not an SQLite database, only a text file of some length');
    vi.stubEnv('STAGGER_DATA_DIR', dir);
    await refused(['migrate', '--status'], /cannot open the database in .*: file is not a database$/);
  });

  it('a starter plan too large to hold in memory', async () => {
    await refused(
      ['plan', '--mode', 'starter', '--sessions', '100000', '--groups', '1000000', '--cycle-minutes', '60'],
      /100000 sessions × 1000000 groups is 100000000000 posts in one cycle; at most 10000000/,
    );
  });

  it('sessions import of a directory', async () => {
    const dir = join(tempDir(), 'account.session');
    mkdirSync(dir);
    const added = await run('users', 'add', '--name', 'Ann', '--json');
    await refused(['sessions', 'import', '--user', JSON.parse(added.stdout).id, dir], /not a file: /);
  });

  it('sessions import --api-id beyond Telegram’s 32-bit api_id', async () => {
    const good = telethonString(2, [149, 154, 167, 51], 443, authKey());
    await refused(
      ['sessions', 'import', '--user', '1', '--api-id', '99999999999', good],
      /--api-id must be ≤ 2147483647, got 99999999999$/,
    );
  });

  it('simulate: every session dies → what happened, with a warning (it crashed waiting a year)', async () => {
    const { code, stdout, stderr } = await run(
      'simulate',
      '--sessions',
      '1',
      '--groups',
      '3',
      '--cycles',
      '2',
      '--fault',
      '0:AUTH_KEY_UNREGISTERED@0',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout);
    expect(result.sessions).toEqual([{ index: 0, state: 'dead', reason: 'revoked' }]);
    expect(result.warnings).toContainEqual({
      code: 'NO_USABLE_SESSION',
      message: 'every session is dead: the bot ended 1 of 2 cycle(s)',
    });
  });

  it.each([
    [['--sessions', '0', '--groups', '3'], 'NO_SESSIONS'],
    [['--sessions', '1', '--groups', '0'], 'NO_GROUPS'],
  ])('simulate %j → nothing posted, %s', async (argv, warning) => {
    const { code, stdout } = await run('simulate', ...argv, '--format', 'json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.deliveries).toEqual([]);
    expect(result.warnings.map((w: { code: string }) => w.code)).toEqual([warning]);
  });

  it('simulate: cycles that take longer than a year of virtual time run to the end', async () => {
    const { code, stdout } = await run(
      'simulate',
      '--mode',
      'starter',
      '--sessions',
      '1',
      '--groups',
      '1',
      '--cycle-minutes',
      String(LIMITS.totalCycleMinutes.max),
      '--cycles',
      '3',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout).cycles.map((c: { status: string }) => c.status)).toEqual([
      'finished',
      'finished',
      'finished',
    ]);
  });
});

it('npx stagger works from the repository root (bin/stagger.mjs, no build step)', async () => {
  const child = runStagger(['plan', '--sessions', '1', '--groups', '1', '--format', 'json'], {});
  const exit = await child.exited;
  expect(exit.code).toBe(0);
  expect(JSON.parse(child.output()).posts).toEqual([{ session: 0, group: 'g0', atSeconds: 0 }]);
  const bad = runStagger(['plan', '--mode', 'x', '--sessions', '1', '--groups', '1'], {});
  expect((await bad.exited).code).toBe(2);
});
