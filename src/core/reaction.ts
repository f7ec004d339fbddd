/**
 * What to do about one Telegram answer to a forward — decided here, applied by the runtime. `react` maps an
 * outcome (outcome.ts) and what the runtime knows at that moment to an ordered list of effects (the post's result,
 * the (session, group) pair, the session, the group guard) and what the session's lane does next. It executes
 * nothing: the runtime applies the effects in order and decides nothing again. The table it implements is in
 * docs/telegram.md (section 3).
 */
import { freshPair, type PairState, type PostStatus } from './model.js';
import type { Outcome, SessionDeadReason, SessionPauseReason } from './outcome.js';
import type { PostReason } from './reasons.js';

/** The numbers of the reaction table (RuntimeOptions carries them; tests and operators may change them). */
export interface ReactionPolicy {
  /** A transient failure is retried (same random_id) until the post has had this many attempts. */
  maxTransientAttempts: number;
  /** First retry after this long, doubling each time (never sooner than the session's delay). */
  transientBackoffMs: number;
  /** A (session, group) pair that cannot post (not a member, no rights…) is parked this long. */
  pairParkSeconds: number;
  /** Banned in this many groups in one cycle: the session is paused as limited. */
  bannedGroupsBeforePause: number;
  /** The pause for limits that give no duration (PEER_FLOOD, USER_RESTRICTED…). */
  limitedPauseSeconds: number;
  /** Unknown errors in one group before the pair is skipped for `unknownSkipCycles` cycles. */
  unknownFailuresBeforeSkip: number;
  unknownSkipCycles: number;
}

export interface ReactionContext {
  now: number;
  /** The post's attempts, this one included. */
  attempts: number;
  /** The session's delay between two calls (ms). */
  delayMs: number;
  cycleNumber: number;
  sessionId: string;
  groupKey: string;
  /** The stored state of this (session, group) pair, if any. */
  pair: PairState | null;
  /** Groups this session was found banned in during this cycle, before this answer. */
  bannedIn: ReadonlySet<string>;
  policy: ReactionPolicy;
}

export type Effect =
  /** The group's guard reservation: `release` frees it (nothing arrived); `keep` keeps it (something may have). */
  | { type: 'guard'; action: 'release' | 'keep' }
  | { type: 'save_pair'; pair: PairState }
  /** SLOWMODE_WAIT_X says the group's slow mode is at least X seconds. */
  | { type: 'learn_slowmode'; seconds: number }
  | {
      type: 'finish';
      status: PostStatus;
      reason: PostReason | null;
      error: string | null;
      sentAt: number | null;
      /** The messages the forward created in the group (Telegram's answer), when it said. */
      sentMessageIds?: number[];
    }
  /** Try the same post again, not before this time (the same random_id: Telegram deduplicates). */
  | { type: 'retry'; notBefore: number; error: string }
  /** Certainly not delivered: back to `planned` (it may wait, or go to another session). */
  | { type: 'put_back'; error: string; floodWait: boolean }
  | { type: 'pause_session'; seconds: number; reason: SessionPauseReason; error: string }
  | { type: 'retire_session'; reason: SessionDeadReason; error: string }
  /** The session's connection did not open: one more failed connect (core/reachability.ts sets the wait). */
  | { type: 'connect_failed'; error: string }
  | { type: 'note_banned' }
  /** This session cannot read the source: nothing of this cycle goes to it any more. */
  | { type: 'note_source_unreachable'; error: string }
  /** The cycle stops: nothing more can be forwarded (the source is gone or protected). */
  | { type: 'halt_cycle'; reason: string; error: string };

export type LaneNext =
  /** The post is done; the lane goes on with its next one. */
  | { kind: 'next' }
  /** The same post again (after a retry time, or a pause). */
  | { kind: 'again' }
  /** The post is done; the session posts nothing more this cycle (its other posts are skipped). */
  | { kind: 'skip_rest'; reason: PostReason; error: string | null }
  /** The session cannot go on: this post and the rest are handed to others (enterprise) or skipped. */
  | { kind: 'end'; reason: PostReason; error: string | null }
  | { kind: 'halt' };

export interface Reaction {
  effects: Effect[];
  lane: LaneNext;
}

const finish = (
  status: PostStatus,
  reason: PostReason | null,
  error: string | null,
  sentAt: number | null = null,
  sentMessageIds?: number[],
): Effect =>
  sentMessageIds
    ? { type: 'finish', status, reason, error, sentAt, sentMessageIds }
    : { type: 'finish', status, reason, error, sentAt };

function pairOf(ctx: ReactionContext): PairState {
  return ctx.pair ?? freshPair(ctx.sessionId, ctx.groupKey);
}

