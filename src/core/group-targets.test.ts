import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoreErrorCode, StaggerError } from './errors.js';
import {
  assertGroupTargets,
  MAX_GROUP_TARGETS,
  parseGroupTarget,
  parseGroupTargets,
  publicMessageLink,
  type GroupTarget,
} from './group-targets.js';

function caught(run: () => unknown): StaggerError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StaggerError);
  return error as StaggerError;
}

describe('parseGroupTarget: accepted forms', () => {
  const cases: [string, GroupTarget][] = [
    ['-1001234567890', { chat: { kind: 'id', chatId: '-1001234567890' }, key: '-1001234567890' }],
    ['  -1001234567890  ', { chat: { kind: 'id', chatId: '-1001234567890' }, key: '-1001234567890' }],
    ['-123456789', { chat: { kind: 'id', chatId: '-123456789' }, key: '-123456789' }],
    ['-1', { chat: { kind: 'id', chatId: '-1' }, key: '-1' }],
    [
      '-1009223372036854775',
      { chat: { kind: 'id', chatId: '-1009223372036854775' }, key: '-1009223372036854775' },
    ],
    [
      '-9223372036854775808',
      { chat: { kind: 'id', chatId: '-9223372036854775808' }, key: '-9223372036854775808' },
    ],
    [
      '-1001234567890/42',
      { chat: { kind: 'id', chatId: '-1001234567890' }, topicId: 42, key: '-1001234567890/42' },
    ],
    [
      '-1001234567890/2147483647',
      {
        chat: { kind: 'id', chatId: '-1001234567890' },
        topicId: 2147483647,
        key: '-1001234567890/2147483647',
      },
    ],
    ['@durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['@Durov_Chat', { chat: { kind: 'username', username: 'Durov_Chat' }, key: '@durov_chat' }],
    [
      '@ForumChat/42',
      { chat: { kind: 'username', username: 'ForumChat' }, topicId: 42, key: '@forumchat/42' },
    ],
    ['t.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['T.ME/Durov/', { chat: { kind: 'username', username: 'Durov' }, key: '@durov' }],
    ['https://t.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['http://t.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['HTTPS://www.t.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['telegram.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['https://telegram.me/durov', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    [
      't.me/forumchat/42',
      { chat: { kind: 'username', username: 'forumchat' }, topicId: 42, key: '@forumchat/42' },
    ],
    [
      'https://t.me/forumchat/42/',
      { chat: { kind: 'username', username: 'forumchat' }, topicId: 42, key: '@forumchat/42' },
    ],
    ['@durov # our main group', { chat: { kind: 'username', username: 'durov' }, key: '@durov' }],
    ['-1001234567890\t# comment', { chat: { kind: 'id', chatId: '-1001234567890' }, key: '-1001234567890' }],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(parseGroupTarget(input)).toEqual(expected);
  });

  it('omits topicId when there is no topic', () => {
    expect('topicId' in parseGroupTarget('@durov')).toBe(false);
  });
});

describe('parseGroupTarget: rejections', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['# just a comment', /empty/],
    ['123456789', /"123456789" is a positive id: positive ids are users or bots.*only to groups/],
    ['+123456789', /positive id/],
    ['1001234567890', /positive id/],
    ['123456789/4', /positive id/],
    ['0', /never 0/],
    ['-0', /never 0/],
    ['-000', /never 0/],
    ['-0123', /leading zeros/],
    ['-9223372036854775809', /out of range.*signed 64-bit/],
    ['-10092233720368547750', /out of range/],
    ['-99999999999999999999999999999', /out of range/],
    ['-1001234567890/0', /topic id "0" is not a positive integer/],
    ['-1001234567890/abc', /topic id "abc" is not a positive integer/],
    ['-1001234567890/-5', /topic id "-5" is not a positive integer/],
    ['-1001234567890/2147483648', /topic id "2147483648" is too large.*2147483647/],
    ['-1001234567890/042', /leading zeros/],
    ['-1001234567890/42/7', /too many/],
    ['-1001234567890/', /topic id "" is not a positive integer/],
    ['@durov/0', /topic id "0"/],
    ['@durov/x', /topic id "x"/],
    ['@durov/42/7', /too many/],
    ['@dur', /"dur" is not a valid username/],
    ['@', /"" is not a valid username/],
    ['@1durov', /not a valid username/],
    ['@durov_', /must not end with _/],
    ['@dur__ov', /must not contain __/],
    ['@dur-ov', /not a valid username/],
    ['durov', /bare word "durov": use @durov/],
    ['ForumChat/42', /bare word.*use @ForumChat/],
    [
      't.me/+AbCdEf123',
      /invite links.*never joins groups; give the id or @username of a group the account is already in/,
    ],
    ['https://t.me/+AbCdEf123', /invite links.*never joins groups/],
    ['https://t.me/joinchat/AbCdEf123', /invite links.*never joins groups/],
    ['t.me/JoinChat/AbCdEf123', /invite links/],
    ['+AbCdEf123', /invite links/],
    ['t.me/+79991234567', /phone number link.*only to groups/],
    ['t.me/durov/42/7', /is a post link \(message 7 in topic 42\), not a group/],
    ['https://t.me/durov/42/7/', /post link/],
    ['t.me/durov/42/7/8', /too many path segments/],
    ['t.me/c/1234567890/5', /t\.me\/c\/… links point to messages.*group's id/],
    ['t.me/s/durov', /feature link, not a group/],
    ['t.me/addstickers/Animals', /feature link, not a group/],
    ['t.me/share', /feature link/],
    ['t.me/$abc', /feature link/],
    ['t.me/dur', /"dur" is not a valid username/],
    ['t.me/durov/0', /topic id "0"/],
    ['t.me/durov/abc', /topic id "abc"/],
    ['t.me', /no group username/],
    ['https://t.me/', /no group username/],
    ['https://t.me//durov', /empty path segment/],
    ['https://t.me/durov?start=1', /query string/],
    ['https://t.me/durov#x', /query string or fragment/],
    ['https://example.com/durov', /"example\.com" is not t\.me/],
    ['https://t.me.evil.com/durov', /not t\.me/],
    ['tg://resolve?domain=durov', /not a t\.me link/],
    ['-abc', /not a group target/],
    ['-100 123', /not a group target/],
    ['!!!', /not a group target/],
  ];
  it.each(cases)('%j', (input, reason) => {
    const error = caught(() => parseGroupTarget(input));
    expect(error.code).toBe(CoreErrorCode.InvalidGroupTargets);
    expect(error.message).toMatch(reason);
  });
});

