/**
 * Fastify's per-request lines are `debug`: at the default level a terminal showing the banner's one-time tokens is
 * not scrolled away by a line per request; LOG_LEVEL=debug shows every request with its status; a failure on our
 * side is an error at any level.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { testApi, type TestApi } from '../support/api.js';

const apis: TestApi[] = [];
afterEach(async () => {
  while (apis.length) await apis.pop()!.close();
});

/** An API whose logger writes parsed JSON entries at `level`, and a few requests of each kind through it. */
async function requestsLoggedAt(level: string): Promise<Record<string, unknown>[]> {
  const entries: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _e, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) entries.push(JSON.parse(line));
      done();
    },
  });
  const api = await testApi({ deps: { logger: createLogger({ level, destination }) } });
  apis.push(api);
  const user = await api.user();
  expect((await api.request('GET', '/api/health')).statusCode).toBe(200);
  expect((await api.request('GET', '/api/me', { token: user.token })).statusCode).toBe(200);
  expect((await api.request('GET', '/api/me')).statusCode).toBe(401);
  expect((await api.request('GET', '/api/no-such-route', { token: user.token })).statusCode).toBe(404);
  return entries;
}

describe('request logging', () => {
  it('writes no line per request at the default level (info)', async () => {
    const entries = await requestsLoggedAt('info');
    expect(entries.filter((e) => 'reqId' in e)).toEqual([]);
  });

  it('writes each request and its status at debug, without the token', async () => {
    const entries = await requestsLoggedAt('debug');
    const incoming = entries.filter((e) => e.msg === 'incoming request');
    const completed = entries.filter((e) => e.msg === 'request completed');
    expect(incoming.map((e) => (e.req as { url: string }).url)).toEqual([
      '/api/health',
      '/api/me',
      '/api/me',
      '/api/no-such-route',
    ]);
    expect(completed.map((e) => (e.res as { statusCode: number }).statusCode)).toEqual([200, 200, 401, 404]);
    expect(entries.every((e) => e.level === 20)).toBe(true);
    expect(JSON.stringify(entries)).not.toMatch(/stg_|authorization/i);
  });
});
