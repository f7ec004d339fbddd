/**
 * The dashboard tells the truth about what is happening, in a real browser against a real `stagger serve` with the
 * demo data: with every session paused by FLOOD_WAIT and the cycle's posts skipped, Overview says nothing goes out
 * (not "on schedule"), why, and where to act, and its last error is not "None"; the counters say which span they
 * count; Stop asks first when it would cancel posts of a running cycle, and says how many; after it, progress counts
 * what was sent or decided and shows the cancelled as cancelled; and the texts: one error text per bad group line,
 * no doubled words or full stops, plurals, the status words explained, the live badge explained, a session limit
 * that says what to do, and a one-process Cluster page without a refused request.
 *
 * The trouble is made as Telegram would make it: the sandbox answers each account's first forward with
 * FLOOD_WAIT_600 (a fault in its store), and the real runtime reacts. Chromium is never downloaded: without
 * /usr/bin/chromium the suite warns loudly and skips, unless CI=true.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/store.js';
import { runStagger, until, type Child } from '../support/processes.js';
import { CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, requireChromium } from '../support/dashboard.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(ROOT, 'artifacts/screenshots');
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

requireChromium("the overview's browser tests");

/** Failed responses the pages make on purpose. */
const EXPECTED_FAILURES = [
  /^400 PUT \/api\/bot\/groups$/, // the bad group line
  /^409 POST \/api\/sessions\/sandbox$/, // a session over the plan's limit
];

interface Status {
  status: string;
  cycle: {
    number: number;
    status: string;
    posts: Record<'planned' | 'sent' | 'skipped' | 'cancelled' | 'pending' | 'done', number>;
  } | null;
  condition: { level: string; code: string; message: string };
}

