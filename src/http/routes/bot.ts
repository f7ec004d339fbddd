/**
 * The customer's bot: start/stop (the original's contract), status, plan preview, configuration, history and
 * live events. Every route acts on the caller's own bot only: there is no bot id to name someone else's.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { albumSize } from '../../core/album.js';
import { factsIndex, factsWarnings, groupRhythmSeconds, groupUsernames } from '../../core/group-facts.js';
import { assertGroupTargets, parseGroupTarget } from '../../core/group-targets.js';
import { POST_STATUSES, POST_VIEWS, type PostRecord } from '../../core/model.js';
import { LIMITS } from '../../core/limits.js';
import { explain } from '../../core/outcome.js';
import { planCycle } from '../../core/plan.js';
import { planToJson } from '../../core/plan-json.js';
import { parsePostLink, type PostRef } from '../../core/post-link.js';
import { readiness, type NotReadyReason } from '../../core/readiness.js';
import { explainText, type ExplainPolicy } from '../../core/reasons.js';
import { usableAt } from '../../core/session-state.js';
import { resolveStartMode } from '../../core/start-mode.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../runtime/options.js';
import type { BotConfig } from '../../storage/bots.js';
import type { User } from '../../storage/users.js';
import { requireCaller } from '../auth.js';
import { BotStatusView, botStatus, nextCycleFor } from '../bot-status.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { LiveEvent } from '../event-schemas.js';
import { iso, presentFactsVerdict, presentSession } from '../presenters.js';
import type { RateLimits } from '../rate-limits.js';
import { RecordId, rangeSchema } from '../schemas.js';
import type { EventHub } from '../sse.js';
import { RateLimitedPreflight } from './preflight.js';

const StartBody = Type.Union([
  Type.Object(
    { execution_mode: Type.Optional(Type.Unknown()), total_cycle_minutes: Type.Optional(Type.Unknown()) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

const PostBody = Type.Object(
  { post_link: Type.String({ maxLength: 2048 }) },
  { additionalProperties: false },
);

const GroupsBody = Type.Object(
  { groups: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 20_000 }) },
  { additionalProperties: false },
);

const SettingsBody = Type.Object(
  {
    delay_between_posts: Type.Optional(rangeSchema(LIMITS.delayBetweenPosts)),
    delay_between_cycles: Type.Optional(rangeSchema(LIMITS.delayBetweenCycles)),
    min_group_gap_seconds: Type.Optional(rangeSchema(LIMITS.minGroupGapSeconds)),
    silent: Type.Optional(Type.Boolean()),
    hide_sender: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

const PlanQuery = Type.Object(
  {
    execution_mode: Type.Optional(Type.String({ maxLength: 32 })),
    total_cycle_minutes: Type.Optional(rangeSchema(LIMITS.totalCycleMinutes)),
  },
  { additionalProperties: false },
);

const PostsQuery = Type.Object(
  {
    cycle: Type.Optional(Type.Integer({ minimum: 1 })),
    status: Type.Optional(Type.Union(POST_STATUSES.map((s) => Type.Literal(s)))),
    view: Type.Optional(
      Type.Union(
        POST_VIEWS.map((v) => Type.Literal(v)),
        {
          default: 'all',
          description:
            'all: every post, newest first; done: what happened (final statuses), latest first by happenedAt; planned: what is still to come (planned, sending), soonest first',
        },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(RecordId('the nextCursor of the previous page')),
  },
  { additionalProperties: false },
);

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One post as the history shows it (the answer of GET /api/bot/posts, also with `?cycle=`). */
export const PostView = Type.Object({
  id: Type.String(),
  cycle: Type.Integer(),
  seq: Type.Integer(),
  sessionId: Type.String({
    description: 'the session that sends it (another than planned after a hand-off)',
  }),
  plannedSessionId: Type.String({
    description: 'the session the plan gave it to; differs from sessionId when the post was handed over',
  }),
  group: Type.String(),
  plannedAt: nullable(Type.String()),
  status: Type.Union(POST_STATUSES.map((s) => Type.Literal(s))),
  reason: nullable(Type.String()),
  reasonText: nullable(Type.String()),
  error: nullable(Type.String()),
  errorText: nullable(Type.String()),
  attempts: Type.Integer(),
  sentAt: nullable(Type.String()),
  happenedAt: nullable(
    Type.String({
      description:
        'when its result came about: the sent time; else the planned time, or the end of its cycle when that came first (a stop, a deadline); null while still to come',
    }),
  ),
  albumSize: Type.Integer({
    minimum: 1,
    description: 'how many messages the post forwards: an album of N photos is N, a single message 1',
  }),
  sentMessageIds: Type.Array(Type.Integer(), {
    description:
      'the ids of the messages the forward created in the group, in order, as Telegram answered (empty when not known)',
  }),
  groupUsername: nullable(
    Type.String({
      description:
        "the group's public username as the sessions last read it (a sent message is at t.me/<username>/<id>); null: none known",
    }),
  ),
});

