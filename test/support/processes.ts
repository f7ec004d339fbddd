/** Real child processes for end-to-end tests: spawn, wait for output, stop — and never leave one behind. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_TS = resolve(ROOT, 'bin/run-ts.mjs');
const live = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runTs(file: string, args: string[], env: Record<string, string | undefined>): Child {
  return start(process.execPath, [RUN_TS, resolve(ROOT, file), ...args], env);
}

export function runStagger(args: string[], env: Record<string, string | undefined>): Child {
  return start(process.execPath, [resolve(ROOT, 'bin/stagger.mjs'), ...args], env);
}

/**
 * `stagger …` on a pseudo-terminal (util-linux `script`), as a person running `npm start` sees it: stdin, stdout and
 * stderr are a TTY, and what the process writes to either arrives in `output()` (with the terminal's CRLF line
 * ends). Killing it ends `script`, which ends the command; the command also gets SIGHUP when the terminal closes.
 */
export function runStaggerInTerminal(args: string[], env: Record<string, string | undefined>): Child {
  const command = [process.execPath, resolve(ROOT, 'bin/stagger.mjs'), ...args].map(shellWord).join(' ');
  return start('script', ['--quiet', '--return', '--command', `exec ${command}`, '/dev/null'], env);
}

function shellWord(text: string): string {
  return /^[\w./=:-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function start(command: string, args: string[], env: Record<string, string | undefined>): Child {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    for (const l of listeners) l();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolvePromise, reject) => {
        const check = (): void => {
          const match = out.match(pattern);
          if (match) {
            cleanup();
            resolvePromise(match);
          } else if (done) {
            cleanup();
            reject(new Error(`process exited before printing ${pattern}; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}

export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
