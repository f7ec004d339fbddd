/**
 * The customer's bot: start/stop (the original's contract), status, plan preview, configuration, history and
 * live events. Every route acts on the caller's own bot only: there is no bot id to name someone else's.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { albumSize } from '../../core/album.js';
import {
  factsIndex,
  FactsWarningCode,
  factsWarnings,
  groupRhythmSeconds,
  groupUsernames,
} from '../../core/group-facts.js';
import { CoreErrorCode } from '../../core/errors.js';
import { assertGroupTargets, MAX_GROUP_TARGETS, parseGroupTarget } from '../../core/group-targets.js';
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
import { PLAN_STATUSES, PLAN_TYPES, ROLES, type User } from '../../storage/users.js';
import { requireCaller } from '../auth.js';
import { BOT_STATUS_EXAMPLE, botStatus, BotStatusView, nextCycleFor } from '../bot-status.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import {
  FactsVerdictFields,
  GroupFactsFields,
  iso,
  presentFactsVerdict,
  presentSession,
  SESSION_EXAMPLE,
  SessionView,
} from '../presenters.js';
import type { RateLimits } from '../rate-limits.js';
import { bodyAjv, DateTime, Nullable, RecordId, rangeSchema, shapeOf, StringEnum } from '../schemas.js';
import { LiveEvent, type EventHub } from '../sse.js';
import { PreflightAnswer, RateLimitedPreflight } from './preflight.js';

const ExecutionMode = StringEnum(['starter', 'enterprise']);
const MODES =
  'starter: each session posts to every group, staggered over the cycle; enterprise: the groups are split between the sessions';

/**
 * The original's start body. Its values are checked by the core's start rule (resolveStartMode), which answers the
 * original's codes (INVALID_EXECUTION_MODE, STARTER_REQUIRES_CYCLE_MINUTES…) and ignores the minutes outside
 * starter mode, so the route validates its shape only (shapeOf); the document shows the types to send.
 */
const StartBody = Nullable(
  Type.Object(
    {
      execution_mode: Type.Optional(
        Nullable(ExecutionMode, {
          description: `${MODES}; absent or null: the stored mode, else the plan’s`,
        }),
      ),
      total_cycle_minutes: Type.Optional(
        Nullable(
          rangeSchema(
            LIMITS.totalCycleMinutes,
            'starter mode’s cycle length T in minutes: required with execution_mode "starter"; ignored in enterprise mode',
          ),
        ),
      ),
    },
    { additionalProperties: false },
  ),
  {
    description:
      'Optional. Without a mode: the stored one, else the plan’s (STARTER: starter with 60 minutes; otherwise enterprise).',
    examples: [{ execution_mode: 'starter', total_cycle_minutes: 60 }],
  },
);

const StartAnswer = Type.Object(
  {
    status: Type.Literal('running'),
    execution_mode: Nullable(ExecutionMode, { description: MODES }),
    total_cycle_minutes: Nullable(
      Type.Integer({ description: 'starter mode’s cycle length; null in enterprise' }),
    ),
    sessions: Type.Array(SessionView, {
      description: 'the sessions the bot posts with (dead ones left out)',
    }),
  },
  {
    description: 'The bot runs (also when it already ran: then nothing changed).',
    examples: [
      { status: 'running', execution_mode: 'starter', total_cycle_minutes: 60, sessions: [SESSION_EXAMPLE] },
    ],
  },
);

const PostBody = Type.Object(
  {
    post_link: Type.String({
      maxLength: 2048,
      description: 'a t.me link to one message of a channel or group',
    }),
  },
  { additionalProperties: false, examples: [{ post_link: 'https://t.me/stagger_demo/42' }] },
);

const PostSource = Type.Object({
  chat: Type.String({ description: '@username of the source chat, or its id' }),
  messageId: Type.Integer(),
  topicId: Nullable(Type.Integer()),
});

const PostAnswer = Type.Object(
  {
    post_link: Type.String({ description: 'the link as stored (canonical form)' }),
    source: PostSource,
  },
  {
    description: 'The post is set.',
    examples: [
      {
        post_link: 'https://t.me/stagger_demo/42',
        source: { chat: '@stagger_demo', messageId: 42, topicId: null },
      },
    ],
  },
);