const PostsPage = Type.Object({ posts: Type.Array(PostView), nextCursor: nullable(Type.String()) });

export function presentPost(
  p: PostRecord & { cycleNumber: number; happenedAt: number | null },
  policy: ExplainPolicy,
  usernames: ReadonlyMap<string, string> = new Map(),
): Static<typeof PostView> {
  return {
    id: p.id,
    cycle: p.cycleNumber,
    seq: p.seq,
    sessionId: p.sessionId,
    plannedSessionId: p.plannedSessionId,
    group: p.groupKey,
    plannedAt: iso(p.plannedAt),
    status: p.status,
    reason: p.reason,
    reasonText: p.reason ? explainText('post', p.reason, policy, p.error) : null,
    error: p.error,
    errorText: p.error ? (explainText('error', p.error, policy) ?? explain(p.error)) : null,
    attempts: p.attempts,
    sentAt: iso(p.sentAt),
    happenedAt: iso(p.happenedAt),
    albumSize: p.randomIds.length,
    sentMessageIds: p.sentMessageIds,
    groupUsername: usernames.get(p.groupKey) ?? null,
  };
}

export function presentSettings(bot: BotConfig) {
  return {
    delay_between_posts: bot.settings.delayBetweenPosts,
    delay_between_cycles: bot.settings.delayBetweenCycles,
    min_group_gap_seconds: bot.settings.minGroupGapSeconds,
    silent: bot.settings.silent,
    hide_sender: bot.settings.hideSender,
  };
}

/** A start the bot's readiness refuses, as the original contract's codes. */
function startRefusal(reason: NotReadyReason): ApiError {
  switch (reason) {
    case 'no_post':
      return new ApiError('NO_POST_LINK', 'set the post to forward first (PUT /api/bot/post)');
    case 'no_groups':
      return new ApiError('NO_GROUPS', 'add groups first (PUT /api/bot/groups)');
    case 'bad_settings':
      return new ApiError('STARTER_REQUIRES_CYCLE_MINUTES', 'starter mode requires total_cycle_minutes > 0');
    default:
      return new ApiError('NO_USABLE_SESSION', 'no usable Telegram session: add or log in a session first');
  }
}

