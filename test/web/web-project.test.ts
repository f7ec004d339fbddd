/**
 * The dashboard's own checks that need no browser: its TypeScript projects type-check (the root `tsc` does not
 * include web/, which has its own tsconfigs: the browser code with JSX, and vite.config.ts on Node), its bundle
 * holds no server code (the server's types it imports are erased; of src/, only the pure core may be bundled), and
 * its event-stream parser handles what a network does to a text/event-stream body (chunks cut anywhere, CRLF,
 * comments, several data lines, retry).
 */
import { execFile } from 'node:child_process';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../web/src/events.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('web/ project', () => {
  it.each(['web/tsconfig.json', 'web/tsconfig.node.json'])(
    'type-checks (%s, strict)',
    async (project) => {
      const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project], {
        cwd: ROOT,
      }).catch((error: { stdout?: string; stderr?: string }) => error);
      expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
    },
    60_000,
  );

  it('bundles no server module: of src/, only src/core (pure), everything else from src/ is types', async () => {
    const { build } = await import('vite');
    const web = join(ROOT, 'web');
    const result = await build({
      configFile: join(web, 'vite.config.ts'),
      root: web,
      logLevel: 'silent',
      build: { write: false },
    });
    const outputs = (Array.isArray(result) ? result : [result]).flatMap((o) =>
      'output' in o ? o.output : [],
    );
    const modules = outputs.flatMap((chunk) => (chunk.type === 'chunk' ? chunk.moduleIds : []));
    expect(modules).toContain(join(web, 'src', 'main.tsx'));
    const server = modules.filter(
      (id) => id.startsWith(join(ROOT, 'src') + sep) && !id.startsWith(join(ROOT, 'src', 'core') + sep),
    );
    expect(server).toEqual([]);
  }, 60_000);
});

describe('SseParser', () => {
  const stream =
    'retry: 3000\n\n: keepalive\n\nid: 1\nevent: post.sent\ndata: {"at":1,"groupKey":"-1001"}\n\n' +
    'id: 2\r\nevent: alert\r\ndata: {"message":\r\ndata: "two lines"}\r\n\r\n' +
    'data: no event name\n\n';

  it('parses whole messages, ignoring comments, and reads retry', () => {
    const parser = new SseParser();
    const messages = parser.push(stream);
    expect(messages).toEqual([
      { event: 'post.sent', data: '{"at":1,"groupKey":"-1001"}', id: '1' },
      { event: 'alert', data: '{"message":\n"two lines"}', id: '2' },
      { event: 'message', data: 'no event name', id: null },
    ]);
    expect(parser.retryMs).toBe(3000);
  });

  it('gives the same messages however the stream is cut into chunks', () => {
    const whole = new SseParser().push(stream);
    for (const size of [1, 2, 3, 7, 13]) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...parser.push(stream.slice(i, i + size)));
      expect(got, `chunks of ${size}`).toEqual(whole);
    }
  });

  it('keeps an unfinished message until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('event: cycle.started\ndata: {"number":1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'cycle.started', data: '{"number":1}', id: null }]);
  });
});
