import { readStringSession, writeStringSession } from '@mtcute/core/utils.js';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStaggerError } from '../../core/errors.js';
import {
  parseSessionString,
  parseTelethonSessionFile,
  toMtcuteSessionString,
  type ImportedSession,
} from './session-formats.js';
import {
  authKey as newKey,
  gramjsString,
  mtcuteString,
  pyrogramString,
  telethonSessionFile,
  telethonString,
  urlsafeBase64,
} from '../../../test/support/mtcute/fixtures.js';
import { OfflineTelegram } from '../../../test/support/mtcute/offline-telegram.js';

// ---- builders from the published formats ---------------------------------------------------------------------

/** Old Pyrogram: struct '>B?256sI?' (263 bytes). */
function oldPyrogramString(dcId: number, authKey: Uint8Array, userId: number): string {
  const bytes = new Uint8Array(263);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, dcId);
  view.setUint8(1, 0);
  bytes.set(authKey, 2);
  view.setUint32(258, userId);
  view.setUint8(262, 0);
  return urlsafeBase64(bytes).replace(/=+$/, '');
}

const workDir = mkdtempSync(join(tmpdir(), 'stagger-session-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A Telethon .session file with Telethon's schema. */
function telethonFile(
  rows: { dcId: number; address: string; port: number; authKey: Uint8Array | null }[],
): Uint8Array {
  return telethonSessionFile(join(workDir, `${randomBytes(6).toString('hex')}.session`), rows);
}

function leftovers(): string[] {
  return readdirSync(tmpdir()).filter(
    (name) => name.startsWith('stagger-session-') && !workDir.endsWith(name),
  );
}

/** Expects SESSION_IMPORT_INVALID whose message matches `pattern` and carries no secret. */
function expectInvalid(run: () => unknown, pattern: RegExp, secrets: string[] = []): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isStaggerError(thrown, 'SESSION_IMPORT_INVALID'), String(thrown)).toBe(true);
  const error = thrown as Error & { details: unknown };
  expect(error.message).toMatch(pattern);
  const visible = `${error.message} ${JSON.stringify(error.details)}`;
  for (const secret of secrets) {
    if (secret.length >= 8) expect(visible).not.toContain(secret.slice(0, 24));
  }
}

function expectLoads(session: ImportedSession): void {
  const text = toMtcuteSessionString(session);
  const data = readStringSession(text);
  expect(Buffer.from(data.authKey).equals(Buffer.from(session.authKey))).toBe(true);
  expect(data.primaryDcs.main.id).toBe(session.dcId);
  expect(data.primaryDcs.media.id).toBe(session.dcId);
  expect(data.version).toBe(3);
  // and it reads back through our own detector as an mtcute string with the same key and DC
  const again = parseSessionString(text);
  expect(again.format).toBe('mtcute-string');
  expect(again.dcId).toBe(session.dcId);
  expect(Buffer.from(again.authKey).equals(Buffer.from(session.authKey))).toBe(true);
}

// ---- tests ---------------------------------------------------------------------------------------------------

describe('Telethon strings', () => {
  it('reads an IPv4 string (263 bytes) and writes a loadable mtcute string', () => {
    const authKey = newKey();
    const text = telethonString(4, [149, 154, 167, 91], 443, authKey);
    const s = parseSessionString(text);
    expect(s).toMatchObject({
      format: 'telethon-string',
      dcId: 4,
      ipAddress: '149.154.167.91',
      port: 443,
      ipv6: false,
      userId: null,
      isBot: null,
      testMode: false,
      apiId: null,
    });
    expect(Buffer.from(s.authKey).equals(Buffer.from(authKey))).toBe(true);
    expectLoads(s);
    const dc = readStringSession(toMtcuteSessionString(s)).primaryDcs.main;
    expect(dc).toMatchObject({ id: 4, ipAddress: '149.154.167.91', port: 443 });
  });

  it('reads an IPv6 string (275 bytes)', () => {
    const authKey = newKey();
    const ip = [0x20, 0x01, 0x06, 0x7c, 0x04, 0xe8, 0xf0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x0a];
    const s = parseSessionString(telethonString(2, ip, 443, authKey));
    expect(s).toMatchObject({
      format: 'telethon-string',
      dcId: 2,
      ipAddress: '2001:067c:04e8:f002:0000:0000:0000:000a',
      port: 443,
      ipv6: true,
    });
    expectLoads(s);
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main.ipv6).toBe(true);
  });

  it('accepts surrounding whitespace and quotes', () => {
    const text = telethonString(1, [149, 154, 175, 53], 443, newKey());
    expect(parseSessionString(`  "${text}"\n`).dcId).toBe(1);
  });

  it('recognises Telethon test servers by address', () => {
    const s = parseSessionString(telethonString(2, [149, 154, 167, 40], 443, newKey()));
    expect(s.testMode).toBe(true);
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main.testMode).toBe(true);
  });
});