describe('publicMessageLink: where a sent message can be opened', () => {
  it('a group with a public username: t.me/<name>/<id>, topic or not', () => {
    expect(publicMessageLink('@stagger_group', 812)).toBe('https://t.me/stagger_group/812');
    expect(publicMessageLink(parseGroupTarget('t.me/Stagger_Group/42').key, 7)).toBe(
      'https://t.me/stagger_group/7',
    );
  });

  it('an id has no public address, unless a username was resolved for the group', () => {
    expect(publicMessageLink('-1001234567890', 812)).toBeNull();
    expect(publicMessageLink('-1001234567890/5', 812)).toBeNull();
    expect(publicMessageLink('-1001234567890', 812, 'resolved_name')).toBe('https://t.me/resolved_name/812');
  });

  it('nothing for a key or id that is not one', () => {
    expect(publicMessageLink('not a key', 1)).toBeNull();
    expect(publicMessageLink('@stagger_group', 0)).toBeNull();
    expect(publicMessageLink('-1001234567890', 5, 'x')).toBeNull();
  });
});

describe('64-bit ids', () => {
  it.each(['-1009223372036854775', '-9223372036854775808', '-9007199254740993', '-1001234567890123456'])(
    '%s round-trips exactly as a string',
    (text) => {
      const target = parseGroupTarget(text);
      expect(target.chat).toEqual({ kind: 'id', chatId: text });
      expect(target.key).toBe(text);
      expect(parseGroupTarget(target.key)).toEqual(target);
    },
  );

  it('does not collapse ids that are equal as JS numbers', () => {
    // 2^53 + 1 and 2^53 are the same double but different chats.
    const result = parseGroupTargets(['-9007199254740993', '-9007199254740992']);
    expect(result.targets.map((t) => t.key)).toEqual(['-9007199254740993', '-9007199254740992']);
    expect(result.warnings).toEqual([]);
  });
});

