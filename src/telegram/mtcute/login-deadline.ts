/**
 * A bound on one call to Telegram during a login. mtcute sets no default timeout, and its auth methods (sendCode,
 * signIn, checkPassword) take an `abortSignal` but no `timeout`: unbounded, a call Telegram never answers keeps the
 * login, its client and its place under the pending-login cap forever. So the bound is a sleep on the login
 * manager's clock (a virtual one in tests) that aborts the call's signal. The call is also raced against that
 * signal, so the step ends at the bound even where nothing inside mtcute listens to it (while connecting, say).
 */
import type { TelegramClock } from './telegram-clock.js';

/** The abort reason of a call that was not answered within its bound. */
export class LoginCallTimedOut extends Error {
  constructor(readonly afterMs: number) {
    super(`Telegram did not answer within ${afterMs} ms`);
    this.name = 'LoginCallTimedOut';
  }
}

/** The abort reason of a call whose login was cancelled or closed while it ran. */
export class LoginCancelled extends Error {
  constructor() {
    super('the login was cancelled');
    this.name = 'LoginCancelled';
  }
}

/**
 * Runs `call` with `controller`'s signal and settles by `boundMs` on `clock` at the latest: then the signal aborts
 * with `LoginCallTimedOut` and the call rejects with it. Whoever else aborts `controller` ends the call the same
 * way, with their reason.
 */
export async function boundedCall<T>(
  clock: TelegramClock,
  boundMs: number,
  controller: AbortController,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal } = controller;
  const settled = new AbortController();
  void clock.sleep(boundMs, settled.signal).then((due) => {
    if (due) controller.abort(new LoginCallTimedOut(boundMs));
  });
  const stopped = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  try {
    const running = call(signal);
    // The loser of the race settles later, unobserved: neither may become an unhandled rejection.
    running.catch(() => undefined);
    stopped.catch(() => undefined);
    return await Promise.race([running, stopped]);
  } finally {
    settled.abort();
  }
}
