/**
 * `POST /api/bot/stop` while a real session's data centre never answers its connect: the API over a real runtime and
 * a real `MtcuteGateway` (wired as `Service` wires them) on clients of the offline harness, whose transport leaves
 * every connect pending.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBotControl } from '../../src/runtime/bot-control.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { storedMtcuteGateway } from '../../src/service.js';
import { GatewayRouter } from '../../src/telegram/gateway.js';
import type { MtcuteGateway } from '../../src/telegram/mtcute/mtcute-gateway.js';
import { SandboxGateway } from '../../src/telegram/sandbox/sandbox-gateway.js';
import { testApi, type TestApi } from '../support/api.js';
import { API_HASH, API_ID, sessionString } from '../support/mtcute/fixtures.js';
import { OfflineTelegram, settles } from '../support/mtcute/offline-telegram.js';

let telegram: OfflineTelegram;
let api: TestApi | undefined;
let runtime: Runtime | undefined;
let gateway: MtcuteGateway | undefined;

afterEach(async () => {
  await runtime?.close();
  // Connects left pending fail, so that the clients' destroys (and the gateway's close) can finish.
  telegram.transport.mode = 'refused';
  telegram.transport.failPending();
  await api?.close();
  await telegram.destroyAll();
  api = runtime = gateway = undefined;
});

describe('POST /api/bot/stop while a session cannot connect', () => {
  it('answers at once and stops the bot while the connect is still pending; the client is destroyed afterwards', async () => {
    telegram = new OfflineTelegram();
    telegram.transport.mode = 'never';
    api = await testApi({
      env: { TELEGRAM_API_ID: String(API_ID), TELEGRAM_API_HASH: API_HASH },
      depsFrom: ({ store, clock, config }) => {
        gateway = storedMtcuteGateway(store, config, { createClient: telegram.createClient });
        const router = new GatewayRouter({
          sandbox: new SandboxGateway({ clock, store: store.sandbox }),
          mtcute: gateway,
        });
        runtime = new Runtime({
          clock,
          gateway: router,
          store: store.runtime,
          options: { planningLeadMs: 0 },
        });
        return { gateway: router, control: new LocalBotControl(runtime) };
      },
      onClose: async () => {
        await gateway?.close();
      },
    });
    const c = await api.user();
    await api.store.sessions.create({
      ownerUserId: c.id,
      label: 'imported',
      driver: 'mtcute',
      authString: sessionString(),
      apiId: API_ID,
      apiHash: API_HASH,
    });
    const botId = await api.store.bots.ensureForUser(c.id);
    await api.store.bots.setPostLink(botId, 'https://t.me/sourcechan/42');
    await api.store.bots.setGroups(botId, ['-1001000000001', '-1001000000002']);

    expect((await api.request('POST', '/api/bot/start', { token: c.token, body: {} })).statusCode).toBe(200);
    await settles(() => telegram.transport.pendingConnects === 1);

    const stop = await api.request('POST', '/api/bot/stop', { token: c.token });
    expect([stop.statusCode, stop.json()]).toEqual([200, { status: 'stopped' }]);
    // answered while the connect had not settled: the stop did not wait for it
    expect(telegram.transport.pendingConnects).toBe(1);
    expect(runtime!.isRunning(botId)).toBe(false);
    expect((await api.request('GET', '/api/bot/status', { token: c.token })).json().status).toBe('stopped');
    // nothing reached Telegram, and the session's client is being destroyed
    expect(telegram.requests).toEqual([]);
    await settles(() => telegram.destroyRequested(0));
  });
});