describe('parseGroupTargets', () => {
  it('skips blank lines and comments, keeps 1-based line numbers', () => {
    const input = [
      '# groups for the launch',
      '',
      '-1001234567890',
      '   ',
      '  # indented comment',
      '@durov # main',
      'bad',
    ].join('\n');
    const result = parseGroupTargets(input);
    expect(result.targets.map((t) => t.key)).toEqual(['-1001234567890', '@durov']);
    expect(result.errors).toEqual([{ line: 7, text: 'bad', message: expect.stringMatching(/use @bad/) }]);
    expect(result.warnings).toEqual([]);
  });

  it('splits CRLF input', () => {
    const result = parseGroupTargets('-1001234567890\r\n@durov\r\n\r\nbad\r\n');
    expect(result.targets.map((t) => t.key)).toEqual(['-1001234567890', '@durov']);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(4);
    expect(result.errors[0]?.text).toBe('bad');
  });

  it('takes an array as one element per line', () => {
    const result = parseGroupTargets(['@durov', '', '  -123456 ', 'nope nope']);
    expect(result.targets.map((t) => t.key)).toEqual(['@durov', '-123456']);
    expect(result.errors.map((e) => e.line)).toEqual([4]);
  });

  it('removes duplicates keeping the first, with a warning naming both lines', () => {
    const input = [
      '@ForumChat',
      '-1001234567890',
      '-1001234567890/42',
      '@durov',
      'https://t.me/forumchat',
      '-1001234567890',
      '@forumchat/1',
    ];
    const result = parseGroupTargets(input);
    expect(result.targets.map((t) => t.key)).toEqual([
      '@forumchat',
      '-1001234567890',
      '-1001234567890/42',
      '@durov',
      '@forumchat/1',
    ]);
    expect(result.targets[0]?.chat).toEqual({ kind: 'username', username: 'ForumChat' });
    expect(result.warnings).toEqual([
      { code: 'DUPLICATE_GROUP', line: 5, message: 'line 5 repeats line 1 (@forumchat); kept once' },
      { code: 'DUPLICATE_GROUP', line: 6, message: 'line 6 repeats line 2 (-1001234567890); kept once' },
    ]);
    expect(result.errors).toEqual([]);
  });

  it('reports every bad line and keeps the good ones', () => {
    const result = parseGroupTargets(['@durov', '123', 't.me/+abc', '-1001234567890', 't.me/durov/1/2']);
    expect(result.targets.map((t) => t.key)).toEqual(['@durov', '-1001234567890']);
    expect(result.errors.map((e) => [e.line, e.text])).toEqual([
      [2, '123'],
      [3, 't.me/+abc'],
      [5, 't.me/durov/1/2'],
    ]);
    expect(result.errors[0]?.message).toMatch(/positive id/);
    expect(result.errors[1]?.message).toMatch(/invite/);
    expect(result.errors[2]?.message).toMatch(/post link/);
  });

  it('returns empty lists for empty input', () => {
    expect(parseGroupTargets('')).toEqual({ targets: [], errors: [], warnings: [] });
    expect(parseGroupTargets([])).toEqual({ targets: [], errors: [], warnings: [] });
  });
});

function ids(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `-100${1_000_000_000 + offset + i}`);
}

describe('the group limit', () => {
  it('is 10,000', () => {
    expect(MAX_GROUP_TARGETS).toBe(10_000);
  });

  it('accepts exactly 10,000 groups', () => {
    const result = assertGroupTargets(ids(10_000).join('\n'));
    expect(result.targets).toHaveLength(10_000);
    expect(result.errors).toEqual([]);
  });

  it('reports 10,001 groups as one error at the first line over', () => {
    const lines = ['# header', ...ids(10_001)];
    const result = parseGroupTargets(lines);
    expect(result.targets).toHaveLength(10_000);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(10_002);
    expect(result.errors[0]?.message).toMatch(/maximum is 10000/);
  });

  it('does not count duplicates, comments or bad lines towards the limit', () => {
    const lines = [...ids(10_000), ...ids(50), '# more', 'oops'];
    const result = parseGroupTargets(lines);
    expect(result.targets).toHaveLength(10_000);
    expect(result.warnings).toHaveLength(50);
    expect(result.errors.map((e) => e.line)).toEqual([10_052]);
  });

  it('reports only one error however far over', () => {
    const result = parseGroupTargets(ids(12_000));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(10_001);
  });

  it('assertGroupTargets throws TOO_MANY_GROUPS over the limit', () => {
    const error = caught(() => assertGroupTargets(ids(10_001)));
    expect(error.code).toBe(CoreErrorCode.TooManyGroups);
    expect(error.message).toMatch(/10001 distinct groups, the maximum is 10000/);
    expect(error.details).toMatchObject({ max: 10_000, count: 10_001, line: 10_001 });
  });

  it('honours maxTargets', () => {
    expect(parseGroupTargets(['@durov', '@abcd'], { maxTargets: 2 }).errors).toEqual([]);
    const result = parseGroupTargets(['@durov', '@abcd', '@durov', '@efgh'], { maxTargets: 2 });
    expect(result.errors).toEqual([
      { line: 4, text: '@efgh', message: expect.stringMatching(/maximum is 2/) },
    ]);
    expect(caught(() => assertGroupTargets(['@durov', '@abcd', '@efgh'], { maxTargets: 2 })).code).toBe(
      CoreErrorCode.TooManyGroups,
    );
  });

  it('rejects a nonsensical maxTargets', () => {
    expect(caught(() => parseGroupTargets('@durov', { maxTargets: -1 })).code).toBe(
      CoreErrorCode.InvalidGroupTargets,
    );
    expect(caught(() => parseGroupTargets('@durov', { maxTargets: 1.5 })).code).toBe(
      CoreErrorCode.InvalidGroupTargets,
    );
  });
});