const StoredPost = Type.Object(
  { post_link: Nullable(Type.String()), source: Nullable(PostSource) },
  {
    description: 'The post to forward; nulls when none is set.',
    examples: [
      {
        post_link: 'https://t.me/stagger_demo/42',
        source: { chat: '@stagger_demo', messageId: 42, topicId: null },
      },
    ],
  },
);

const GroupsBody = Type.Object(
  {
    groups: Type.Array(Type.String({ maxLength: 512 }), {
      // The core's limit of groups; a longer list is answered TOO_MANY_GROUPS, as the core answers it.
      maxItems: MAX_GROUP_TARGETS,
      description: `one target a line: a group id (-1001234567890), @username or t.me/username, optionally /<topic id>; blank lines and # comments are skipped; at most ${MAX_GROUP_TARGETS} lines`,
    }),
  },
  {
    additionalProperties: false,
    examples: [{ groups: ['-1001234567890', '@my_group', 't.me/other_group/42'] }],
  },
);

const GroupsAnswer = Type.Object(
  {
    groups: Type.Array(Type.String(), {
      description: 'the groups as stored: canonical keys, duplicates dropped',
    }),
    warnings: Type.Array(
      Type.Object({ code: Type.String(), message: Type.String(), line: Type.Integer({ minimum: 1 }) }),
      { description: 'e.g. DUPLICATE_GROUP: a line that repeats another (kept once)' },
    ),
  },
  {
    description: 'The groups are set.',
    examples: [
      {
        groups: ['-1001234567890', '@my_group'],
        warnings: [
          { code: 'DUPLICATE_GROUP', line: 3, message: 'line 3 repeats line 2 (@my_group); kept once' },
        ],
      },
    ],
  },
);

const GroupsView = Type.Object(
  {
    groups: Type.Array(
      Type.Object({
        key: Type.String(),
        chat: Type.String({ description: '@username or the chat id' }),
        topicId: Nullable(Type.Integer()),
        facts: Type.Array(
          Type.Object({
            sessionId: Type.String(),
            checkedAt: Nullable(DateTime('when Telegram was asked')),
            ...GroupFactsFields,
            ...FactsVerdictFields,
          }),
          { description: 'what each session knows of the group (read at planning or by a preflight)' },
        ),
      }),
    ),
  },
  {
    description: 'The groups, each with what the sessions know of it.',
    examples: [
      {
        groups: [
          {
            key: '@my_group',
            chat: '@my_group',
            topicId: null,
            facts: [
              {
                sessionId: '7',
                checkedAt: '2026-01-01T11:58:00.000Z',
                member: true,
                canWrite: true,
                slowmodeSeconds: 300,
                paidStars: 0,
                topicClosed: null,
                username: 'my_group',
                error: null,
                skipReason: null,
                skipText: null,
                factsText: ['slow mode 5 min'],
              },
            ],
          },
        ],
      },
    ],
  },
);

const SettingsFields = {
  delay_between_posts: rangeSchema(LIMITS.delayBetweenPosts, 'seconds between two posts of one session'),
  delay_between_cycles: rangeSchema(
    LIMITS.delayBetweenCycles,
    'seconds between the end of a cycle and the next',
  ),
  min_group_gap_seconds: rangeSchema(
    LIMITS.minGroupGapSeconds,
    'seconds one group waits between two posts of any of your sessions',
  ),
  silent: Type.Boolean({ description: 'forward without a notification' }),
  hide_sender: Type.Boolean({ description: 'forward without the source’s name (a copy)' }),
};

const SETTINGS_EXAMPLE = {
  delay_between_posts: 5,
  delay_between_cycles: 0,
  min_group_gap_seconds: 60,
  silent: false,
  hide_sender: false,
};

const SettingsBody = Type.Partial(Type.Object(SettingsFields), {
  additionalProperties: false,
  minProperties: 1,
  description: 'The settings to change (at least one); the others stay.',
  examples: [{ delay_between_posts: 5, silent: true }],
});

const Settings = Type.Object(SettingsFields, {
  description: 'The bot’s settings.',
  examples: [SETTINGS_EXAMPLE],
});

