/**
 * Sessions made by other Telegram libraries, read into one shape and written as an mtcute session string.
 *
 * Formats (all public):
 * - Telethon string: `'1'` + urlsafe base64 of dc_id (1 byte), IPv4 (4 bytes) or IPv6 (16 bytes), port (2 bytes,
 *   big-endian), auth_key (256 bytes) → 263 or 275 bytes.
 * - GramJS string (the `telegram` npm package's StringSession): `'1'` + base64 of dc_id (1 byte), the length of the
 *   server address (2 bytes, big-endian), the address as text, port (2 bytes, big-endian), auth_key (256 bytes) →
 *   261 bytes + the address (a 14-character IPv4 address gives 275, the length of a Telethon IPv6 string). In a
 *   browser GramJS writes a WebSocket host name (`venus.web.telegram.org`) instead of an IP address.
 * - Pyrogram ≥ 2 string: urlsafe base64 without padding of dc_id (1), api_id (4), test_mode (1), auth_key (256),
 *   user_id (8), is_bot (1) = 271 bytes (big-endian). Older Pyrogram: dc_id, test_mode, auth_key, user_id (4 or 8),
 *   is_bot = 263 or 267 bytes.
 * - mtcute string: what `readStringSession` of `@mtcute/core/utils.js` reads (version byte 3).
 * - Telethon `.session` file: SQLite with a table `sessions(dc_id, server_address, port, auth_key, takeout_id)`.
 *
 * A session that says it is a bot's (Pyrogram and mtcute strings do; Telethon and GramJS ones cannot tell) is
 * refused: Stagger forwards as a member of the groups, which a bot cannot do the same way.
 *
 * Every failure is a `StaggerError('SESSION_IMPORT_INVALID')` whose message says what is wrong in words and never
 * quotes the input: a session string is a password.
 */
import { readStringSession, writeStringSession, type BasicDcOption } from '@mtcute/core/utils.js';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaggerError } from '../../core/errors.js';

export type SessionFormat =
  'telethon-string' | 'gramjs-string' | 'pyrogram-string' | 'mtcute-string' | 'telethon-file';

export interface ImportedSession {
  format: SessionFormat;
  dcId: number;
  /** The DC address the session carries; null when the format does not carry one. */
  ipAddress: string | null;
  port: number | null;
  ipv6: boolean;
  /** 256 bytes. */
  authKey: Uint8Array;
  /** Decimal; null when the format does not carry it. */
  userId: string | null;
  isBot: boolean | null;
  testMode: boolean;
  apiId: number | null;
}

export const SessionImportErrorCode = 'SESSION_IMPORT_INVALID';

const AUTH_KEY_BYTES = 256;
const TELETHON_IPV4_BYTES = 1 + 4 + 2 + AUTH_KEY_BYTES; // 263
const TELETHON_IPV6_BYTES = 1 + 16 + 2 + AUTH_KEY_BYTES; // 275
const GRAMJS_BYTES_BESIDES_ADDRESS = 1 + 2 + 2 + AUTH_KEY_BYTES; // 261
/** A DNS name (GramJS in a browser stores the DC's WebSocket host): labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const PYROGRAM_BYTES = 1 + 4 + 1 + AUTH_KEY_BYTES + 8 + 1; // 271
const PYROGRAM_OLD_32_BYTES = 1 + 1 + AUTH_KEY_BYTES + 4 + 1; // 263
const PYROGRAM_OLD_64_BYTES = 1 + 1 + AUTH_KEY_BYTES + 8 + 1; // 267
const MTCUTE_VERSION = 3;
/** Largest file accepted as a Telethon session (they are a few dozen KB; entities can grow them). */
const MAX_SESSION_FILE_BYTES = 64 * 1024 * 1024;
const SQLITE_MAGIC = 'SQLite format 3\0';

/** Telegram's well-known DC addresses (IPv4, port 443). */
const PRODUCTION_DCS: Record<number, string> = {
  1: '149.154.175.53',
  2: '149.154.167.51',
  3: '149.154.175.100',
  4: '149.154.167.91',
  5: '91.108.56.130',
};
const TEST_DCS: Record<number, string> = {
  1: '149.154.175.10',
  2: '149.154.167.40',
  3: '149.154.175.117',
};
const TEST_DC_ADDRESSES = new Set(Object.values(TEST_DCS));
const DEFAULT_PORT = 443;

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new StaggerError(SessionImportErrorCode, message, { details });
}

