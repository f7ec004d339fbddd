/**
 * A connected client on the offline Telegram, as the gateway's client pool hands it to the parts that call
 * Telegram: for unit tests of those parts without the pool.
 */
import type { SessionClient } from '../../../src/telegram/mtcute/client-pool.js';
import { credentials } from './fixtures.js';
import type { OfflineTelegram } from './offline-telegram.js';

export async function connectedClient(telegram: OfflineTelegram, sessionId = 's1'): Promise<SessionClient> {
  const creds = credentials();
  const tg = telegram.createClient({ apiId: creds.apiId, apiHash: creds.apiHash });
  await tg.importSession(creds.authString, true);
  await tg.connect();
  return { sessionId, tg };
}
