/**
 * What `stagger plan` and `stagger simulate` say is what happens: one meaning of each option, durations as planned,
 * the reason the runtime decided (a slow mode is not the minimum gap), every refused attempt, hand-off and pause
 * on its own line, one spelling of Telegram's answers, and the service's words for reasons and session states.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

interface Json {
  results: {
    cycle: number;
    session: number;
    group: string;
    status: string;
    outcome: string | null;
    reason: string | null;
    atSeconds: number;
    plannedAtSeconds: number;
  }[];
  events: {
    type: string;
    cycle: number;
    atSeconds: number;
    session: number;
    group: string | null;
    toSession: number | null;
    untilSeconds: number | null;
    reason: string | null;
    error: string | null;
  }[];
  sessions: { index: number; state: string; reason: string | null }[];
  deliveries: { group: string }[];
}

async function simulate(...argv: string[]): Promise<{ table: string; json: Json }> {
  const table = await runCli('simulate', ...argv);
  const json = await runCli('simulate', ...argv, '--format', 'json');
  expect(table).toMatchObject({ code: 0, stderr: '' });
  expect(json).toMatchObject({ code: 0, stderr: '' });
  return { table: table.stdout, json: JSON.parse(json.stdout) as Json };
}

/** The table's line for `text` (after its time column). */
function lineWith(table: string, text: string): string | undefined {
  return table.split('\n').find((line) => line.includes(text));
}

describe('stagger plan and simulate --help', () => {
  it('list --min-group-gap once, with one meaning and the bot’s default, in both commands', async () => {
    for (const command of ['plan', 'simulate']) {
      const { code, stdout } = await runCli(command, '--help');
      expect(code).toBe(0);
      expect(stdout.match(/--min-group-gap/g)).toHaveLength(1);
      expect(stdout).toMatch(
        /--min-group-gap S\s+minimum seconds between two posts to one group, .*\(default 60\)/,
      );
    }
  });

  it('plan checks the rhythm against that default, as simulate and the service hold to it', async () => {
    // Two sessions in a one-minute starter cycle: each group gets a post every 30 s, closer than 60 s.
    const { stdout } = await runCli(
      'plan',
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '1',
      '--cycle-minutes',
      '1',
      '--format',
      'json',
    );
    const codes = (JSON.parse(stdout) as { warnings: { code: string }[] }).warnings.map((w) => w.code);
    expect(codes).toContain('RHYTHM_BELOW_GROUP_GAP');
    const { json } = await simulate(
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '1',
      '--cycle-minutes',
      '1',
    );
    // The runtime holds session 1's post until the group's 60 s have passed.
    expect(json.results.map((r) => [r.status, r.plannedAtSeconds, r.atSeconds])).toEqual([
      ['sent', 0, 0],
      ['sent', 30, 60],
    ]);
  });
});

describe('stagger plan', () => {
  it('gives a session’s duration from its first post to its last: posts at 0, 5 and 10 s take 10 s', async () => {
    const { stdout } = await runCli(
      'plan',
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '3',
      '--cycle-minutes',
      '60',
    );
    expect(stdout).toContain(
      'Session 0: starts at 0s\n  - g0: 0s\n  - g1: 5s\n  - g2: 10s\n  Duration: 10s, first post to last (3 posts)\n',
    );
    expect(stdout).not.toContain('~15s');
  });
});