describe('GramJS strings', () => {
  it('reads a 14-character IPv4 address (275 bytes, as long as a Telethon IPv6 string) — not as Telethon', () => {
    const authKey = newKey();
    const text = gramjsString(2, '149.154.167.51', 443, authKey);
    expect(Buffer.from(text.slice(1), 'base64')).toHaveLength(275);
    const s = parseSessionString(text);
    expect(s).toMatchObject({
      format: 'gramjs-string',
      dcId: 2,
      ipAddress: '149.154.167.51',
      port: 443,
      ipv6: false,
      userId: null,
      isBot: null,
      testMode: false,
      apiId: null,
    });
    expect(Buffer.from(s.authKey).equals(Buffer.from(authKey))).toBe(true);
    expectLoads(s);
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main).toMatchObject({
      id: 2,
      ipAddress: '149.154.167.51',
      port: 443,
    });
  });

  it.each([
    ['a 13-character IPv4 address', 5, '91.108.56.130', false],
    ['a 15-character IPv4 address', 3, '149.154.175.100', false],
    ['an IPv6 address', 4, '2001:67c:4e8:f004::a', true],
  ])('reads %s', (_name, dcId, address, ipv6) => {
    const s = parseSessionString(gramjsString(dcId, address, 443, newKey()));
    expect(s).toMatchObject({ format: 'gramjs-string', dcId, ipAddress: address, port: 443, ipv6 });
    expectLoads(s);
  });

  it('recognises GramJS test servers by address, and keeps a port other than 443', () => {
    const s = parseSessionString(gramjsString(2, '149.154.167.40', 80, newKey()));
    expect(s).toMatchObject({ testMode: true, port: 80 });
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main).toMatchObject({
      ipAddress: '149.154.167.40',
      port: 80,
      testMode: true,
    });
  });

  it('a browser’s WebSocket host name stands for the DC: its well-known address is used', () => {
    const s = parseSessionString(gramjsString(4, 'vesta.web.telegram.org', 443, newKey()));
    expect(s).toMatchObject({ format: 'gramjs-string', dcId: 4, ipAddress: null, port: null });
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main).toMatchObject({
      id: 4,
      ipAddress: '149.154.167.91',
      port: 443,
    });
  });

  it('refuses a corrupt GramJS string, never quoting it', () => {
    const authKey = newKey();
    const secrets = [Buffer.from(authKey).toString('base64'), Buffer.from(authKey).toString('hex')];
    const good = gramjsString(2, '149.154.167.51', 443, authKey);
    const bytes = Buffer.from(good.slice(1), 'base64');
    expectInvalid(() => parseSessionString(good.slice(0, 300)), /decodes to \d+ bytes/, secrets);
    expectInvalid(
      () => parseSessionString(`1${bytes.subarray(0, 274).toString('base64')}`),
      /decodes to 274 bytes/,
      secrets,
    );
    expectInvalid(() => parseSessionString(gramjsString(9, '149.154.167.51', 443, authKey)), /DC 9/, secrets);
    expectInvalid(
      () => parseSessionString(gramjsString(2, '149.154.167.51', 0, authKey)),
      /GramJS session string names port 0/,
      secrets,
    );
    expectInvalid(
      () => parseSessionString(gramjsString(2, '149.154.167.51', 443, new Uint8Array(256))),
      /all zeros/,
    );
    // Neither an IP address nor a host name where the address goes: not GramJS, and no Telethon length either.
    expectInvalid(
      () => parseSessionString(gramjsString(2, 'no address here!', 443, authKey)),
      /decodes to 277 bytes/,
      secrets,
    );
    expectInvalid(() => parseSessionString(`2${good.slice(1)}`), /version "2"/, secrets);
  });
});

