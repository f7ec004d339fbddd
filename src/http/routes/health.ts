/** Health (public, no tenant data) and Prometheus metrics (admin token, or a request from this machine). */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { RuntimeEvent } from '../../runtime/events.js';
import type { AppDeps } from '../app.js';
import { VERSION } from '../app.js';
import { HttpError } from '../errors.js';

const LOCAL = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function healthRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const counts = new Map<string, number>();
    const unsubscribe = deps.events.on((event: RuntimeEvent) => {
      counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    });
    app.addHook('onClose', async () => unsubscribe());

    app.get('/api/health', { schema: { tags: ['health'], security: [] } }, async (_request, reply) => {
      let database = 'ok';
      try {
        await sql`select 1`.execute(deps.store.db);
      } catch {
        database = 'unreachable';
      }
      return reply
        .status(database === 'ok' ? 200 : 503)
        .send({ status: database === 'ok' ? 'ok' : 'degraded', version: VERSION, database });
    });

    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!LOCAL.has(request.socket.remoteAddress ?? '')) {
        const header = request.headers.authorization;
        const token = header?.replace(/^Bearer\s+/i, '') ?? '';
        const user = token ? await deps.store.users.authenticate(token) : null;
        if (!user)
          throw new HttpError(
            401,
            'UNAUTHORIZED',
            'metrics need an admin token (or a request from this machine)',
          );
        if (user.role !== 'admin')
          throw new HttpError(403, 'FORBIDDEN', 'metrics are for operators (role admin)');
      }
      const bots = await deps.store.bots.listAll();
      const running = bots.filter((b) => b.desiredState === 'running').length;
      const sum = (k: keyof (typeof bots)[number]['counters']) => bots.reduce((n, b) => n + b.counters[k], 0);
      const lines = [
        '# HELP stagger_bots Bots by desired state.',
        '# TYPE stagger_bots gauge',
        `stagger_bots{state="running"} ${running}`,
        `stagger_bots{state="stopped"} ${bots.length - running}`,
        '# HELP stagger_posts_total Posts by result, all bots (kept across restarts and history pruning).',
        '# TYPE stagger_posts_total counter',
        `stagger_posts_total{result="sent"} ${sum('sent')}`,
        `stagger_posts_total{result="duplicate"} ${sum('duplicates')}`,
        `stagger_posts_total{result="failed"} ${sum('failed')}`,
        `stagger_posts_total{result="skipped"} ${sum('skipped')}`,
        '# HELP stagger_flood_waits_total FLOOD_WAITs Telegram answered.',
        '# TYPE stagger_flood_waits_total counter',
        `stagger_flood_waits_total ${sum('floodWaits')}`,
        '# HELP stagger_runtime_events_total Runtime events seen by this process since it started.',
        '# TYPE stagger_runtime_events_total counter',
        ...[...counts].map(([type, n]) => `stagger_runtime_events_total{type="${type}"} ${n}`),
        '# HELP process_resident_memory_bytes Resident memory.',
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${process.memoryUsage().rss}`,
      ];
      return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
    });
  };
}
