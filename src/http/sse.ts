/**
 * Server-Sent Events of the runtime's event stream, each client seeing only its own bot's events. A comment line
 * every 15 s keeps proxies from closing an idle stream.
 */
import type { ServerResponse } from 'node:http';
import { explainTelegram } from '../core/outcome.js';
import { explainText, type ExplainPolicy, type ReasonKind } from '../core/reasons.js';
import type { Listener, RuntimeEvent } from '../runtime/events.js';

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
