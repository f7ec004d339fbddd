/**
 * Operator routes (role admin; 403 for others): users and their plans, the session pool, every bot's status,
 * and the cluster view when workers run on PostgreSQL.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ClusterView } from '../../storage/leases.js';
import type { SessionRecord } from '../../storage/sessions.js';
import { PLAN_STATUSES, PLAN_TYPES, ROLES, type ApiTokenInfo, type User } from '../../storage/users.js';
import { routesAccess } from '../access.js';
import { BOT_STATUS_EXAMPLE, botStatus, BotStatusView } from '../bot-status.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { iso, presentSession, SESSION_EXAMPLE, SessionView } from '../presenters.js';
import { DateTime, IdParams, Nullable, RecordId, rangeSchema, StringEnum } from '../schemas.js';
import { LIMITS } from '../../core/limits.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const PlanType = Type.Union([...PLAN_TYPES.map((p) => Type.Literal(p)), Type.Null()]);
const PlanStatus = Type.Union(PLAN_STATUSES.map((p) => Type.Literal(p)));

const NewUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Optional(Role),
    plan_type: Type.Optional(PlanType),
    plan_status: Type.Optional(PlanStatus),
    max_sessions: Type.Optional(rangeSchema(LIMITS.maxSessions, 'default 5')),
  },
  {
    additionalProperties: false,
    description: 'A customer by default (role user), active, without a plan type, with 5 sessions.',
    examples: [{ name: 'Ada', plan_type: 'STARTER', max_sessions: 3 }],
  },
);
const PatchUserBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(Role),
    plan_type: Type.Optional(PlanType),
    plan_status: Type.Optional(PlanStatus),
    max_sessions: Type.Optional(rangeSchema(LIMITS.maxSessions)),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ plan_status: 'suspended' }] },
);
const PoolBody = Type.Object(
  { driver: Type.Literal('sandbox'), count: Type.Integer({ minimum: 1, maximum: 100 }) },
  { additionalProperties: false, examples: [{ driver: 'sandbox', count: 3 }] },
);
const AssignBody = Type.Object(
  { userId: RecordId('the customer') },
  { additionalProperties: false, examples: [{ userId: '3' }] },
);

const UserView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: StringEnum(ROLES),
  plan_type: Nullable(StringEnum(PLAN_TYPES)),
  plan_status: StringEnum(PLAN_STATUSES),
  max_sessions: Type.Integer({ minimum: 0 }),
  createdAt: Nullable(DateTime()),
});
const USER_EXAMPLE: Static<typeof UserView> = {
  id: '3',
  name: 'Ada',
  role: 'user',
  plan_type: 'STARTER',
  plan_status: 'active',
  max_sessions: 3,
  createdAt: '2026-01-01T09:00:00.000Z',
};
const TokenView = Type.Object({
  id: Type.String(),
  label: Nullable(Type.String()),
  createdAt: Nullable(DateTime()),
  revokedAt: Nullable(DateTime()),
});
/** A session in the operator's lists: whose it is, and where it came from. */
const PoolSessionView = Type.Object({
  ...SessionView.properties,
  ownerUserId: Nullable(Type.String({ description: 'the customer using it; null: in the pool' })),
  origin: StringEnum(['customer', 'pool'], {
    description: 'pool: the operator’s, lent to customers; customer: a customer’s own account',
  }),
});
const AssignedSession = Type.Object(
  {
    session: Type.Object({
      ...SessionView.properties,
      ownerUserId: Nullable(Type.String({ description: 'null: back in the pool' })),
    }),
  },
  {
    description: 'The pool session, with its owner now.',
    examples: [{ session: { ...SESSION_EXAMPLE, ownerUserId: '3' } }],
  },
);
const AdminBotIds = {
  botId: Type.String(),
  userId: Type.String(),
  user: Nullable(Type.String({ description: 'the customer’s name' })),
};
const AdminBots = Type.Object(
  {
    bots: Type.Array(
      Type.Union([
        Type.Object({ ...AdminBotIds, ...BotStatusView.properties }),
        Type.Object(
          { ...AdminBotIds, status: Type.Literal('error'), error: Type.String() },
          { description: 'a bot whose status could not be read (the others are still listed)' },
        ),
      ]),
    ),
  },
  {
    description: 'Every bot with its status.',
    examples: [{ bots: [{ botId: '1', userId: '3', user: 'Ada', ...BOT_STATUS_EXAMPLE }] }],
  },
);
const Ms = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });
const Cluster = Type.Object(
  {
    now: Ms('the database’s time'),
    workers: Type.Array(
      Type.Object({
        id: Type.String(),
        host: Type.String(),
        pid: Type.Integer(),
        startedAt: Ms('started'),
        heartbeatAt: Ms('last heartbeat'),
        alive: Type.Boolean({ description: 'heartbeat within the lease time' }),
        bots: Type.Array(
          Type.Object({ botId: Type.String(), epoch: Type.Integer(), expiresAt: Ms('lease end') }),
          { description: 'the bots it holds a live lease on' },
        ),
      }),
    ),
    unowned: Type.Array(
      Type.Object({
        botId: Type.String(),
        epoch: Type.Integer(),
        owner: Nullable(Type.String()),
        expiresAt: Ms('lease end'),
      }),
      { description: 'running bots nobody holds a live lease on (waiting for a worker)' },
    ),
    runningBots: Type.Integer({ minimum: 0 }),
  },
  {
    description: 'The workers, their leases, and running bots waiting for a worker.',
    examples: [
      {
        now: 1767268800000,
        workers: [
          {
            id: 'w-1',
            host: 'node-a',
            pid: 4242,
            startedAt: 1767265200000,
            heartbeatAt: 1767268795000,
            alive: true,
            bots: [{ botId: '1', epoch: 2, expiresAt: 1767268830000 }],
          },
        ],
        unowned: [],
        runningBots: 1,
      },
    ],
  },
);
const ClusterTypeMatches: Static<typeof Cluster> extends ClusterView ? true : false = true;
void ClusterTypeMatches;