/** The well-known address of a DC, for formats that do not carry one. */
export function wellKnownDcAddress(dcId: number, testMode: boolean): string {
  const address = (testMode ? TEST_DCS : PRODUCTION_DCS)[dcId];
  if (address === undefined) {
    invalid(
      `the session is for DC ${dcId}, which is not a Telegram ${testMode ? 'test ' : ''}data centre ` +
        `(expected 1–${testMode ? 3 : 5})`,
      { dcId },
    );
  }
  return address;
}

function checkDcId(dcId: number, format: SessionFormat, testMode: boolean): void {
  const max = testMode ? 3 : 5;
  if (!Number.isInteger(dcId) || dcId < 1 || dcId > max) {
    invalid(
      `the ${label(format)} names DC ${dcId}, which is not a Telegram ${testMode ? 'test ' : ''}data centre ` +
        `(expected 1–${max}); the session is corrupt`,
      { format, dcId },
    );
  }
}

function checkAuthKey(key: Uint8Array, format: SessionFormat): void {
  if (key.length !== AUTH_KEY_BYTES) {
    invalid(
      `the ${label(format)} holds an auth key of ${key.length} bytes; Telegram auth keys are ${AUTH_KEY_BYTES} bytes`,
      { format, keyLength: key.length },
    );
  }
  if (key.every((b) => b === 0)) {
    invalid(`the ${label(format)} holds an empty auth key (all zeros): it was never logged in`, { format });
  }
}

function label(format: SessionFormat): string {
  switch (format) {
    case 'telethon-string':
      return 'Telethon session string';
    case 'gramjs-string':
      return 'GramJS session string';
    case 'pyrogram-string':
      return 'Pyrogram session string';
    case 'mtcute-string':
      return 'mtcute session string';
    case 'telethon-file':
      return 'Telethon session file';
  }
}

/**
 * Strict base64 (standard or urlsafe alphabet, padding optional). Node's decoder silently skips bad characters,
 * which would turn a damaged string into a wrong key; this one refuses.
 */
function decodeBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text)) {
    invalid(
      `${what} is not valid base64: it contains characters other than letters, digits, -, _, +, / and = ` +
        '(was it copied with spaces, quotes or line breaks inside?)',
      { length: text.length },
    );
  }
  const body = text.replace(/=+$/, '');
  if (body.length % 4 === 1 || (text.length !== body.length && text.length % 4 !== 0)) {
    invalid(
      `${what} is not valid base64: its length (${text.length} characters) is impossible; it is truncated`,
      {
        length: text.length,
      },
    );
  }
  return new Uint8Array(Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

function formatIpv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16).padStart(4, '0'));
  }
  return groups.join(':');
}

/**
 * The GramJS layout's server address, when `bytes` fit it exactly: the address length must account for every byte
 * (address, port, a 256-byte key), and the address must be an IP address or a host name. A Telethon IPv6 string
 * (275 bytes) fits only if its address began 000e: followed by 14 bytes of address text — no Telegram address.
 */
function gramjsAddress(bytes: Uint8Array): string | null {
  if (bytes.length <= GRAMJS_BYTES_BESIDES_ADDRESS) return null;
  const length = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
  if (bytes.length !== GRAMJS_BYTES_BESIDES_ADDRESS + length) return null;
  // latin1 keeps every byte a character: non-ASCII text fails both tests below instead of being "repaired".
  const address = Buffer.from(bytes.subarray(3, 3 + length)).toString('latin1');
  return isIP(address) !== 0 || HOST_NAME.test(address) ? address : null;
}

/** Telethon and GramJS strings: both are a version digit, "1", and base64 after it; the layout tells them apart. */
function parseVersionOneString(text: string): ImportedSession {
  const version = text[0];
  const bytes = decodeBase64(text.slice(1), 'the Telethon or GramJS session string');
  const address = gramjsAddress(bytes);
  if (address === null && bytes.length !== TELETHON_IPV4_BYTES && bytes.length !== TELETHON_IPV6_BYTES) {
    invalid(
      `the GramJS or Telethon session string decodes to ${bytes.length} bytes; a Telethon string holds ` +
        `${TELETHON_IPV4_BYTES} (IPv4) or ${TELETHON_IPV6_BYTES} (IPv6) bytes, a GramJS string ` +
        `${GRAMJS_BYTES_BESIDES_ADDRESS} and its server address — it is truncated or damaged; copy it again in full`,
      { bytes: bytes.length },
    );
  }
  if (version !== '1') {
    invalid(
      `the session string starts with version "${version}"; Telethon and GramJS strings start with "1" (an unknown or damaged string)`,
    );
  }
  return address === null ? parseTelethon(bytes) : parseGramjs(bytes, address);
}

