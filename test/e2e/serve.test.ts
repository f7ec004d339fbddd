/**
 * End to end: the real `stagger serve` process on a free port in a temp data directory. The demo customer's bot
 * runs with short delays; deliveries arrive through /api/bot/status and the SSE stream; stop; restart the
 * process and see the state kept; a bot left running resumes after a restart.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStagger, until, type Child } from '../support/processes.js';

const dataDir = mkdtempSync(join(tmpdir(), 'stagger-e2e-'));
const env = { STAGGER_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
const children: Child[] = [];

afterAll(async () => {
  for (const c of children) await c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function serve(): Promise<{ child: Child; url: string }> {
  const child = runStagger(['serve'], env);
  children.push(child);
  const [, url] = await child.waitFor(/Stagger is running at (http:\/\/\S+)/, 30_000);
  return { child, url: url! };
}

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** Reads the SSE stream into a list of events until closed. */
function subscribe(url: string, token: string): { events: { type: string; data: any }[]; close(): void } {
  const events: { type: string; data: any }[] = [];
  const req = httpRequest(
    `${url}/api/bot/events`,
    { headers: { authorization: `Bearer ${token}` } },
    (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) });
        }
      });
    },
  );
  req.on('error', () => undefined);
  req.end();
  return { events, close: () => req.destroy() };
}

describe('stagger serve, end to end', () => {
  let token = '';

  it('runs the demo customer’s bot, shows deliveries in status and SSE, stops, and keeps its state across a restart', async () => {
    const first = await serve();
    const banner = first.child.output();
    token = /demo customer token:\s+(\S+)/.exec(banner)![1]!;
    // The operator token is said to grant full control, with the way to revoke it.
    expect(banner).toMatch(/operator token:[\s\S]*full control[\s\S]*stagger users revoke --user \d+/);
    expect(banner).toMatch(/operator token:\s+stg_/);

    const settings = await api(first.url, token, 'PUT', '/api/bot/settings', {
      delay_between_posts: 0.3,
      min_group_gap_seconds: 0,
      delay_between_cycles: 3600,
    });
    expect(settings.status).toBe(200);
    const sse = subscribe(first.url, token);
    await until(async () => true, 1000);
    const started = await api(first.url, token, 'POST', '/api/bot/start', { execution_mode: 'enterprise' });
    expect(started).toMatchObject({ status: 200, json: { status: 'running', execution_mode: 'enterprise' } });

    const status = await until(async () => {
      const s = await api(first.url, token, 'GET', '/api/bot/status');
      return s.json.cycle?.posts.sent === 20 ? s.json : null;
    }, 30_000);
    expect(status).toMatchObject({
      status: 'running',
      execution_mode: 'enterprise',
      stats: { sent: 20, failed: 0 },
    });
    await until(async () => sse.events.filter((e) => e.type === 'post.sent').length === 20, 10_000);
    expect(sse.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['bot.started', 'cycle.started', 'post.sent', 'cycle.finished']),
    );
    expect(new Set(sse.events.filter((e) => e.type === 'post.sent').map((e) => e.data.groupKey)).size).toBe(
      20,
    );
    sse.close();

    const stopped = await api(first.url, token, 'POST', '/api/bot/stop');
    expect(stopped.json).toEqual({ status: 'stopped' });
    expect((await api(first.url, token, 'GET', '/api/bot/status')).json.status).toBe('stopped');
    expect(await first.child.kill('SIGTERM')).toMatchObject({ code: 0 });

    const second = await serve();
    expect(second.child.output()).not.toContain('demo customer token');
    const after = await api(second.url, token, 'GET', '/api/bot/status');
    expect(after.json).toMatchObject({
      status: 'stopped',
      stats: { sent: 20 },
      cycle: { number: 1, posts: { sent: 20 } },
    });
    const history = await api(second.url, token, 'GET', '/api/bot/posts?limit=100');
    expect(history.json.posts).toHaveLength(20);
    expect(await second.child.kill('SIGTERM')).toMatchObject({ code: 0 });
  });

  it('a bot left running resumes after a restart', async () => {
    const first = await serve();
    await api(first.url, token, 'PUT', '/api/bot/settings', {
      delay_between_posts: 1,
      delay_between_cycles: 1,
    });
    await api(first.url, token, 'POST', '/api/bot/start', { execution_mode: 'enterprise' });
    await until(
      async () => (await api(first.url, token, 'GET', '/api/bot/status')).json.stats.sent >= 24,
      30_000,
    );
    expect(await first.child.kill('SIGTERM')).toMatchObject({ code: 0 });
    const second = await serve();
    const before = (await api(second.url, token, 'GET', '/api/bot/status')).json;
    expect(before.status).toBe('running');
    await until(
      async () =>
        (await api(second.url, token, 'GET', '/api/bot/status')).json.stats.sent >= before.stats.sent + 3,
      30_000,
    );
    expect(await second.child.kill('SIGTERM')).toMatchObject({ code: 0 });
  });
});

describe('stagger serve without consent to a demo', () => {
  it('STAGGER_DEMO=0 starts with no users and says how to create the operator', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'stagger-e2e-nodemo-'));
    const child = runStagger(['serve'], { ...env, STAGGER_DATA_DIR: empty, STAGGER_DEMO: '0' });
    children.push(child);
    try {
      const [, url] = await child.waitFor(/Stagger is running at (http:\/\/\S+)/, 30_000);
      await child.waitFor(/stagger users add --name NAME --role admin/, 10_000);
      expect(child.output()).not.toContain('operator token');
      const res = await fetch(`${url!}/api/me`, { headers: { authorization: 'Bearer stg_anything' } });
      expect(res.status).toBe(401);
      expect(await child.kill('SIGTERM')).toMatchObject({ code: 0 });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
