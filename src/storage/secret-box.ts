/**
 * Session secrets at rest: AES-256-GCM with a random 96-bit nonce per value. The key comes from
 * STAGGER_SECRET_KEY (32 bytes, base64 or hex) or a key file created in the data directory on first run
 * (mode 0600). A known value encrypted with the key is kept in the database, so a wrong key is refused at start
 * with a clear message instead of yielding garbage later.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { StaggerError } from '../core/errors.js';
import { createPrivateDir } from './database.js';
import type { Schema } from './schema.js';

const VERSION = 'v1';
const KEY_CHECK = 'stagger-secret-key-check';
export const KEY_FILE_NAME = 'secret.key';

export const SecretErrorCode = {
  BadKey: 'SECRET_KEY_INVALID',
  KeyMismatch: 'SECRET_KEY_MISMATCH',
  Undecryptable: 'SECRET_UNDECRYPTABLE',
} as const;

export function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new StaggerError(
      SecretErrorCode.BadKey,
      `${source} must be 32 bytes, written as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  return key;
}

export class SecretBox {
  private readonly key: Buffer;
  /** A short fingerprint of the key for logs (never the key). */
  readonly fingerprint: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new StaggerError(SecretErrorCode.BadKey, 'the secret key must be 32 bytes');
    this.key = key;
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(value: string): string {
    const [version, payload] = value.split(':', 2);
    if (version !== VERSION || !payload) {
      throw new StaggerError(SecretErrorCode.Undecryptable, 'a stored secret is not in a known format');
    }
    const raw = Buffer.from(payload, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new StaggerError(
        SecretErrorCode.Undecryptable,
        'a stored secret cannot be decrypted with this key',
        {
          cause,
        },
      );
    }
  }

  /**
   * The key for this installation: STAGGER_SECRET_KEY, else the key file (created when missing and the
   * database has no secrets yet), checked against the value stored at first run.
   */
  static async open(options: {
    db: Kysely<Schema>;
    dataDir: string;
    envKey?: string | undefined;
  }): Promise<SecretBox> {
    const { db, dataDir, envKey } = options;
    const stored = await db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'secret_key_check')
      .executeTakeFirst();
    const file = join(dataDir, KEY_FILE_NAME);
    let key: Buffer;
    let source: string;
    if (envKey !== undefined && envKey.trim() !== '') {
      key = parseKey(envKey, 'STAGGER_SECRET_KEY');
      source = 'STAGGER_SECRET_KEY';
    } else if (existsSync(file)) {
      key = parseKey(readFileSync(file, 'utf8'), file);
      source = file;
    } else if (stored) {
      throw new StaggerError(
        SecretErrorCode.KeyMismatch,
        `this database holds encrypted secrets but no key was given: set STAGGER_SECRET_KEY or restore ${file}`,
      );
    } else {
      key = randomBytes(32);
      createPrivateDir(dataDir);
      writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      source = file;
    }
    const box = new SecretBox(key);
    if (stored) {
      let ok = false;
      try {
        ok = box.decrypt(stored.value) === KEY_CHECK;
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new StaggerError(
          SecretErrorCode.KeyMismatch,
          `the secret key from ${source} is not the key this database was created with; refusing to start ` +
            '(set the original STAGGER_SECRET_KEY or restore the original key file)',
        );
      }
    } else {
      await db
        .insertInto('meta')
        .values({ key: 'secret_key_check', value: box.encrypt(KEY_CHECK) })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      // Two processes starting at once on a new database: the first check written wins; verify against it.
      return SecretBox.open(options);
    }
    return box;
  }
}