const PlanQuery = Type.Object(
  {
    execution_mode: Type.Optional(
      Type.String({
        maxLength: 32,
        description: 'preview this mode (starter or enterprise) instead of the stored one',
      }),
    ),
    total_cycle_minutes: Type.Optional(
      rangeSchema(LIMITS.totalCycleMinutes, 'preview this cycle length (starter)'),
    ),
  },
  { additionalProperties: false },
);

const PlanAnswer = Type.Object(
  {
    mode: StringEnum(['starter', 'enterprise'], { description: MODES }),
    cycleSeconds: Nullable(Type.Number({ description: 'T in seconds (starter); null in enterprise mode' })),
    delayBetweenPosts: Type.Number(),
    sessions: Type.Array(
      Type.Object({
        index: Type.Integer(),
        session: Type.String({ description: 'the session id' }),
        offsetSeconds: Type.Number({
          description: 'when the session’s first post goes, from the cycle’s start',
        }),
        groups: Type.Array(Type.String(), { description: 'its groups, in posting order' }),
      }),
    ),
    posts: Type.Array(
      Type.Object({ session: Type.String(), group: Type.String(), atSeconds: Type.Number() }),
      { description: 'every post of the cycle, by time, then session' },
    ),
    warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String() }), {
      description: 'what the planner and the known group facts warn about',
    }),
    groupWarnings: Type.Array(
      Type.Object({
        code: StringEnum(Object.values(FactsWarningCode)),
        message: Type.String(),
        group: Type.String(),
        sessions: Type.Array(Type.String(), { description: 'the sessions the warning is about' }),
        stars: Type.Optional(Type.Number({ description: 'paid messages: the price a message, in Stars' })),
        seconds: Type.Optional(Type.Number({ description: 'slow mode: its interval' })),
        handedTo: Type.Optional(
          Type.Array(Type.String(), { description: 'enterprise: the sessions that take the post over' }),
        ),
      }),
      { description: 'the group warnings among `warnings`, with what they are about' },
    ),
    source: Nullable(
      Type.Object({
        link: Type.String(),
        messageIds: Type.Array(Type.Integer()),
        albumSize: Type.Integer({ minimum: 1 }),
      }),
      {
        description:
          'what the last read of the source found (an album of N, or one message); null: not read yet',
      },
    ),
  },
  {
    description: 'The next cycle as the runner would plan it now, with the sessions usable then.',
    examples: [
      {
        mode: 'starter',
        cycleSeconds: 3600,
        delayBetweenPosts: 5,
        sessions: [{ index: 0, session: '7', offsetSeconds: 0, groups: ['@my_group', '-1001234567890'] }],
        posts: [
          { session: '7', group: '@my_group', atSeconds: 0 },
          { session: '7', group: '-1001234567890', atSeconds: 5 },
        ],
        warnings: [],
        groupWarnings: [],
        source: { link: 'https://t.me/stagger_demo/42', messageIds: [42], albumSize: 1 },
      },
    ],
  },
);

const PostsQuery = Type.Object(
  {
    cycle: Type.Optional(Type.Integer({ minimum: 1, description: 'only this cycle’s posts' })),
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
  plannedAt: Nullable(DateTime()),
  status: StringEnum(POST_STATUSES),
  reason: Nullable(Type.String()),
  reasonText: Nullable(Type.String()),
  error: Nullable(Type.String()),
  errorText: Nullable(Type.String()),
  attempts: Type.Integer(),
  sentAt: Nullable(DateTime()),
  happenedAt: Nullable(
    DateTime(
      'when its result came about: the sent time; else the planned time, or the end of its cycle when that came first (a stop, a deadline); null while still to come',
    ),
  ),
  albumSize: Type.Integer({
    minimum: 1,
    description: 'how many messages the post forwards: an album of N photos is N, a single message 1',
  }),
  sentMessageIds: Type.Array(Type.Integer(), {
    description:
      'the ids of the messages the forward created in the group, in order, as Telegram answered (empty when not known)',
  }),
  groupUsername: Nullable(
    Type.String({
      description:
        "the group's public username as the sessions last read it (a sent message is at t.me/<username>/<id>); null: none known",
    }),
  ),
});