describe('Pyrogram strings', () => {
  it('reads a Pyrogram ≥ 2 string (271 bytes) with api id, user id and bot flag', () => {
    const authKey = newKey();
    const s = parseSessionString(
      pyrogramString({
        dcId: 2,
        apiId: 123456,
        testMode: false,
        authKey,
        userId: 5_123_456_789n,
        isBot: false,
      }),
    );
    expect(s).toMatchObject({
      format: 'pyrogram-string',
      dcId: 2,
      ipAddress: null,
      port: null,
      ipv6: false,
      userId: '5123456789',
      isBot: false,
      testMode: false,
      apiId: 123456,
    });
    expect(Buffer.from(s.authKey).equals(Buffer.from(authKey))).toBe(true);
    expectLoads(s);
    const data = readStringSession(toMtcuteSessionString(s));
    // no address in the string: Telegram's well-known address of DC 2
    expect(data.primaryDcs.main).toMatchObject({ id: 2, ipAddress: '149.154.167.51', port: 443 });
    expect(data.self).toMatchObject({ userId: 5_123_456_789, isBot: false });
  });

  it('keeps a user id above 2^53 as an exact decimal string (and leaves it out of the mtcute string)', () => {
    const s = parseSessionString(
      pyrogramString({
        dcId: 5,
        apiId: 1,
        testMode: false,
        authKey: newKey(),
        userId: 9_007_199_254_740_993n,
        isBot: false,
      }),
    );
    expect(s.userId).toBe('9007199254740993');
    expect(readStringSession(toMtcuteSessionString(s)).self).toBeNull();
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main.ipAddress).toBe('91.108.56.130');
  });

  it('reads a test-mode Pyrogram string (test DC address)', () => {
    const s = parseSessionString(
      pyrogramString({ dcId: 1, apiId: 7, testMode: true, authKey: newKey(), userId: 42n, isBot: false }),
    );
    expect(s.testMode).toBe(true);
    expect(readStringSession(toMtcuteSessionString(s)).primaryDcs.main).toMatchObject({
      id: 1,
      ipAddress: '149.154.175.10',
      testMode: true,
    });
  });

  it('reads an old Pyrogram string (263 bytes, no api id)', () => {
    const s = parseSessionString(oldPyrogramString(3, newKey(), 777000));
    expect(s).toMatchObject({
      format: 'pyrogram-string',
      dcId: 3,
      userId: '777000',
      apiId: null,
      isBot: false,
    });
    expectLoads(s);
  });
});

describe('mtcute strings', () => {
  it('round-trips through readStringSession/writeStringSession', () => {
    const authKey = newKey();
    const dc = { id: 2, ipAddress: '149.154.167.50', port: 443 };
    const text = writeStringSession({
      version: 3,
      primaryDcs: { main: dc, media: { ...dc, ipAddress: '149.154.167.222', mediaOnly: true } },
      self: { userId: 1234567, isBot: false, isPremium: false, usernames: [] },
      authKey,
    });
    const s = parseSessionString(text);
    expect(s).toMatchObject({
      format: 'mtcute-string',
      dcId: 2,
      ipAddress: '149.154.167.50',
      port: 443,
      userId: '1234567',
      isBot: false,
      testMode: false,
    });
    expect(Buffer.from(s.authKey).equals(Buffer.from(authKey))).toBe(true);
    expectLoads(s);
  });

  it('loads into a real client (importSession) with the same key and DC', async () => {
    const telegram = new OfflineTelegram();
    try {
      const authKey = newKey();
      const text = toMtcuteSessionString(
        parseSessionString(telethonString(4, [149, 154, 167, 91], 443, authKey)),
      );
      const tg = telegram.createClient({ apiId: 1, apiHash: 'h' });
      await tg.importSession(text, true);
      const exported = readStringSession(await tg.exportSession());
      expect(exported.primaryDcs.main.id).toBe(4);
      expect(Buffer.from(exported.authKey).equals(Buffer.from(authKey))).toBe(true);
    } finally {
      await telegram.destroyAll();
    }
  });
});

