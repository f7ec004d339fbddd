import { readStringSession } from '@mtcute/core/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSession } from './session-check.js';
import { OfflineTelegram, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import { appConfig, credentials, user } from '../../../test/support/mtcute/fixtures.js';

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
      frozen: null,
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

  it('frozen (freeze keys in the app config): the freeze with its appeal link, limited as `frozen`', async () => {
    setup();
    telegram.on(
      'help.getAppConfig',
      appConfig({
        freeze_since_date: 1_700_000_000,
        freeze_until_date: 1_800_000_000,
        freeze_appeal_url: 'https://t.me/spambot?start=appeal',
      }),
    );
    const result = await checkSession(credentials(), telegram.createClient, {
      clock: { now: () => 1_750_000_000_000 },
    });
    expect(result).toMatchObject({
      ok: true,
      account: { id: '42' },
      limited: true,
      limitReasons: ['frozen'],
      frozen: {
        since: 1_700_000_000_000,
        until: 1_800_000_000_000,
        appealUrl: 'https://t.me/spambot?start=appeal',
      },
    });
    // the freeze is read from the account's own app config, from the start (hash 0)
    expect(telegram.calls('help.getAppConfig')).toEqual([{ _: 'help.getAppConfig', hash: 0 }]);
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('a freeze past its deletion date is reported, but not as a limit; a link that is not a web link is dropped', async () => {
    setup();
    telegram.on(
      'help.getAppConfig',
      appConfig({
        freeze_since_date: 1_700_000_000,
        freeze_until_date: 1_800_000_000,
        freeze_appeal_url: 'javascript:alert(1)',
      }),
    );
    const result = await checkSession(credentials(), telegram.createClient, {
      clock: { now: () => 1_800_000_000_000 },
    });
    expect(result).toMatchObject({
      ok: true,
      limited: false,
      limitReasons: [],
      frozen: { since: 1_700_000_000_000, until: 1_800_000_000_000, appealUrl: null },
    });
  });

  it('without freeze keys (other keys only) nothing is frozen', async () => {
    setup();
    telegram.on('help.getAppConfig', appConfig({ stories_all_hidden: 1, freeze_since_date: 0 }));
    expect(await checkSession(credentials(), telegram.createClient)).toMatchObject({
      ok: true,
      limited: false,
      frozen: null,
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
