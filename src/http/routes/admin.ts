/**
 * Operator routes (role admin; 403 for others): users and their plans, the session pool, every bot's status,
 * and the cluster view when workers run on PostgreSQL.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SessionRecord } from '../../storage/sessions.js';
import { PLAN_STATUSES, PLAN_TYPES, ROLES, type ApiTokenInfo, type User } from '../../storage/users.js';
import { routesAccess } from '../access.js';
import { botStatus } from '../bot-status.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { iso, presentSession } from '../presenters.js';
import { IdParams, RecordId, rangeSchema } from '../schemas.js';
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
    max_sessions: Type.Optional(rangeSchema(LIMITS.maxSessions)),
  },
  { additionalProperties: false },
);
const PatchUserBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(Role),
    plan_type: Type.Optional(PlanType),
    plan_status: Type.Optional(PlanStatus),
    max_sessions: Type.Optional(rangeSchema(LIMITS.maxSessions)),
  },
  { additionalProperties: false, minProperties: 1 },
);
const PoolBody = Type.Object(
  { driver: Type.Literal('sandbox'), count: Type.Integer({ minimum: 1, maximum: 100 }) },
  { additionalProperties: false },
);
const AssignBody = Type.Object({ userId: RecordId('the customer') }, { additionalProperties: false });

/** The answer of GET /api/admin/installation. */
const InstallationView = Type.Object({
  cluster: Type.Boolean({
    description: 'whether GET /api/admin/cluster has workers and leases to show (else it answers 409)',
  }),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  message: Type.String({ description: 'the same in plain words' }),
});

export const DEFAULT_MAX_SESSIONS = 5;

export function presentUser(u: User) {
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

export function presentToken(t: ApiTokenInfo) {
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

    app.get('/api/admin/users', { schema: { tags: ['admin'] } }, async () => ({
      users: (await store.users.list()).map(presentUser),
    }));

    app.post(
      '/api/admin/users',
      { schema: { tags: ['admin'], body: NewUserBody } },
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

    app.get('/api/admin/users/:id', { schema: { tags: ['admin'], params: IdParams } }, async (request) => {
      const found = await user(request.params.id);
      const sessions = await store.sessions.listByOwner(found.id);
      return { user: presentUser(found), sessions: sessions.map((s) => presentSession(s, deps.clock.now())) };
    });

    app.patch(
      '/api/admin/users/:id',
      { schema: { tags: ['admin'], params: IdParams, body: PatchUserBody } },
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
      { schema: { tags: ['admin'], params: IdParams } },
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
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/admin/users/:id/tokens',
      { schema: { tags: ['admin'], params: IdParams } },
      async (request) => {
        const found = await user(request.params.id);
        return { tokens: (await store.users.listTokens(found.id)).map(presentToken) };
      },
    );

    app.post(
      '/api/admin/users/:id/tokens',
      { schema: { tags: ['admin'], params: IdParams } },
      async (request, reply) => {
        const found = await user(request.params.id);
        const issued = await store.users.issueToken(found.id, 'issued by an operator');
        return reply.status(201).send({ id: issued.id, userId: found.id, token: issued.token });
      },
    );

    app.delete(
      '/api/admin/tokens/:id',
      { schema: { tags: ['admin'], params: IdParams } },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await store.users.getToken(id))) throw new ApiError('NOT_FOUND', `no token ${id}`);
        await store.users.revokeToken(id);
        return reply.status(204).send();
      },
    );

    app.get('/api/admin/sessions', { schema: { tags: ['admin'] } }, async () => ({
      sessions: (await store.sessions.listAll()).map((s) => ({
        ...presentSession(s, deps.clock.now()),
        ownerUserId: s.ownerUserId,
        origin: s.origin,
      })),
    }));

    app.post(
      '/api/admin/sessions',
      { schema: { tags: ['admin'], body: PoolBody } },
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
      { schema: { tags: ['admin'], params: IdParams, body: AssignBody } },
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
      { schema: { tags: ['admin'], params: IdParams } },
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

    app.get('/api/admin/bots', { schema: { tags: ['admin'] } }, async (request) => {
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
              return { status: 'error' as const, error: 'this bot’s status could not be read; see the log' };
            })),
          })),
        ),
      };
    });

    // What the dashboard asks before the cluster view: a one-process installation is no error to show.
    app.get(
      '/api/admin/installation',
      { schema: { tags: ['admin'], response: { 200: InstallationView } } },
      async () => ({
        cluster: deps.cluster !== undefined,
        database: store.dialect,
        message: deps.cluster
          ? 'Stagger runs in several processes on PostgreSQL: GET /api/admin/cluster shows the workers and their leases.'
          : 'This installation runs everything in one process: there are no workers or leases to show.',
      }),
    );

    app.get('/api/admin/cluster', { schema: { tags: ['admin'] } }, async () => {
      if (!deps.cluster)
        throw new ApiError(
          'CLUSTER_NOT_AVAILABLE',
          'this installation runs in one process (no workers on PostgreSQL)',
        );
      return deps.cluster();
    });
  };
}