describe('bot sessions are refused: Stagger posts as a user', () => {
  const words =
    /belongs to a bot: bots cannot forward into groups the way Stagger needs; import a user account/;

  it('a Pyrogram string of a bot', () => {
    const bot = { dcId: 2, apiId: 1, authKey: newKey(), userId: 7_000_000_001n, isBot: true };
    expectInvalid(() => parseSessionString(pyrogramString(bot)), /Pyrogram session string belongs to a bot/);
    expectInvalid(() => parseSessionString(pyrogramString(bot)), words);
  });

  it('an old Pyrogram string of a bot', () => {
    const bytes = Buffer.from(oldPyrogramString(3, newKey(), 777000), 'base64url');
    bytes[262] = 1;
    expectInvalid(() => parseSessionString(bytes.toString('base64url')), words);
  });

  it('an mtcute string of a bot', () => {
    expectInvalid(() => parseSessionString(mtcuteString(newKey(), 2, 7_000_000_001, true)), words);
    expect(parseSessionString(mtcuteString(newKey(), 2, 7_000_000_001, false)).isBot).toBe(false);
  });
});

describe('Telethon .session files', () => {
  it('reads the sessions table and leaves nothing on disk', () => {
    const before = leftovers();
    const authKey = newKey();
    const s = parseTelethonSessionFile(
      telethonFile([{ dcId: 2, address: '149.154.167.51', port: 443, authKey }]),
    );
    expect(s).toMatchObject({
      format: 'telethon-file',
      dcId: 2,
      ipAddress: '149.154.167.51',
      port: 443,
      ipv6: false,
    });
    expect(Buffer.from(s.authKey).equals(Buffer.from(authKey))).toBe(true);
    expectLoads(s);
    expect(leftovers()).toEqual(before);
  });

  it('reads an IPv6 server address', () => {
    const s = parseTelethonSessionFile(
      telethonFile([{ dcId: 5, address: '2001:b28:f23f:f005::a', port: 443, authKey: newKey() }]),
    );
    expect(s).toMatchObject({ dcId: 5, ipAddress: '2001:b28:f23f:f005::a', ipv6: true });
  });

  it('rejects a non-SQLite file, an empty file, a missing table, an empty table, a bad key — nothing left on disk', () => {
    const before = leftovers();
    expectInvalid(
      () => parseTelethonSessionFile(new TextEncoder().encode('hello, this is not a database')),
      /not an SQLite/,
    );
    expectInvalid(() => parseTelethonSessionFile(new Uint8Array()), /empty/);
    expectInvalid(() => parseTelethonSessionFile(telethonFile([])), /no session in it/);
    expectInvalid(
      () =>
        parseTelethonSessionFile(
          telethonFile([{ dcId: 2, address: '1.2.3.4', port: 443, authKey: randomBytes(100) }]),
        ),
      /100 bytes/,
    );
    expectInvalid(
      () =>
        parseTelethonSessionFile(telethonFile([{ dcId: 2, address: '1.2.3.4', port: 443, authKey: null }])),
      /no auth key/,
    );
    expectInvalid(
      () =>
        parseTelethonSessionFile(
          telethonFile([{ dcId: 9, address: '1.2.3.4', port: 443, authKey: newKey() }]),
        ),
      /DC 9/,
    );

    const other = join(workDir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE peers (id integer)');
    db.close();
    expectInvalid(() => parseTelethonSessionFile(new Uint8Array(readFileSync(other))), /no "sessions" table/);

    // SQLite header, garbage after it
    const garbage = new Uint8Array(4096);
    garbage.set(new TextEncoder().encode('SQLite format 3\0'));
    garbage.fill(0xab, 16);
    expectInvalid(() => parseTelethonSessionFile(garbage), /could not be read/);

    expect(leftovers()).toEqual(before);
  });

  it('opens a WAL-mode file from its copy', () => {
    const file = join(workDir, 'wal.session');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer)',
    );
    db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)').run(
      3,
      '149.154.175.100',
      443,
      Buffer.from(newKey()),
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = new Uint8Array(readFileSync(file));
    expect(parseTelethonSessionFile(bytes).dcId).toBe(3);
    writeFileSync(file, ''); // keep the work dir small
  });
});

