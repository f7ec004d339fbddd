import { describe, expect, it } from 'vitest';
import { botConditions, worstCondition, type ConditionInput, type CycleOutcomes } from './condition.js';
import type { SessionStatus } from './model.js';

interface S {
  id: string;
  label: string;
  status: SessionStatus;
  statusReason: string | null;
  cooldownUntil: number | null;
  frozen?: { since: number; until: number | null; appealUrl: string | null } | null;
}
const POLICY = { unknownFailuresBeforeSkip: 2, unknownSkipCycles: 3 };
const NOW = 1_000_000;
const active = (id: string): S => ({
  id,
  label: `sandbox ${id}`,
  status: 'active',
  statusReason: null,
  cooldownUntil: null,
});
const paused = (id: string, until: number | null, reason = 'flood_wait'): S => ({
  ...active(id),
  status: 'paused',
  statusReason: reason,
  cooldownUntil: until,
});
const dead = (id: string, reason = 'revoked'): S => ({ ...active(id), status: 'dead', statusReason: reason });

const bot = {
  postLink: 'https://t.me/stagger_demo/1',
  groupCount: 22,
  mode: 'enterprise' as const,
  totalCycleMinutes: null,
};
const input = (over: Partial<ConditionInput<S>> = {}): ConditionInput<S> => ({
  running: true,
  bot,
  sessions: [active('1'), active('2'), active('3')],
  cycle: null,
  ...over,
});
const cycle = (posts: CycleOutcomes['posts'], over: Partial<CycleOutcomes> = {}): CycleOutcomes => ({
  number: 3,
  status: 'finished',
  reason: null,
  posts,
  ...over,
});

