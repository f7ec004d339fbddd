import { readStringSession } from '@mtcute/core/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FreezeState } from '../../core/freeze.js';
import type { TelegramAnswer } from '../../core/outcome.js';
import { VirtualClock } from '../../runtime/clock.js';
import {
  appConfig,
  credentials,
  frozenAppConfig,
  sessionString,
} from '../../../test/support/mtcute/fixtures.js';
import { OfflineTelegram, rpcError, settles } from '../../../test/support/mtcute/offline-telegram.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';
import { ClientPool, type SessionClient } from './client-pool.js';
import type { SessionCredentials } from './session-credentials.js';

const NOOP = { info() {}, warn() {}, error() {} };
const NEAREST_DC = { _: 'nearestDc', country: 'GB', thisDc: 2, nearestDc: 2 };
const OK: TelegramAnswer = { ok: true };

let telegram: OfflineTelegram;
let pools: ClientPool[] = [];

afterEach(async () => {
  // A connect left pending would keep its client's destroy (and so the pool's close) waiting.
  telegram.transport.mode = 'refused';
  telegram.transport.failPending();
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
  await telegram.destroyAll();
});

function setup(
  o: {
    sessions?: Record<string, SessionCredentials | null>;
    releaseGraceMs?: number;
    connectTimeoutMs?: number;
  } = {},
) {
  telegram = new OfflineTelegram({ answers: { 'help.getNearestDc': NEAREST_DC } });
  const sessions = o.sessions ?? { s1: credentials() };
  const clock = new VirtualClock();
  const credentialReads: string[] = [];
  const changed: { sessionId: string; authString: string }[] = [];
  const freezes: { sessionId: string; freeze: FreezeState | null }[] = [];
  const pool = new ClientPool({
    credentials: {
      async get(id) {
        credentialReads.push(id);
        return sessions[id] ?? null;
      },
    },
    createClient: telegram.createClient,
    logger: NOOP,
    clock,
    releaseGraceMs: o.releaseGraceMs ?? 30_000,
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    onAuthStringChanged: async (sessionId, authString) => {
      changed.push({ sessionId, authString });
    },
    onFreezeChanged: async (sessionId, freeze) => {
      freezes.push({ sessionId, freeze });
    },
  });
  pools.push(pool);
  return { pool, clock, credentialReads, changed, freezes };
}

/** One cheap call on the session's client. */
async function ping(client: SessionClient): Promise<TelegramAnswer> {
  await client.tg.call({ _: 'help.getNearestDc' }, NO_FLOOD_SLEEP);
  return OK;
}

describe('reuse', () => {
  it('one client per session, shared by concurrent first calls; each session its own', async () => {
    const { pool, credentialReads } = setup({ sessions: { s1: credentials(), s2: credentials() } });
    const seen: SessionClient[] = [];
    const run = (id: string) =>
      pool.run(id, async (client) => {
        seen.push(client);
        return ping(client);
      });
    expect(await Promise.all([run('s1'), run('s1'), run('s1'), run('s2')])).toEqual([OK, OK, OK, OK]);
    await run('s1');
    expect(telegram.clients).toHaveLength(2);
    expect(credentialReads.sort()).toEqual(['s1', 's2']);
    const s1 = seen.filter((c) => c.sessionId === 's1');
    expect(new Set(s1.map((c) => c.tg)).size).toBe(1);
    expect(seen.find((c) => c.sessionId === 's2')?.tg).not.toBe(s1[0]!.tg);
  });

  it('a session that cannot run is answered and not kept: the next call tries again', async () => {
    const { pool, credentialReads } = setup({ sessions: { gone: null } });
    const unusable = { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 };
    expect(await pool.run('gone', ping)).toEqual(unusable);
    expect(await pool.run('gone', ping)).toEqual(unusable);
    expect(credentialReads).toEqual(['gone', 'gone']);
    expect(telegram.clients).toHaveLength(0);
  });

  it('what a call throws is answered, and the client stays', async () => {
    const { pool } = setup();
    expect(
      await pool.run('s1', async () => {
        throw new Error('boom');
      }),
    ).toEqual({ ok: false, error: 'NETWORK_ERROR' });
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(telegram.clients).toHaveLength(1);
    expect(telegram.isDestroyed(0)).toBe(false);
  });
});