describe('corrupt strings → SESSION_IMPORT_INVALID, never quoting the input', () => {
  const authKey = newKey();
  const good = telethonString(2, [149, 154, 167, 51], 443, authKey);
  const secrets = [
    good.slice(1),
    Buffer.from(authKey).toString('hex'),
    Buffer.from(authKey).toString('base64'),
  ];

  it.each([
    ['empty', '', /empty/],
    ['blank', '   \n ', /empty/],
    ['bad base64 characters', `${good.slice(0, 100)}!*${good.slice(102)}`, /not valid base64/],
    ['a line break inside', `${good.slice(0, 100)}\n${good.slice(100)}`, /one unbroken line/],
    ['truncated Telethon string', good.slice(0, 200), /truncated|decodes to/],
    [
      'Telethon string with bytes missing',
      `1${urlsafeBase64(Buffer.from(good.slice(1), 'base64url').subarray(0, 262))}`,
      /262 bytes/,
    ],
    ['wrong version prefix', `2${good.slice(1)}`, /version "2"/],
    ['garbage', 'hello world, this is not a session', /one unbroken line|not valid base64|unrecognised/],
    // (first byte < 4: base64 "A…", so not taken for a Telethon string, which starts with a digit)
    [
      'random base64 of the wrong length',
      urlsafeBase64(Buffer.concat([Buffer.from([2]), randomBytes(99)])),
      /unrecognised session string/,
    ],
    [
      'random base64 after a "1"',
      `1${urlsafeBase64(randomBytes(100))}`,
      /Telethon session string decodes to 100 bytes/,
    ],
    [
      'truncated Pyrogram string',
      pyrogramString({ dcId: 2, apiId: 1, testMode: false, authKey, userId: 1n, isBot: false }).slice(0, 300),
      /unrecognised|truncated/,
    ],
  ])('%s', (_name, input, pattern) => {
    expectInvalid(() => parseSessionString(input), pattern, secrets);
  });

  it('a Pyrogram string naming DC 0 or a bad flag', () => {
    expectInvalid(
      () =>
        parseSessionString(
          pyrogramString({ dcId: 0, apiId: 1, testMode: false, authKey, userId: 1n, isBot: false }),
        ),
      /DC 0/,
      secrets,
    );
    const bytes = Buffer.from(
      pyrogramString({ dcId: 2, apiId: 1, testMode: false, authKey, userId: 1n, isBot: false }),
      'base64url',
    );
    bytes[5] = 7; // test_mode must be 0 or 1
    expectInvalid(() => parseSessionString(bytes.toString('base64url')), /test mode flag/, secrets);
  });

  it('an all-zero key', () => {
    expectInvalid(
      () => parseSessionString(telethonString(2, [1, 2, 3, 4], 443, new Uint8Array(256))),
      /all zeros/,
    );
  });

  it('a truncated or padded mtcute string', () => {
    const text = writeStringSession({
      version: 3,
      primaryDcs: {
        main: { id: 2, ipAddress: '149.154.167.50', port: 443 },
        media: { id: 2, ipAddress: '149.154.167.50', port: 443 },
      },
      authKey,
    });
    const bytes = Buffer.from(text, 'base64url');
    expectInvalid(
      () => parseSessionString(bytes.subarray(0, bytes.length - 40).toString('base64url')),
      /mtcute|unrecognised/,
      secrets,
    );
    expectInvalid(
      () => parseSessionString(Buffer.concat([bytes, Buffer.alloc(8, 1)]).toString('base64url')),
      /mtcute/,
      secrets,
    );
  });
});