function parseTelethon(bytes: Uint8Array): ImportedSession {
  const ipv6 = bytes.length === TELETHON_IPV6_BYTES;
  const ipLength = ipv6 ? 16 : 4;
  const dcId = bytes[0] ?? 0;
  const ipAddress = ipv6 ? formatIpv6(bytes.subarray(1, 17)) : formatIpv4(bytes.subarray(1, 5));
  const port = ((bytes[1 + ipLength] ?? 0) << 8) | (bytes[2 + ipLength] ?? 0);
  const authKey = bytes.slice(3 + ipLength);
  const testMode = TEST_DC_ADDRESSES.has(ipAddress);
  checkDcId(dcId, 'telethon-string', testMode);
  if (port === 0) invalid('the Telethon session string names port 0; the session is corrupt', {});
  checkAuthKey(authKey, 'telethon-string');
  return {
    format: 'telethon-string',
    dcId,
    ipAddress,
    port,
    ipv6,
    authKey,
    userId: null,
    isBot: null,
    testMode,
    apiId: null,
  };
}

function parseGramjs(bytes: Uint8Array, address: string): ImportedSession {
  const dcId = bytes[0] ?? 0;
  const portAt = 3 + address.length;
  const port = ((bytes[portAt] ?? 0) << 8) | (bytes[portAt + 1] ?? 0);
  const authKey = bytes.slice(portAt + 2);
  const ipVersion = isIP(address);
  // A browser's WebSocket host cannot be dialled over TCP: the DC's well-known address is used instead.
  const ipAddress = ipVersion === 0 ? null : address;
  const testMode = ipAddress !== null && TEST_DC_ADDRESSES.has(ipAddress);
  checkDcId(dcId, 'gramjs-string', testMode);
  if (port === 0) invalid('the GramJS session string names port 0; the session is corrupt', {});
  checkAuthKey(authKey, 'gramjs-string');
  return {
    format: 'gramjs-string',
    dcId,
    ipAddress,
    port: ipAddress === null ? null : port,
    ipv6: ipVersion === 6,
    authKey,
    userId: null,
    isBot: null,
    testMode,
    apiId: null,
  };
}

/**
 * Stagger posts as a user does: it finds groups in the account's dialogs and forwards into groups the account is a
 * member of. Telegram refuses bots the dialogs call, and a bot is only in the groups someone added it to.
 */
function refuseBot(format: SessionFormat): never {
  invalid(
    `the ${label(format)} belongs to a bot: bots cannot forward into groups the way Stagger needs; import a user account`,
    { format },
  );
}

function readBool(byte: number | undefined, what: string): boolean {
  if (byte !== 0 && byte !== 1) {
    invalid(`the Pyrogram session string has an invalid ${what} flag; the session is corrupt`, {
      format: 'pyrogram-string',
    });
  }
  return byte === 1;
}

function parsePyrogram(bytes: Uint8Array): ImportedSession {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const dcId = view.getUint8(offset++);
  let apiId: number | null = null;
  if (bytes.length === PYROGRAM_BYTES) {
    apiId = view.getUint32(offset);
    offset += 4;
  }
  const testMode = readBool(view.getUint8(offset++), 'test mode');
  const authKey = bytes.slice(offset, offset + AUTH_KEY_BYTES);
  offset += AUTH_KEY_BYTES;
  let userId: bigint;
  if (bytes.length === PYROGRAM_OLD_32_BYTES) {
    userId = BigInt(view.getUint32(offset));
    offset += 4;
  } else {
    userId = view.getBigUint64(offset);
    offset += 8;
  }
  const isBot = readBool(view.getUint8(offset), 'is-bot');
  checkDcId(dcId, 'pyrogram-string', testMode);
  checkAuthKey(authKey, 'pyrogram-string');
  if (isBot) refuseBot('pyrogram-string');
  return {
    format: 'pyrogram-string',
    dcId,
    ipAddress: null,
    port: null,
    ipv6: false,
    authKey,
    // 0 means the exporter did not know the user.
    userId: userId === 0n ? null : userId.toString(),
    isBot,
    testMode,
    apiId: apiId === 0 ? null : apiId,
  };
}

