import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoreErrorCode, StaggerError } from './errors.js';
import { formatChatRef, parsePostLink, type ChatRef, type PostRef } from './post-link.js';

function expectInvalid(input: string, reason: RegExp): StaggerError {
  let caught: unknown;
  try {
    parsePostLink(input);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(input)} to be rejected`).toBeInstanceOf(StaggerError);
  const error = caught as StaggerError;
  expect(error.code).toBe(CoreErrorCode.InvalidPostLink);
  expect(error.message).toMatch(reason);
  return error;
}

const user = (username: string): ChatRef => ({ kind: 'username', username });
const id = (chatId: string): ChatRef => ({ kind: 'id', chatId });

describe('parsePostLink: accepted public links', () => {
  const cases: [string, PostRef][] = [
    ['https://t.me/durov/123', { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' }],
    ['http://t.me/durov/123', { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' }],
    ['t.me/durov/123', { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' }],
    ['HTTPS://T.ME/durov/123', { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' }],
    ['https://telegram.me/durov/1', { chat: user('durov'), messageId: 1, canonical: 'https://t.me/durov/1' }],
    ['https://www.t.me/durov/1', { chat: user('durov'), messageId: 1, canonical: 'https://t.me/durov/1' }],
    ['www.telegram.me/durov/1', { chat: user('durov'), messageId: 1, canonical: 'https://t.me/durov/1' }],
    ['https://t.me/s/durov/55', { chat: user('durov'), messageId: 55, canonical: 'https://t.me/durov/55' }],
    ['t.me/S/durov/55', { chat: user('durov'), messageId: 55, canonical: 'https://t.me/durov/55' }],
    ['  https://t.me/durov/7  \n', { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' }],
    ['https://t.me/durov/7/', { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' }],
    ['https://t.me/durov/7#top', { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' }],
    ['https://t.me/durov/7?single', { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' }],
    [
      'https://t.me/durov/7?single&utm_source=x',
      { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' },
    ],
    [
      'https://t.me/durov/7/?single#x',
      { chat: user('durov'), messageId: 7, canonical: 'https://t.me/durov/7' },
    ],
    [
      'https://t.me/Durov_Channel/9',
      { chat: user('Durov_Channel'), messageId: 9, canonical: 'https://t.me/Durov_Channel/9' },
    ],
    [
      'https://t.me/abcd/2147483647',
      { chat: user('abcd'), messageId: 2147483647, canonical: 'https://t.me/abcd/2147483647' },
    ],
    [
      'https://t.me/a234567890123456789012345678901b/1',
      {
        chat: user('a234567890123456789012345678901b'),
        messageId: 1,
        canonical: 'https://t.me/a234567890123456789012345678901b/1',
      },
    ],
    [
      'https://t.me/forumchat/42/7',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
    [
      'https://t.me/forumchat/7?thread=42',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
    [
      'https://t.me/forumchat/7?topic=42',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
    [
      'https://t.me/forumchat/42/7?thread=42',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
    [
      'https://t.me/forumchat/7?THREAD=42&single',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(parsePostLink(input)).toEqual(expected);
  });

  it('omits topicId when there is no topic', () => {
    expect('topicId' in parsePostLink('t.me/durov/1')).toBe(false);
  });
});

describe('parsePostLink: private t.me/c/ links', () => {
  const cases: [string, PostRef][] = [
    [
      'https://t.me/c/1234567890/5',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
    [
      't.me/c/1234567890/5',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
    [
      'http://telegram.me/C/1234567890/5/',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
    [
      'https://t.me/c/1234567890/5?single#frag',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
    [
      'https://t.me/c/2147483648/99',
      { chat: id('-1002147483648'), messageId: 99, canonical: 'https://t.me/c/2147483648/99' },
    ],
    [
      'https://t.me/c/1234567890/42/5',
      { chat: id('-1001234567890'), messageId: 5, topicId: 42, canonical: 'https://t.me/c/1234567890/42/5' },
    ],
    [
      'https://t.me/c/1234567890/5?thread=42',
      { chat: id('-1001234567890'), messageId: 5, topicId: 42, canonical: 'https://t.me/c/1234567890/42/5' },
    ],
    // The Bot API chat id is -(10^12 + internal id): "-100" + internal only for 10-digit ids.
    [
      't.me/c/123456789/5',
      { chat: id('-1000123456789'), messageId: 5, canonical: 'https://t.me/c/123456789/5' },
    ],
    ['t.me/c/1/5', { chat: id('-1000000000001'), messageId: 5, canonical: 'https://t.me/c/1/5' }],
    [
      't.me/c/12345678901/5',
      { chat: id('-1012345678901'), messageId: 5, canonical: 'https://t.me/c/12345678901/5' },
    ],
    [
      't.me/c/997852516352/5',
      { chat: id('-1997852516352'), messageId: 5, canonical: 'https://t.me/c/997852516352/5' },
    ],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(parsePostLink(input)).toEqual(expected);
  });

  it('never treats "c" as a channel name', () => {
    const ref = parsePostLink('https://t.me/c/1234567890/5');
    expect(ref.chat.kind).toBe('id');
    expect(formatChatRef(ref.chat)).toBe('-1001234567890');
  });

  it('keeps the chat id a string', () => {
    const ref = parsePostLink('https://t.me/c/1234567890/5');
    expect(ref.chat.kind === 'id' && typeof ref.chat.chatId).toBe('string');
  });
});

describe('parsePostLink: tg:// links', () => {
  const cases: [string, PostRef][] = [
    [
      'tg://resolve?domain=durov&post=123',
      { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' },
    ],
    [
      'TG://RESOLVE?post=123&domain=durov',
      { chat: user('durov'), messageId: 123, canonical: 'https://t.me/durov/123' },
    ],
    [
      'tg://resolve?domain=forumchat&post=7&thread=42',
      { chat: user('forumchat'), messageId: 7, topicId: 42, canonical: 'https://t.me/forumchat/42/7' },
    ],
    [
      'tg://privatepost?channel=1234567890&post=5',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
    [
      'tg://privatepost?channel=1234567890&post=5&thread=42',
      { chat: id('-1001234567890'), messageId: 5, topicId: 42, canonical: 'https://t.me/c/1234567890/42/5' },
    ],
    [
      'tg://privatepost?channel=1234567890&post=5&single',
      { chat: id('-1001234567890'), messageId: 5, canonical: 'https://t.me/c/1234567890/5' },
    ],
  ];
  it.each(cases)('%s', (input, expected) => {
    expect(parsePostLink(input)).toEqual(expected);
  });
});

describe('parsePostLink: rejections', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['https://example.com/durov/1', /not a Telegram post link.*"example\.com" is not t\.me/],
    ['https://t.me.evil.com/durov/1', /not t\.me/],
    ['https://evil.com/t.me/durov/1', /not t\.me/],
    ['https://user@t.me/durov/1', /not t\.me/],
    ['https://t.me:8443/durov/1', /not t\.me/],
    ['ftp://t.me/durov/1', /ftp:\/\/ links are not supported/],
    ['durov/1', /not a Telegram post link/],
    ['https://t.me', /no channel and message id/],
    ['https://t.me/', /no channel and message id/],
    ['https://t.me/+AbCdEf123', /invite links are not post links.*never joins groups/],
    ['https://t.me/+AbCdEf123/5', /invite links/],
    ['https://t.me/+79991234567', /phone number link/],
    ['t.me/joinchat/AbCdEf123', /invite links.*never joins groups/],
    ['tg://join?invite=AbCdEf', /invite links/],
    ['https://t.me/c', /private links look like t\.me\/c\/<id>\/<message id>/],
    ['https://t.me/c/1234567890', /private links.*no message id/],
    ['https://t.me/c/1234567890/', /private links.*no message id/],
    ['https://t.me/c/1234567890/42/5/6', /too many path segments/],
    ['https://t.me/c/abc/5', /channel id "abc" in a t\.me\/c\/ link is not a positive integer/],
    ['https://t.me/c/-1234567890/5', /channel id "-1234567890" .*not a positive integer/],
    ['https://t.me/c/-1001234567890/5', /channel id "-1001234567890" .*not a positive integer/],
    ['https://t.me/c/0/5', /channel id "0" .*zero/],
    ['https://t.me/c/01234567890/5', /leading zeros/],
    ['https://t.me/c/997852516353/5', /out of range/],
    ['https://t.me/c/99999999999999999999999/5', /out of range/],
    ['https://t.me/c/1234567890/abc', /message id "abc" is not a positive integer/],
    ['https://t.me/c/1234567890/0/5', /topic id "0" is not a positive integer/],
    ['https://t.me/s', /t\.me\/s\/ needs a channel and a message id/],
    ['https://t.me/s/', /t\.me\/s\/ needs a channel/],
    ['https://t.me/s/durov', /no message id/],
    ['https://t.me/s/c/1234567890/5', /t\.me\/c\/… is a Telegram feature link/],
    ['https://t.me/addstickers/Animals', /t\.me\/addstickers\/… is a Telegram feature link, not a channel/],
    ['https://t.me/addemoji/Set', /feature link/],
    ['https://t.me/share/url?url=x', /feature link/],
    ['https://t.me/proxy?server=x', /feature link/],
    ['https://t.me/socks?server=x', /feature link/],
    ['https://t.me/iv?url=x&rhash=1', /feature link/],
    ['https://t.me/login/12345', /feature link/],
    ['https://t.me/boost/durov', /feature link/],
    ['https://t.me/addlist/AbCdEf', /feature link/],
    ['https://t.me/bg/abc', /feature link/],
    ['https://t.me/setlanguage/en', /feature link/],
    ['https://t.me/invoice/abc', /feature link/],
    ['https://t.me/m/AbCdEf', /feature link/],
    ['https://t.me/$AbCdEf', /feature link/],
    ['https://t.me/durov', /no message id: t\.me\/durov is a channel, not a post/],
    ['https://t.me/durov/', /no message id/],
    ['https://t.me/durov/abc', /message id "abc" is not a positive integer/],
    ['https://t.me/durov/0', /message id "0" is not a positive integer/],
    ['https://t.me/durov/-5', /message id "-5" is not a positive integer/],
    ['https://t.me/durov/1.5', /message id "1\.5" is not a positive integer/],
    ['https://t.me/durov/1e3', /message id "1e3" is not a positive integer/],
    ['https://t.me/durov/007', /leading zeros/],
    ['https://t.me/durov/2147483648', /message id "2147483648" is too large.*2147483647/],
    ['https://t.me/durov/99999999999999999999', /too large/],
    ['https://t.me/durov/0/5', /topic id "0" is not a positive integer/],
    ['https://t.me/durov/x/5', /topic id "x" is not a positive integer/],
    ['https://t.me/durov/2147483648/5', /topic id .* too large/],
    ['https://t.me/durov/1/2/3', /too many path segments/],
    ['https://t.me//durov/1', /empty path segment/],
    ['https://t.me/dur/1', /"dur" is not a valid channel username/],
    ['https://t.me/1durov/1', /"1durov" is not a valid channel username/],
    ['https://t.me/_durov/1', /not a valid channel username/],
    ['https://t.me/durov_/1', /must not end with _/],
    ['https://t.me/dur__ov/1', /must not contain __/],
    ['https://t.me/dur-ov/1', /not a valid channel username/],
    ['https://t.me/a2345678901234567890123456789012x/1', /not a valid channel username/],
    [
      'https://t.me/durov/7?comment=15',
      /comment links are not post links.*discussion group.*different message/,
    ],
    ['https://t.me/c/1234567890/7?comment=15', /comment links/],
    ['tg://resolve?domain=durov&post=7&comment=15', /comment links/],
    ['https://t.me/durov/7?thread=abc', /topic id "abc" is not a positive integer/],
    ['https://t.me/durov/7?thread=0', /topic id "0"/],
    ['https://t.me/durov/42/7?thread=43', /conflicting topic ids/],
    ['https://t.me/durov/7?thread=42&topic=43', /conflicting topic ids/],
    ['tg://resolve?domain=durov', /no message id/],
    ['tg://resolve?domain=durov&post=', /no message id/],
    ['tg://resolve?post=5', /no domain/],
    ['tg://resolve?domain=dur&post=5', /not a valid channel username/],
    ['tg://privatepost?post=5', /no channel/],
    ['tg://privatepost?channel=abc&post=5', /channel id "abc"/],
    ['tg://privatepost?channel=1234567890&post=x', /message id "x"/],
    ['tg://msg?text=hi', /tg:\/\/msg is not a message/],
  ];
  it.each(cases)('%j', (input, reason) => {
    expectInvalid(input, reason);
  });

  it('puts the input in details', () => {
    const error = expectInvalid('https://t.me/durov', /no message id/);
    expect(error.details).toEqual({ input: 'https://t.me/durov' });
  });

  it('keeps long inputs out of the message', () => {
    const error = expectInvalid(`https://t.me/durov/${'9'.repeat(5000)}`, /too large/);
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('formatChatRef', () => {
  it('formats usernames with @ and ids as the decimal string', () => {
    expect(formatChatRef({ kind: 'username', username: 'Durov' })).toBe('@Durov');
    expect(formatChatRef({ kind: 'id', chatId: '-1001234567890' })).toBe('-1001234567890');
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
  .filter(
    (name) =>
      !name.endsWith('_') &&
      !name.includes('__') &&
      ![
        'share',
        'proxy',
        'socks',
        'login',
        'boost',
        'addlist',
        'invoice',
        'contact',
        'addemoji',
        'addtheme',
        'giftcode',
        'setlanguage',
        'addstickers',
        'confirmphone',
      ].includes(name.toLowerCase()),
  );
const idArb = fc.integer({ min: 1, max: 2147483647 });
const internalArb = fc.bigInt({ min: 1n, max: 997852516352n });

describe('parsePostLink properties', () => {
  it('a canonical public link parses back to the same canonical', () => {
    fc.assert(
      fc.property(usernameArb, idArb, fc.option(idArb, { nil: undefined }), (name, messageId, topicId) => {
        const link = `https://t.me/${name}/${topicId === undefined ? '' : `${topicId}/`}${messageId}`;
        const ref = parsePostLink(link);
        expect(ref.canonical).toBe(link);
        expect(ref.messageId).toBe(messageId);
        expect(ref.topicId).toBe(topicId);
        expect(ref.chat).toEqual({ kind: 'username', username: name });
        expect(parsePostLink(ref.canonical)).toEqual(ref);
      }),
    );
  });

  it('a canonical private link parses back to the same canonical, with chat id -(10^12 + internal)', () => {
    fc.assert(
      fc.property(
        internalArb,
        idArb,
        fc.option(idArb, { nil: undefined }),
        (internal, messageId, topicId) => {
          const link = `https://t.me/c/${internal}/${topicId === undefined ? '' : `${topicId}/`}${messageId}`;
          const ref = parsePostLink(link);
          expect(ref.canonical).toBe(link);
          expect(ref.chat).toEqual({ kind: 'id', chatId: (-(10n ** 12n) - internal).toString() });
          expect(parsePostLink(ref.canonical)).toEqual(ref);
        },
      ),
    );
  });

  it('10-digit internal ids map to "-100" + internal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1_000_000_000n, max: 9_999_999_999n }), (internal) => {
        expect(parsePostLink(`t.me/c/${internal}/1`).chat).toEqual({ kind: 'id', chatId: `-100${internal}` });
      }),
    );
  });

  it('every variant of a link gives the same result as its canonical form', () => {
    fc.assert(
      fc.property(
        usernameArb,
        idArb,
        fc.constantFrom('https://', 'http://', '', 'HTTPS://'),
        fc.constantFrom('t.me', 'T.ME', 'telegram.me', 'www.t.me'),
        fc.constantFrom('', 's/'),
        fc.constantFrom('', '/', '?single', '#x', '/?single#x'),
        fc.constantFrom('', ' ', '\t\n'),
        (name, messageId, scheme, host, preview, suffix, pad) => {
          const ref = parsePostLink(`${pad}${scheme}${host}/${preview}${name}/${messageId}${suffix}${pad}`);
          expect(ref).toEqual(parsePostLink(`https://t.me/${name}/${messageId}`));
        },
      ),
    );
  });

  it('only ever throws StaggerError INVALID_POST_LINK', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        try {
          parsePostLink(`https://t.me/${text}`);
        } catch (error) {
          expect(error).toBeInstanceOf(StaggerError);
          expect((error as StaggerError).code).toBe(CoreErrorCode.InvalidPostLink);
        }
      }),
    );
  });
});
