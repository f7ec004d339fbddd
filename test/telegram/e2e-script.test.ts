/**
 * `npm run e2e:telegram` (scripts/e2e-telegram.ts) without Telegram: without its variables it refuses with exit 2
 * and names what is missing (in-process and as a real process, the way npm runs it); and its whole flow — import
 * or interactive login, session check, forward, the repeated forward that must be deduplicated — runs against the
 * offline harness, so the script is known to work before anyone points it at a real account.
 */
import type { tl } from '@mtcute/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runE2e, type E2eIo } from '../../scripts/e2e-telegram.js';
import { OfflineTelegram, rpcError } from '../support/mtcute/offline-telegram.js';
import {
  API_HASH,
  API_ID,
  authKey,
  channel,
  channelChatId,
  channelMessages,
  chats,
  forwardUpdates,
  frozenAppConfig,
  message,
  resolvedPeer,
  telethonString,
  user,
} from '../support/mtcute/fixtures.js';
import { SrpServer } from '../support/mtcute/srp-server.js';
import { runTs } from '../support/processes.js';

const ALL_VARIABLES = [
  'TELEGRAM_API_ID',
  'TELEGRAM_API_HASH',
  'STAGGER_E2E_PHONE',
  'STAGGER_E2E_SESSION',
  'STAGGER_E2E_SOURCE',
  'STAGGER_E2E_TARGET',
  'STAGGER_E2E_SAVE_SESSION',
];

