import { readStringSession } from '@mtcute/core/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSession } from './session-check.js';
import { OfflineTelegram, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import { credentials, user } from '../../../test/support/mtcute/fixtures.js';

let telegram: OfflineTelegram;
afterEach(() => telegram.destroyAll());

function setup(me: object = user({ id: 42, firstName: 'Ada', lastName: 'Lovelace', username: 'ada' })) {
  telegram = new OfflineTelegram();
  telegram.on('users.getUsers', [me]);
  telegram.on('help.getAppConfig', { _: 'help.appConfig', hash: 1, config: { _: 'jsonObject', value: [] } });
}

describe('checkSession', () => {
  it('alive: the account, not limited, and the session string now carrying the account id; client closed', async () => {
    setup();
    const result = await checkSession(credentials(), telegram.createClient);
    expect(result).toMatchObject({
      ok: true,
      account: { id: '42', name: 'Ada Lovelace', username: 'ada' },
      limited: false,
      limitReasons: [],
    });
    if (!result.ok) throw new Error('not ok');
    expect(readStringSession(result.authString).self?.userId).toBe(42);
    expect(telegram.calls('users.getUsers')[0]!.id).toEqual([{ _: 'inputUserSelf' }]);
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('limited when the user object says restricted, scam or fake', async () => {
    setup(user({ id: 7, firstName: 'Spam', restricted: true, scam: true }));
    const result = await checkSession(credentials(), telegram.createClient);
    expect(result).toMatchObject({
      ok: true,
      limited: true,
      limitReasons: ['restricted', 'restricted:spam', 'scam'],
    });
  });

  it('frozen (app config freeze_since_date) → dead with FROZEN_METHOD_INVALID', async () => {
    setup();
    telegram.on('help.getAppConfig', {
      _: 'help.appConfig',
      hash: 1,
      config: {
        _: 'jsonObject',
        value: [
          {
            _: 'jsonObjectValue',
            key: 'freeze_since_date',
            value: { _: 'jsonNumber', value: 1_700_000_000 },
          },
        ],
      },
    });
    expect(await checkSession(credentials(), telegram.createClient)).toEqual({
      ok: false,
      dead: true,
      error: 'FROZEN_METHOD_INVALID',
    });
  });

  it.each(['AUTH_KEY_UNREGISTERED', 'SESSION_REVOKED', 'USER_DEACTIVATED_BAN', 'AUTH_KEY_DUPLICATED'])(
    '%s → dead',
    async (error) => {
      setup();
      telegram.on('users.getUsers', rpcError(401, error));
      expect(await checkSession(credentials(), telegram.createClient)).toEqual({
        ok: false,
        dead: true,
        error,
      });
      expect(telegram.isDestroyed(0)).toBe(true);
    },
  );

  it('a flood wait or a network problem is not death', async () => {
    setup();
    telegram.on('users.getUsers', rpcError(420, 'FLOOD_WAIT_10'));
    expect(await checkSession(credentials(), telegram.createClient)).toEqual({
      ok: false,
      dead: false,
      error: 'FLOOD_WAIT_10',
    });
    telegram.on('users.getUsers', () => new Promise(() => {}));
    expect(await checkSession(credentials(), telegram.createClient, { timeoutMs: 50 })).toEqual({
      ok: false,
      dead: false,
      error: 'TIMEOUT',
    });
  });

  it('an unreadable session string is dead without any client', async () => {
    setup();
    expect(await checkSession({ ...credentials(), authString: 'garbage' }, telegram.createClient)).toEqual({
      ok: false,
      dead: true,
      error: 'SESSION_STRING_INVALID',
    });
    expect(telegram.clients).toHaveLength(0);
  });
});