function parseMtcute(text: string, bytes: Uint8Array): ImportedSession {
  let data: ReturnType<typeof readStringSession>;
  try {
    data = readStringSession(text);
  } catch {
    invalid(
      'the mtcute session string is damaged or truncated (it could not be read); copy it again in full',
      {
        format: 'mtcute-string',
      },
    );
  }
  const main = data.primaryDcs.main;
  if (!(data.authKey instanceof Uint8Array)) {
    invalid('the mtcute session string is damaged or truncated (no auth key); copy it again in full', {
      format: 'mtcute-string',
    });
  }
  checkAuthKey(data.authKey, 'mtcute-string');
  // A string mtcute wrote re-encodes to the same length; trailing garbage or a cut-off string does not.
  let reencoded: string;
  try {
    reencoded = writeStringSession(data);
  } catch {
    invalid('the mtcute session string is damaged (it does not re-encode)', { format: 'mtcute-string' });
  }
  if (decodeBase64(reencoded, 'the mtcute session string').length !== bytes.length) {
    invalid('the mtcute session string has extra or missing bytes; it is damaged or truncated', {
      format: 'mtcute-string',
    });
  }
  const testMode = Boolean(main.testMode);
  checkDcId(main.id, 'mtcute-string', testMode);
  if (data.self?.isBot) refuseBot('mtcute-string');
  return {
    format: 'mtcute-string',
    dcId: main.id,
    ipAddress: main.ipAddress,
    port: main.port,
    ipv6: Boolean(main.ipv6),
    authKey: new Uint8Array(data.authKey),
    userId: data.self ? String(data.self.userId) : null,
    isBot: data.self ? data.self.isBot : null,
    testMode,
    apiId: null,
  };
}

/**
 * Detects and reads a Telethon, GramJS, Pyrogram or mtcute session string (surrounding whitespace and quotes are
 * ignored). Throws `StaggerError('SESSION_IMPORT_INVALID')` for anything corrupt, truncated, unknown or a bot's.
 */