export function react(outcome: Outcome, ctx: ReactionContext): Reaction {
  const { now, policy } = ctx;
  const release: Effect = { type: 'guard', action: 'release' };
  switch (outcome.kind) {
    case 'sent':
    case 'duplicate': {
      const effects: Effect[] = [{ type: 'guard', action: 'keep' }];
      const pair = ctx.pair;
      if (pair && (pair.unknownFailures > 0 || pair.parkedUntil !== null)) {
        effects.push({
          type: 'save_pair',
          pair: { ...pair, unknownFailures: 0, parkedUntil: null, parkedReason: null, lastError: null },
        });
      }
      const duplicate = outcome.kind === 'duplicate';
      effects.push(
        finish(
          duplicate ? 'duplicate' : 'sent',
          null,
          duplicate ? 'RANDOM_ID_DUPLICATE' : null,
          now,
          outcome.kind === 'sent' ? outcome.messageIds : undefined,
        ),
      );
      return { effects, lane: { kind: 'next' } };
    }
    case 'transient': {
      if (ctx.attempts < policy.maxTransientAttempts) {
        const backoff = policy.transientBackoffMs * 2 ** (ctx.attempts - 1);
        return {
          effects: [{ type: 'retry', notBefore: now + Math.max(ctx.delayMs, backoff), error: outcome.error }],
          lane: { kind: 'again' },
        };
      }
      // The message may have arrived (a timeout is not a refusal): the group's reservation stays.
      return {
        effects: [{ type: 'guard', action: 'keep' }, finish('failed', 'transient', outcome.error)],
        lane: { kind: 'next' },
      };
    }
    case 'group_cooldown':
      return {
        effects: [
          release,
          {
            type: 'save_pair',
            pair: { ...pairOf(ctx), cooldownUntil: now + outcome.seconds * 1000, lastError: outcome.error },
          },
          { type: 'learn_slowmode', seconds: outcome.seconds },
          finish('skipped', 'slowmode', outcome.error),
        ],
        lane: { kind: 'next' },
      };
    case 'group_skip': {
      const effects: Effect[] = [
        release,
        {
          type: 'save_pair',
          pair: {
            ...pairOf(ctx),
            parkedUntil: now + policy.pairParkSeconds * 1000,
            parkedReason: outcome.reason,
            lastError: outcome.error,
          },
        },
        finish('skipped', outcome.reason, outcome.error),
      ];
      if (outcome.reason !== 'banned_in_group') return { effects, lane: { kind: 'next' } };
      effects.push({ type: 'note_banned' });
      const banned = ctx.bannedIn.size + (ctx.bannedIn.has(ctx.groupKey) ? 0 : 1);
      if (banned < policy.bannedGroupsBeforePause) return { effects, lane: { kind: 'next' } };
      effects.push({
        type: 'pause_session',
        seconds: policy.limitedPauseSeconds,
        reason: 'banned_in_many_groups',
        error: outcome.error,
      });
      return {
        effects,
        lane: { kind: 'skip_rest', reason: 'session_limited', error: 'banned_in_many_groups' },
      };
    }
    case 'session_pause': {
      const seconds = outcome.seconds ?? policy.limitedPauseSeconds;
      if (outcome.reason === 'flood_wait' || outcome.reason === 'flood_limit') {
        // A limit on how often the account calls, not on what it posts: the post waits for the pause to end, or
        // (when it ends too late) goes to a healthy account — unlike a spam limit, below.
        return {
          effects: [
            release,
            { type: 'put_back', error: outcome.error, floodWait: true },
            { type: 'pause_session', seconds, reason: outcome.reason, error: outcome.error },
          ],
          lane: { kind: 'again' },
        };
      }
      return {
        effects: [
          release,
          { type: 'pause_session', seconds, reason: outcome.reason, error: outcome.error },
          finish('skipped', 'session_limited', outcome.error),
        ],
        lane: { kind: 'skip_rest', reason: 'session_limited', error: outcome.reason },
      };
    }
    case 'session_dead':
      return {
        effects: [
          release,
          { type: 'put_back', error: outcome.error, floodWait: false },
          { type: 'retire_session', reason: outcome.reason, error: outcome.error },
        ],
        lane: {
          kind: 'end',
          reason: outcome.reason === 'frozen' ? 'session_frozen' : 'session_dead',
          error: outcome.error,
        },
      };
    case 'session_unreachable':
      // Nothing reached Telegram: the post waits for the session's next connect (after the wait the failure
      // sets), or goes to a healthy account when that wait runs past the session's time in the cycle.
      return {
        effects: [
          release,
          { type: 'put_back', error: outcome.error, floodWait: false },
          { type: 'connect_failed', error: outcome.error },
        ],
        lane: { kind: 'again' },
      };
    case 'source_invalid':
      return {
        effects: [
          release,
          finish('cancelled', 'source_invalid', outcome.error),
          { type: 'halt_cycle', reason: `source_invalid:${outcome.reason}`, error: outcome.error },
        ],
        lane: { kind: 'halt' },
      };
    case 'source_unreachable':
      // About this session and the source, not the group: no pair is parked, the post goes to a session that reads it.
      return {
        effects: [
          release,
          { type: 'put_back', error: outcome.error, floodWait: false },
          { type: 'note_source_unreachable', error: outcome.error },
        ],
        lane: { kind: 'end', reason: 'source_unreachable', error: outcome.error },
      };
    case 'unknown': {
      const before = pairOf(ctx);
      const failures = before.unknownFailures + 1;
      const skip = failures >= policy.unknownFailuresBeforeSkip;
      return {
        effects: [
          release,
          {
            type: 'save_pair',
            pair: {
              ...before,
              unknownFailures: skip ? 0 : failures,
              lastError: outcome.error,
              ...(skip ? { skipThroughCycle: ctx.cycleNumber + policy.unknownSkipCycles } : {}),
            },
          },
          finish('failed', 'unknown', outcome.error),
        ],
        lane: { kind: 'next' },
      };
    }
  }
}
