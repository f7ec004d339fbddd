import { readStringSession } from '@mtcute/core/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isStaggerError, type StaggerError } from '../../core/errors.js';
import { LoginManager, type LoginManagerOptions } from './login.js';
import { VirtualClock } from '../../runtime/clock.js';
import { OfflineTelegram, PASS_THROUGH, rpcError } from '../../../test/support/mtcute/offline-telegram.js';
import { API_HASH, API_ID } from '../../../test/support/mtcute/fixtures.js';
import {
  answerLogin,
  paymentRequired,
  LOGIN_CODE,
  LOGIN_PASSWORD,
  LOGIN_PHONE,
} from '../../../test/support/mtcute/login-answers.js';

const PHONE = LOGIN_PHONE;
const CODE = LOGIN_CODE;
const PASSWORD = LOGIN_PASSWORD;

// ---- setup -----------------------------------------------------------------------------------------------------

let telegram: OfflineTelegram;
let managers: LoginManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
  await telegram.destroyAll();
});

function setup(o: Partial<LoginManagerOptions> & { password?: boolean } = {}) {
  telegram = new OfflineTelegram();
  const clock = new VirtualClock();
  const manager = new LoginManager({
    apiId: API_ID,
    apiHash: API_HASH,
    createClient: telegram.createClient,
    clock,
    sweepIntervalMs: 0,
    ...o,
  });
  managers.push(manager);
  answerLogin(telegram, o);
  return { manager, clock };
}

/** Telegram receives `method` and never answers it; resolves when the request has gone out. */
function unanswered(method: string): Promise<void> {
  return new Promise((reached) =>
    telegram.on(method, () => {
      reached();
      return PASS_THROUGH;
    }),
  );
}

/** A login call under way: whether it has settled yet, and its failure. */
function underWay(promise: Promise<unknown>): { settled: () => boolean; failure: Promise<StaggerError> } {
  let settled = false;
  const watched = promise.finally(() => (settled = true));
  return { settled: () => settled, failure: failure(watched) };
}

async function failure(promise: Promise<unknown>): Promise<StaggerError> {
  try {
    await promise;
  } catch (error) {
    expect(isStaggerError(error), String(error)).toBe(true);
    const e = error as StaggerError;
    for (const secret of [CODE, PASSWORD, '7700900123', 'hash-abc']) {
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e.details ?? null)).not.toContain(secret);
    }
    return e;
  }
  throw new Error('expected a failure');
}

// ---- tests -----------------------------------------------------------------------------------------------------

