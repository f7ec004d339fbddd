/**
 * What a person sees in the terminal that runs `stagger serve` (what `npm start` runs), with the real process: the
 * banner and its one-time tokens are not scrolled away by a line per request at the default log level; every
 * start, a restart too, names the command that issues a new token, and that command works against the running
 * service; logs are JSON lines when stderr is a pipe and readable lines when it is a terminal, redacted both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStagger, runStaggerInTerminal, until, type Child } from '../support/processes.js';

const dataDir = mkdtempSync(join(tmpdir(), 'stagger-terminal-'));
// The settings a user has who sets nothing: no LOG_LEVEL, LOG_FORMAT or NO_COLOR from the environment running tests.
const env = {
  STAGGER_DATA_DIR: dataDir,
  PORT: '0',
  LOG_LEVEL: undefined,
  LOG_FORMAT: undefined,
  NO_COLOR: undefined,
};
const children: Child[] = [];
const BANNER_END = /Logs follow on stderr; LOG_LEVEL=debug adds a line per HTTP request\.\r?\n/;

afterAll(async () => {
  for (const c of children) await c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function started(child: Child): Promise<{ url: string; banner: string }> {
  children.push(child);
  const [, url] = await child.waitFor(/Stagger is running at (http:\/\/\S+)/, 30_000);
  await child.waitFor(BANNER_END, 10_000);
  const output = child.output();
  const start = output.indexOf('Stagger is running at');
  const end = output.search(BANNER_END);
  return { url: url!, banner: output.slice(start, end) };
}

/** What the process wrote after its banner. */
function afterBanner(child: Child): string {
  const output = child.output();
  const match = BANNER_END.exec(output)!;
  return output.slice(match.index + match[0].length);
}

function get(url: string, path: string, token?: string): Promise<Response> {
  return fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

let customerToken = '';
let customerId = '';

describe('the terminal of stagger serve', () => {
  it('prints no line per request after the banner by default, and the banner says how to get a new token', async () => {
    const child = runStagger(['serve'], env);
    const { url, banner } = await started(child);
    customerToken = /demo customer token:\s+(stg_\S+)/.exec(banner)![1]!;
    const named = /the operator is user (\d+), the demo customer user (\d+)\):\n\s+(.*)\n/.exec(banner);
    expect(named).not.toBeNull();
    customerId = named![2]!;
    expect(named![3]).toBe(`STAGGER_DATA_DIR=${dataDir} npx stagger users token --id N`);

    // What a signed-in dashboard does, plus a sign-in without a token and a wrong address.
    expect((await get(url, '/')).status).toBe(200);
    expect((await get(url, '/api/health')).status).toBe(200);
    expect((await get(url, '/api/me', customerToken)).status).toBe(200);
    expect((await get(url, '/api/bot/status', customerToken)).status).toBe(200);
    expect((await get(url, '/api/me')).status).toBe(401);
    expect((await get(url, '/api/nothing-here', customerToken)).status).toBe(404);
    // Bot events are logged at info, in order after any request line: once they are out, a request line would be.
    const start = await fetch(`${url}/api/bot/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customerToken}` },
    });
    expect(start.status).toBe(200);
    const stop = await fetch(`${url}/api/bot/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customerToken}` },
    });
    expect(stop.status).toBe(200);
    await child.waitFor(/"msg":"bot\.stopped"/, 20_000);

    // stderr is a pipe here: JSON lines, one per entry, none of them about a request.
    const entries = afterBanner(child)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((e) => e.msg)).toEqual(expect.arrayContaining(['bot.started', 'bot.stopped']));
    expect(entries.filter((e) => 'reqId' in e || 'req' in e || 'res' in e)).toEqual([]);
    expect(await child.kill('SIGTERM')).toMatchObject({ code: 0 });
  });

  it('on a restart prints no token but the command that issues one, which works while it runs; debug shows requests', async () => {
    const child = runStagger(['serve'], { ...env, LOG_LEVEL: 'debug' });
    const { url, banner } = await started(child);
    expect(banner).not.toContain('stg_');
    expect(banner).toContain(`sign in with your API token`);
    expect(banner).toContain(`  STAGGER_DATA_DIR=${dataDir} npx stagger users token --id N\n`);
    expect(banner).toContain('operators here: user 1 ("Operator")');

    const issue = runStagger(['users', 'token', '--id', customerId], { STAGGER_DATA_DIR: dataDir });
    expect(await issue.exited).toMatchObject({ code: 0 });
    const fresh = /new token for user \d+ \(shown once\): (stg_\S+)/.exec(issue.output())![1]!;
    const me = await get(url, '/api/me', fresh);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: customerId, name: 'Demo customer' });
    // The customer's other token keeps working.
    expect((await get(url, '/api/me', customerToken)).status).toBe(200);

    await child.waitFor(/"msg":"request completed"/, 10_000);
    const requests = await until(async () => {
      const lines = afterBanner(child)
        .split('\n')
        .filter((line) => line.includes('"request completed"'));
      return lines.length >= 2 ? lines : null;
    }, 10_000);
    expect(
      requests.map((line) => (JSON.parse(line) as { res: { statusCode: number } }).res.statusCode),
    ).toEqual([200, 200]);
    expect(afterBanner(child)).not.toContain(fresh);
    expect(afterBanner(child)).not.toContain(customerToken);
    expect(await child.kill('SIGTERM')).toMatchObject({ code: 0 });
  });

  it('on a terminal writes readable log lines, not JSON, with credentials still redacted', async () => {
    const child = runStaggerInTerminal(['serve'], { ...env, LOG_LEVEL: 'debug' });
    const { url, banner } = await started(child);
    expect(banner).toContain('npx stagger users token --id N');
    expect((await get(url, '/api/me', customerToken)).status).toBe(200);
    await child.waitFor(/DEBUG.*request completed/, 10_000);

    const output = child.output();
    // Logged before the banner was printed, and shown before it (a terminal's lines are written at once).
    expect(output.indexOf('listening')).toBeLessThan(output.indexOf('Stagger is running at'));
    const logLines = output.split(/\r?\n/).filter((line) => /^\[\d\d:\d\d:\d\d\] /.test(line));
    expect(logLines.some((line) => /INFO.*storage ready/.test(line))).toBe(true);
    expect(logLines.some((line) => /DEBUG.*request completed/.test(line))).toBe(true);
    expect(output).not.toMatch(/^\{"level"/m);
    // Colours, on a terminal that did not ask for none.
    expect(logLines.join('\n')).toContain('\u001b[');
    expect(output).not.toContain(customerToken);
    expect(await child.kill('SIGTERM')).toMatchObject({ code: 0 });
  });
});
