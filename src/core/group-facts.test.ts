import { describe, expect, it } from 'vitest';
import {
  anyFactsDue,
  decideByFacts,
  describeGroupFacts,
  dueFactPairs,
  endsFactReads,
  factsDue,
  factsIndex,
  factsWarnings,
  FactsWarningCode,
  groupRhythmSeconds,
  groupUsernames,
  handOverFactPairs,
  judgeGroupFacts,
  type GroupFacts,
} from './group-facts.js';
import { classifyError, paidStarsIn } from './outcome.js';
import { planCycle } from './plan.js';

const HOUR = 3_600_000;

function facts(sessionId: string, groupKey: string, o: Partial<GroupFacts> = {}): GroupFacts {
  return {
    sessionId,
    groupKey,
    checkedAt: 0,
    member: true,
    canWrite: true,
    slowmodeSeconds: 0,
    paidStars: 0,
    topicClosed: null,
    username: null,
    error: null,
    ...o,
  };
}

describe('judgeGroupFacts: may this post go?', () => {
  it('unknown facts never stop a post (the forward will tell)', () => {
    expect(judgeGroupFacts(null)).toEqual({ kind: 'go' });
    expect(judgeGroupFacts(undefined)).toEqual({ kind: 'go' });
    expect(
      judgeGroupFacts(
        facts('s', 'g', {
          member: null,
          canWrite: null,
          paidStars: null,
          slowmodeSeconds: null,
          error: 'FLOOD_WAIT_30',
        }),
      ),
    ).toEqual({ kind: 'go' });
    expect(judgeGroupFacts(facts('s', 'g', { slowmodeSeconds: 300 }))).toEqual({ kind: 'go' });
  });

  it('skips with the reason a forward would get, and Telegram’s own answer as the error (the price included)', () => {
    expect(judgeGroupFacts(facts('s', 'g', { paidStars: 25 }))).toEqual({
      kind: 'skip',
      reason: 'paid_messages',
      error: 'ALLOW_PAYMENT_REQUIRED_25',
    });
    expect(judgeGroupFacts(facts('s', 'g/7', { topicClosed: true }))).toMatchObject({
      reason: 'topic_closed',
      error: 'TOPIC_CLOSED',
    });
    expect(judgeGroupFacts(facts('s', 'g', { canWrite: false }))).toMatchObject({
      reason: 'write_forbidden',
      error: 'CHAT_WRITE_FORBIDDEN',
    });
    expect(judgeGroupFacts(facts('s', 'g', { member: false, canWrite: false }))).toMatchObject({
      reason: 'not_member',
      error: 'USER_NOT_PARTICIPANT',
    });
    // An exempt account (0 stars) posts for free.
    expect(judgeGroupFacts(facts('s', 'g', { paidStars: 0 }))).toEqual({ kind: 'go' });
  });

  it('each skip’s error is classified by the outcome table as the same reason, with the price readable', () => {
    for (const f of [
      facts('s', 'g', { paidStars: 7 }),
      facts('s', 'g/2', { topicClosed: true }),
      facts('s', 'g', { canWrite: false }),
      facts('s', 'g', { member: false }),
    ]) {
      const verdict = judgeGroupFacts(f);
      if (verdict.kind !== 'skip') throw new Error('expected a skip');
      expect(classifyError(verdict.error)).toMatchObject({ kind: 'group_skip', reason: verdict.reason });
    }
    expect(paidStarsIn('ALLOW_PAYMENT_REQUIRED_7')).toBe(7);
    expect(paidStarsIn('ALLOW_PAYMENT_REQUIRED')).toBeNull();
  });
});

