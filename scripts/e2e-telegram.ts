/**
 * `npm run e2e:telegram`: one opt-in run against REAL Telegram (never part of `npm test`).
 *
 * It logs an account in with Stagger's LoginManager (code and 2FA password typed on stdin) or imports a session
 * string, checks the session, then forwards one post to one test group through `MtcuteGateway` — exactly as the
 * runtime does — with a fresh random_id, and forwards it again with the SAME random_id, which Telegram must
 * deduplicate (RANDOM_ID_DUPLICATE). It prints a short report and exits 0 (pass), 1 (fail) or 2 (bad setup).
 *
 * Environment:
 *   TELEGRAM_API_ID, TELEGRAM_API_HASH  the API pair from https://my.telegram.org
 *   STAGGER_E2E_PHONE                   the account's phone number (interactive login), or
 *   STAGGER_E2E_SESSION                 a session string to reuse (mtcute, Telethon, GramJS or Pyrogram)
 *   STAGGER_E2E_SOURCE                  a t.me post link the account can read and forward
 *   STAGGER_E2E_TARGET                  a test group the account is ALREADY a member of (-100… id, @name or link)
 *   STAGGER_E2E_SAVE_SESSION            optional: a file to write the mtcute session string to (mode 0600), so
 *                                       the next run can use STAGGER_E2E_SESSION instead of logging in again
 *
 * Credentials are never printed: not the session, not the API hash, not the code or the password.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseGroupTarget, type GroupTarget } from '../src/core/group-targets.js';
import { isStaggerError } from '../src/core/errors.js';
import { explain, type TelegramAnswer } from '../src/core/outcome.js';
import { parsePostLink, type PostRef } from '../src/core/post-link.js';
import type { SessionHandle } from '../src/telegram/gateway.js';
import {
  buildClient,
  type ClientFactory,
  type TelegramLogger,
} from '../src/telegram/mtcute/client-factory.js';
import { LoginManager } from '../src/telegram/mtcute/login.js';
import {
  MemoryPeerCache,
  MtcuteGateway,
  type SessionCredentials,
} from '../src/telegram/mtcute/mtcute-gateway.js';
import { checkSession } from '../src/telegram/mtcute/session-check.js';
import { parseSessionString, toMtcuteSessionString } from '../src/telegram/mtcute/session-formats.js';

export interface E2eIo {
  env: Readonly<Record<string, string | undefined>>;
  out(line: string): void;
  err(line: string): void;
  /** Asks a question on the terminal; `secret` input is not echoed. */
  prompt(question: string, secret?: boolean): Promise<string>;
  /** Replaces the real TCP client (the offline test of this script). */
  createClient?: ClientFactory;
}

const NAME = 'e2e:telegram';
const SESSION_ID = 'e2e';

interface Setup {
  apiId: number;
  apiHash: string;
  phone: string | null;
  session: string | null;
  source: PostRef;
  target: GroupTarget;
  saveTo: string | null;
}