describe('login', () => {
  it('code → done, with a session string that loads, and the client closed', async () => {
    const { manager } = setup();
    const { loginId, codeType } = await manager.start({ phone: PHONE });
    expect(codeType).toBe('app');
    const sendCode = telegram.calls('auth.sendCode')[0]!;
    expect(sendCode.phoneNumber).toBe('447700900123');
    expect(sendCode.apiId).toBe(API_ID);

    const step = await manager.submitCode(loginId, ' 12 345 ');
    expect(step).toEqual({
      status: 'done',
      authString: expect.any(String),
      account: {
        id: '5000000001',
        firstName: 'Ada',
        lastName: 'Lovelace',
        username: 'ada',
        phone: '447700900123',
      },
    });
    if (step.status !== 'done') throw new Error('not done');
    const session = readStringSession(step.authString);
    expect(session.authKey).toHaveLength(256);
    expect(session.self?.userId).toBe(5_000_000_001);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_FOUND');
  });

  it('code → password required (with hint) → password → done', async () => {
    const { manager } = setup({ password: true });
    const { loginId } = await manager.start({ phone: PHONE });
    expect(await manager.submitCode(loginId, CODE)).toEqual({
      status: 'password_required',
      hint: 'pet name',
    });
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_WAITING_FOR_CODE');
    const step = await manager.submitPassword(loginId, PASSWORD);
    expect(step).toMatchObject({ status: 'done', account: { id: '5000000001', username: 'ada' } });
    expect(telegram.count('auth.checkPassword')).toBe(1);
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('a wrong code keeps the login; the right one then works', async () => {
    const { manager } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    const e = await failure(manager.submitCode(loginId, '99999'));
    expect(e.code).toBe('LOGIN_CODE_INVALID');
    expect(e.message).toMatch(/wrong/);
    expect(await manager.submitCode(loginId, CODE)).toMatchObject({ status: 'done' });
  });

  it('an expired code ends the login', async () => {
    const { manager } = setup();
    telegram.on('auth.signIn', rpcError(400, 'PHONE_CODE_EXPIRED'));
    const { loginId } = await manager.start({ phone: PHONE });
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_CODE_EXPIRED');
    expect(telegram.isDestroyed(0)).toBe(true);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_FOUND');
  });

  it('a wrong password keeps the login; the right one then works', async () => {
    const { manager } = setup({ password: true });
    const { loginId } = await manager.start({ phone: PHONE });
    await manager.submitCode(loginId, CODE);
    const e = await failure(manager.submitPassword(loginId, 'Tr0ub4dor&3'));
    expect(e.code).toBe('LOGIN_PASSWORD_INVALID');
    expect(await manager.submitPassword(loginId, PASSWORD)).toMatchObject({ status: 'done' });
  });

  it('a banned number, an invalid number', async () => {
    const { manager } = setup();
    telegram.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_BANNED'));
    expect((await failure(manager.start({ phone: PHONE }))).code).toBe('LOGIN_PHONE_BANNED');
    telegram.on('auth.sendCode', rpcError(400, 'PHONE_NUMBER_INVALID'));
    expect((await failure(manager.start({ phone: PHONE }))).code).toBe('LOGIN_PHONE_INVALID');
    // not even a phone number: refused before calling Telegram
    const before = telegram.count('auth.sendCode');
    expect((await failure(manager.start({ phone: 'call me maybe' }))).code).toBe('LOGIN_PHONE_INVALID');
    expect(telegram.count('auth.sendCode')).toBe(before);
    expect(manager.size).toBe(0);
    expect(telegram.clients.every((_, i) => telegram.isDestroyed(i))).toBe(true);
  });

  it('a flood wait on the code request comes back at once: how long, and that no code was sent', async () => {
    const { manager } = setup();
    telegram.on('auth.sendCode', rpcError(420, 'FLOOD_WAIT_1800'));
    const started = performance.now();
    const e = await failure(manager.start({ phone: PHONE }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(e.code).toBe('LOGIN_FLOOD_WAIT');
    expect(e.message).toMatch(/wait 1800 s \(about 30 min\).*no code was sent/);
    expect(e.details).toEqual({ retryAfterSeconds: 1800, loginUsable: false });
    expect(e.retryable).toBe(true);
    expect(telegram.count('auth.sendCode')).toBe(1);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
  });

  it('a flood wait on the code that ends before the login does keeps it: the same code works after the wait', async () => {
    const { manager, clock } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    telegram.on('auth.signIn', rpcError(420, 'FLOOD_WAIT_60'));
    const e = await failure(manager.submitCode(loginId, CODE));
    expect(e.code).toBe('LOGIN_FLOOD_WAIT');
    expect(e.message).toMatch(/wait 60 s before checking the code again; this login stays open/);
    expect(e.details).toEqual({ retryAfterSeconds: 60, loginUsable: true });
    expect(e.retryable).toBe(true);
    expect(manager.has(loginId)).toBe(true);
    expect(telegram.isDestroyed(0)).toBe(false);
    await clock.advance(60_000);
    answerLogin(telegram);
    expect(await manager.submitCode(loginId, CODE)).toMatchObject({ status: 'done' });
  });

  it('a flood wait longer than the login lasts closes it, and says so', async () => {
    const { manager } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    telegram.on('auth.signIn', rpcError(420, 'FLOOD_WAIT_3600'));
    const e = await failure(manager.submitCode(loginId, CODE));
    expect(e.code).toBe('LOGIN_FLOOD_WAIT');
    expect(e.message).toMatch(/longer than this login lasts, so it was closed/);
    expect(e.details).toEqual({ retryAfterSeconds: 3600, loginUsable: false });
    expect(e.retryable).toBe(false);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_FOUND');
  });

  it('a flood wait on the password keeps the login when it ends in time', async () => {
    const { manager, clock } = setup({ password: true });
    const { loginId } = await manager.start({ phone: PHONE });
    await manager.submitCode(loginId, CODE);
    telegram.on('auth.checkPassword', rpcError(420, 'FLOOD_WAIT_30'));
    const e = await failure(manager.submitPassword(loginId, PASSWORD));
    expect(e.message).toMatch(/before checking the password again; this login stays open/);
    expect(e.details).toEqual({ retryAfterSeconds: 30, loginUsable: true });
    await clock.advance(30_000);
    answerLogin(telegram, { password: true });
    expect(await manager.submitPassword(loginId, PASSWORD)).toMatchObject({ status: 'done' });
  });

  it('Telegram asking for a payment before it sends the code → LOGIN_PAYMENT_REQUIRED, in plain words', async () => {
    const { manager } = setup();
    telegram.on('auth.sendCode', paymentRequired());
    const e = await failure(manager.start({ phone: PHONE }));
    expect(e.code).toBe('LOGIN_PAYMENT_REQUIRED');
    expect(e.message).toMatch(/only after a payment.*official Telegram app/);
    expect(e.retryable).toBe(false);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
  });

  // The stub answers above mtcute's own migrate handling (mtcute moves to the DC and asks again once): a migrate
  // the login sees is one mtcute could not follow, or that came back again after the move.
  it('a data-center move that did not work out → LOGIN_MIGRATE_FAILED naming the DC, not LOGIN_FAILED', async () => {
    const { manager } = setup();
    telegram.on('auth.sendCode', rpcError(303, 'PHONE_MIGRATE_4'));
    const e = await failure(manager.start({ phone: PHONE }));
    expect(e.code).toBe('LOGIN_MIGRATE_FAILED');
    expect(e.message).toMatch(/data center 4 .*while sending the code; try again in a few minutes/);
    expect(e.details).toEqual({ dcId: 4 });
    expect(e.retryable).toBe(true);
    expect(telegram.isDestroyed(0)).toBe(true);

    answerLogin(telegram);
    const { loginId } = await manager.start({ phone: PHONE });
    telegram.on('auth.signIn', rpcError(303, 'USER_MIGRATE_5'));
    const step = await failure(manager.submitCode(loginId, CODE));
    expect(step.code).toBe('LOGIN_MIGRATE_FAILED');
    expect(step.message).toMatch(/this login was closed/);
    expect(step.retryable).toBe(false);
    expect(telegram.isDestroyed(1)).toBe(true);
  });

  it('pending logins expire: the id is unknown afterwards and the client is closed', async () => {
    const { manager, clock } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    const other = await manager.start({ phone: PHONE });
    await clock.advance(9 * 60_000);
    expect(await manager.sweepExpired()).toBe(0);
    await clock.advance(60_000);
    expect(await manager.sweepExpired()).toBe(2);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(telegram.isDestroyed(1)).toBe(true);
    const e = await failure(manager.submitCode(loginId, CODE));
    expect(e.code).toBe('LOGIN_NOT_FOUND');
    expect(e.message).toMatch(/expired/);
    expect((await failure(manager.submitPassword(other.loginId, PASSWORD))).code).toBe('LOGIN_NOT_FOUND');
    expect((await failure(manager.submitCode('no-such-login', CODE))).code).toBe('LOGIN_NOT_FOUND');
  });

  it('expired logins are also dropped when the next call comes', async () => {
    const { manager, clock } = setup({ ttlMs: 1000 });
    const { loginId } = await manager.start({ phone: PHONE });
    await clock.advance(1000);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_FOUND');
    expect(telegram.isDestroyed(0)).toBe(true);
  });

  it('no API credentials given or configured → LOGIN_API_CREDENTIALS_MISSING; per-call credentials win', async () => {
    const { manager } = setup({ apiId: undefined, apiHash: undefined });
    expect((await failure(manager.start({ phone: PHONE }))).code).toBe('LOGIN_API_CREDENTIALS_MISSING');
    expect(telegram.clients).toHaveLength(0);
    await manager.start({ phone: PHONE, apiId: 777, apiHash: API_HASH });
    expect(telegram.calls('auth.sendCode')[0]!.apiId).toBe(777);
  });

  it('close() closes every pending login', async () => {
    const { manager } = setup();
    await manager.start({ phone: PHONE });
    await manager.close();
    expect(telegram.isDestroyed(0)).toBe(true);
    await manager.close();
  });

  it('the sweep runs on the manager’s clock while logins are pending, and stops when none is', async () => {
    const { manager, clock } = setup({ sweepIntervalMs: 30_000 });
    await manager.start({ phone: PHONE });
    const { loginId } = await manager.start({ phone: PHONE });
    await manager.cancel(loginId);
    expect(telegram.isDestroyed(1)).toBe(true);
    await clock.advance(10 * 60_000 - 1);
    expect(manager.size).toBe(1);
    await clock.advance(1);
    // swept without a call: the login's 10 minutes were up at the sweep's 20th round
    expect(manager.size).toBe(0);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(clock.pending).toBe(0);
  });
});

describe('a Telegram that does not answer', () => {
  it('a code request never answered: LOGIN_TIMEOUT at the bound, its client closed, its place under the cap given back', async () => {
    const { manager, clock } = setup({ maxPending: 1, callTimeoutMs: 30_000 });
    const reached = unanswered('auth.sendCode');
    const first = underWay(manager.start({ phone: PHONE }));
    await reached;
    // a code request under way holds a client: it counts against the cap
    expect(manager.size).toBe(1);
    expect((await failure(manager.start({ phone: PHONE }))).code).toBe('LOGIN_TOO_MANY_PENDING');
    await clock.advance(29_999);
    expect(first.settled()).toBe(false);
    await clock.advance(1);
    const e = await first.failure;
    expect(e.code).toBe('LOGIN_TIMEOUT');
    expect(e.message).toMatch(/did not answer in 30 s while sending the code/);
    expect(e.details).toEqual({ timeoutSeconds: 30 });
    // nothing was started: asking again may work
    expect(e.retryable).toBe(true);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
    expect(clock.pending).toBe(0);

    answerLogin(telegram);
    expect(await manager.start({ phone: PHONE })).toMatchObject({ codeType: 'app' });
  });

  it('a code check never answered: LOGIN_TIMEOUT, the login closed', async () => {
    const { manager, clock } = setup({ callTimeoutMs: 20_000 });
    const { loginId } = await manager.start({ phone: PHONE });
    const reached = unanswered('auth.signIn');
    const step = underWay(manager.submitCode(loginId, CODE));
    await reached;
    await clock.advance(19_999);
    expect(step.settled()).toBe(false);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_BUSY');
    await clock.advance(1);
    const e = await step.failure;
    expect(e.code).toBe('LOGIN_TIMEOUT');
    expect(e.message).toMatch(/did not answer in 20 s while checking the code; this login was closed/);
    expect(e.retryable).toBe(false);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
    expect((await failure(manager.submitCode(loginId, CODE))).code).toBe('LOGIN_NOT_FOUND');
    expect(clock.pending).toBe(0);
  });

  it('a password check never answered: LOGIN_TIMEOUT, the login closed', async () => {
    const { manager, clock } = setup({ password: true });
    const { loginId } = await manager.start({ phone: PHONE });
    await manager.submitCode(loginId, CODE);
    const reached = unanswered('auth.checkPassword');
    const step = underWay(manager.submitPassword(loginId, PASSWORD));
    await reached;
    await clock.advance(30_000);
    const e = await step.failure;
    expect(e.code).toBe('LOGIN_TIMEOUT');
    expect(e.message).toMatch(/while checking the password/);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
  });

  it('a password hint never answered: the login goes on without the hint', async () => {
    const { manager, clock } = setup({ password: true });
    const { loginId } = await manager.start({ phone: PHONE });
    const reached = unanswered('account.getPassword');
    const step = manager.submitCode(loginId, CODE);
    await reached;
    await clock.advance(30_000);
    expect(await step).toEqual({ status: 'password_required', hint: null });
    answerLogin(telegram, { password: true });
    expect(await manager.submitPassword(loginId, PASSWORD)).toMatchObject({ status: 'done' });
  });

  it('the sweep closes a login whose call went unanswered past the bound (timers late, clock jumped)', async () => {
    const { manager, clock } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    const reached = unanswered('auth.signIn');
    const step = underWay(manager.submitCode(loginId, CODE));
    await reached;
    clock.jump(29_999);
    expect(await manager.sweepExpired()).toBe(0);
    clock.jump(1);
    expect(await manager.sweepExpired()).toBe(1);
    expect(telegram.isDestroyed(0)).toBe(true);
    expect(manager.size).toBe(0);
    expect((await step.failure).code).toBe('LOGIN_TIMEOUT');
    expect(clock.pending).toBe(0);
  });

  it('cancelling or closing stops a call under way at once', async () => {
    const { manager, clock } = setup();
    const { loginId } = await manager.start({ phone: PHONE });
    const signIn = unanswered('auth.signIn');
    const step = underWay(manager.submitCode(loginId, CODE));
    await signIn;
    await manager.cancel(loginId);
    const e = await step.failure;
    expect(e.code).toBe('LOGIN_NOT_FOUND');
    expect(e.message).toMatch(/cancelled/);
    expect(telegram.isDestroyed(0)).toBe(true);

    const sendCode = unanswered('auth.sendCode');
    const start = underWay(manager.start({ phone: PHONE }));
    await sendCode;
    await manager.close();
    expect((await start.failure).code).toBe('LOGIN_NOT_FOUND');
    expect(telegram.isDestroyed(1)).toBe(true);
    expect(manager.size).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