describe('decideByFacts: skip, or hand over in enterprise mode', () => {
  const known = factsIndex([
    facts('a', 'g1', { canWrite: false }),
    facts('b', 'g1'),
    facts('c', 'g1', { error: 'FLOOD_WAIT_9', member: null, canWrite: null, paidStars: null }),
    facts('a', 'g2', { paidStars: 10 }),
    facts('b', 'g2', { paidStars: 10 }),
  ]);

  it('enterprise: a group one session cannot post to goes to a session known to be allowed', () => {
    expect(
      decideByFacts({
        mode: 'enterprise',
        sessionId: 'a',
        groupKey: 'g1',
        candidates: ['b', 'c'],
        facts: known,
      }),
    ).toEqual({ kind: 'hand_over', reason: 'write_forbidden', error: 'CHAT_WRITE_FORBIDDEN', to: ['b'] });
  });

  it('never to a session whose facts are unknown or failed to read (it might meet the same paid group)', () => {
    expect(
      decideByFacts({
        mode: 'enterprise',
        sessionId: 'a',
        groupKey: 'g1',
        candidates: ['c', 'd'],
        facts: known,
      }),
    ).toMatchObject({ kind: 'skip', reason: 'write_forbidden' });
    expect(
      decideByFacts({ mode: 'enterprise', sessionId: 'a', groupKey: 'g2', candidates: ['b'], facts: known }),
    ).toEqual({ kind: 'skip', reason: 'paid_messages', error: 'ALLOW_PAYMENT_REQUIRED_10' });
  });

  it('starter never hands over (every session posts every group anyway); a post the facts allow goes', () => {
    expect(
      decideByFacts({ mode: 'starter', sessionId: 'a', groupKey: 'g1', candidates: ['b'], facts: known }),
    ).toMatchObject({ kind: 'skip' });
    expect(
      decideByFacts({ mode: 'enterprise', sessionId: 'b', groupKey: 'g1', candidates: ['a'], facts: known }),
    ).toEqual({ kind: 'go' });
  });

  it('candidates given as a function are asked for the post’s session, only when the facts forbid the post', () => {
    const asked: string[] = [];
    const candidates = (sessionId: string) => {
      asked.push(sessionId);
      return ['a', 'b', 'c'].filter((s) => s !== sessionId);
    };
    expect(
      decideByFacts({ mode: 'enterprise', sessionId: 'b', groupKey: 'g1', candidates, facts: known }),
    ).toEqual({ kind: 'go' });
    expect(asked).toEqual([]);
    expect(
      decideByFacts({ mode: 'enterprise', sessionId: 'a', groupKey: 'g1', candidates, facts: known }),
    ).toMatchObject({ kind: 'hand_over', to: ['b'] });
    expect(asked).toEqual(['a']);
  });
});

describe('freshness: at most once per (session, group) per interval', () => {
  it('due when never read, once the interval has passed, and when the clock went back', () => {
    expect(factsDue(null, 0, HOUR)).toBe(true);
    expect(factsDue({ checkedAt: 1_000 }, 1_000 + HOUR - 1, HOUR)).toBe(false);
    expect(factsDue({ checkedAt: 1_000 }, 1_000 + HOUR, HOUR)).toBe(true);
    expect(factsDue({ checkedAt: 10 * HOUR }, 2 * HOUR, HOUR)).toBe(true);
  });

  it('lists each due pair once, in the plan’s order', () => {
    const known = factsIndex([facts('a', 'g1', { checkedAt: 100 }), facts('a', 'g2', { checkedAt: -HOUR })]);
    const pairs = [
      { sessionId: 'a', groupKey: 'g1' },
      { sessionId: 'a', groupKey: 'g2' },
      { sessionId: 'b', groupKey: 'g1' },
      { sessionId: 'a', groupKey: 'g2' },
    ];
    expect(dueFactPairs(pairs, known, 200, HOUR)).toEqual([
      { sessionId: 'a', groupKey: 'g2' },
      { sessionId: 'b', groupKey: 'g1' },
    ]);
  });

  it('enterprise asks the other sessions only about the groups their planned session may not post to', () => {
    const known = factsIndex([facts('a', 'g1', { paidStars: 3 }), facts('b', 'g2')]);
    const planned = [
      { sessionId: 'a', groupKey: 'g1' },
      { sessionId: 'b', groupKey: 'g2' },
    ];
    expect(handOverFactPairs('enterprise', planned, ['a', 'b', 'c'], known)).toEqual([
      { sessionId: 'b', groupKey: 'g1' },
      { sessionId: 'c', groupKey: 'g1' },
    ]);
    expect(handOverFactPairs('starter', planned, ['a', 'b', 'c'], known)).toEqual([]);
  });

  it('a dead key or a limit ends a session’s reads; a group’s own refusal does not', () => {
    expect(endsFactReads('FLOOD_WAIT_30', 420)).toBe(true);
    expect(endsFactReads('AUTH_KEY_UNREGISTERED', 401)).toBe(true);
    expect(endsFactReads('PEER_FLOOD', 400)).toBe(true);
    expect(endsFactReads('CHANNEL_PRIVATE', 400)).toBe(false);
    expect(endsFactReads('TIMEOUT')).toBe(false);
  });
});