describe('release', () => {
  it('destroys the client; the next call makes a new one; release and close are idempotent', async () => {
    const { pool } = setup();
    await pool.run('s1', ping);
    await Promise.all([pool.release('s1'), pool.release('s1')]);
    await pool.release('s1');
    expect(telegram.isDestroyed(0)).toBe(true);

    await pool.run('s1', ping);
    expect(telegram.clients).toHaveLength(2);
    await pool.close();
    await pool.close();
    expect(telegram.isDestroyed(1)).toBe(true);
    await expect(pool.run('s1', ping)).rejects.toThrow(/closed/);
  });

  it('a dead-key answer closes the client at once', async () => {
    const { pool } = setup();
    const dead = { ok: false, error: 'SESSION_REVOKED', code: 401 } as const;
    expect(await pool.run('s1', async () => dead)).toEqual(dead);
    await pool.release('s1'); // waits for the close already under way
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('waits for a call on the wire at most the grace, measured on the injected clock', async () => {
    const { pool, clock } = setup({ releaseGraceMs: 30_000 });
    let answer!: (value: unknown) => void;
    telegram.on('help.getNearestDc', () => new Promise((resolve) => (answer = resolve)));
    const call = pool.run('s1', ping);
    await settles(() => telegram.count('help.getNearestDc') === 1);

    let released = false;
    const release = pool.release('s1').then(() => (released = true));
    await clock.advance(29_999);
    expect(released).toBe(false);
    expect(telegram.isDestroyed(0)).toBe(false);

    await clock.advance(1);
    await release;
    expect(telegram.isDestroyed(0)).toBe(true);
    answer(NEAREST_DC);
    await call;
  });

  it('a call that ends within the grace lets the release go on at once, leaving no wait behind', async () => {
    const { pool, clock } = setup({ releaseGraceMs: 30_000 });
    let answer!: (value: unknown) => void;
    telegram.on('help.getNearestDc', () => new Promise((resolve) => (answer = resolve)));
    const call = pool.run('s1', ping);
    await settles(() => telegram.count('help.getNearestDc') === 1);
    const release = pool.release('s1');
    await settles(() => clock.pending === 1);
    answer(NEAREST_DC);
    expect(await call).toEqual(OK);
    await release;
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('never two live clients: a call racing a release waits for the old client to be destroyed', async () => {
    const { pool } = setup();
    await pool.run('s1', ping);
    const release = pool.release('s1');
    const next = pool.run('s1', async (client) => {
      expect(telegram.isDestroyed(0)).toBe(true);
      return ping(client);
    });
    expect((await Promise.all([release, next]))[1]).toEqual(OK);
    expect(telegram.clients).toHaveLength(2);
  });
});

describe('a connection that does not open', () => {
  it('the caller’s signal answers at once while the connect is pending; release destroys the client in the background', async () => {
    const { pool } = setup();
    telegram.transport.mode = 'never';
    const stop = new AbortController();
    const call = pool.run('s1', ping, stop.signal);
    await settles(() => telegram.transport.pendingConnects === 1);
    stop.abort();
    // answered while the connect is still pending: nothing was sent
    expect(await call).toEqual({ ok: false, error: 'NETWORK_ERROR' });
    expect(telegram.transport.pendingConnects).toBe(1);
    expect(telegram.count('help.getNearestDc')).toBe(0);

    // release gives the connect up and destroys the client — the only way to end mtcute's reconnects — and does
    // not need the connect to settle for that
    let released = false;
    const release = pool.release('s1').then(() => (released = true));
    await settles(() => telegram.destroyRequested(0));
    expect(telegram.transport.pendingConnects).toBe(1);
    expect(released).toBe(false);

    // the next client of the session waits until the old one is gone (mtcute ends it once the TCP connect fails)
    const next = pool.run('s1', async (client) => {
      expect(telegram.isDestroyed(0)).toBe(true);
      return ping(client);
    });
    telegram.transport.mode = 'open';
    telegram.transport.failPending();
    await release;
    expect(await next).toEqual(OK);
    expect(telegram.clients).toHaveLength(2);
  });

  it('a connect that has not opened within the timeout (on the pool’s clock) fails: CONNECT_TIMEOUT, phase connect, nothing sent', async () => {
    const { pool, clock } = setup({ connectTimeoutMs: 20_000 });
    telegram.transport.mode = 'refused';
    const call = pool.run('s1', ping);
    await settles(() => telegram.transport.attempts >= 1 && clock.pending === 1);
    let answered = false;
    void call.then(() => (answered = true));
    await clock.advance(19_999);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    await clock.advance(1);
    expect(await call).toEqual({ ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' });
    expect(telegram.count('help.getNearestDc')).toBe(0);
    // the client is destroyed, and no client is kept: the next call connects afresh
    await pool.release('s1');
    expect(telegram.isDestroyed(0)).toBe(true);
    const attempts = telegram.transport.attempts;
    telegram.transport.mode = 'open';
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(telegram.clients).toHaveLength(2);
    // the destroyed client tries no more
    expect(telegram.transport.attempts).toBe(attempts + 1);
  });

  it('the wait for the previous client to close counts in the connect’s time', async () => {
    const { pool, clock } = setup({ connectTimeoutMs: 20_000 });
    telegram.transport.mode = 'never';
    const first = pool.run('s1', ping);
    await settles(() => telegram.transport.pendingConnects === 1);
    await clock.advance(20_000);
    expect(await first).toMatchObject({ error: 'CONNECT_TIMEOUT' });
    // the first client cannot finish closing while its TCP connect hangs: the next connect gives up in time too
    const second = pool.run('s1', ping);
    await settles(() => clock.pending === 1);
    await clock.advance(20_000);
    expect(await second).toEqual({ ok: false, error: 'CONNECT_TIMEOUT', phase: 'connect' });
    expect(telegram.clients).toHaveLength(1);
  });
});

describe('frozen accounts', () => {
  it('the app config is read once per connect: a freeze is reported, and the calls are answered FROZEN_METHOD_INVALID unsent', async () => {
    const { pool, freezes } = setup();
    telegram.on('help.getAppConfig', frozenAppConfig({ since: 1_760_000_000, until: 1_800_000_000 }));
    expect(await pool.run('s1', ping)).toEqual({ ok: false, error: 'FROZEN_METHOD_INVALID', code: 420 });
    expect(telegram.count('help.getNearestDc')).toBe(0);
    expect(telegram.calls('help.getAppConfig')).toEqual([{ _: 'help.getAppConfig', hash: 0 }]);
    expect(freezes).toEqual([
      {
        sessionId: 's1',
        freeze: {
          since: 1_760_000_000_000,
          until: 1_800_000_000_000,
          appealUrl: 'https://t.me/spambot?start=frozen_appeal',
        },
      },
    ]);
    // no client is kept for a frozen account
    await pool.release('s1');
    expect(telegram.isDestroyed(0)).toBe(true);

    // the freeze is lifted: the next connect reports it, and the client is used (and kept: one read per connect)
    telegram.on('help.getAppConfig', appConfig({ some_other_key: 1 }));
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(freezes.at(-1)).toEqual({ sessionId: 's1', freeze: null });
    expect(telegram.count('help.getAppConfig')).toBe(2);
    expect(telegram.count('help.getNearestDc')).toBe(2);
  });

  it('a freeze past its deletion date does not refuse the calls (the account is gone, its calls say so)', async () => {
    const { pool, clock, freezes } = setup();
    const until = Math.floor(clock.now() / 1000) - 1;
    telegram.on('help.getAppConfig', frozenAppConfig({ since: until - 1000, until }));
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(freezes).toHaveLength(1);
  });

  it('an app config that cannot be read says nothing of a freeze: nothing reported, the client used', async () => {
    const { pool, freezes } = setup();
    telegram.on('help.getAppConfig', rpcError(400, 'APP_CONFIG_UNAVAILABLE'));
    expect(await pool.run('s1', ping)).toEqual(OK);
    expect(freezes).toEqual([]);
  });

  it('a dead key on reading the app config is answered as such; no client is kept', async () => {
    const { pool, freezes } = setup();
    telegram.on('help.getAppConfig', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
    expect(await pool.run('s1', ping)).toEqual({ ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 });
    expect(telegram.count('help.getNearestDc')).toBe(0);
    expect(freezes).toEqual([]);
    await pool.release('s1');
    expect(telegram.isDestroyed(0)).toBe(true);
  });
});

describe('auth-key persistence', () => {
  it('a changed key or DC is reported after the first call, and once only', async () => {
    const { pool, changed } = setup();
    const moved = sessionString(4);
    await pool.run('s1', async (client) => {
      // what mtcute does on USER_MIGRATE: another primary DC (and key) in the client's storage
      await client.tg.importSession(moved, true);
      return ping(client);
    });
    await settles(() => changed.length === 1);
    expect(changed[0]!.sessionId).toBe('s1');
    expect(readStringSession(changed[0]!.authString).primaryDcs.main.id).toBe(4);

    await pool.run('s1', ping);
    await pool.release('s1');
    expect(changed).toHaveLength(1);
  });

  it('an unchanged session is never reported', async () => {
    const { pool, changed } = setup();
    await pool.run('s1', ping);
    await pool.run('s1', ping);
    await pool.close();
    expect(changed).toEqual([]);
  });

  describe('a lost key is never stored', () => {
    const UNREGISTERED = rpcError(401, 'AUTH_KEY_UNREGISTERED');
    const DEAD: TelegramAnswer = { ok: false, error: 'AUTH_KEY_UNREGISTERED', code: 401 };
    /** What the database holds: the original key, replaced by each key the pool reports. */
    function storedKey(changed: { authString: string }[], original: string): string {
      return changed.at(-1)?.authString ?? original;
    }

    it('a transport -404 then AUTH_KEY_UNREGISTERED on the same call keeps the original key', async () => {
      const original = sessionString();
      const { pool, changed } = setup({ sessions: { s1: credentials(original) } });
      telegram.on('help.getNearestDc', async (_request, { clientIndex }) => {
        await telegram.resetAuthKey(clientIndex);
        return UNREGISTERED;
      });
      expect(await pool.run('s1', ping)).toEqual(DEAD);
      await pool.release('s1');
      expect(telegram.isDestroyed(0)).toBe(true);
      expect(storedKey(changed, original)).toBe(original);
    });

    it('a -404 on a call that succeeds, then AUTH_KEY_UNREGISTERED on the next, keeps the original key', async () => {
      const original = sessionString();
      const { pool, changed } = setup({ sessions: { s1: credentials(original) } });
      telegram.on('help.getNearestDc', async (_request, { clientIndex, attempt }) => {
        if (attempt > 0) return UNREGISTERED;
        await telegram.resetAuthKey(clientIndex);
        return NEAREST_DC;
      });
      expect(await pool.run('s1', ping)).toEqual(OK);
      expect(await pool.run('s1', ping)).toEqual(DEAD);
      await pool.close();
      expect(storedKey(changed, original)).toBe(original);
    });

    it('a dead-key answer while the first call’s report is under way keeps the original key', async () => {
      const original = sessionString();
      const { pool, changed } = setup({ sessions: { s1: credentials(original) } });
      const first = await pool.run('s1', async (client) => {
        // Another key in the client, so the report after this first call has something to store.
        await client.tg.importSession(sessionString(), true);
        return ping(client);
      });
      expect(first).toEqual(OK);
      expect(await pool.run('s1', async () => DEAD)).toEqual(DEAD);
      await pool.close();
      expect(storedKey(changed, original)).toBe(original);
    });
  });
});