describe('stagger simulate', () => {
  it('with --min-group-gap 0 never skips for the gap; a post held by the group’s slow mode says slow mode', async () => {
    const plain = await simulate(
      '--mode',
      'starter',
      '--sessions',
      '3',
      '--groups',
      '1',
      '--cycle-minutes',
      '1',
      '--cycles',
      '2',
      '--delay',
      '1',
      '--min-group-gap',
      '0',
    );
    expect(plain.json.results.map((r) => r.status)).toEqual(Array(6).fill('sent'));

    // The group turns out to have a 30 s slow mode: posts 20 s apart cannot all go.
    const slow = await simulate(
      '--mode',
      'starter',
      '--sessions',
      '3',
      '--groups',
      '1',
      '--cycle-minutes',
      '1',
      '--cycles',
      '2',
      '--delay',
      '1',
      '--min-group-gap',
      '0',
      '--fault',
      '0:SLOWMODE_WAIT_30@0',
    );
    const reasons = slow.json.results.map((r) => r.reason);
    expect(reasons).not.toContain('group_gap');
    expect(reasons).toContain('group_slowmode');
    expect(slow.json.results.filter((r) => r.cycle === 2 && r.status === 'skipped')).not.toEqual([]);
    expect(slow.table).not.toContain('group_gap');
    expect(slow.table).not.toContain('minimum group gap)');
    expect(slow.table).toContain(
      'Skipped: the group is in slow mode and one of your accounts posted there too recently',
    );
  });

  it('shows the attempt that killed a session, the session’s end and every hand-off', async () => {
    const { table, json } = await simulate(
      '--mode',
      'enterprise',
      '--sessions',
      '3',
      '--groups',
      '9',
      '--fault',
      '2:AUTH_KEY_UNREGISTERED@0',
    );
    expect(lineWith(table, 'session 2 → g6:')).toMatch(
      /^ {2}0s +session 2 → g6: not sent, Telegram answered AUTH_KEY_UNREGISTERED$/,
    );
    expect(lineWith(table, 'session 2: dead')).toMatch(
      /^ {2}0s +session 2: dead — The session was logged out or revoked; log in again\. \[AUTH_KEY_UNREGISTERED\]$/,
    );
    const handOffs = json.events.filter((e) => e.type === 'handed_off');
    expect(handOffs.map((e) => [e.group, e.session])).toEqual([
      ['g6', 2],
      ['g7', 2],
      ['g8', 2],
    ]);
    for (const e of handOffs) {
      expect(lineWith(table, `${e.group}: handed from session 2 to session ${e.toSession}`)).toBeDefined();
      // ...and the group went out from the session it was handed to.
      const result = json.results.find((r) => r.group === e.group)!;
      expect(result).toMatchObject({ status: 'sent', session: e.toSession });
      expect(lineWith(table, `session ${e.toSession} → ${e.group}: sent`)).toBeDefined();
    }
    expect(json.events.find((e) => e.type === 'attempt_failed')).toMatchObject({
      cycle: 1,
      atSeconds: 0,
      session: 2,
      group: 'g6',
      error: 'AUTH_KEY_UNREGISTERED',
    });
    // In that order: the refused attempt, the session's end, the hand-offs.
    const order = ['session 2 → g6: not sent', 'session 2: dead', 'g6: handed', 'g8: handed'].map((t) =>
      table.indexOf(t),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('says when a FLOOD_WAIT pauses a session, until when, and which posts went out late', async () => {
    const { table, json } = await simulate(
      '--mode',
      'starter',
      '--sessions',
      '2',
      '--groups',
      '4',
      '--cycle-minutes',
      '2',
      '--fault',
      '0:FLOOD_WAIT_30@5',
    );
    expect(lineWith(table, 'session 0 → g1: not sent')).toMatch(
      /^ {2}5s +.*Telegram answered FLOOD_WAIT_30$/,
    );
    expect(lineWith(table, 'session 0: paused')).toMatch(
      /^ {2}5s +session 0: paused until 35s — Telegram asked this account to slow down; it pauses, the others go on\. \[FLOOD_WAIT_30\]$/,
    );
    expect(lineWith(table, 'session 0: active again')).toMatch(/^ {2}35s /);
    expect(lineWith(table, 'session 0 → g1: sent')).toMatch(/^ {2}35s +session 0 → g1: sent, 30s late$/);
    expect(json.events.find((e) => e.type === 'session_paused')).toMatchObject({
      session: 0,
      atSeconds: 5,
      untilSeconds: 35,
      reason: 'flood_wait',
      error: 'FLOOD_WAIT_30',
    });
    expect(json.results.find((r) => r.session === 0 && r.group === 'g1')).toMatchObject({
      atSeconds: 35,
      plannedAtSeconds: 5,
    });
    // On time, nothing is said.
    expect(lineWith(table, 'session 0 → g0: sent')).toMatch(/session 0 → g0: sent$/);
  });

  it('spells Telegram’s answer one way: PEER_FLOOD, in the service’s words', async () => {
    const { table } = await simulate(
      '--mode',
      'enterprise',
      '--sessions',
      '3',
      '--groups',
      '9',
      '--fault',
      '1:PEER_FLOOD@5',
    );
    expect(table).not.toContain('peer_flood');
    const limited = 'Skipped: the account is limited by Telegram (spam); not handed to other accounts.';
    expect(lineWith(table, 'session 1 → g4:')).toContain(`${limited} [PEER_FLOOD]`);
    expect(lineWith(table, 'session 1 → g5:')).toMatch(new RegExp(`${limited.replace(/[().]/g, '\\$&')}$`));
    expect(lineWith(table, 'session 1: paused')).toContain(
      'Telegram limited this account for spam; it is paused for hours. Check it with @SpamBot. [PEER_FLOOD]',
    );
  });

  it('lists each session at the end with its state in words, not as a row of numbers', async () => {
    const { table, json } = await simulate(
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
    );
    expect(table).not.toMatch(/Sessions: 0 /);
    expect(table).toContain(
      'Sessions at the end:\n  session 0: active\n  session 1: active\n  session 2: dead — The session was logged out or revoked; log in again.\n',
    );
    // A pause that is over by the end is over (the effective state the API shows too).
    expect(json.sessions[1]).toEqual({ index: 1, state: 'active', reason: null });
    expect(json.events.filter((e) => e.type === 'session_paused').map((e) => e.session)).toEqual([1]);
  });
});