export function parseSessionString(input: string): ImportedSession {
  const text = input
    .trim()
    .replace(/^(["'`])(.*)\1$/s, '$2')
    .trim();
  if (text === '') invalid('the session string is empty', { length: 0 });
  if (/\s/.test(text)) {
    invalid('the session string contains spaces or line breaks; paste it as one unbroken line', {
      length: text.length,
    });
  }
  // Telethon and GramJS: a version digit, then base64. No Pyrogram or mtcute string starts with a digit (their
  // first byte, the DC id or the version, is < 4, which base64 writes as "A").
  if (/^[0-9]/.test(text)) return parseVersionOneString(text);

  const bytes = decodeBase64(text, 'the session string');
  if (
    bytes.length === PYROGRAM_BYTES ||
    bytes.length === PYROGRAM_OLD_64_BYTES ||
    bytes.length === PYROGRAM_OLD_32_BYTES
  ) {
    return parsePyrogram(bytes);
  }
  if (bytes[0] === MTCUTE_VERSION) return parseMtcute(text, bytes);
  invalid(
    `unrecognised session string (${text.length} characters, ${bytes.length} bytes): expected a Telethon or ` +
      `GramJS string (starts with "1"), a Pyrogram string ` +
      `(${PYROGRAM_BYTES} bytes, or ${PYROGRAM_OLD_32_BYTES}/${PYROGRAM_OLD_64_BYTES} for old versions) or an mtcute ` +
      'string (version 3); it may be truncated or from another library',
    { length: text.length, bytes: bytes.length },
  );
}

interface TelethonRow {
  dc_id: unknown;
  server_address: unknown;
  port: unknown;
  auth_key: unknown;
}

/**
 * Reads a Telethon `.session` file (SQLite). The bytes are written to a private temporary directory, opened
 * read-only, and the directory is removed before returning — nothing is left on disk.
 */
export function parseTelethonSessionFile(bytes: Uint8Array): ImportedSession {
  if (bytes.length === 0) invalid('the session file is empty', { bytes: 0 });
  if (bytes.length > MAX_SESSION_FILE_BYTES) {
    invalid(`the session file is ${bytes.length} bytes; a Telethon session file is far smaller`, {
      bytes: bytes.length,
    });
  }
  const header = Buffer.from(bytes.subarray(0, SQLITE_MAGIC.length)).toString('latin1');
  if (header !== SQLITE_MAGIC) {
    invalid(
      'the file is not an SQLite database, so not a Telethon .session file (for a session string, paste the string instead)',
      { bytes: bytes.length },
    );
  }
  const copy = new Uint8Array(bytes);
  // A WAL-mode database cannot be opened read-only without its -wal/-shm files; the copy is switched to the
  // rollback journal (header bytes 18/19), which is what Telethon uses anyway.
  if (copy[18] === 2 && copy[19] === 2) {
    copy[18] = 1;
    copy[19] = 1;
  }

  const dir = mkdtempSync(join(tmpdir(), 'stagger-session-'));
  try {
    const file = join(dir, `${randomUUID()}.session`);
    writeFileSync(file, copy, { mode: 0o600 });
    let rows: TelethonRow[];
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      const table = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sessions'")
        .get() as { name: string } | undefined;
      if (!table) {
        invalid('the SQLite file has no "sessions" table, so it is not a Telethon session file', {
          format: 'telethon-file',
        });
      }
      rows = db.prepare('SELECT dc_id, server_address, port, auth_key FROM sessions').all() as TelethonRow[];
    } catch (error) {
      if (error instanceof StaggerError) throw error;
      invalid(
        'the file could not be read as a Telethon session database (it is damaged, or its "sessions" table lacks ' +
          'dc_id, server_address, port or auth_key)',
        { format: 'telethon-file' },
      );
    } finally {
      db?.close();
    }
    if (rows.length === 0) {
      invalid(
        'the Telethon session file has no session in it (the "sessions" table is empty): it was never logged in',
        {
          format: 'telethon-file',
        },
      );
    }
    if (rows.length > 1) {
      invalid(`the Telethon session file has ${rows.length} sessions; Telethon writes exactly one`, {
        format: 'telethon-file',
        rows: rows.length,
      });
    }
    return telethonRow(rows[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function telethonRow(row: TelethonRow): ImportedSession {
  const dcId = typeof row.dc_id === 'bigint' ? Number(row.dc_id) : row.dc_id;
  const port = typeof row.port === 'bigint' ? Number(row.port) : row.port;
  if (typeof dcId !== 'number')
    invalid('the Telethon session file has no DC id', { format: 'telethon-file' });
  if (!(row.auth_key instanceof Uint8Array)) {
    invalid('the Telethon session file has no auth key (auth_key is empty or not binary)', {
      format: 'telethon-file',
    });
  }
  const authKey = new Uint8Array(row.auth_key);
  checkAuthKey(authKey, 'telethon-file');
  const address = typeof row.server_address === 'string' ? row.server_address.trim() : '';
  if (address !== '' && !/^[0-9a-fA-F.:]+$/.test(address)) {
    invalid('the Telethon session file has a server address that is not an IP address', {
      format: 'telethon-file',
    });
  }
  const ipAddress = address === '' ? null : address;
  const testMode = ipAddress !== null && TEST_DC_ADDRESSES.has(ipAddress);
  checkDcId(dcId, 'telethon-file', testMode);
  const validPort = typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536;
  if (port !== null && port !== undefined && !validPort) {
    invalid('the Telethon session file has an invalid port', { format: 'telethon-file' });
  }
  return {
    format: 'telethon-file',
    dcId,
    ipAddress,
    port: validPort && ipAddress !== null ? port : null,
    ipv6: ipAddress !== null && ipAddress.includes(':'),
    authKey,
    userId: null,
    isBot: null,
    testMode,
    apiId: null,
  };
}

/** The DC an imported session connects to first: its own address, or the well-known one. */
export function primaryDcOf(session: ImportedSession): BasicDcOption {
  const known = session.ipAddress !== null;
  const dc: BasicDcOption = {
    id: session.dcId,
    ipAddress: known ? session.ipAddress! : wellKnownDcAddress(session.dcId, session.testMode),
    port: known ? (session.port ?? DEFAULT_PORT) : DEFAULT_PORT,
  };
  if (known && session.ipv6) dc.ipv6 = true;
  if (session.testMode) dc.testMode = true;
  return dc;
}

/** Writes an mtcute session string (version 3) for an imported session. */
export function toMtcuteSessionString(session: ImportedSession): string {
  checkAuthKey(session.authKey, session.format);
  checkDcId(session.dcId, session.format, session.testMode);
  const dc = primaryDcOf(session);
  let self: { userId: number; isBot: boolean; isPremium: boolean; usernames: string[] } | null = null;
  if (session.userId !== null && session.isBot !== null) {
    const id = Number(session.userId);
    // mtcute keeps the user id as an int53; an id it cannot hold exactly is left out (mtcute fetches it).
    if (Number.isSafeInteger(id) && String(id) === session.userId && id > 0) {
      self = { userId: id, isBot: session.isBot, isPremium: false, usernames: [] };
    }
  }
  return writeStringSession({
    version: MTCUTE_VERSION,
    // The same object for main and media: written once (mtcute reads media = main).
    primaryDcs: { main: dc, media: dc },
    self,
    authKey: session.authKey,
  });
}