function value(env: E2eIo['env'], name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

/** The setup from the environment, or the lines explaining what is missing or wrong. */
export function readSetup(env: E2eIo['env']): { setup: Setup } | { problems: string[] } {
  const missing: string[] = [];
  for (const name of ['TELEGRAM_API_ID', 'TELEGRAM_API_HASH']) if (!value(env, name)) missing.push(name);
  if (!value(env, 'STAGGER_E2E_PHONE') && !value(env, 'STAGGER_E2E_SESSION'))
    missing.push('STAGGER_E2E_PHONE or STAGGER_E2E_SESSION');
  for (const name of ['STAGGER_E2E_SOURCE', 'STAGGER_E2E_TARGET']) if (!value(env, name)) missing.push(name);
  if (missing.length > 0) {
    return {
      problems: [
        `missing environment variables: ${missing.join(', ')}`,
        'this run posts to real Telegram; set TELEGRAM_API_ID/TELEGRAM_API_HASH (my.telegram.org), the account ' +
          '(STAGGER_E2E_PHONE to log in, or STAGGER_E2E_SESSION to reuse a session string), the post ' +
          '(STAGGER_E2E_SOURCE, a t.me link) and a test group the account is in (STAGGER_E2E_TARGET) — see docs/telegram.md',
      ],
    };
  }
  const problems: string[] = [];
  const apiIdText = value(env, 'TELEGRAM_API_ID')!;
  const apiId = Number(apiIdText);
  if (!/^[0-9]{1,12}$/.test(apiIdText) || !Number.isSafeInteger(apiId) || apiId <= 0)
    problems.push('TELEGRAM_API_ID must be a positive whole number (from my.telegram.org)');
  const apiHash = value(env, 'TELEGRAM_API_HASH')!;
  if (!/^[0-9a-fA-F]{32}$/.test(apiHash))
    problems.push('TELEGRAM_API_HASH must be 32 hexadecimal characters');
  let source: PostRef | null = null;
  try {
    source = parsePostLink(value(env, 'STAGGER_E2E_SOURCE')!);
  } catch (error) {
    problems.push(`STAGGER_E2E_SOURCE: ${isStaggerError(error) ? error.message : 'not a post link'}`);
  }
  let target: GroupTarget | null = null;
  try {
    target = parseGroupTarget(value(env, 'STAGGER_E2E_TARGET')!);
  } catch (error) {
    problems.push(`STAGGER_E2E_TARGET: ${isStaggerError(error) ? error.message : 'not a group'}`);
  }
  if (problems.length > 0 || !source || !target) return { problems };
  return {
    setup: {
      apiId,
      apiHash,
      phone: value(env, 'STAGGER_E2E_PHONE'),
      session: value(env, 'STAGGER_E2E_SESSION'),
      source,
      target,
      saveTo: value(env, 'STAGGER_E2E_SAVE_SESSION'),
    },
  };
}

/** `+44 7700 900123` → `+44…123`: enough to recognise, not enough to leak. */
function maskPhone(phone: string): string {
  const digits = phone.replace(/[^0-9]/g, '');
  return digits.length < 6 ? '…' : `+${digits.slice(0, 2)}…${digits.slice(-3)}`;
}

function describeAnswer(answer: TelegramAnswer): string {
  if (answer.ok) return answer.messageId === undefined ? 'ok' : `ok, message ${answer.messageId}`;
  return `${answer.error} (${explain(answer.error)})`;
}

/** A fresh signed 64-bit random_id, as the planner draws them. */
function freshRandomId(): bigint {
  return randomBytes(8).readBigInt64BE();
}

async function obtainSession(setup: Setup, io: E2eIo, row: (k: string, v: string) => void): Promise<string> {
  if (setup.session) {
    const imported = parseSessionString(setup.session);
    row('session', `imported ${imported.format} (DC ${imported.dcId})`);
    return toMtcuteSessionString(imported);
  }
  const login = new LoginManager({
    apiId: setup.apiId,
    apiHash: setup.apiHash,
    sweepIntervalMs: 0,
    ...(io.createClient ? { createClient: io.createClient } : {}),
  });
  try {
    const started = await login.start({ phone: setup.phone! });
    io.out(`a login code was sent to ${maskPhone(setup.phone!)} (via ${started.codeType})`);
    let step = null;
    for (let attempt = 1; step === null; attempt++) {
      const code = await io.prompt('login code: ');
      try {
        step = await login.submitCode(started.loginId, code);
      } catch (error) {
        if (!isStaggerError(error, 'LOGIN_CODE_INVALID') || attempt >= 3) throw error;
        io.err(error.message);
      }
    }
    while (step.status === 'password_required') {
      const hint = step.hint ? ` (hint: ${step.hint})` : '';
      const password = await io.prompt(`two-step verification password${hint}: `, true);
      try {
        step = await login.submitPassword(started.loginId, password);
      } catch (error) {
        if (!isStaggerError(error, 'LOGIN_PASSWORD_INVALID')) throw error;
        io.err(error.message);
      }
    }
    row('session', `logged in (${maskPhone(setup.phone!)})`);
    return step.authString;
  } finally {
    await login.close();
  }
}

/** Runs the check. Never throws: every failure is a report line and an exit code. */
export async function runE2e(io: E2eIo): Promise<number> {
  const read = readSetup(io.env);
  if ('problems' in read) {
    for (const line of read.problems) io.err(`${NAME}: ${line}`);
    return 2;
  }
  const { setup } = read;
  const row = (k: string, v: string): void => {
    io.out(`  ${k.padEnd(12)} ${v}`);
  };
  const failures: string[] = [];
  const logger: TelegramLogger = {
    info() {},
    warn: (_o, m) => io.err(`  (telegram) ${m ?? ''}`),
    error: (_o, m) => io.err(`  (telegram) ${m ?? ''}`),
  };
  const createClient: ClientFactory = io.createClient ?? ((params) => buildClient(params, { logger }));
  io.out('Stagger end-to-end check against real Telegram');

  let gateway: MtcuteGateway | null = null;
  try {
    let credentials: SessionCredentials = {
      authString: await obtainSession(setup, io, row),
      apiId: setup.apiId,
      apiHash: setup.apiHash,
    };
    const save = (authString: string): void => {
      if (setup.saveTo) writeFileSync(setup.saveTo, `${authString}\n`, { mode: 0o600 });
    };
    save(credentials.authString);

    const check = await checkSession(credentials, createClient);
    if (!check.ok) {
      row('account', `${check.error}${check.dead ? ' — the session is dead' : ''} (${explain(check.error)})`);
      failures.push('the session check failed');
      return report(io, failures);
    }
    const { account } = check;
    row(
      'account',
      `${account.name || '(no name)'}${account.username ? ` @${account.username}` : ''} (id ${account.id})` +
        (check.limited ? `, LIMITED: ${check.limitReasons.join(', ')}` : ', not limited'),
    );
    credentials = { ...credentials, authString: check.authString };
    save(credentials.authString);
    if (check.limitReasons.includes('frozen')) {
      // Every forward would answer FROZEN_METHOD_INVALID: nothing to check until the freeze is lifted.
      row('frozen', `Telegram froze the account; appeal: ${check.frozen?.appealUrl ?? 'no link given'}`);
      failures.push('the account is frozen');
      return report(io, failures);
    }

    const current = credentials;
    gateway = new MtcuteGateway({
      credentials: { get: async (id) => (id === SESSION_ID ? current : null) },
      peers: new MemoryPeerCache(),
      createClient,
      logger,
      onAuthStringChanged: async (_id, authString) => save(authString),
    });
    const session: SessionHandle = { id: SESSION_ID, driver: 'mtcute' };

    const source = await gateway.checkSource(session, setup.source);
    row('source', `${setup.source.canonical}: ${source.ok ? 'forwardable' : describeAnswer(source)}`);
    if (!source.ok) {
      failures.push('the source post cannot be forwarded');
      return report(io, failures);
    }

    const randomId = freshRandomId();
    const request = {
      session,
      source: setup.source,
      target: setup.target,
      randomId,
      silent: true,
      hideSender: false,
    };
    const first = await gateway.forward(request);
    row('forward #1', `${describeAnswer(first)} → ${setup.target.key} (random_id ${randomId})`);
    if (!first.ok) {
      failures.push('the forward failed');
      return report(io, failures);
    }
    const second = await gateway.forward(request);
    if (!second.ok && second.error === 'RANDOM_ID_DUPLICATE') {
      row('forward #2', 'RANDOM_ID_DUPLICATE with the same random_id: deduplicated by Telegram');
    } else if (second.ok && first.messageId !== undefined && second.messageId === first.messageId) {
      row('forward #2', `the same message ${second.messageId} again: deduplicated by Telegram`);
    } else {
      row('forward #2', `${describeAnswer(second)} — expected RANDOM_ID_DUPLICATE`);
      failures.push(
        second.ok
          ? 'the same random_id was posted twice: Telegram did not deduplicate'
          : 'the repeated forward did not answer RANDOM_ID_DUPLICATE',
      );
    }
    return report(io, failures);
  } catch (error) {
    const message = isStaggerError(error)
      ? `${error.code}: ${error.message}`
      : `${(error as Error).name}: ${(error as Error).message}`;
    io.err(`${NAME}: ${message}`);
    failures.push(message);
    return report(io, failures);
  } finally {
    await gateway?.close();
  }
}

function report(io: E2eIo, failures: string[]): number {
  if (failures.length === 0) {
    io.out('result: PASS');
    return 0;
  }
  io.out(`result: FAIL — ${failures.join('; ')}`);
  return 1;
}

/** The terminal: lines to stdout/stderr, questions on stdin (a secret answer is not echoed). */
function terminalIo(): E2eIo & { close(): void } {
  let rl: Interface | null = null;
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stdout.write(chunk, encoding);
      done();
    },
  });
  return {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    async prompt(question, secret = false) {
      rl ??= createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
      const reader = rl;
      process.stdout.write(question);
      muted = secret;
      try {
        const closed = new Promise<never>((_resolve, reject) =>
          reader.once('close', () => reject(new Error('stdin closed before an answer was typed'))),
        );
        return (await Promise.race([reader.question(''), closed])).trim();
      } finally {
        muted = false;
        if (secret) process.stdout.write('\n');
      }
    },
    close() {
      rl?.close();
    },
  };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const io = terminalIo();
  const code = await runE2e(io);
  io.close();
  process.exitCode = code;
  // Whatever a library may leave behind, the run ends.
  setTimeout(() => process.exit(code), 2_000).unref();
}
