/**
 * The live event stream, GET /api/bot/events (text/event-stream). EventSource cannot send an Authorization
 * header, so this reads the stream with fetch() and parses the `event:`/`data:` blocks itself, reconnecting
 * (after the server's `retry:` delay) whenever the stream drops.
 */

export type StreamState = 'connecting' | 'open' | 'closed';

export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** Incremental parser: feed text chunks, get whole messages. Comments (`: keepalive`) are ignored. */
export class SseParser {
  private buffer = '';
  /** A chunk that ended in CR: its LF may be the next chunk's first character. */
  private pendingCR = false;
  retryMs: number | null = null;

  push(chunk: string): SseMessage[] {
    let text = this.pendingCR ? `\r${chunk}` : chunk;
    this.pendingCR = text.endsWith('\r');
    if (this.pendingCR) text = text.slice(0, -1);
    this.buffer += text.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let id: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
      }
      if (data.length > 0) out.push({ event, data: data.join('\n'), id });
    }
    return out;
  }
}

export interface StreamOptions {
  token: string;
  onMessage(message: SseMessage): void;
  onState(state: StreamState): void;
  /** The token was refused: stop for good. */
  onUnauthorized(): void;
}

/** Connects and keeps reconnecting until the returned function is called. */
export function openEventStream(options: StreamOptions): () => void {
  const controller = new AbortController();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let retryMs = 3000;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopped) {
      options.onState('connecting');
      try {
        const response = await fetch('/api/bot/events', {
          headers: { authorization: `Bearer ${options.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401) {
          options.onState('closed');
          options.onUnauthorized();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        options.onState('open');
        failures = 0;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) options.onMessage(message);
          if (parser.retryMs !== null) retryMs = parser.retryMs;
        }
      } catch {
        if (stopped) return;
        failures++;
      }
      if (stopped) return;
      options.onState('connecting');
      // Back off a little on repeated failures, never beyond 30 s.
      await wait(Math.min(30_000, retryMs * Math.max(1, failures)));
    }
  }

  void run();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    controller.abort();
    options.onState('closed');
  };
}
