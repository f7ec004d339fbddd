/**
 * Is a session alive, whose account is it, and is the account limited? Used when a session is imported or
 * re-checked — NOT for a session the gateway is running at the same time (that would run the auth key from two
 * clients at once).
 *
 * What is checked (two cheap calls, nothing sent to anyone):
 * 1. `getMe` (users.getUsers [self]): the key works; the account's id, name and username. The user object's
 *    `restricted` (with its restriction reasons), `scam` and `fake` flags make the result `limited`.
 * 2. `help.getAppConfig`: Telegram sets `freeze_since_date` there for a frozen account; a frozen account is
 *    reported dead with FROZEN_METHOD_INVALID (what its calls would answer). A failure of this call is ignored
 *    unless it says the session is dead.
 * Stagger never messages @SpamBot (it never messages users), so a spam limit that shows only there
 * (PEER_FLOOD on sending) is found by the runtime on the first forward, not here.
 */
import type { tl } from '@mtcute/core';
import { readStringSession } from '@mtcute/core/utils.js';
import type { TelegramClient } from '@mtcute/node';
import { classifyError } from '../../core/outcome.js';
import { answerFromError } from './answers.js';
import { createDefaultClient, NO_FLOOD_SLEEP, type ClientParams } from './client-factory.js';
import type { SessionCredentials } from './session-credentials.js';

export interface SessionAccount {
  /** Decimal user id. */
  id: string;
  name: string;
  username: string | null;
}

export type SessionCheck =
  | {
      ok: true;
      account: SessionAccount;
      limited: boolean;
      /** Why `limited`: 'restricted', 'scam', 'fake' (and Telegram's restriction reasons, e.g. 'restricted:spam'). */
      limitReasons: string[];
      /** The session string after the check (now carrying the account id); store it if it differs. */
      authString: string;
    }
  | { ok: false; dead: boolean; error: string };

export interface SessionCheckOptions {
  /** The whole check gives up after this long (TIMEOUT, not dead). Default 30 s. */
  timeoutMs?: number;
}

function isDead(error: string, code?: number): boolean {
  return classifyError(error, code).kind === 'session_dead';
}

function jsonNumberAt(config: tl.TypeJSONValue, key: string): number | null {
  if (config._ !== 'jsonObject') return null;
  const entry = config.value.find((v) => v.key === key);
  return entry?.value._ === 'jsonNumber' ? entry.value.value : null;
}

async function runCheck(tg: TelegramClient, creds: SessionCredentials): Promise<SessionCheck> {
  try {
    await tg.importSession(creds.authString, true);
  } catch {
    return { ok: false, dead: true, error: 'SESSION_STRING_INVALID' };
  }
  let me;
  try {
    me = await tg.getMe();
  } catch (error) {
    const answer = answerFromError(error);
    const text = answer.ok ? 'NETWORK_ERROR' : answer.error;
    return { ok: false, dead: !answer.ok && isDead(answer.error, answer.code), error: text };
  }

  const reasons: string[] = [];
  if (me.raw.restricted) {
    reasons.push('restricted');
    for (const r of me.raw.restrictionReason ?? []) reasons.push(`restricted:${r.reason}`);
  }
  if (me.raw.scam) reasons.push('scam');
  if (me.raw.fake) reasons.push('fake');

  try {
    const appConfig = await tg.call({ _: 'help.getAppConfig', hash: 0 }, NO_FLOOD_SLEEP);
    if (appConfig._ === 'help.appConfig') {
      const frozenSince = jsonNumberAt(appConfig.config, 'freeze_since_date');
      if (frozenSince !== null && frozenSince > 0)
        return { ok: false, dead: true, error: 'FROZEN_METHOD_INVALID' };
    }
  } catch (error) {
    const answer = answerFromError(error);
    if (!answer.ok && isDead(answer.error, answer.code))
      return { ok: false, dead: true, error: answer.error };
  }

  const name = [me.firstName, me.lastName].filter((p) => p !== null && p !== '').join(' ');
  return {
    ok: true,
    account: { id: String(me.raw.id), name, username: me.username },
    limited: reasons.length > 0,
    limitReasons: reasons,
    authString: await tg.exportSession(),
  };
}

/** Connects with the session, reads the account, closes. Never throws for Telegram or network trouble. */
export async function checkSession(
  creds: SessionCredentials,
  createClient: (params: ClientParams) => TelegramClient = createDefaultClient,
  options: SessionCheckOptions = {},
): Promise<SessionCheck> {
  let testMode: boolean;
  try {
    testMode = Boolean(readStringSession(creds.authString).primaryDcs.main.testMode);
  } catch {
    return { ok: false, dead: true, error: 'SESSION_STRING_INVALID' };
  }
  if (!Number.isInteger(creds.apiId) || creds.apiId <= 0 || !creds.apiHash) {
    return { ok: false, dead: false, error: 'API_CREDENTIALS_MISSING' };
  }
  const tg = createClient({ apiId: creds.apiId, apiHash: creds.apiHash, ...(testMode ? { testMode } : {}) });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<SessionCheck>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, dead: false, error: 'TIMEOUT' }),
      options.timeoutMs ?? 30_000,
    );
  });
  // Settles in every case (also after a timeout closed the client under it): no unhandled rejection.
  const check = runCheck(tg, creds).catch((error: unknown): SessionCheck => {
    const answer = answerFromError(error);
    return { ok: false, dead: false, error: answer.ok ? 'NETWORK_ERROR' : answer.error };
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
    await tg.destroy().catch(() => undefined);
  }
}