describe('assertGroupTargets', () => {
  it('returns the parsed targets and warnings when there are no errors', () => {
    const result = assertGroupTargets('@durov\n@Durov\n');
    expect(result.targets).toHaveLength(1);
    expect(result.warnings).toHaveLength(1);
  });

  it('throws INVALID_GROUP_TARGETS listing the bad lines', () => {
    const error = caught(() => assertGroupTargets(['@durov', 'x', 'durov2', '123', '-1001234567890']));
    expect(error.code).toBe(CoreErrorCode.InvalidGroupTargets);
    expect(error.message).toMatch(/^3 bad lines: line 2: .*; line 3: .*use @durov2.*; line 4: .*positive id/);
    const details = error.details as { errors: { line: number }[] };
    expect(details.errors.map((e) => e.line)).toEqual([2, 3, 4]);
  });

  it('says "1 bad line"', () => {
    expect(caught(() => assertGroupTargets('@durov\nt.me/+abc')).message).toMatch(
      /^1 bad line: line 2: invite links/,
    );
  });

  it('keeps the message bounded when many lines are bad', () => {
    const error = caught(() => assertGroupTargets(Array.from({ length: 500 }, () => 'bad')));
    expect(error.message).toMatch(/^500 bad lines: /);
    expect(error.message).toMatch(/and 480 more$/);
    expect((error.details as { errors: unknown[] }).errors).toHaveLength(500);
  });
});

const usernameArb = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'), {
      minLength: 3,
      maxLength: 31,
    }),
  )
  .map(([head, tail]) => head + tail.join(''))
  .filter((name) => !name.endsWith('_') && !name.includes('__'));
const topicArb = fc.option(fc.integer({ min: 1, max: 2_147_483_647 }), { nil: undefined });
const withTopic = (base: string, topic: number | undefined): string =>
  topic === undefined ? base : `${base}/${topic}`;

describe('properties', () => {
  it('any -100<digits> line parses, keeps its digits, and its key re-parses to the same key', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 9_223_372_036_854_775_808n - 1n }), topicArb, (n, topic) => {
        const text = withTopic(`-${n}`, topic);
        const target = parseGroupTarget(text);
        expect(target.chat).toEqual({ kind: 'id', chatId: `-${n}` });
        expect(target.key).toBe(text);
        expect(parseGroupTarget(target.key).key).toBe(target.key);
      }),
    );
  });

  it('any -100 + 10 digits id is accepted', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1_000_000_000n, max: 9_999_999_999n }), (n) => {
        expect(parseGroupTarget(`-100${n}`).key).toBe(`-100${n}`);
      }),
    );
  });

  it('@name, t.me/name and https://t.me/name give the same key, which re-parses to itself', () => {
    fc.assert(
      fc.property(usernameArb, topicArb, (name, topic) => {
        const target = parseGroupTarget(withTopic(`@${name}`, topic));
        expect(target.key).toBe(withTopic(`@${name.toLowerCase()}`, topic));
        expect(parseGroupTarget(target.key).key).toBe(target.key);
        expect(parseGroupTarget(withTopic(`t.me/${name}`, topic)).key).toBe(target.key);
        expect(parseGroupTarget(withTopic(`https://telegram.me/${name}`, topic)).key).toBe(target.key);
      }),
    );
  });

  it('positive ids are always rejected', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 30n }), (n) => {
        const error = caught(() => parseGroupTarget(String(n)));
        expect(error.message).toMatch(/positive id/);
      }),
    );
  });

  it('parseGroupTargets never throws on arbitrary text, and errors point at real lines', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }), (lines) => {
        const input = lines.join('\n');
        const result = parseGroupTargets(input);
        for (const error of result.errors) {
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.line).toBeLessThanOrEqual(input.split(/\r?\n/).length);
        }
        expect(new Set(result.targets.map((t) => t.key)).size).toBe(result.targets.length);
      }),
    );
  });
});
