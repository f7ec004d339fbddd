/**
 * Telegram's side of an interactive login, for offline tests: a code is sent, `LOGIN_CODE` signs in — or asks for
 * the 2FA password `LOGIN_PASSWORD`, checked by a real SRP server — and `LOGIN_ACCOUNT` is the account.
 */
import { Long, type tl } from '@mtcute/core';
import { user } from './fixtures.js';
import { rpcError, type OfflineTelegram } from './offline-telegram.js';
import { SrpServer } from './srp-server.js';

export const LOGIN_PHONE = '+44 7700 900123';
export const LOGIN_CODE = '12345';
export const LOGIN_PASSWORD = 'correct horse battery staple';
export const LOGIN_CODE_HASH = 'hash-abc';
export const LOGIN_ACCOUNT = user({
  id: 5_000_000_001,
  firstName: 'Ada',
  lastName: 'Lovelace',
  username: 'ada',
  phone: '447700900123',
});

export function answerLogin(telegram: OfflineTelegram, options: { password?: boolean } = {}): void {
  telegram.on('auth.sendCode', {
    _: 'auth.sentCode',
    type: { _: 'auth.sentCodeTypeApp', length: 5 },
    phoneCodeHash: LOGIN_CODE_HASH,
    timeout: 60,
  });
  telegram.on('auth.signIn', (req) => {
    const r = req as tl.auth.RawSignInRequest;
    if (r.phoneCodeHash !== LOGIN_CODE_HASH) return rpcError(400, 'PHONE_CODE_HASH_EMPTY');
    if (r.phoneCode !== LOGIN_CODE) return rpcError(400, 'PHONE_CODE_INVALID');
    if (options.password) return rpcError(401, 'SESSION_PASSWORD_NEEDED');
    return { _: 'auth.authorization', user: LOGIN_ACCOUNT };
  });
  const srp = new SrpServer(LOGIN_PASSWORD);
  telegram.on('account.getPassword', srp.passwordInfo('pet name'));
  telegram.on('auth.checkPassword', (req) =>
    srp.check((req as tl.auth.RawCheckPasswordRequest).password)
      ? { _: 'auth.authorization', user: LOGIN_ACCOUNT }
      : rpcError(400, 'PASSWORD_HASH_INVALID'),
  );
}

/** Telegram's answer to a code request when it sends the code only after a payment (Telegram Premium). */
export function paymentRequired(): tl.auth.RawSentCodePaymentRequired {
  return {
    _: 'auth.sentCodePaymentRequired',
    storeProduct: 'org.telegram.telegramPremium.threeMonths.code_x1',
    phoneCodeHash: LOGIN_CODE_HASH,
    supportEmailAddress: 'sms@telegram.org',
    supportEmailSubject: 'Code request',
    premiumDays: 7,
    currency: 'EUR',
    amount: Long.fromInt(100),
  };
}