/** One post of the history, as the document's examples show it. */
export const POST_EXAMPLE: Static<typeof PostView> = {
  id: '120',
  cycle: 3,
  seq: 0,
  sessionId: '7',
  plannedSessionId: '7',
  group: '@my_group',
  plannedAt: '2026-01-01T12:00:00.000Z',
  status: 'sent',
  reason: null,
  reasonText: null,
  error: null,
  errorText: null,
  attempts: 1,
  sentAt: '2026-01-01T12:00:00.210Z',
  happenedAt: '2026-01-01T12:00:00.210Z',
  albumSize: 1,
  sentMessageIds: [981],
  groupUsername: 'my_group',
};

const PostsPage = Type.Object(
  {
    posts: Type.Array(PostView),
    nextCursor: Nullable(
      Type.String({ description: 'pass as `cursor` for the next page; null: the last page' }),
    ),
  },
  {
    description: 'A page of the history, newest first.',
    examples: [
      {
        posts: [POST_EXAMPLE],
        nextCursor: null,
      },
    ],
  },
);

const StopAnswer = Type.Object(
  { status: Type.Literal('stopped') },
  { description: 'The bot is stopped (also when it was already).', examples: [{ status: 'stopped' }] },
);

const Me = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: StringEnum(ROLES),
    plan_type: Nullable(StringEnum(PLAN_TYPES)),
    plan_status: StringEnum(PLAN_STATUSES),
    max_sessions: Type.Integer({ minimum: 0 }),
  },
  {
    description: 'The caller, as this request sees them (a JWT’s trusted claims applied).',
    examples: [
      { id: '3', name: 'Ada', role: 'user', plan_type: 'STARTER', plan_status: 'active', max_sessions: 5 },
    ],
  },
);

const RotatedToken = Type.Object(
  {
    id: Type.String({ description: 'the new token’s id' }),
    token: Type.String({ description: 'the new token: shown once, store it now' }),
    revokedTokenId: Type.String({ description: 'the token this request came with, now revoked' }),
  },
  {
    description: 'A new token; the one this request came with no longer works.',
    examples: [{ id: '12', token: 'stg_2b7e…', revokedTokenId: '9' }],
  },
);

const StatusAnswer = Type.Object(BotStatusView.properties, {
  description:
    'The bot: running or not, the latest cycle’s counts, the next cycle, its sessions and counters.',
  examples: [BOT_STATUS_EXAMPLE],
});

const EVENT_EXAMPLE = {
  type: 'post.sent',
  botId: '1',
  userId: '3',
  at: 1767268800210,
  time: '2026-01-01T12:00:00.210Z',
  cycleId: '40',
  postId: '120',
  sessionId: '7',
  groupKey: '@my_group',
  plannedAt: 1767268800000,
  duplicate: false,
};

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

