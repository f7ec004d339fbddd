/**
 * Is a session alive, whose account is it, and is the account limited? Used when a session is imported or
 * re-checked — NOT for a session the gateway is running at the same time (that would run the auth key from two
 * clients at once).
 *
 * What is checked (two cheap calls, nothing sent to anyone):
 * 1. `getMe` (users.getUsers [self]): the key works; the account's id, name and username. The user object's
 *    `restricted` (with its restriction reasons), `scam` and `fake` flags make the result `limited`.
 * 2. `help.getAppConfig`: Telegram describes a freeze of the account there (freeze.ts): a frozen account is
 *    reported with the freeze (since, until, the appeal link) and as limited (`frozen`); its key still works, so
 *    the check itself succeeds. A failure of this call is ignored unless it says the session is dead.
 * Stagger never messages @SpamBot (it never messages users), so a spam limit that shows only there
 * (PEER_FLOOD on sending) is found by the runtime on the first forward, not here.
 */
import { readStringSession } from '@mtcute/core/utils.js';
import type { TelegramClient } from '@mtcute/node';
import { frozenAt, type FreezeState } from '../../core/freeze.js';
import { classifyError } from '../../core/outcome.js';
import { answerFromError } from './answers.js';
import { createDefaultClient, type ClientParams } from './client-factory.js';
import { readFreeze } from './freeze.js';
import type { SessionCredentials } from './session-credentials.js';
import { wallClock, type TelegramClock } from './telegram-clock.js';

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
      /**
       * Why `limited`: 'restricted', 'scam', 'fake' (and Telegram's restriction reasons, e.g. 'restricted:spam'),
       * 'frozen'.
       */
      limitReasons: string[];
      /** The freeze Telegram describes (core/freeze.ts), null when none; `limited` says whether it lasts now. */
      frozen: FreezeState | null;
      /** The session string after the check (now carrying the account id); store it if it differs. */
      authString: string;
    }
  | { ok: false; dead: boolean; error: string };

export interface SessionCheckOptions {
  /** The whole check gives up after this long (TIMEOUT, not dead). Default 30 s. */
  timeoutMs?: number;
  /** Whether a freeze lasts is judged at this clock's time. Default: the wall clock. */
  clock?: Pick<TelegramClock, 'now'>;
}

function isDead(error: string, code?: number): boolean {
  return classifyError(error, code).kind === 'session_dead';
}

async function runCheck(
  tg: TelegramClient,
  creds: SessionCredentials,
  options: { timeoutMs: number; now: () => number },
): Promise<SessionCheck> {
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

  let frozen: FreezeState | null = null;
  try {
    const freeze = await readFreeze(tg, { timeoutMs: options.timeoutMs });
    if (freeze !== 'unknown') frozen = freeze;
  } catch (error) {
    const answer = answerFromError(error);
    if (!answer.ok && isDead(answer.error, answer.code))
      return { ok: false, dead: true, error: answer.error };
  }
  if (frozenAt(frozen, options.now())) reasons.push('frozen');

  const name = [me.firstName, me.lastName].filter((p) => p !== null && p !== '').join(' ');
  return {
    ok: true,
    account: { id: String(me.raw.id), name, username: me.username },
    limited: reasons.length > 0,
    limitReasons: reasons,
    frozen,
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
  const timeoutMs = options.timeoutMs ?? 30_000;
  const clock = options.clock ?? wallClock;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<SessionCheck>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, dead: false, error: 'TIMEOUT' }), timeoutMs);
  });
  // Settles in every case (also after a timeout closed the client under it): no unhandled rejection.
  const check = runCheck(tg, creds, { timeoutMs, now: () => clock.now() }).catch(
    (error: unknown): SessionCheck => {
      const answer = answerFromError(error);
      return { ok: false, dead: false, error: answer.ok ? 'NETWORK_ERROR' : answer.error };
    },
  );
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
    await tg.destroy().catch(() => undefined);
  }
}
