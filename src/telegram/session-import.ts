/**
 * Storing an imported Telegram session — the one implementation behind `POST /api/sessions/import` and
 * `stagger sessions import`: refuse an auth key that is already stored (one key used from two clients at once is
 * revoked by Telegram, AUTH_KEY_DUPLICATED), convert to an mtcute string, store it encrypted.
 */
import { readStringSession } from '@mtcute/core/utils.js';
import { StaggerError } from '../core/errors.js';
import type { SessionRecord } from '../storage/sessions.js';
import type { Store } from '../storage/store.js';
import { toMtcuteSessionString, type ImportedSession } from './mtcute/session-formats.js';

export const SessionDuplicateCode = 'SESSION_DUPLICATE';

/** The stored session that already uses this auth key (any owner, the pool included), if any. */
export async function sessionWithKey(store: Store, authKey: Uint8Array): Promise<SessionRecord | null> {
  const wanted = Buffer.from(authKey);
  for (const existing of await store.sessions.listAll()) {
    if (existing.driver !== 'mtcute' || !existing.hasCredentials) continue;
    const credentials = await store.sessions.credentials(existing.id);
    let key: Uint8Array | null = null;
    try {
      key = credentials ? readStringSession(credentials.authString).authKey : null;
    } catch {
      continue;
    }
    if (key && wanted.equals(Buffer.from(key))) return existing;
  }
  return null;
}

export async function storeImportedSession(
  store: Store,
  input: {
    ownerUserId: string | null;
    imported: ImportedSession;
    label?: string | undefined;
    apiId: number;
    apiHash: string;
  },
): Promise<SessionRecord> {
  const { imported } = input;
  const existing = await sessionWithKey(store, imported.authKey);
  if (existing) {
    // The importer's own copy may be named; of anyone else's, only that the account is in use (no id, no owner).
    const where =
      existing.ownerUserId !== null && existing.ownerUserId === input.ownerUserId
        ? `it is already imported (your session ${existing.id}); delete that one first to import it again`
        : 'this account is already in use';
    throw new StaggerError(
      SessionDuplicateCode,
      `this Telegram session cannot be imported: ${where}. One session used from two places gets revoked by Telegram`,
    );
  }
  return store.sessions.create({
    ownerUserId: input.ownerUserId,
    label: input.label ?? `imported ${imported.format}${imported.userId ? ` ${imported.userId}` : ''}`,
    driver: 'mtcute',
    authString: toMtcuteSessionString(imported),
    apiId: input.apiId,
    apiHash: input.apiHash,
    tgUserId: imported.userId,
  });
}