function io(env: Record<string, string>, answers: string[] = [], telegram?: OfflineTelegram) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: { question: string; secret: boolean }[] = [];
  const value: E2eIo = {
    env,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    prompt: async (question, secret = false) => {
      asked.push({ question, secret });
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected question: ${question}`);
      return answer;
    },
    ...(telegram ? { createClient: (params) => telegram.createClient(params) } : {}),
  };
  return { io: value, out, err, asked };
}

describe('without its environment', () => {
  it('exits 2 naming every missing variable, before any client is made', async () => {
    const telegram = new OfflineTelegram();
    const { io: run, out, err } = io({}, [], telegram);
    expect(await runE2e(run)).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toBe(
      'e2e:telegram: missing environment variables: TELEGRAM_API_ID, TELEGRAM_API_HASH, ' +
        'STAGGER_E2E_PHONE or STAGGER_E2E_SESSION, STAGGER_E2E_SOURCE, STAGGER_E2E_TARGET',
    );
    expect(err.join('\n')).toMatch(/docs\/telegram\.md/);
    expect(telegram.clients).toHaveLength(0);
  });

  it('names only what is missing, and refuses values that cannot work', async () => {
    const partial = io({
      TELEGRAM_API_ID: '1',
      TELEGRAM_API_HASH: API_HASH,
      STAGGER_E2E_PHONE: '+1 555 0100',
    });
    expect(await runE2e(partial.io)).toBe(2);
    expect(partial.err[0]).toBe(
      'e2e:telegram: missing environment variables: STAGGER_E2E_SOURCE, STAGGER_E2E_TARGET',
    );

    const bad = io({
      TELEGRAM_API_ID: 'twelve',
      TELEGRAM_API_HASH: 'not-a-hash',
      STAGGER_E2E_SESSION: 'x',
      STAGGER_E2E_SOURCE: 'https://example.com/1',
      STAGGER_E2E_TARGET: 'some group',
    });
    expect(await runE2e(bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/TELEGRAM_API_ID must be/);
    expect(bad.err.join('\n')).toMatch(/TELEGRAM_API_HASH must be/);
    expect(bad.err.join('\n')).toMatch(/STAGGER_E2E_SOURCE:/);
    expect(bad.err.join('\n')).toMatch(/STAGGER_E2E_TARGET:/);
    expect(bad.err.join('\n')).not.toContain('not-a-hash');
  });

  it('as `npm run e2e:telegram` runs it: exit 2 with the message', async () => {
    const blank = Object.fromEntries(ALL_VARIABLES.map((name) => [name, '']));
    const child = runTs('scripts/e2e-telegram.ts', [], blank);
    const exit = await child.exited;
    expect(exit.code).toBe(2);
    expect(child.output()).toMatch(/e2e:telegram: missing environment variables: TELEGRAM_API_ID/);
  }, 30_000);
});

describe('the whole flow against the offline harness', () => {
  const SOURCE = channel(1_111_111_111, { username: 'sourcechan', broadcast: true });
  const TARGET = channel(1_234_567_890, { accessHash: '99' });
  const ME = user({ id: 5_000_000_001, firstName: 'Ada', username: 'ada' });
  const PASSWORD = 'correct horse battery staple';
  let telegram: OfflineTelegram;
  afterEach(async () => {
    await telegram.destroyAll();
  });

  function answerTelegram(second: 'duplicate' | 'again' = 'duplicate'): void {
    telegram = new OfflineTelegram();
    telegram.on('users.getUsers', [ME]);
    telegram.on('help.getAppConfig', {
      _: 'help.appConfig',
      hash: 1,
      config: { _: 'jsonObject', value: [] },
    });
    telegram.on('contacts.resolveUsername', resolvedPeer(SOURCE));
    telegram.on('channels.getChannels', chats([TARGET]));
    telegram.on('channels.getMessages', channelMessages([message(SOURCE.id, 42)], [SOURCE]));
    telegram.on('messages.forwardMessages', (req, { attempt }) => {
      if (attempt === 0) return forwardUpdates(req, 500);
      return second === 'duplicate' ? rpcError(500, 'RANDOM_ID_DUPLICATE') : forwardUpdates(req, 501);
    });
  }

  const env = (more: Record<string, string>) => ({
    TELEGRAM_API_ID: String(API_ID),
    TELEGRAM_API_HASH: API_HASH,
    STAGGER_E2E_SOURCE: 'https://t.me/sourcechan/42',
    STAGGER_E2E_TARGET: channelChatId(TARGET.id),
    ...more,
  });

  it('an imported session: check, forward, the same random_id again → RANDOM_ID_DUPLICATE → PASS', async () => {
    answerTelegram();
    const session = telethonString(2, [149, 154, 167, 51], 443, authKey());
    const run = io(env({ STAGGER_E2E_SESSION: session }), [], telegram);
    expect(await runE2e(run.io)).toBe(0);
    const text = run.out.join('\n');
    expect(text).toMatch(/session\s+imported telethon-string/);
    expect(text).toMatch(/account\s+Ada @ada \(id 5000000001\), not limited/);
    expect(text).toMatch(/source\s+https:\/\/t\.me\/sourcechan\/42: forwardable/);
    expect(text).toMatch(/forward #1\s+ok, message 500/);
    expect(text).toMatch(/forward #2\s+RANDOM_ID_DUPLICATE/);
    expect(text).toMatch(/result: PASS$/);
    const forwards = telegram.calls('messages.forwardMessages');
    expect(forwards).toHaveLength(2);
    expect(forwards[0]!.randomId[0]!.toString()).toBe(forwards[1]!.randomId[0]!.toString());
    expect(forwards[0]!.toPeer).toMatchObject({ _: 'inputPeerChannel', channelId: TARGET.id });
    expect(forwards[0]!.silent).toBe(true);
    expect(text + run.err.join('\n')).not.toContain(session.slice(1, 30));
    expect(text).not.toContain(API_HASH);
    // every client closed: nothing keeps the process alive
    expect(telegram.clients.every((_, i) => telegram.isDestroyed(i))).toBe(true);
  });

  it('a frozen account: the check says so with the appeal link, and nothing is forwarded → FAIL', async () => {
    answerTelegram();
    telegram.on('help.getAppConfig', frozenAppConfig());
    const session = telethonString(2, [149, 154, 167, 51], 443, authKey());
    const run = io(env({ STAGGER_E2E_SESSION: session }), [], telegram);
    expect(await runE2e(run.io)).toBe(1);
    const text = run.out.join('\n');
    expect(text).toMatch(/account\s+Ada @ada \(id 5000000001\), LIMITED: frozen/);
    expect(text).toMatch(
      /frozen\s+Telegram froze the account; appeal: https:\/\/t\.me\/spambot\?start=frozen_appeal/,
    );
    expect(text).toMatch(/result: FAIL/);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
  });

  it('an interactive login (code, then a 2FA password typed unechoed) → PASS', async () => {
    answerTelegram();
    const srp = new SrpServer(PASSWORD);
    telegram.on('auth.sendCode', {
      _: 'auth.sentCode',
      type: { _: 'auth.sentCodeTypeApp', length: 5 },
      phoneCodeHash: 'hash-abc',
    });
    telegram.on('auth.signIn', (req) =>
      (req as tl.auth.RawSignInRequest).phoneCode === '12345'
        ? rpcError(401, 'SESSION_PASSWORD_NEEDED')
        : rpcError(400, 'PHONE_CODE_INVALID'),
    );
    telegram.on('account.getPassword', srp.passwordInfo('pet'));
    telegram.on('auth.checkPassword', (req) =>
      srp.check((req as tl.auth.RawCheckPasswordRequest).password)
        ? { _: 'auth.authorization', user: ME }
        : rpcError(400, 'PASSWORD_HASH_INVALID'),
    );
    const run = io(
      env({ STAGGER_E2E_PHONE: '+44 7700 900123' }),
      ['11111', '12345', 'wrong', PASSWORD],
      telegram,
    );
    expect(await runE2e(run.io)).toBe(0);
    expect(run.asked).toEqual([
      { question: 'login code: ', secret: false },
      { question: 'login code: ', secret: false },
      { question: 'two-step verification password (hint: pet): ', secret: true },
      { question: 'two-step verification password (hint: pet): ', secret: true },
    ]);
    const text = run.out.join('\n');
    expect(text).toMatch(/code was sent to \+44…123/);
    expect(text).toMatch(/session\s+logged in/);
    expect(text).toMatch(/result: PASS$/);
    expect(text + run.err.join('\n')).not.toContain(PASSWORD);
    expect(text).not.toContain('7700900123');
  });

  it('a second post with the same random_id is a FAIL (exit 1)', async () => {
    answerTelegram('again');
    const run = io(
      env({ STAGGER_E2E_SESSION: telethonString(2, [149, 154, 167, 51], 443, authKey()) }),
      [],
      telegram,
    );
    expect(await runE2e(run.io)).toBe(1);
    expect(run.out.join('\n')).toMatch(/result: FAIL — the same random_id was posted twice/);
  });

  it('a dead session is a FAIL with the reason, and nothing is forwarded', async () => {
    answerTelegram();
    telegram.on('users.getUsers', rpcError(401, 'AUTH_KEY_UNREGISTERED'));
    const run = io(
      env({ STAGGER_E2E_SESSION: telethonString(2, [149, 154, 167, 51], 443, authKey()) }),
      [],
      telegram,
    );
    expect(await runE2e(run.io)).toBe(1);
    expect(run.out.join('\n')).toMatch(/account\s+AUTH_KEY_UNREGISTERED — the session is dead/);
    expect(telegram.count('messages.forwardMessages')).toBe(0);
  });

  it('a corrupt session string is a clear FAIL, quoting nothing of it', async () => {
    answerTelegram();
    const session = telethonString(2, [149, 154, 167, 51], 443, authKey()).slice(0, 200);
    const run = io(env({ STAGGER_E2E_SESSION: session }), [], telegram);
    expect(await runE2e(run.io)).toBe(1);
    expect(run.err.join('\n')).toMatch(/SESSION_IMPORT_INVALID: .*truncated/);
    expect(run.err.join('\n') + run.out.join('\n')).not.toContain(session.slice(1, 30));
    expect(telegram.clients).toHaveLength(0);
  });
});
