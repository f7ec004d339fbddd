/**
 * PostgreSQL LISTEN/NOTIFY between Stagger processes (1–2 ms between two connections, engines.md):
 * - `stagger_control`: the API tells the owner of a bot that it was started or stopped (reaction within a second;
 *   renewal re-reads the desired state anyway, so a missed notification costs at most one renewal period);
 * - `stagger_events`: workers relay the runtime's events to API-only nodes for their SSE streams.
 * The listening connection is dedicated (not from the pool), keeps TCP keepalive on, and reconnects when it drops.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Logger } from '../logger.js';
import type { BotControl } from '../runtime/bot-control.js';
import type { EventBus } from '../runtime/events.js';
import { type RuntimeEvent } from '../runtime/events.js';
import type { Schema } from './schema.js';

export const CONTROL_CHANNEL = 'stagger_control';
export const EVENTS_CHANNEL = 'stagger_events';
/** PostgreSQL refuses NOTIFY payloads from 8000 bytes on. */
const MAX_PAYLOAD = 7_500;

export class PgListener {
  private client: pg.Client | null = null;
  private closed = false;
  private readonly handlers = new Map<string, (payload: string) => void>();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  on(channel: string, handler: (payload: string) => void): void {
    this.handlers.set(channel, handler);
  }

  async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    client.on('notification', (message) => {
      if (message.payload !== undefined) this.handlers.get(message.channel)?.(message.payload);
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'listen connection failed; reconnecting');
      void this.reconnect(client);
    });
    client.on('end', () => void this.reconnect(client));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`listen ${channel}`);
    this.client = client;
  }

  private async reconnect(old: pg.Client): Promise<void> {
    if (this.closed || this.client !== old) return;
    this.client = null;
    await old.end().catch(() => undefined);
    for (let delay = 250; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.connect();
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'listen connection: reconnect failed');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

/** The API side of start/stop with workers: the desired state is already written; notify whoever owns the bot. */
export class NotifyBotControl implements BotControl {
  constructor(private readonly db: Kysely<Schema>) {}

  async started(botId: string): Promise<void> {
    await notify(this.db, CONTROL_CHANNEL, JSON.stringify({ botId, desired: 'running' }));
  }

  async stopped(botId: string): Promise<void> {
    await notify(this.db, CONTROL_CHANNEL, JSON.stringify({ botId, desired: 'stopped' }));
  }
}

export function parseControl(payload: string): { botId: string; desired: 'running' | 'stopped' } | null {
  try {
    const value = JSON.parse(payload) as { botId?: unknown; desired?: unknown };
    if (typeof value.botId !== 'string' || (value.desired !== 'running' && value.desired !== 'stopped'))
      return null;
    return { botId: value.botId, desired: value.desired };
  } catch {
    return null;
  }
}

async function notify(db: Kysely<Schema>, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/**
 * Relays runtime events between processes. Workers publish theirs in small batches (one NOTIFY per ~100 ms, not
 * one per post); every process re-emits the others' events into its local bus, so an API node's SSE streams see
 * every bot wherever it runs.
 */
export class EventRelay {
  readonly origin = randomUUID();
  private buffer: RuntimeEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly logger: Logger,
  ) {}

  /** Sends this process's events to the others. */
  publish(source: EventBus): void {
    this.unsubscribe = source.on((event) => {
      this.buffer.push(event);
      this.timer ??= setTimeout(() => void this.flush(), 100);
    });
  }

  /** Re-emits events from other processes into `target`. */
  receive(listener: PgListener, target: EventBus): void {
    listener.on(EVENTS_CHANNEL, (payload) => {
      try {
        const message = JSON.parse(payload) as { origin: string; events: RuntimeEvent[] };
        if (message.origin === this.origin) return;
        for (const event of message.events) target.emit(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'unreadable relayed events');
      }
    });
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const events = this.buffer;
    this.buffer = [];
    let batch: RuntimeEvent[] = [];
    let size = 0;
    const send = async (): Promise<void> => {
      if (batch.length === 0) return;
      const payload = JSON.stringify({ origin: this.origin, events: batch });
      batch = [];
      size = 0;
      try {
        await notify(this.db, EVENTS_CHANNEL, payload);
      } catch (error) {
        this.logger.warn({ err: error }, 'relaying events failed (live views miss them; nothing else does)');
      }
    };
    for (const event of events) {
      const length = JSON.stringify(event).length + 1;
      if (size + length > MAX_PAYLOAD) await send();
      batch.push(event);
      size += length;
    }
    await send();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }
}
