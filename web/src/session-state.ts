/**
 * A session's state as it is when the page renders, by the server's own rule (src/core/session-state.ts, pure):
 * a pause the last answer showed is over on screen once its time has passed, whenever the page draws next.
 */
import type { SessionStatus } from '../../src/core/model.js';
import type { SessionFreeze } from './types';
import { sessionStateAt, type EffectiveSessionState } from '../../src/core/session-state.js';

export function stateNow(
  s: {
    state: SessionStatus;
    stateReason?: string | null;
    cooldownUntil: string | null;
    frozen?: SessionFreeze | null;
  },
  now: number = Date.now(),
): EffectiveSessionState {
  return sessionStateAt(
    {
      status: s.state,
      statusReason: s.stateReason ?? null,
      cooldownUntil: s.cooldownUntil === null ? null : Date.parse(s.cooldownUntil),
      frozen: s.frozen?.since
        ? {
            since: Date.parse(s.frozen.since),
            until: s.frozen.until === null ? null : Date.parse(s.frozen.until),
            appealUrl: s.frozen.appealUrl,
          }
        : null,
    },
    now,
  );
}