describe.runIf(HAVE_CHROMIUM)('the overview tells the truth, in a real browser', () => {
  let dataDir = '';
  let profileDir = '';
  let server: Child | null = null;
  let context: BrowserContext | null = null;
  let url = '';
  let operatorToken = '';
  let demoToken = '';
  let page: Page;
  const problems: string[] = [];
  const failures: string[] = [];
  const requested: string[] = [];

  function watch(p: Page): Page {
    p.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const text = message.text();
      if (text.startsWith('Failed to load resource: the server responded with a status of')) return;
      problems.push(`console.${message.type()}: ${text}`);
    });
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    p.on('request', (request) => requested.push(`${request.method()} ${new URL(request.url()).pathname}`));
    p.on('response', (response) => {
      if (response.status() < 400) return;
      const path = new URL(response.url()).pathname;
      failures.push(`${response.status()} ${response.request().method()} ${path}`);
    });
    p.on('requestfailed', (request) => {
      const path = new URL(request.url()).pathname;
      if (path === '/api/bot/events' && request.failure()?.errorText === 'net::ERR_ABORTED') return;
      failures.push(`request failed: ${request.method()} ${path}: ${request.failure()?.errorText}`);
    });
    return p;
  }

  /** The page at both sizes the issue names, kept as artifacts. */
  async function shots(p: Page, name: string): Promise<void> {
    for (const [size, viewport] of [
      ['1366x900', DESKTOP],
      ['390x844', PHONE],
    ] as const) {
      await p.setViewportSize(viewport);
      await p.screenshot({ path: join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} at ${size} overflows sideways by ${overflow}px`).toBeLessThanOrEqual(0);
    }
    await p.setViewportSize(DESKTOP);
  }

  async function heading(p: Page, text: string): Promise<void> {
    await p.getByRole('heading', { level: 1, name: text }).waitFor();
  }

  async function go(p: Page, link: string): Promise<void> {
    const menu = p.getByRole('button', { name: 'Menu' });
    if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
    await heading(p, link);
    await settled(p);
  }

  async function settled(p: Page): Promise<void> {
    await p.waitForFunction(() => !/Loading /.test(document.querySelector('main')?.textContent ?? ''));
  }

  async function signIn(p: Page, token: string): Promise<void> {
    await p.getByLabel('API token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await heading(p, 'Overview');
    await settled(p);
  }

  async function signOut(p: Page): Promise<void> {
    const menu = p.getByRole('button', { name: 'Menu' });
    if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByLabel('API token').waitFor();
  }

  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token = demoToken,
  ): Promise<T> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
    return res.json() as Promise<T>;
  }

  const status = () => call<Status>('GET', '/api/bot/status');

  async function sessionIds(): Promise<string[]> {
    return (await call<{ sessions: { id: string }[] }>('GET', '/api/sessions')).sessions.map((s) => s.id);
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), '--if-stale'], { stdio: 'pipe' });
    dataDir = mkdtempSync(join(tmpdir(), 'stagger-web-truth-'));
    server = runStagger(['serve'], { STAGGER_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' });
    const [, address] = await server.waitFor(/Stagger is running at (http:\/\/\S+)/, 30_000);
    await server.waitFor(/demo customer token:\s+stg_\S+/, 10_000);
    url = address!;
    operatorToken = /operator token:\s+(\S+)/.exec(server.output())![1]!;
    demoToken = /demo customer token:\s+(\S+)/.exec(server.output())![1]!;
    profileDir = mkdtempSync(join(tmpdir(), 'stagger-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: DESKTOP,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(10_000);
    page = watch(context.pages()[0] ?? (await context.newPage()));
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await server?.kill('SIGTERM');
    for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every session paused by FLOOD_WAIT and the posts skipped: Overview says nothing goes out, why, and where to act', async () => {
    // No group-gap skips: every skip below is the accounts' pauses.
    await call('PUT', '/api/bot/settings', { delay_between_posts: 0.5, min_group_gap_seconds: 0 });
    const store = await openStore({ dataDir });
    try {
      // Telegram answers each account's first forward with a ten-minute FLOOD_WAIT.
      for (const id of await sessionIds()) {
        await store.sandbox.addFault({
          accountId: id,
          groupKey: null,
          method: 'forward',
          fromAt: 0,
          error: 'FLOOD_WAIT_600',
          remaining: 1,
        });
      }
    } finally {
      await store.close();
    }
    await call('POST', '/api/bot/start', { execution_mode: 'enterprise' });
    let s = await status();
    await until(async () => {
      s = await status();
      return s.cycle !== null && s.cycle.posts.pending === 0;
    }, 20_000);
    expect(s.cycle!.posts).toMatchObject({ planned: 20, sent: 0, skipped: 20 });

    await page.goto(url);
    await signIn(page, demoToken);
    const line = page.getByTestId('bot-condition');
    await line.waitFor();
    expect(await line.getAttribute('data-level')).toBe('critical');
    expect(await line.textContent()).toContain(
      'Nothing is posted now: every session is paused by Telegram. The bot goes on by itself when the first pause ends.',
    );
    expect(await line.textContent()).toMatch(/The first pause ends .*\(in (9|10) min\)/);
    const act = line.getByRole('link', { name: 'Open Sessions' });
    expect(await act.getAttribute('href')).toBe('/app/sessions');
    const also = page.getByTestId('bot-conditions');
    expect(await also.textContent()).toContain(
      '3 of 3 sessions (sandbox 1, sandbox 2 and sandbox 3) are paused: Telegram asked them to slow down (FLOOD_WAIT)',
    );
    expect(await also.textContent()).toContain(
      '20 of 20 posts of cycle #1 were skipped. Why, for all of them: the account was paused (Telegram asked it to wait) past its time in this cycle.',
    );
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).not.toContain('on schedule');
    // The last error is not "None" while posts are skipped.
    const lastError = page.getByTestId('last-error');
    expect(await lastError.textContent()).not.toContain('None.');
    expect(await lastError.textContent()).toContain(
      'Skipped: the account was paused (Telegram asked it to wait) past its time in this cycle.',
    );
    // Counters say which span they count: all cycles beside this cycle's.
    expect(await page.locator('.counters dt').allTextContents()).toEqual([
      'Sent, all cycles',
      'Failed, all cycles',
      'Flood waits, all cycles',
    ]);
    expect(await page.getByTestId('stat-flood-waits').textContent()).toBe('3');
    expect(await page.getByRole('list', { name: 'Posts in cycle #1' }).textContent()).toMatch(
      /^This cycle:sent 0failed 0skipped 20/,
    );
    expect(await page.getByTestId('cycle-progress').textContent()).toBe(
      '20 of 20 posts done (sent or decided)',
    );
    await shots(page, 'overview-trouble');
    // The link goes where to act.
    await act.click();
    await heading(page, 'Sessions');
  });

  it('Stop asks first and says how many posts it cancels; after it, progress counts only what was sent or decided', async () => {
    await call('POST', '/api/bot/stop');
    const store = await openStore({ dataDir });
    try {
      for (const id of await sessionIds())
        await store.runtime.updateSession(id, { status: 'active', statusReason: null, cooldownUntil: null });
    } finally {
      await store.close();
    }
    // 60 posts over a minute: a stop a few seconds in cancels most of them.
    await call('POST', '/api/bot/start', { execution_mode: 'starter', total_cycle_minutes: 1 });
    await until(async () => {
      const s = await status();
      return s.cycle?.number === 2 && s.cycle.posts.sent >= 2;
    }, 20_000);
    await go(page, 'Overview');
    await page.getByTestId('bot-condition').filter({ hasText: 'The bot is running' }).waitFor();
    await page.getByRole('button', { name: 'Stop the bot' }).click();
    const question = page.locator('#stop-question');
    await question.waitFor();
    expect(await question.textContent()).toMatch(
      /^Stopping now cancels \d+ of the 60 posts of cycle #2: they have not been sent yet, and are not sent later\.$/,
    );
    // Changing one's mind keeps it running.
    await page.getByRole('button', { name: 'Keep running' }).click();
    expect((await status()).status).toBe('running');
    await page.getByRole('button', { name: 'Stop the bot' }).click();
    const confirm = page.getByRole('button', { name: /^Stop and cancel \d+ posts?$/ });
    const offered = Number(/(\d+)/.exec((await confirm.textContent()) ?? '')![1]);
    expect(offered).toBeGreaterThan(0);
    await confirm.click();
    await page.getByTestId('bot-condition').filter({ hasText: 'The bot is stopped' }).waitFor();
    let s = await status();
    await until(async () => {
      s = await status();
      return s.cycle?.status === 'stopped';
    }, 10_000);
    const p = s.cycle!.posts;
    expect(p.cancelled).toBeGreaterThan(0);
    expect(p.cancelled).toBeLessThanOrEqual(offered);
    expect(p.done + p.cancelled).toBe(60);
    const progress = page.getByTestId('cycle-progress');
    await progress.filter({ hasText: 'cancelled' }).waitFor();
    expect(await progress.textContent()).toBe(
      `${p.done} of 60 posts done (sent or decided), ${p.cancelled} cancelled`,
    );
    const bar = page.locator('.progress progress');
    expect(await bar.evaluate((el: HTMLProgressElement) => [el.value, el.max])).toEqual([p.done, 60]);
    expect(await page.getByRole('list', { name: 'Posts in cycle #2' }).textContent()).toContain(
      `cancelled ${p.cancelled}`,
    );
    await shots(page, 'overview-after-stop');
  });

  it('Activity: events read without doubled stops; status words and the post number are explained', async () => {
    await go(page, 'Activity');
    const events = page.locator('.events li');
    await page.locator('.events li.event-cycle-finished').first().waitFor();
    expect(await page.locator('.events li.event-cycle-finished').first().textContent()).toContain(
      'Cycle 2 stopped: Stopped by the customer.',
    );
    for (const text of await events.allTextContents()) expect(text).not.toMatch(/\.\.(?!\.)/);
    const legend = page.getByTestId('status-legend');
    await legend.getByText('What the statuses mean').click();
    expect(await legend.textContent()).toContain(
      'missedStagger was not running when it was due, and it was too late to send it afterwards.',
    );
    expect(await legend.textContent()).toContain(
      'not attemptedThe cycle ended (its deadline came) before this post’s turn.',
    );
    const row = page.locator('table.history tbody tr').first();
    await row.waitFor();
    expect(await row.locator('td.when .muted').first().textContent()).toMatch(/^cycle #2 · post \d+/);
    expect(await row.locator('.badge').first().getAttribute('title')).toBeTruthy();
    // The live badge says what "live" means.
    expect(await page.getByTestId('live-badge').getAttribute('title')).toBe(
      'Live: the bot’s events arrive as they happen, and the pages update by themselves.',
    );
    // The legend open, at both sizes: its meanings wrap within the screen.
    await shots(page, 'activity-status-legend');
  });

  it('a bad group line is said once; the session limit says what to do', async () => {
    await go(page, 'Post and groups');
    const groups = page.getByLabel('Groups, one per line');
    const saved = await groups.inputValue();
    await groups.fill(`${saved}\nthis is not a group!`);
    await page.getByRole('button', { name: 'Save groups' }).click();
    const lineError = page.locator('.line-errors li[data-line="21"]');
    await lineError.waitFor();
    const message = ((await lineError.textContent()) ?? '').split('— ')[1]!;
    expect(message.length).toBeGreaterThan(10);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Groups' }) });
    expect(await section.getByRole('alert').textContent()).toBe(
      'Nothing was saved: 1 line to fix, listed beside the groups.',
    );
    const text = (await section.textContent()) ?? '';
    expect(text.split(message).length - 1, `"${message}" is shown more than once`).toBe(1);
    await groups.fill(saved);
    await page.getByRole('button', { name: 'Save groups' }).click();
    await page.getByText('Saved 20 groups.').waitFor();

    await go(page, 'Sessions');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const limit = page
      .locator('section', { has: page.getByRole('heading', { name: 'Add sandbox sessions' }) })
      .getByRole('alert');
    await limit.waitFor();
    expect(await limit.textContent()).toMatch(
      /^your plan allows 3 sessions and you have 3: delete a session you no longer need .*or ask your operator for a plan with more sessions$/,
    );
  });

  it('a customer with no session, then one: no doubled words, and one session is "1 session"', async () => {
    const created = await call<{ token: string }>(
      'POST',
      '/api/admin/users',
      { name: 'One session', plan_type: 'ENTERPRISE', max_sessions: 1 },
      operatorToken,
    );
    await call('PUT', '/api/bot/post', { post_link: 'https://t.me/stagger_demo/1' }, created.token);
    await call('PUT', '/api/bot/groups', { groups: ['-1001000000001', '-1001000000002'] }, created.token);
    await signOut(page);
    await signIn(page, created.token);
    await go(page, 'Timeline');
    await page.getByRole('button', { name: 'Preview' }).click();
    const warnings = page.getByRole('heading', { name: 'Planner warnings' }).locator('..');
    await warnings.locator('li[data-code="NO_SESSIONS"]').waitFor();
    expect(await warnings.locator('li[data-code="NO_SESSIONS"]').textContent()).toBe(
      'There is no session to post with: nothing will be posted.',
    );
    await call('POST', '/api/sessions/sandbox', { count: 1 }, created.token);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'Enterprise cycle, 2 posts' }).waitFor();
    expect(await page.getByTestId('timeline-chart').locator('title').first().textContent()).toMatch(
      /^Preview: 1 session, 2 posts over /,
    );
    await go(page, 'Overview');
    expect(await page.getByTestId('session-summary').textContent()).toMatch(
      /^1 session: 1 active, 0 paused, 0 dead\./,
    );
  });

  it('the Cluster page on one process says so plainly, without a refused request', async () => {
    await signOut(page);
    await signIn(page, operatorToken);
    await go(page, 'Cluster');
    const plain = page.getByTestId('cluster-unavailable');
    await plain.waitFor();
    expect(await plain.textContent()).toBe(
      'This installation runs in one process (SQLite): the API, the dashboard and every bot run here, so there are no workers or leases to show.',
    );
    expect(await page.locator('main').textContent()).not.toContain('The server says');
    expect(requested).not.toContain('GET /api/admin/cluster');
    expect(failures.filter((f) => f.includes('/api/admin/cluster'))).toEqual([]);
  });

  it('logged no console error, no page error and no unexpected failed request', () => {
    expect(problems).toEqual([]);
    expect(failures).toContain('400 PUT /api/bot/groups');
    expect(failures.filter((f) => !EXPECTED_FAILURES.some((re) => re.test(f)))).toEqual([]);
  });
});