describe('what a person reads', () => {
  it('the facts in short words', () => {
    expect(describeGroupFacts(facts('s', 'g', { paidStars: 25, slowmodeSeconds: 300 }))).toEqual([
      'paid: 25 stars — skipped',
      'slow mode 5 min',
    ]);
    expect(describeGroupFacts(facts('s', 'g/3', { topicClosed: true, slowmodeSeconds: 45 }))).toEqual([
      'topic closed — skipped',
      'slow mode 45 s',
    ]);
    expect(describeGroupFacts(facts('s', 'g', { member: false, canWrite: false }))).toEqual([
      'not a member — skipped',
    ]);
    expect(describeGroupFacts(facts('s', 'g', { canWrite: false }))).toEqual(['cannot write — skipped']);
    expect(describeGroupFacts(facts('s', 'g'))).toEqual([]);
  });

  it('the preview warns once per problem and group, with the price, the hand-off and a slow mode the rhythm breaks', () => {
    const plan = planCycle({ mode: 'enterprise', sessions: ['a', 'b'], groups: ['g1', 'g2', 'g3', 'g4/9'] });
    const known = factsIndex([
      facts('a', 'g1', { paidStars: 25 }),
      facts('b', 'g1', { paidStars: 25 }),
      facts('a', 'g2', { canWrite: false }),
      facts('b', 'g2'),
      facts('b', 'g3', { slowmodeSeconds: 3600 }),
      facts('b', 'g4/9', { topicClosed: true }),
    ]);
    const warnings = factsWarnings({
      mode: 'enterprise',
      posts: plan.posts.map((p) => ({ sessionId: p.session, groupKey: p.group })),
      sessionIds: ['a', 'b'],
      facts: known,
      rhythmSeconds: groupRhythmSeconds(plan, 300),
      label: (s) => `account ${s}`,
    });
    expect(warnings.map((w) => [w.code, w.group, w.sessions, w.stars, w.handedTo, w.seconds])).toEqual([
      [FactsWarningCode.PaidMessages, 'g1', ['a'], 25, undefined, undefined],
      [FactsWarningCode.CannotWrite, 'g2', ['a'], undefined, ['b'], undefined],
      [FactsWarningCode.TopicClosed, 'g4/9', ['b'], undefined, undefined, undefined],
      [FactsWarningCode.SlowMode, 'g3', [], undefined, undefined, 3600],
    ]);
    expect(warnings[0]!.message).toBe(
      'g1 charges 25 stars a message (paid messages), and Stagger never pays: its posts are skipped',
    );
    expect(warnings[1]!.message).toContain('account a may not write in g2');
    expect(warnings[1]!.message).toContain('its post goes to account b instead');
    expect(warnings[2]!.message).toBe('the forum topic g4/9 is closed: its posts are skipped');
    expect(warnings[3]!.message).toContain('slow mode (1 h)');
  });

  it('a slow mode shorter than the group’s rhythm is no warning; starter’s rhythm is T/n', () => {
    const plan = planCycle({ mode: 'starter', sessions: ['a', 'b'], groups: ['g'], totalCycleMinutes: 10 });
    expect(groupRhythmSeconds(plan, 300)).toBe(300);
    const warn = (slowmodeSeconds: number) =>
      factsWarnings({
        mode: 'starter',
        posts: plan.posts.map((p) => ({ sessionId: p.session, groupKey: p.group })),
        sessionIds: ['a', 'b'],
        facts: factsIndex([facts('a', 'g', { slowmodeSeconds })]),
        rhythmSeconds: groupRhythmSeconds(plan, 300),
      }).map((w) => w.code);
    expect(warn(300)).toEqual([]);
    expect(warn(900)).toEqual([FactsWarningCode.SlowMode]);
  });
});

describe('groupUsernames', () => {
  it('gives each group the public name of its latest read that knows one', () => {
    const names = groupUsernames([
      facts('s0', '-1001', { checkedAt: 1, username: 'Old_Name' }),
      facts('s1', '-1001', { checkedAt: 3, username: 'New_Name' }),
      facts('s2', '-1001', { checkedAt: 5, username: null }),
      facts('s0', '-1002', { checkedAt: 9, username: null }),
    ]);
    expect([...names]).toEqual([['-1001', 'New_Name']]);
  });
});

describe('anyFactsDue', () => {
  it('is true as soon as one pair of the sessions and groups is unknown or older than the interval', () => {
    const known = new Map([
      ['s0 -1001', facts('s0', '-1001', { checkedAt: 0 })],
      ['s0 -1002', facts('s0', '-1002', { checkedAt: HOUR / 2 })],
    ]);
    const factsOf = (s: string, g: string) => known.get(`${s} ${g}`);
    expect(anyFactsDue(['s0'], ['-1001', '-1002'], factsOf, HOUR - 1, HOUR)).toBe(false);
    // the first read is an hour old
    expect(anyFactsDue(['s0'], ['-1001', '-1002'], factsOf, HOUR, HOUR)).toBe(true);
    // a pair never read
    expect(anyFactsDue(['s0', 's1'], ['-1001'], factsOf, 1, HOUR)).toBe(true);
    expect(anyFactsDue([], ['-1001'], factsOf, 1, HOUR)).toBe(false);
  });
});