const Deleted = Type.Null({ description: 'Deleted.' });

/** The answer of GET /api/admin/installation. */
const InstallationView = Type.Object(
  {
    cluster: Type.Boolean({
      description: 'whether GET /api/admin/cluster has workers and leases to show (else it answers 409)',
    }),
    database: StringEnum(['sqlite', 'postgres']),
    message: Type.String({ description: 'the same in plain words' }),
  },
  {
    description: 'One process, or workers on PostgreSQL.',
    examples: [
      {
        cluster: false,
        database: 'sqlite',
        message: 'This installation runs everything in one process: there are no workers or leases to show.',
      },
    ],
  },
);

export const DEFAULT_MAX_SESSIONS = 5;

export function presentUser(u: User): Static<typeof UserView> {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    plan_type: u.planType,
    plan_status: u.planStatus,
    max_sessions: u.maxSessions,
    createdAt: iso(u.createdAt),
  };
}

export function presentToken(t: ApiTokenInfo): Static<typeof TokenView> {
  return {
    id: t.id,
    label: t.label,
    createdAt: iso(t.createdAt),
    revokedAt: iso(t.revokedAt),
  };
}

export function adminRoutes(deps: AppDeps) {
  const { store } = deps;
  async function user(id: string): Promise<User> {
    const found = await store.users.get(id);
    if (!found) throw new ApiError('NOT_FOUND', `no user ${id}`);
    return found;
  }
  /** A session the operator may lend: a pool session. A customer's own account is never handed to anyone. */
  async function poolSession(id: string): Promise<SessionRecord> {
    const session = await store.sessions.get(id);
    if (!session) throw new ApiError('NOT_FOUND', `no session ${id}`);
    if (session.origin !== 'pool') {
      throw new ApiError(
        'SESSION_NOT_POOLED',
        `session ${id} is a customer's own account (logged in or imported by them): only pool sessions are assigned`,
      );
    }
    return session;
  }

  return async (plugin: FastifyInstance) => {
    routesAccess(plugin, 'admin');
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/admin/users',
      {
        schema: {
          tags: ['admin'],
          summary: 'Every user',
          response: {
            200: Type.Object(
              { users: Type.Array(UserView) },
              { description: 'Every user.', examples: [{ users: [USER_EXAMPLE] }] },
            ),
          },
        },
      },
      async () => ({ users: (await store.users.list()).map(presentUser) }),
    );

    app.post(
      '/api/admin/users',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a user',
          description: 'With a first API token, shown once.',
          body: NewUserBody,
          response: {
            201: Type.Object(
              { user: UserView, token: Type.String({ description: 'the user’s API token: shown once' }) },
              {
                description: 'The user and their token.',
                examples: [{ user: USER_EXAMPLE, token: 'stg_9f2c…' }],
              },
            ),
          },
        },
      },
      async (request, reply) => {
        const { body } = request;
        const created = await store.users.create({
          name: body.name,
          role: body.role ?? 'user',
          planType: body.plan_type ?? null,
          planStatus: body.plan_status ?? 'active',
          maxSessions: body.max_sessions ?? DEFAULT_MAX_SESSIONS,
        });
        const { token } = await store.users.issueToken(created.id);
        return reply.status(201).send({ user: presentUser(created), token });
      },
    );

    app.get(
      '/api/admin/users/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'A user and their sessions',
          params: IdParams,
          errors: ['NOT_FOUND'],
          response: {
            200: Type.Object(
              { user: UserView, sessions: Type.Array(SessionView) },
              { description: 'The user.', examples: [{ user: USER_EXAMPLE, sessions: [SESSION_EXAMPLE] }] },
            ),
          },
        },
      },
      async (request) => {
        const found = await user(request.params.id);
        const sessions = await store.sessions.listByOwner(found.id);
        return {
          user: presentUser(found),
          sessions: sessions.map((s) => presentSession(s, deps.clock.now())),
        };
      },
    );

    app.patch(
      '/api/admin/users/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Change a user: name, role, plan',
          description: 'Only the fields given change (at least one).',
          params: IdParams,
          body: PatchUserBody,
          errors: ['NOT_FOUND'],
          response: {
            200: Type.Object(
              { user: UserView },
              { description: 'The user as changed.', examples: [{ user: USER_EXAMPLE }] },
            ),
          },
        },
      },
      async (request) => {
        const found = await user(request.params.id);
        const { body } = request;
        const updated = await store.users.update(found.id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.role !== undefined ? { role: body.role } : {}),
          ...(body.plan_type !== undefined ? { planType: body.plan_type } : {}),
          ...(body.plan_status !== undefined ? { planStatus: body.plan_status } : {}),
          ...(body.max_sessions !== undefined ? { maxSessions: body.max_sessions } : {}),
        });
        return { user: presentUser(updated!) };
      },
    );

    app.delete(
      '/api/admin/users/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Delete a user',
          description:
            'Stops their bot; their own Telegram accounts are deleted with them (secrets erased), pool sessions ' +
            'go back to the pool. You cannot delete yourself (409).',
          params: IdParams,
          errors: ['NOT_FOUND', 'CONFLICT'],
          response: { 204: Deleted },
        },
      },
      async (request, reply) => {
        const found = await user(request.params.id);
        if (found.id === request.caller!.user.id)
          throw new ApiError('CONFLICT', 'you cannot delete yourself');
        const bot = await store.bots.forUser(found.id);
        if (await store.bots.stop(bot.id)) await deps.control.stopped(bot.id);
        // The customer's own accounts are deleted with them (secrets erased); only pool sessions go back.
        const { deleted, returned } = await store.sessions.releaseOwner(found.id);
        await store.users.delete(found.id);
        for (const id of [...deleted, ...returned]) await deps.gateway.release(id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/admin/users/:id/tokens',
      {
        schema: {
          tags: ['admin'],
          summary: 'A user’s API tokens',
          description: 'Their ids and dates; never the tokens themselves.',
          params: IdParams,
          errors: ['NOT_FOUND'],
          response: {
            200: Type.Object(
              { tokens: Type.Array(TokenView) },
              {
                description: 'The tokens, revoked ones too.',
                examples: [
                  {
                    tokens: [
                      { id: '9', label: null, createdAt: '2026-01-01T09:00:00.000Z', revokedAt: null },
                    ],
                  },
                ],
              },
            ),
          },
        },
      },
      async (request) => {
        const found = await user(request.params.id);
        return { tokens: (await store.users.listTokens(found.id)).map(presentToken) };
      },
    );

    app.post(
      '/api/admin/users/:id/tokens',
      {
        schema: {
          tags: ['admin'],
          summary: 'Issue a new API token for a user',
          description: 'Their other tokens keep working (revoke them one by one).',
          params: IdParams,
          errors: ['NOT_FOUND'],
          response: {
            201: Type.Object(
              {
                id: Type.String(),
                userId: Type.String(),
                token: Type.String({ description: 'shown once' }),
              },
              { description: 'The new token.', examples: [{ id: '12', userId: '3', token: 'stg_2b7e…' }] },
            ),
          },
        },
      },
      async (request, reply) => {
        const found = await user(request.params.id);
        const issued = await store.users.issueToken(found.id, 'issued by an operator');
        return reply.status(201).send({ id: issued.id, userId: found.id, token: issued.token });
      },
    );

    app.delete(
      '/api/admin/tokens/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Revoke an API token',
          params: IdParams,
          errors: ['NOT_FOUND'],
          response: { 204: Type.Null({ description: 'Revoked.' }) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await store.users.getToken(id))) throw new ApiError('NOT_FOUND', `no token ${id}`);
        await store.users.revokeToken(id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/admin/sessions',
      {
        schema: {
          tags: ['admin'],
          summary: 'Every Telegram session',
          description: 'Customers’ own and the pool’s, with whose each is; never with secrets.',
          response: {
            200: Type.Object(
              { sessions: Type.Array(PoolSessionView) },
              {
                description: 'Every session.',
                examples: [{ sessions: [{ ...SESSION_EXAMPLE, ownerUserId: '3', origin: 'customer' }] }],
              },
            ),
          },
        },
      },
      async () => ({
        sessions: (await store.sessions.listAll()).map((s) => ({
          ...presentSession(s, deps.clock.now()),
          ownerUserId: s.ownerUserId,
          origin: s.origin,
        })),
      }),
    );

    app.post(
      '/api/admin/sessions',
      {
        schema: {
          tags: ['admin'],
          summary: 'Add sandbox sessions to the pool',
          description: 'The pool lends sessions to customers who start without one of their own.',
          body: PoolBody,
          response: {
            201: Type.Object(
              { sessions: Type.Array(SessionView) },
              {
                description: 'The sessions added.',
                examples: [
                  { sessions: [{ ...SESSION_EXAMPLE, label: 'pool sandbox 1', driver: 'sandbox' }] },
                ],
              },
            ),
          },
        },
      },
      async (request, reply) => {
        const { count } = request.body;
        const have = (await store.sessions.listPool()).length;
        const created = [];
        for (let i = 0; i < count; i++) {
          created.push(
            await store.sessions.create({
              ownerUserId: null,
              label: `pool sandbox ${have + i + 1}`,
              driver: 'sandbox',
            }),
          );
        }
        return reply.status(201).send({ sessions: created.map((s) => presentSession(s, deps.clock.now())) });
      },
    );

    app.post(
      '/api/admin/sessions/:id/assign',
      {
        schema: {
          tags: ['admin'],
          summary: 'Lend a pool session to a customer',
          description: 'Only pool sessions: a customer’s own account is never handed to anyone (409).',
          params: IdParams,
          body: AssignBody,
          errors: ['NOT_FOUND', 'SESSION_NOT_POOLED'],
          response: { 200: AssignedSession },
        },
      },
      async (request) => {
        const { id } = request.params;
        const session = await poolSession(id);
        const target = await user(request.body.userId);
        if (session.ownerUserId !== null && session.ownerUserId !== target.id) await deps.gateway.release(id);
        await store.sessions.assign(id, target.id);
        return {
          session: {
            ...presentSession((await store.sessions.get(id))!, deps.clock.now()),
            ownerUserId: target.id,
          },
        };
      },
    );

    app.post(
      '/api/admin/sessions/:id/unassign',
      {
        schema: {
          tags: ['admin'],
          summary: 'Take a pool session back',
          params: IdParams,
          errors: ['NOT_FOUND', 'SESSION_NOT_POOLED'],
          response: { 200: AssignedSession },
        },
      },
      async (request) => {
        const { id } = request.params;
        await poolSession(id);
        await store.sessions.assign(id, null);
        await deps.gateway.release(id);
        return {
          session: {
            ...presentSession((await store.sessions.get(id))!, deps.clock.now()),
            ownerUserId: null,
          },
        };
      },
    );

    app.get(
      '/api/admin/bots',
      {
        schema: {
          tags: ['admin'],
          summary: 'Every bot with its status',
          description: 'A bot whose status cannot be read is listed with an error; the others still are.',
          response: { 200: AdminBots },
        },
      },
      async (request) => {
        const bots = await store.bots.listAll();
        const users = new Map((await store.users.list()).map((u) => [u.id, u]));
        return {
          bots: await Promise.all(
            bots.map(async (b) => ({
              botId: b.id,
              userId: b.userId,
              user: users.get(b.userId)?.name ?? null,
              // One bot's unreadable state shows as that bot's error; it never takes the whole list down.
              ...(await botStatus(deps, b).catch((error: unknown) => {
                request.log.error({ err: error, botId: b.id }, 'bot status failed');
                return {
                  status: 'error' as const,
                  error: 'this bot’s status could not be read; see the log',
                };
              })),
            })),
          ),
        };
      },
    );

    // What the dashboard asks before the cluster view: a one-process installation is no error to show.
    app.get(
      '/api/admin/installation',
      {
        schema: {
          tags: ['admin'],
          summary: 'Whether this installation is a cluster',
          description:
            'What the dashboard asks before the cluster view: a one-process installation is no error.',
          response: { 200: InstallationView },
        },
      },
      async () => ({
        cluster: deps.cluster !== undefined,
        database: store.dialect,
        message: deps.cluster
          ? 'Stagger runs in several processes on PostgreSQL: GET /api/admin/cluster shows the workers and their leases.'
          : 'This installation runs everything in one process: there are no workers or leases to show.',
      }),
    );

    app.get(
      '/api/admin/cluster',
      {
        schema: {
          tags: ['admin'],
          summary: 'The cluster: workers and leases',
          description: 'When workers run on PostgreSQL; a single process answers 409 CLUSTER_NOT_AVAILABLE.',
          errors: ['CLUSTER_NOT_AVAILABLE'],
          response: { 200: Cluster },
        },
      },
      async () => {
        if (!deps.cluster)
          throw new ApiError(
            'CLUSTER_NOT_AVAILABLE',
            'this installation runs in one process (no workers on PostgreSQL)',
          );
        return deps.cluster();
      },
    );
  };
}
