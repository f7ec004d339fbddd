/**
 * Health (public, no tenant data) and Prometheus metrics: an operator token, unless STAGGER_METRICS_PUBLIC=1. The
 * socket's address is no proof of anything (behind a reverse proxy on the same host every client is local).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { RuntimeEvent } from '../../runtime/events.js';
import { VERSION, type AppDeps } from '../deps.js';
import { StringEnum } from '../schemas.js';

const Health = Type.Object({
  status: StringEnum(['ok', 'degraded']),
  version: Type.String(),
  database: StringEnum(['ok', 'unreachable']),
});

export function healthRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const counts = new Map<string, number>();
    const unsubscribe = deps.events.on((event: RuntimeEvent) => {
      counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    });
    app.addHook('onClose', async () => unsubscribe());

    app.get(
      '/api/health',
      {
        schema: {
          tags: ['health'],
          summary: 'Is the service up',
          description:
            'Public: no token, and nothing about any customer. 503 when the database does not answer.',
          security: [],
          response: {
            200: Type.Object(Health.properties, {
              description: 'The service and its database answer.',
              examples: [{ status: 'ok', version: VERSION, database: 'ok' }],
            }),
            503: Type.Object(Health.properties, {
              description: 'The database does not answer.',
              examples: [{ status: 'degraded', version: VERSION, database: 'unreachable' }],
            }),
          },
        },
        config: { access: 'public' },
      },
      async (_request, reply) => {
        let database = 'ok';
        try {
          await sql`select 1`.execute(deps.store.db);
        } catch {
          database = 'unreachable';
        }
        return reply
          .status(database === 'ok' ? 200 : 503)
          .send({ status: database === 'ok' ? 'ok' : 'degraded', version: VERSION, database });
      },
    );

    const metricsAccess = deps.config.metricsPublic ? 'public' : 'admin';
    app.get(
      '/metrics',
      { schema: { hide: true }, config: { access: metricsAccess } },
      async (_request, reply) => {
        const bots = await deps.store.bots.listAll();
        const running = bots.filter((b) => b.desiredState === 'running').length;
        const sum = (k: keyof (typeof bots)[number]['counters']) =>
          bots.reduce((n, b) => n + b.counters[k], 0);
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
      },
    );
  };
}