describe('the bot’s conditions, worst first', () => {
  it('a running bot with nothing wrong goes out on schedule; a stopped one says it is stopped', () => {
    const running = botConditions(
      input({ cycle: cycle([{ status: 'sent', reason: null, count: 22 }]) }),
      NOW,
      POLICY,
    );
    expect(running).toEqual([
      {
        level: 'ok',
        code: 'running',
        message: 'The bot is running: posts go out on schedule.',
        action: null,
        until: null,
        sessionIds: [],
      },
    ]);
    const stopped = botConditions(input({ running: false }), NOW, POLICY);
    expect(stopped.map((c) => c.code)).toEqual(['stopped']);
    expect(stopped[0]!.message).toBe('The bot is stopped: nothing is posted.');
  });

  it('all sessions paused by FLOOD_WAIT and 14 of 22 posts skipped: nothing goes out, said first, never "on schedule"', () => {
    const sessions = [paused('1', NOW + 60_000), paused('2', NOW + 30_000), paused('3', NOW + 90_000)];
    const list = botConditions(
      input({
        sessions,
        cycle: cycle([
          { status: 'sent', reason: null, count: 8 },
          { status: 'skipped', reason: 'session_paused', count: 12 },
          { status: 'skipped', reason: 'group_gap', count: 2 },
        ]),
      }),
      NOW,
      POLICY,
    );
    expect(list.map((c) => [c.level, c.code])).toEqual([
      ['critical', 'sessions_all_paused'],
      ['warning', 'sessions_paused'],
      ['warning', 'posts_skipped'],
    ]);
    const worst = worstCondition(list);
    expect(worst.message).toBe(
      'Nothing is posted now: every session is paused by Telegram. The bot goes on by itself when the first pause ends.',
    );
    // The first pause's end, by the session rule: the earliest of the three.
    expect(worst.until).toBe(NOW + 30_000);
    expect(worst.action).toEqual({ where: 'sessions', label: 'Open Sessions' });
    expect(list[1]!.message).toBe(
      '3 of 3 sessions (sandbox 1, sandbox 2 and sandbox 3) are paused: Telegram asked them to slow down (FLOOD_WAIT), and Stagger waits as asked.',
    );
    expect(list[2]!.message).toBe(
      '14 of 22 posts of cycle #3 were skipped. Why, for 12 of them: the account was paused (Telegram asked it to wait) past its time in this cycle.',
    );
    expect(list[2]!.action).toEqual({ where: 'activity', label: 'See the posts in Activity' });
    expect(list.some((c) => c.message.includes('on schedule'))).toBe(false);
  });

  it('a pause whose end has passed is over: the bot is on schedule again, before anything writes it down', () => {
    const sessions = [paused('1', NOW - 1), active('2')];
    expect(botConditions(input({ sessions }), NOW, POLICY).map((c) => c.code)).toEqual(['running']);
    expect(botConditions(input({ sessions }), NOW - 2, POLICY).map((c) => c.code)).toEqual([
      'sessions_paused',
    ]);
    expect(botConditions(input({ sessions }), NOW - 2, POLICY)[0]!.message).toMatch(
      /^1 of 2 sessions \(sandbox 1\) is paused: Telegram asked it to slow down .* The other sessions go on\.$/,
    );
  });

  it('limited, frozen, dead and unreachable accounts each say what they are and where to act', () => {
    const sessions = [
      paused('1', NOW + 6 * 3_600_000, 'peer_flood'),
      { ...active('2'), frozen: { since: NOW - 5, until: null, appealUrl: 'https://t.me/spambot' } },
      dead('3', 'banned'),
      paused('4', NOW + 120_000, 'unreachable'),
      active('5'),
    ];
    const list = botConditions(input({ sessions }), NOW, POLICY);
    expect(list.map((c) => [c.level, c.code, c.sessionIds])).toEqual([
      ['warning', 'sessions_frozen', ['2']],
      ['warning', 'sessions_dead', ['3']],
      ['warning', 'sessions_limited', ['1']],
      ['warning', 'sessions_unreachable', ['4']],
    ]);
    const by = (code: string) => list.find((c) => c.code === code)!;
    expect(by('sessions_frozen').message).toContain('1 of 5 sessions (sandbox 2) is frozen by Telegram');
    expect(by('sessions_dead').message).toContain('(banned by Telegram): log in again or add a session');
    expect(by('sessions_limited').message).toContain('Check with @SpamBot');
    expect(by('sessions_limited').until).toBe(NOW + 6 * 3_600_000);
    expect(by('sessions_unreachable').until).toBe(NOW + 120_000);
    for (const c of list) expect(c.action?.where).toBe('sessions');
    // One healthy session goes on: nothing is critical.
    expect(list.every((c) => c.message.endsWith('The other sessions go on.'))).toBe(true);
  });

  it('every session dead, or none at all: nothing is posted', () => {
    const allDead = botConditions(input({ sessions: [dead('1'), dead('2', 'frozen')] }), NOW, POLICY);
    expect(allDead[0]!.code).toBe('no_usable_session');
    expect(allDead[0]!.level).toBe('critical');
    const none = botConditions(input({ sessions: [] }), NOW, POLICY);
    expect(none.map((c) => c.code)).toEqual(['no_sessions']);
    expect(none[0]!.message).toBe(
      'Nothing is posted: the bot has no session. Add one or log a Telegram account in.',
    );
    // Paused and dead together: not "every session is paused".
    const mixed = botConditions(input({ sessions: [dead('1'), paused('2', NOW + 5)] }), NOW, POLICY);
    expect(mixed[0]!.message).toContain('every session is paused by Telegram or out of use');
  });

  it('a running bot without a post or groups, and a cycle stopped by its source, point at Post and groups', () => {
    const noGroups = botConditions(input({ bot: { ...bot, groupCount: 0 } }), NOW, POLICY);
    expect(noGroups[0]).toMatchObject({
      level: 'critical',
      code: 'not_ready',
      message: 'Nothing is posted: the group list is empty.',
      action: { where: 'post_and_groups' },
    });
    const aborted = botConditions(
      input({
        cycle: cycle([{ status: 'cancelled', reason: 'source_invalid', count: 22 }], {
          status: 'aborted',
          reason: 'source_invalid:forwards_restricted',
        }),
      }),
      NOW,
      POLICY,
    );
    expect(aborted.map((c) => c.code)).toEqual(['source_invalid']);
    expect(aborted[0]!.action?.where).toBe('post_and_groups');
  });

  it('failed posts come before skipped ones; missed and not attempted count as skipped; counts are singular for one', () => {
    const list = botConditions(
      input({
        cycle: cycle([
          { status: 'failed', reason: 'transient', count: 1 },
          { status: 'missed', reason: 'missed', count: 1 },
          { status: 'sent', reason: null, count: 20 },
        ]),
      }),
      NOW,
      POLICY,
    );
    expect(list.map((c) => c.code)).toEqual(['posts_failed', 'posts_skipped']);
    expect(list[0]!.message).toBe(
      '1 of 22 posts of cycle #3 failed. Why: Failed after retries: Telegram or the network kept failing (retried with the same message id).',
    );
    expect(list[1]!.message).toBe(
      '1 of 22 posts of cycle #3 was skipped. Why: Stagger was not running when this post was due, and it was too late to post it.',
    );
  });

  it('a stopped bot leads with "stopped", then what is wrong with its sessions; no cycle trouble', () => {
    const list = botConditions(
      input({
        running: false,
        sessions: [dead('1'), active('2')],
        cycle: cycle([{ status: 'skipped', reason: 'group_gap', count: 5 }]),
      }),
      NOW,
      POLICY,
    );
    expect(list.map((c) => c.code)).toEqual(['stopped', 'sessions_dead']);
    // Nothing goes on while it is stopped: the words do not say the others do.
    expect(list[1]!.message).not.toContain('go on');
  });
});