export function botRoutes(deps: AppDeps, hub: EventHub, limits: RateLimits) {
  const { store } = deps;
  const preflight = new RateLimitedPreflight(deps);

  /** The caller as stored now (a plan may have changed since the token was issued). */
  async function caller(request: FastifyRequest): Promise<{ user: User; bot: BotConfig }> {
    const { user } = requireCaller(request);
    return { user, bot: await store.bots.forUser(user.id) };
  }

  /** When the bot's next cycle starts by the runner's rule; a stopped bot's first one is a planning lead away. */
  async function nextStartOf(bot: BotConfig): Promise<number> {
    const now = deps.clock.now();
    const policy = deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
    if (bot.desiredState !== 'running') return now + policy.planningLeadMs;
    const next = nextCycleFor(bot, await store.bots.latestCycle(bot.id), now, policy);
    return next.ok ? next.at : now;
  }

  return async (plugin: FastifyInstance) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post('/api/bot/start', { schema: { tags: ['bot'], body: StartBody } }, async (request) => {
      const { user, bot } = await caller(request);
      if (user.planStatus !== 'active') {
        throw new ApiError('PLAN_INACTIVE', `your plan is ${user.planStatus}: starting needs an active plan`);
      }
      const resolved = resolveStartMode(request.body, user.planType);
      const now = deps.clock.now();
      let sessions = await store.sessions.listByOwner(user.id);
      const alive = () => sessions.filter((s) => s.status !== 'dead');
      if (bot.desiredState === 'running') {
        // Starting a running bot changes nothing.
        return {
          status: 'running',
          execution_mode: bot.mode,
          total_cycle_minutes: bot.totalCycleMinutes,
          sessions: alive().map((s) => presentSession(s, now)),
        };
      }
      const check = () =>
        readiness(
          {
            postLink: bot.postLink,
            groupCount: bot.groups.length,
            sessions,
            mode: resolved.mode,
            totalCycleMinutes: resolved.totalCycleMinutes,
          },
          now,
        );
      let ready = check();
      if (!ready.ok && ready.reason === 'no_usable_session') {
        // A customer without a live session gets the operator's pool sessions, up to the plan's limit.
        if (user.maxSessions <= 0) {
          throw new ApiError(
            'NO_USABLE_SESSION',
            'no usable Telegram session: add or log in a session first',
          );
        }
        const lent = await store.sessions.assignFromPool(user.id, user.maxSessions);
        if (lent.length === 0) {
          throw new ApiError(
            'SESSION_POOL_EMPTY',
            'no usable session, and the operator’s session pool is empty',
          );
        }
        sessions = [...sessions, ...lent];
        ready = check();
      }
      // Every session paused is no refusal: the bot starts and waits for the first pause to end.
      if (!ready.ok && ready.reason !== 'sessions_paused') throw startRefusal(ready.reason);
      if (await store.bots.start(bot.id, resolved.mode, resolved.totalCycleMinutes))
        await deps.control.started(bot.id);
      const started = (await store.bots.get(bot.id))!;
      return {
        status: 'running',
        execution_mode: started.mode,
        total_cycle_minutes: started.totalCycleMinutes,
        sessions: alive().map((s) => presentSession(s, now)),
      };
    });

    app.post('/api/bot/stop', { schema: { tags: ['bot'] } }, async (request) => {
      const { bot } = await caller(request);
      if (await store.bots.stop(bot.id)) await deps.control.stopped(bot.id);
      return { status: 'stopped' };
    });

    app.get(
      '/api/bot/status',
      { schema: { tags: ['bot'], response: { 200: BotStatusView } } },
      async (request) => botStatus(deps, (await caller(request)).bot),
    );

    app.get('/api/me', { schema: { tags: ['account'] } }, async (request) => {
      // The user as this request sees it (read from the store now, with a token's trusted claims applied).
      const { user } = requireCaller(request);
      return {
        id: user.id,
        name: user.name,
        role: user.role,
        plan_type: user.planType,
        plan_status: user.planStatus,
        max_sessions: user.maxSessions,
      };
    });

    app.post('/api/me/tokens/rotate', { schema: { tags: ['account'] } }, async (request, reply) => {
      const { user, tokenId } = requireCaller(request);
      if (tokenId === null) {
        throw new ApiError(
          'CONFLICT',
          'you are signed in with a JWT from your frontend: it rotates its own keys; there is no API token to rotate',
        );
      }
      const issued = await store.users.issueToken(user.id, 'rotated');
      await store.users.revokeToken(tokenId);
      return reply.status(201).send({ id: issued.id, token: issued.token, revokedTokenId: tokenId });
    });

    app.get('/api/bot/plan', { schema: { tags: ['bot'], querystring: PlanQuery } }, async (request) => {
      const { user, bot } = await caller(request);
      const resolved = resolveStartMode(request.query, user.planType, {
        mode: bot.mode,
        totalCycleMinutes: bot.totalCycleMinutes,
      });
      // The sessions the runner would plan with: those usable when the next cycle starts (core rules).
      const at = await nextStartOf(bot);
      const sessions = (await store.sessions.listByOwner(user.id)).filter((s) => usableAt(s, at));
      const plan = planCycle({
        mode: resolved.mode,
        sessions: sessions.map((s) => s.id),
        groups: bot.groups,
        delayBetweenPosts: bot.settings.delayBetweenPosts,
        totalCycleMinutes: resolved.totalCycleMinutes,
        minGroupGapSeconds: bot.settings.minGroupGapSeconds,
      });
      // What is known of the groups, as stored by the runtime and the preflight: the preview never asks Telegram.
      const labels = new Map(sessions.map((s) => [s.id, s.label]));
      const groupWarnings = factsWarnings({
        mode: plan.mode,
        posts: plan.posts.map((p) => ({ sessionId: p.session, groupKey: p.group })),
        sessionIds: plan.sessions.map((s) => s.session),
        facts: factsIndex(await store.runtime.loadGroupFacts(sessions.map((s) => s.id))),
        rhythmSeconds: groupRhythmSeconds(plan, bot.settings.delayBetweenCycles),
        label: (id) => labels.get(id) ?? id,
      });
      // What the last read of the source said (the preview itself never asks Telegram): an album of N, or one.
      const read = await store.bots.lastSourceRead(bot.id);
      const size = albumSize(read, bot.postLink);
      return {
        ...planToJson(
          plan,
          (s) => s,
          (g) => g,
          groupWarnings,
        ),
        // The same warnings with what they are about (group, sessions, price, slow mode, hand-off).
        groupWarnings,
        source: size === null ? null : { link: bot.postLink, messageIds: read!.messageIds, albumSize: size },
      };
    });

    app.put('/api/bot/post', { schema: { tags: ['bot'], body: PostBody } }, async (request) => {
      const { bot } = await caller(request);
      const ref = parsePostLink(request.body.post_link);
      await store.bots.setPostLink(bot.id, ref.canonical);
      return { post_link: ref.canonical, source: presentSource(ref) };
    });

    app.get('/api/bot/post', { schema: { tags: ['bot'] } }, async (request) => {
      const { bot } = await caller(request);
      return {
        post_link: bot.postLink,
        source: bot.postLink ? presentSource(parsePostLink(bot.postLink)) : null,
      };
    });

    app.put('/api/bot/groups', { schema: { tags: ['bot'], body: GroupsBody } }, async (request) => {
      const { bot } = await caller(request);
      const parsed = assertGroupTargets(request.body.groups);
      const keys = parsed.targets.map((t) => t.key);
      await store.bots.setGroups(bot.id, keys);
      return { groups: keys, warnings: parsed.warnings };
    });

    app.get('/api/bot/groups', { schema: { tags: ['bot'] } }, async (request) => {
      const { user, bot } = await caller(request);
      // Each group with what each session knows of it (read at planning or by a preflight; never asked here).
      const sessions = await store.sessions.listByOwner(user.id);
      const known = factsIndex(await store.runtime.loadGroupFacts(sessions.map((s) => s.id)));
      const policy = deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
      return {
        groups: bot.groups.map((key) => ({
          key,
          ...presentTarget(key),
          facts: sessions.flatMap((s) => {
            const f = known(s.id, key);
            if (!f) return [];
            const { sessionId, groupKey: _key, checkedAt, ...fields } = f;
            return [{ sessionId, checkedAt: iso(checkedAt), ...fields, ...presentFactsVerdict(f, policy) }];
          }),
        })),
      };
    });

    app.put('/api/bot/settings', { schema: { tags: ['bot'], body: SettingsBody } }, async (request) => {
      const { bot } = await caller(request);
      const { body } = request;
      await store.bots.setSettings(bot.id, {
        ...(body.delay_between_posts !== undefined ? { delayBetweenPosts: body.delay_between_posts } : {}),
        ...(body.delay_between_cycles !== undefined ? { delayBetweenCycles: body.delay_between_cycles } : {}),
        ...(body.min_group_gap_seconds !== undefined
          ? { minGroupGapSeconds: body.min_group_gap_seconds }
          : {}),
        ...(body.silent !== undefined ? { silent: body.silent } : {}),
        ...(body.hide_sender !== undefined ? { hideSender: body.hide_sender } : {}),
      });
      return presentSettings((await store.bots.get(bot.id))!);
    });

    app.get('/api/bot/settings', { schema: { tags: ['bot'] } }, async (request) =>
      presentSettings((await caller(request)).bot),
    );

    app.get(
      '/api/bot/posts',
      { schema: { tags: ['bot'], querystring: PostsQuery, response: { 200: PostsPage } } },
      async (request) => {
        const { user, bot } = await caller(request);
        const { query } = request;
        // Public names as the sessions' reads of the groups know them: the history links the messages sent there.
        const sessions = await store.sessions.listByOwner(user.id);
        const usernames = groupUsernames(await store.runtime.loadGroupFacts(sessions.map((s) => s.id)));
        const page = await store.bots.posts(bot.id, {
          cycle: query.cycle,
          status: query.status,
          view: query.view,
          limit: query.limit ?? 50,
          cursor: query.cursor,
        });
        return {
          posts: page.posts.map((p) => presentPost(p, deps.policy ?? DEFAULT_RUNTIME_OPTIONS, usernames)),
          nextCursor: page.nextCursor,
        };
      },
    );

    app.get(
      '/api/bot/events',
      {
        schema: {
          tags: ['bot'],
          description:
            'The live event stream (text/event-stream): each event is named by its type, its data is one of these.',
          response: {
            200: {
              description: 'one Server-Sent Event per runtime event of the caller’s bot',
              content: { 'text/event-stream': { schema: LiveEvent } },
            },
          },
        },
      },
      async (request, reply) => {
        const { user } = requireCaller(request);
        if (hub.streamsOf(user.id) >= limits.streamsPerUser) {
          throw new ApiError(
            'TOO_MANY_STREAMS',
            `at most ${limits.streamsPerUser} live event streams at once per user; close one first`,
            { retryAfterSeconds: 5 },
          );
        }
        reply.hijack();
        hub.add(user.id, reply.raw);
      },
    );

    app.get(
      '/api/bot/preflight',
      // It asks Telegram about every (session, group): six runs a minute per caller at most.
      { schema: { tags: ['bot'] }, config: { routeLimit: { max: 6, windowMs: 60_000 } } },
      async (request) => {
        const { user, bot } = await caller(request);
        return preflight.run(user, bot);
      },
    );
  };
}

function presentSource(ref: PostRef) {
  return {
    chat: ref.chat.kind === 'username' ? `@${ref.chat.username}` : ref.chat.chatId,
    messageId: ref.messageId,
    topicId: ref.topicId ?? null,
  };
}

function presentTarget(key: string) {
  const target = parseGroupTarget(key);
  return {
    chat: target.chat.kind === 'username' ? `@${target.chat.username}` : target.chat.chatId,
    topicId: target.topicId ?? null,
  };
}
