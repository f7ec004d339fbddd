import { afterEach, describe, expect, it } from 'vitest';
import { LogManager } from '@mtcute/core/utils.js';
import { buildClient, NO_FLOOD_SLEEP } from './client-factory.js';
import {
  isOfflineTransport,
  NullTransport,
  OfflineTelegram,
  transportOf,
} from '../../../test/support/mtcute/offline-telegram.js';
import type { TelegramClient } from '@mtcute/node';

const clients: TelegramClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
});

describe('buildClient', () => {
  it('makes a send-only client (updates disabled) and per-call flood sleeping is off', () => {
    const tg = buildClient({ apiId: 1, apiHash: 'x' }, { transport: new NullTransport() });
    clients.push(tg);
    const base = (tg as unknown as { _client: { params: { disableUpdates?: boolean }; updates?: unknown } })
      ._client;
    expect(base.params.disableUpdates).toBe(true);
    expect(base.updates).toBeUndefined();
    expect(NO_FLOOD_SLEEP).toEqual({ floodSleepThreshold: 0 });
    expect(tg.log.mgr.level).toBe(LogManager.WARN);
  });

  it('runs on the transport it is given (the offline kit’s), else on mtcute’s TCP one', async () => {
    const offline = new NullTransport();
    const given = buildClient({ apiId: 1, apiHash: 'x' }, { transport: offline });
    const tcp = buildClient({ apiId: 1, apiHash: 'x' });
    clients.push(given, tcp);
    expect(transportOf(given)).toBe(offline);
    expect(isOfflineTransport(transportOf(given))).toBe(true);
    // never connected: made only to see which transport mtcute picked
    expect(transportOf(tcp)).toEqual(expect.objectContaining({ connect: expect.any(Function) }));
    expect(isOfflineTransport(transportOf(tcp))).toBe(false);

    const telegram = new OfflineTelegram();
    const made = telegram.createClient({ apiId: 1, apiHash: 'x' });
    expect(transportOf(made)).toBe(telegram.transport);
    expect(() => telegram.assertOffline()).not.toThrow();
    await telegram.destroyAll();
  });

  it('sends mtcute’s log lines to the logger as plain text (objects and bytes are not printed)', () => {
    const lines: { level: string; o: object; m?: string }[] = [];
    const logger = {
      info: (o: object, m?: string) => lines.push({ level: 'info', o, m }),
      warn: (o: object, m?: string) => lines.push({ level: 'warn', o, m }),
      error: (o: object, m?: string) => lines.push({ level: 'error', o, m }),
    };
    const tg = buildClient({ apiId: 1, apiHash: 'x' }, { transport: new NullTransport(), logger });
    clients.push(tg);
    tg.log.warn(
      'retrying %s in %ds: %j %s',
      'messages.forwardMessages',
      1,
      { authKey: new Uint8Array(256).fill(7) },
      {
        nested: 'object',
      },
    );
    tg.log.error('failed: %s', new Error('boom'));
    tg.log.debug('not at WARN level');
    expect(lines).toEqual([
      {
        level: 'warn',
        o: { component: 'mtcute', tag: 'client' },
        m: 'retrying messages.forwardMessages in 1s: {"authKey":"[hex]..."} [object]',
      },
      { level: 'error', o: { component: 'mtcute', tag: 'client' }, m: 'failed: Error: boom' },
    ]);
  });
});
