/**
 * One cycle of the customer's bot as it happened: its own mode, length and times, and every slot with what became
 * of it (core/slot-outcome.ts). The dashboard's timeline draws the live cycle from this — never from a preview,
 * which is a plan for a cycle that has not run.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { groupUsernames } from '../../core/group-facts.js';
import { explainText } from '../../core/reasons.js';
import { countSlotOutcomes, SLOT_OUTCOMES, slotHappenedAt, slotOutcome } from '../../core/slot-outcome.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../runtime/options.js';
import { requireCaller } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { PostCounts } from '../bot-status.js';
import { iso } from '../presenters.js';
import { POST_EXAMPLE, PostView, presentPost } from './bot.js';

/** Beyond this many slots a cycle view lists the first ones in plan order (its counts always cover them all). */
export const CYCLE_VIEW_MAX_SLOTS = 5000;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const CycleParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the cycle’s number (1, 2, 3…)' }),
});

const Outcome = Type.Union(
  SLOT_OUTCOMES.map((o) => Type.Literal(o)),
  { description: 'what became of the slot: sent (or duplicate), failed, skipped, cancelled, or pending' },
);

const CycleView = Type.Object(
  {
    cycle: Type.Object({
      id: Type.String(),
      number: Type.Integer(),
      mode: Type.Union([Type.Literal('starter'), Type.Literal('enterprise')]),
      cycleSeconds: Type.Union([Type.Number(), Type.Null()], {
        description: 'starter: the cycle’s length T; enterprise: null',
      }),
      status: Type.Union(
        (['running', 'finished', 'stopped', 'aborted', 'skipped'] as const).map((s) => Type.Literal(s)),
      ),
      reason: nullable(Type.String()),
      reasonText: nullable(
        Type.String({ description: 'the reason in plain words (free text is already words)' }),
      ),
      startedAt: nullable(Type.String({ description: 'when the cycle was planned to start' })),
      deadlineAt: nullable(Type.String({ description: 'no post of the cycle is sent after this' })),
      expectedEndAt: nullable(Type.String({ description: 'when the plan’s last post is due' })),
      finishedAt: nullable(Type.String()),
    }),
    counts: PostCounts,
    slots: Type.Array(
      Type.Composite([
        PostView,
        Type.Object({
          plannedSessionId: Type.String({ description: 'the session the plan gave the post to' }),
          outcome: Outcome,
        }),
      ]),
      { description: 'the cycle’s slots in plan order (the first 5,000 of a larger cycle)' },
    ),
    truncated: Type.Boolean({ description: 'true when the cycle has more slots than listed' }),
  },
  {
    description: 'The cycle, its counts by outcome, and its slots in plan order.',
    examples: [
      {
        cycle: {
          id: '40',
          number: 3,
          mode: 'starter',
          cycleSeconds: 3600,
          status: 'finished',
          reason: null,
          reasonText: null,
          startedAt: '2026-01-01T12:00:00.000Z',
          deadlineAt: '2026-01-01T13:00:00.000Z',
          expectedEndAt: '2026-01-01T12:40:00.000Z',
          finishedAt: '2026-01-01T12:40:01.000Z',
        },
        counts: { planned: 1, sent: 1, failed: 0, skipped: 0, cancelled: 0, pending: 0, done: 1 },
        slots: [{ ...POST_EXAMPLE, outcome: 'sent' }],
        truncated: false,
      },
    ],
  },
);

export function cycleRoutes(deps: AppDeps) {
  const { store } = deps;
  return async (plugin: FastifyInstance) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/bot/cycles/:number',
      {
        schema: {
          tags: ['bot'],
          summary: 'One cycle of the bot as it happened, with every slot and its outcome',
          description:
            'Its own mode and length (not the bot’s settings now); 404 for a cycle the bot does not have.',
          params: CycleParams,
          errors: ['NOT_FOUND'],
          response: { 200: CycleView },
        },
      },
      async (request) => {
        const { user } = requireCaller(request);
        const bot = await store.bots.forUser(user.id);
        const { number } = request.params;
        const cycle = await store.bots.cycleByNumber(bot.id, number);
        if (!cycle) throw new ApiError('NOT_FOUND', `the bot has no cycle #${number}`);
        const policy = deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
        const sessions = await store.sessions.listByOwner(user.id);
        const usernames = groupUsernames(await store.runtime.loadGroupFacts(sessions.map((s) => s.id)));
        const posts = await store.bots.cyclePosts(cycle.id, CYCLE_VIEW_MAX_SLOTS + 1);
        const listed = posts.slice(0, CYCLE_VIEW_MAX_SLOTS);
        return {
          cycle: {
            id: cycle.id,
            number: cycle.number,
            mode: cycle.mode,
            cycleSeconds: cycle.cycleSeconds,
            status: cycle.status,
            reason: cycle.reason,
            reasonText: cycle.reason ? (explainText('cycle', cycle.reason, policy) ?? cycle.reason) : null,
            startedAt: iso(cycle.plannedStartAt),
            deadlineAt: iso(cycle.deadlineAt),
            expectedEndAt: iso(cycle.expectedEndAt),
            finishedAt: iso(cycle.finishedAt),
          },
          counts: countSlotOutcomes(await store.bots.cyclePostCounts(cycle.id)),
          slots: listed.map((p) => ({
            ...presentPost(
              { ...p, cycleNumber: cycle.number, happenedAt: slotHappenedAt(p, cycle.finishedAt) },
              policy,
              usernames,
            ),
            plannedSessionId: p.plannedSessionId,
            outcome: slotOutcome(p.status),
          })),
          truncated: posts.length > listed.length,
        };
      },
    );
  };
}
