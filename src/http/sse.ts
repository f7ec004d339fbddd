/**
 * Server-Sent Events of the runtime's event stream, each client seeing only its own bot's events. A comment line
 * every 15 s keeps proxies from closing an idle stream.
 */
import type { ServerResponse } from 'node:http';
import { explainKnown } from '../core/outcome.js';
import type { Listener, RuntimeEvent } from '../runtime/events.js';

interface Client {
  userId: string;
  response: ServerResponse;
}

/** The event as clients see it: with an ISO time and, for failures, the reason in plain words. */
export function presentEvent(event: RuntimeEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event, time: new Date(event.at).toISOString() };
  const reasonText = 'reason' in event && event.reason ? explainKnown(event.reason) : null;
  if (reasonText) out.reasonText = reasonText;
  const errorText = 'error' in event && event.error ? explainKnown(event.error) : null;
  if (errorText) out.errorText = errorText;
  return out;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private sequence = 0;

  constructor(source: { on(listener: Listener): () => void }) {
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
      payload ??= `id: ${++this.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(presentEvent(event))}\n\n`;
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
