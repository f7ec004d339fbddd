/**
 * The data of each Server-Sent Event of GET /api/bot/events (its SSE event name is its `type`): the runtime's
 * event (src/runtime/events.ts) as `presentEvent` gives it, with its time as ISO text and, where it carries a
 * reason or an error, that in plain words. The compile-time checks at the end keep these schemas and the
 * runtime's event types the same.
 */
import { Type, type Static, type TLiteral, type TProperties, type TSchema } from '@sinclair/typebox';
import { POST_STATUSES } from '../core/model.js';
import type { RuntimeEvent } from '../runtime/events.js';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const base = {
  botId: Type.String(),
  userId: Type.String(),
  at: Type.Number({ description: 'when it happened, in milliseconds since the epoch' }),
  time: Type.String({ description: 'when it happened, as ISO 8601 text' }),
};
const reasonText = Type.Optional(Type.String({ description: 'the reason in plain words, when known' }));
const errorText = Type.Optional(Type.String({ description: 'the error in plain words, when known' }));
const postStatus = Type.Union(POST_STATUSES.map((s) => Type.Literal(s)));

function event<T extends string, P extends TProperties>(type: T, description: string, properties: P) {
  // Closed: a field the runtime adds without documenting it here fails the schema test.
  return Type.Object(
    { type: Type.Literal(type) as TLiteral<T>, ...base, ...properties },
    { description, additionalProperties: false },
  );
}

const postOutcome = {
  cycleId: Type.String(),
  postId: Type.String(),
  sessionId: Type.String(),
  groupKey: Type.String(),
  status: postStatus,
  reason: nullable(Type.String()),
  error: nullable(Type.String()),
  reasonText,
  errorText,
};

export const HandedOffEvent = event(
  'post.handed_off',
  'a post its session could not send went to another session of the bot (enterprise)',
  {
    cycleId: Type.String(),
    postId: Type.String(),
    groupKey: Type.String({ description: 'the group the post goes to' }),
    fromSessionId: Type.String({ description: 'the session that could not post it' }),
    toSessionId: Type.String({ description: 'the session that posts it now' }),
    reason: Type.String({
      description: 'why the first session could not post it (session_paused, write_forbidden…)',
    }),
    error: nullable(Type.String()),
    reasonText,
    errorText,
  },
);

export const LiveEvent = Type.Union([
  event('bot.started', 'the bot started', {}),
  event('bot.stopped', 'the bot stopped', { reason: Type.String(), reasonText }),
  event('bot.attention', 'the bot needs the customer', {
    reason: Type.String(),
    message: Type.String(),
    reasonText,
  }),
  event('cycle.started', 'a cycle started', {
    cycleId: Type.String(),
    number: Type.Integer(),
    mode: Type.String(),
    plannedStartAt: Type.Number(),
    posts: Type.Integer(),
    resumed: Type.Boolean(),
  }),
  event('cycle.finished', 'a cycle ended', {
    cycleId: Type.String(),
    number: Type.Integer(),
    status: Type.String(),
    reason: nullable(Type.String()),
    counts: Type.Record(Type.String(), Type.Integer()),
    reasonText,
  }),
  event('cycle.skipped', 'cycles whose time passed without running', {
    number: Type.Integer(),
    slots: Type.Integer(),
    reason: Type.String(),
    plannedStartAt: Type.Number(),
    reasonText,
  }),
  event('post.sent', 'a post was delivered', {
    cycleId: Type.String(),
    postId: Type.String(),
    sessionId: Type.String(),
    groupKey: Type.String(),
    plannedAt: Type.Number(),
    duplicate: Type.Boolean(),
  }),
  event('post.failed', 'a post failed', postOutcome),
  event('post.skipped', 'a post was skipped', postOutcome),
  event('post.cancelled', 'a post was cancelled', postOutcome),
  HandedOffEvent,
  event('session.paused', 'a session pauses', {
    sessionId: Type.String(),
    until: Type.Number(),
    reason: Type.String(),
    error: nullable(Type.String()),
    reasonText,
    errorText,
  }),
  event('session.resumed', 'a session goes on', { sessionId: Type.String() }),
  event('session.retired', 'a session can post no more', {
    sessionId: Type.String(),
    reason: Type.String(),
    error: nullable(Type.String()),
    reasonText,
    errorText,
  }),
  event('alert', 'something an operator should know', {
    level: Type.Union([Type.Literal('warning'), Type.Literal('critical')]),
    message: Type.String(),
    sessionId: Type.Optional(Type.String()),
  }),
]);

export type LiveEventData = Static<typeof LiveEvent>;

// Every runtime event, as presented, is one of the documented ones, and every documented type is a runtime one.
type OfType<K extends RuntimeEvent['type']> = RuntimeEvent extends infer E
  ? E extends { type: infer T }
    ? K extends T
      ? Omit<E, 'type'> & { type: K }
      : never
    : never
  : never;
type Presented = {
  [K in RuntimeEvent['type']]: OfType<K> & { time: string; reasonText?: string; errorText?: string };
}[RuntimeEvent['type']];
type Assignable<A, B extends A> = B;
export type EventsMatchSchemas = Assignable<LiveEventData, Presented>;
export type SchemaTypesAreRuntimeTypes = Assignable<RuntimeEvent['type'], LiveEventData['type']>;
