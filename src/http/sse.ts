/**
 * Server-Sent Events of the runtime's event stream, each client seeing only its own bot's events. A comment line
 * every 15 s keeps proxies from closing an idle stream.
 */
import type { ServerResponse } from 'node:http';
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import { POST_STATUSES } from '../core/model.js';
import { explainTelegram } from '../core/outcome.js';
import { explainText, type ExplainPolicy, type ReasonKind } from '../core/reasons.js';
import type { Listener, RuntimeEvent } from '../runtime/events.js';
import { DateTime, Nullable, StringEnum } from './schemas.js';

const Ms = (description: string) => Type.Integer({ description: `${description} (epoch milliseconds)` });
const CycleStatus = StringEnum(['running', 'finished', 'stopped', 'aborted', 'skipped']);
const PostStatus = StringEnum(POST_STATUSES);
const Reason = Nullable(Type.String());

/** One runtime event (runtime/events.ts) of `type`, with the fields of every event. */
function eventOf<T extends TSchema, P extends TProperties>(type: T, fields: P) {
  return Type.Object({
    type,
    botId: Type.String(),
    userId: Type.String(),
    at: Ms('when it happened'),
    ...fields,
  });
}

/** Every runtime event, as the runtime emits it. */
const RuntimeEventSchema = Type.Union([
  eventOf(Type.Literal('bot.started'), {}),
  eventOf(Type.Literal('bot.stopped'), { reason: Type.String() }),
  eventOf(Type.Literal('bot.attention'), { reason: Type.String(), message: Type.String() }),
  eventOf(Type.Literal('cycle.started'), {
    cycleId: Type.String(),
    number: Type.Integer(),
    mode: Type.String(),
    plannedStartAt: Ms('when the cycle was planned to start'),
    posts: Type.Integer({ minimum: 0 }),
    resumed: Type.Boolean({ description: 'a cycle taken up again after a restart' }),
  }),
  eventOf(Type.Literal('cycle.finished'), {
    cycleId: Type.String(),
    number: Type.Integer(),
    status: CycleStatus,
    reason: Reason,
    counts: Type.Partial(
      Type.Object(Object.fromEntries(POST_STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })]))),
      { description: 'the cycle’s posts by status' },
    ),
  }),
  eventOf(Type.Literal('cycle.skipped'), {
    number: Type.Integer(),
    slots: Type.Integer(),
    reason: Type.String(),
    plannedStartAt: Ms('when the skipped cycle would have started'),
  }),
  eventOf(Type.Literal('post.sent'), {
    cycleId: Type.String(),
    postId: Type.String(),
    sessionId: Type.String(),
    groupKey: Type.String(),
    plannedAt: Ms('when it was planned'),
    duplicate: Type.Boolean({ description: 'found already sent (after a crash): not sent twice' }),
  }),
  eventOf(StringEnum(['post.failed', 'post.skipped', 'post.cancelled']), {
    cycleId: Type.String(),
    postId: Type.String(),
    sessionId: Type.String(),
    groupKey: Type.String(),
    status: PostStatus,
    reason: Reason,
    error: Reason,
  }),
  eventOf(Type.Literal('post.handed_off'), {
    cycleId: Type.String(),
    postId: Type.String(),
    groupKey: Type.String({ description: 'the group the post goes to' }),
    fromSessionId: Type.String({ description: 'the session that could not post it' }),
    toSessionId: Type.String({ description: 'the session that posts it now' }),
    reason: Type.String({
      description: 'why the first session could not post it (session_paused, write_forbidden…)',
    }),
    error: Reason,
  }),
  eventOf(Type.Literal('session.paused'), {
    sessionId: Type.String(),
    until: Ms('when the pause ends'),
    reason: Type.String(),
    error: Reason,
  }),
  eventOf(Type.Literal('session.resumed'), { sessionId: Type.String() }),
  eventOf(Type.Literal('session.retired'), {
    sessionId: Type.String(),
    reason: Type.String(),
    error: Reason,
  }),
  eventOf(Type.Literal('alert'), {
    level: StringEnum(['warning', 'critical']),
    message: Type.String(),
    sessionId: Type.Optional(Type.String()),
  }),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The schema says what the runtime emits: an event or a field added to one without it does not compile. */
const EVENTS_DOCUMENTED: Same<Static<typeof RuntimeEventSchema>, RuntimeEvent> = true;
void EVENTS_DOCUMENTED;

/** What presentEvent adds to every event. */
const Presented = {
  time: DateTime('`at` as ISO text'),
  reasonText: Type.Optional(Type.String({ description: 'the reason in plain words, where it has one' })),
  errorText: Type.Optional(Type.String({ description: 'the error in plain words, where it has one' })),
};

/**
 * The data of one event of GET /api/bot/events: a runtime event as clients see it. Each Server-Sent Event is
 * `id: <n>`, `event: <type>` and `data: <this, as JSON>`.
 */
export const LiveEvent = Type.Union(
  // Closed: a field the runtime adds without documenting it here fails the schema tests.
  RuntimeEventSchema.anyOf.map((variant) =>
    Type.Object({ ...variant.properties, ...Presented }, { additionalProperties: false }),
  ),
  { description: 'the data of one Server-Sent Event; its SSE event name is its `type`' },
);

interface Client {
  userId: string;
  response: ServerResponse;
}

/** Whose reason an event carries: a post's, a session's, a cycle's, the bot's attention or its stop. */
function reasonKind(type: RuntimeEvent['type']): ReasonKind | null {
  if (type === 'post.handed_off') return 'handoff';
  if (type.startsWith('post.')) return 'post';
  if (type.startsWith('session.')) return 'session';
  if (type.startsWith('cycle.')) return 'cycle';
  if (type === 'bot.attention') return 'attention';
  if (type === 'bot.stopped') return 'stop';
  return null;
}

/** The event as clients see it: with an ISO time and, for failures, the reason in plain words of its kind. */
export function presentEvent(event: RuntimeEvent, policy: ExplainPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event, time: new Date(event.at).toISOString() };
  const kind = reasonKind(event.type);
  const reason = 'reason' in event && event.reason ? event.reason : null;
  const error = 'error' in event && event.error ? event.error : null;
  // The error beside the reason may carry what the words quote (the price of a paid group).
  const reasonText = reason
    ? kind
      ? explainText(kind, reason, policy, error)
      : explainTelegram(reason)
    : null;
  if (reasonText) out.reasonText = reasonText;
  const errorText = error ? explainText('error', error, policy) : null;
  if (errorText) out.errorText = errorText;
  return out;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private sequence = 0;

  constructor(
    source: { on(listener: Listener): () => void },
    private readonly policy: ExplainPolicy,
  ) {
    this.unsubscribe = source.on((event) => this.publish(event));
    this.keepalive = setInterval(() => {
      for (const c of this.clients) c.response.write(': keepalive\n\n');
    }, 15_000);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Streams open now for one user. */
  streamsOf(userId: string): number {
    let n = 0;
    for (const c of this.clients) if (c.userId === userId) n++;
    return n;
  }

  add(userId: string, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 3000\n\n');
    const client = { userId, response };
    this.clients.add(client);
    response.on('close', () => this.clients.delete(client));
  }

  private publish(event: RuntimeEvent): void {
    let payload: string | null = null;
    for (const client of this.clients) {
      if (client.userId !== event.userId) continue;
      payload ??= `id: ${++this.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(presentEvent(event, this.policy))}\n\n`;
      client.response.write(payload);
    }
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.keepalive);
    for (const c of this.clients) c.response.end();
    this.clients.clear();
  }
}
