/**
 * Paces every contacts.resolveUsername of a session by the core rule (`core/resolve-pacing.ts`): calls of one
 * session go one at a time, at least the pacing's interval apart on the injected clock, and none while a limit
 * Telegram answered to one of them lasts. What a session learnt outlives its client: a released session is still
 * limited.
 */
import type { TelegramAnswer } from '../../core/outcome.js';
import {
  afterResolve,
  FRESH_RESOLVE_LANE,
  resolveTurn,
  type ResolveLane,
  type ResolvePacing,
} from '../../core/resolve-pacing.js';
import type { TelegramClock } from './telegram-clock.js';

/** The call was not made: the session is limited (the limit, with what is left of it). */
export interface ResolveLimited {
  limited: TelegramAnswer & { ok: false };
}

export class ResolveGate {
  private readonly lanes = new Map<string, ResolveLane>();
  /** sessionId → the end of its queue of calls. */
  private readonly tails = new Map<string, Promise<unknown>>();

  private readonly clock: TelegramClock;
  private readonly pacing: ResolvePacing;

  constructor(clock: TelegramClock, pacing: ResolvePacing) {
    this.clock = clock;
    this.pacing = pacing;
  }

  /** Runs `call` at the session's next turn; `answerOf` says what Telegram answered (a limit stops the lane). */
  run<R>(
    sessionId: string,
    call: () => Promise<R>,
    answerOf: (result: R) => TelegramAnswer,
  ): Promise<R | ResolveLimited> {
    const previous = this.tails.get(sessionId) ?? Promise.resolve();
    const turn = previous.then(() => this.take(sessionId, call, answerOf));
    const tail = turn.catch(() => undefined);
    this.tails.set(sessionId, tail);
    void tail.then(() => {
      if (this.tails.get(sessionId) === tail) this.tails.delete(sessionId);
    });
    return turn;
  }

  private async take<R>(
    sessionId: string,
    call: () => Promise<R>,
    answerOf: (result: R) => TelegramAnswer,
  ): Promise<R | ResolveLimited> {
    for (;;) {
      const lane = this.lanes.get(sessionId) ?? FRESH_RESOLVE_LANE;
      const turn = resolveTurn(lane, this.clock.now(), this.pacing);
      if (turn.kind === 'limited') return { limited: turn.answer };
      if (turn.kind === 'call') break;
      await this.clock.sleep(turn.ms);
    }
    const calledAt = this.clock.now();
    // Counted from the start, whatever the call does: a call that throws still was one.
    this.lanes.set(sessionId, { ...(this.lanes.get(sessionId) ?? FRESH_RESOLVE_LANE), lastCallAt: calledAt });
    const result = await call();
    const lane = this.lanes.get(sessionId) ?? FRESH_RESOLVE_LANE;
    this.lanes.set(sessionId, afterResolve(lane, calledAt, this.clock.now(), answerOf(result), this.pacing));
    return result;
  }
}

export function isResolveLimited(value: unknown): value is ResolveLimited {
  return typeof value === 'object' && value !== null && 'limited' in value;
}