export function presentSettings(bot: BotConfig): Static<typeof Settings> {
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
    app.post(
      '/api/bot/start',
      {
        schema: {
          tags: ['bot'],
          summary: 'Start the bot',
          description:
            'The original’s contract: `{execution_mode?, total_cycle_minutes?}`, the body optional. The mode is the ' +
            'body’s, else the stored one, else the plan’s (STARTER: starter, 60 minutes; otherwise enterprise). A ' +
            'customer without a live session is lent sessions of the operator’s pool, up to max_sessions. Starting a ' +
            'running bot changes nothing. Every session paused is no refusal: the bot waits for the first pause to end.',
          body: StartBody,
          errors: [
            'INVALID_EXECUTION_MODE',
            'STARTER_REQUIRES_CYCLE_MINUTES',
            'INVALID_CYCLE_MINUTES',
            'PLAN_INACTIVE',
            'NO_POST_LINK',
            'NO_GROUPS',
            'NO_USABLE_SESSION',
            'SESSION_POOL_EMPTY',
          ],
          response: { 200: StartAnswer },
        },
        // The values are the start rule's to check (see StartBody).
        validatorCompiler: ({ schema }) => bodyAjv.compile(shapeOf(schema) as object),
      },
      async (request) => {
        const { user, bot } = await caller(request);
        if (user.planStatus !== 'active') {
          throw new ApiError(
            'PLAN_INACTIVE',
            `your plan is ${user.planStatus}: starting needs an active plan`,
          );
        }
        const resolved = resolveStartMode(request.body, user.planType);
        const now = deps.clock.now();
        let sessions = await store.sessions.listByOwner(user.id);
        const alive = () => sessions.filter((s) => s.status !== 'dead');
        if (bot.desiredState === 'running') {
          // Starting a running bot changes nothing.
          return {
            status: 'running' as const,
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
          status: 'running' as const,
          execution_mode: started.mode,
          total_cycle_minutes: started.totalCycleMinutes,
          sessions: alive().map((s) => presentSession(s, now)),
        };
      },
    );

    app.post(
      '/api/bot/stop',
      {
        schema: {
          tags: ['bot'],
          summary: 'Stop the bot',
          description:
            'The posts of a running cycle that are not sent yet are cancelled. Stopping a stopped bot is fine.',
          response: { 200: StopAnswer },
        },
      },
      async (request) => {
        const { bot } = await caller(request);
        if (await store.bots.stop(bot.id)) await deps.control.stopped(bot.id);
        return { status: 'stopped' as const };
      },
    );

    app.get(
      '/api/bot/status',
      {
        schema: {
          tags: ['bot'],
          summary: 'The bot’s status',
          description:
            'Running or not, the latest cycle’s counts, when the next cycle starts, its sessions and counters.',
          response: { 200: StatusAnswer },
        },
      },
      async (request) => botStatus(deps, (await caller(request)).bot),
    );

    app.get(
      '/api/me',
      {
        schema: {
          tags: ['account'],
          summary: 'Who am I',
          description:
            'The caller as this request sees them: read from the store now, with a token’s trusted claims.',
          response: { 200: Me },
        },
      },
      async (request) => {
        const { user } = requireCaller(request);
        return {
          id: user.id,
          name: user.name,
          role: user.role,
          plan_type: user.planType,
          plan_status: user.planStatus,
          max_sessions: user.maxSessions,
        };
      },
    );

    app.post(
      '/api/me/tokens/rotate',
      {
        schema: {
          tags: ['account'],
          summary: 'Replace my API token',
          description:
            'Issues a new API token and revokes the one this request came with. A JWT from your frontend has no ' +
            'API token to rotate (409).',
          errors: ['CONFLICT'],
          response: { 201: RotatedToken },
        },
      },
      async (request, reply) => {
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
      },
    );

    app.get(
      '/api/bot/plan',
      {
        schema: {
          tags: ['bot'],
          summary: 'Preview the next cycle’s plan',
          description:
            'The plan the runner would make now for the next cycle, with the sessions usable when it starts, and ' +
            'warnings from what is known of the groups. Never asks Telegram. The query previews another mode or ' +
            'cycle length without storing it.',
          querystring: PlanQuery,
          errors: ['INVALID_EXECUTION_MODE', 'STARTER_REQUIRES_CYCLE_MINUTES'],
          response: { 200: PlanAnswer },
        },
      },
      async (request) => {
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
          source: size === null ? null : { link: read!.link, messageIds: read!.messageIds, albumSize: size },
        };
      },
    );

    app.put(
      '/api/bot/post',
      {
        schema: {
          tags: ['configuration'],
          summary: 'Set the post to forward',
          description:
            'A t.me link to one message (public `t.me/name/42`, private `t.me/c/123/42`, or a topic’s).',
          body: PostBody,
          errors: ['INVALID_POST_LINK'],
          response: { 200: PostAnswer },
        },
      },
      async (request) => {
        const { bot } = await caller(request);
        const ref = parsePostLink(request.body.post_link);
        await store.bots.setPostLink(bot.id, ref.canonical);
        return { post_link: ref.canonical, source: presentSource(ref) };
      },
    );

    app.get(
      '/api/bot/post',
      {
        schema: {
          tags: ['configuration'],
          summary: 'The post to forward',
          response: { 200: StoredPost },
        },
      },
      async (request) => {
        const { bot } = await caller(request);
        return {
          post_link: bot.postLink,
          source: bot.postLink ? presentSource(parsePostLink(bot.postLink)) : null,
        };
      },
    );

    app.put(
      '/api/bot/groups',
      {
        schema: {
          tags: ['configuration'],
          summary: 'Set the groups to post to',
          description:
            'Replaces the list. Every bad line is reported at once (400 INVALID_GROUP_TARGETS, `details.errors` with ' +
            'each line, its text and what is wrong); nothing is stored then. Repeats are kept once, with a warning.',
          body: GroupsBody,
          errors: ['INVALID_GROUP_TARGETS', 'TOO_MANY_GROUPS'],
          response: { 200: GroupsAnswer },
        },
        // More lines than groups allowed is the core's TOO_MANY_GROUPS, as it answers for a longer list.
        schemaErrorFormatter: (errors, dataVar) => {
          const tooMany = errors.find((e) => e.keyword === 'maxItems' && e.instancePath === '/groups');
          return tooMany
            ? new ApiError(
                CoreErrorCode.TooManyGroups,
                `too many groups: at most ${MAX_GROUP_TARGETS} lines, one group a line`,
                { max: MAX_GROUP_TARGETS },
              )
            : new Error(`${dataVar} is invalid`);
        },
      },
      async (request) => {
        const { bot } = await caller(request);
        const parsed = assertGroupTargets(request.body.groups);
        const keys = parsed.targets.map((t) => t.key);
        await store.bots.setGroups(bot.id, keys);
        return { groups: keys, warnings: parsed.warnings };
      },
    );

    app.get(
      '/api/bot/groups',
      {
        schema: {
          tags: ['configuration'],
          summary: 'The groups, with what is known of them',
          description:
            'Each group with what each session knows of it (membership, write permission, slow mode, price, a ' +
            'closed topic), read at planning or by a preflight; never asked here.',
          response: { 200: GroupsView },
        },
      },
      async (request) => {
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
      },
    );

    app.put(
      '/api/bot/settings',
      {
        schema: {
          tags: ['configuration'],
          summary: 'Change the settings',
          description: 'Only the fields given change. They apply from the next cycle.',
          body: SettingsBody,
          response: { 200: Settings },
        },
      },
      async (request) => {
        const { bot } = await caller(request);
        const { body } = request;
        await store.bots.setSettings(bot.id, {
          ...(body.delay_between_posts !== undefined ? { delayBetweenPosts: body.delay_between_posts } : {}),
          ...(body.delay_between_cycles !== undefined
            ? { delayBetweenCycles: body.delay_between_cycles }
            : {}),
          ...(body.min_group_gap_seconds !== undefined
            ? { minGroupGapSeconds: body.min_group_gap_seconds }
            : {}),
          ...(body.silent !== undefined ? { silent: body.silent } : {}),
          ...(body.hide_sender !== undefined ? { hideSender: body.hide_sender } : {}),
        });
        return presentSettings((await store.bots.get(bot.id))!);
      },
    );

    app.get(
      '/api/bot/settings',
      { schema: { tags: ['configuration'], summary: 'The settings', response: { 200: Settings } } },
      async (request) => presentSettings((await caller(request)).bot),
    );

    app.get(
      '/api/bot/posts',
      {
        schema: {
          tags: ['bot'],
          summary: 'The history of posts',
          description: 'Newest first, a page at a time; filter by cycle or status.',
          querystring: PostsQuery,
          response: { 200: PostsPage },
        },
      },
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
          summary: 'Live events (Server-Sent Events)',
          description:
            'A stream of the bot’s runtime events as they happen: each message is `id: <n>`, `event: <type>` and ' +
            '`data: <the event as JSON>` (the schema below), with a comment line every 15 s. At most ' +
            `${limits.streamsPerUser} streams at once per user.`,
          errors: ['TOO_MANY_STREAMS'],
          response: {
            200: {
              description: 'The stream; it stays open.',
              content: { 'text/event-stream': { schema: LiveEvent, example: EVENT_EXAMPLE } },
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
      {
        schema: {
          tags: ['configuration'],
          summary: 'Check the post and the groups with Telegram',
          description:
            'For each (session, group): is the account a member, may it write, slow mode, paid messages, a closed ' +
            'topic; and is the source post forwardable. Each answer is stored as that pair’s facts. It asks ' +
            'Telegram, so a result is reused for a minute, and six runs a minute per caller at most.',
          errors: ['SESSION_IN_USE'],
          response: { 200: PreflightAnswer },
        },
        // It asks Telegram about every (session, group): six runs a minute per caller at most.
        config: { routeLimit: { max: 6, windowMs: 60_000 } },
      },
      async (request) => {
        const { user, bot } = await caller(request);
        return preflight.run(user, bot);
      },
    );
  };
}

function presentSource(ref: PostRef): Static<typeof PostSource> {
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
