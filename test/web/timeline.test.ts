/**
 * The timeline page in a real browser (Debian's Chromium driven by playwright-core) against a real Stagger — the
 * API, the runtime and the sandbox Telegram on SQLite — whose clock is virtual: an hour-long starter cycle runs in
 * a moment, with a FLOOD_WAIT that makes one session skip the rest of its run at once. It checks what the page
 * says against what the API says: the live cycle and a preview are never mixed; zoom changes the visible range;
 * the per-group view names group, account and time; marks at one place are all visible or counted; a cycle that is
 * over shows final outcomes only (no "pending"); and at 390×844 nothing of the page's header is cut off.
 * Screenshots at 1366×900 and 390×844 go to artifacts/screenshots/.
 *
 * Chromium is never downloaded: without /usr/bin/chromium the suite warns loudly and skips, unless CI=true.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { DEMO_GROUPS, seedDemo, type DemoCredentials } from '../../src/demo.js';
import { createLogger } from '../../src/logger.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { Service } from '../../src/service.js';
import type { CycleView } from '../../web/src/types.js';
import { CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, requireChromium } from '../support/dashboard.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(ROOT, 'artifacts/screenshots');
const WIDE = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

requireChromium("the timeline's browser tests");

/** One drawn mark of the chart as the page shows it. */
interface Drawn {
  kind: string;
  count: number;
  lane: number;
  text: string;
  box: { left: number; right: number; top: number; bottom: number };
}

describe.runIf(HAVE_CHROMIUM)('the timeline in a real browser, on a virtual clock', () => {
  let dataDir = '';
  let service: Service;
  let clock: VirtualClock;
  let demo: DemoCredentials;
  let browser: Browser;
  let page: Page;
  let url = '';
  const events: RuntimeEvent[] = [];
  const problems: string[] = [];

  function watch(p: Page): Page {
    p.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`console.${message.type()}: ${message.text()}`);
    });
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    p.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    return p;
  }

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${demo.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBe(200);
    return (await res.json()) as T;
  }

  /** Runs the virtual clock until the runtime has said what `done` waits for. */
  async function runUntil(done: (e: RuntimeEvent) => boolean): Promise<void> {
    await clock.runUntilTrue(() => events.some(done), clock.now() + 3 * 3600_000);
    await clock.advance(0);
  }

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function openTimeline(p: Page): Promise<void> {
    const menu = p.getByRole('button', { name: 'Menu' });
    if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Timeline' }).click();
    await p.getByRole('heading', { level: 1, name: 'Timeline' }).waitFor();
  }

  async function signIn(p: Page): Promise<void> {
    await p.goto(url);
    await p.getByLabel('API token').fill(demo.token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  }

  /** Every mark the chart draws: its kind, how many posts it stands for, its row and its box on the screen. */
  function drawn(p: Page): Promise<Drawn[]> {
    return p
      .getByTestId('timeline-chart')
      .locator('[data-kind]')
      .evaluateAll((marks) =>
        marks.map((m) => {
          const r = m.getBoundingClientRect();
          return {
            kind: m.getAttribute('data-kind')!,
            count: Number(m.getAttribute('data-count')),
            lane: Number(m.getAttribute('data-lane')),
            text: m.querySelector('text')?.textContent ?? '',
            box: { left: r.left, right: r.right, top: r.top, bottom: r.bottom },
          };
        }),
      );
  }

  const total = (marks: Drawn[], kind: string) =>
    marks.filter((m) => m.kind === kind).reduce((n, m) => n + m.count, 0);

  /** Pairs of marks whose boxes cover each other (by more than a hair: anti-aliasing). */
  function overlaps(marks: Drawn[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < marks.length; i++)
      for (let j = i + 1; j < marks.length; j++) {
        const a = marks[i]!.box;
        const b = marks[j]!.box;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) out.push(`${marks[i]!.kind}@${a.left} / ${marks[j]!.kind}@${b.left}`);
      }
    return out;
  }

  /** What of the page is cut off: outside the screen, outside a box that hides or scrolls overflow, labels touching. */
  function clippedOn(p: Page): Promise<string[]> {
    return p.evaluate(() => {
      const out: string[] = [];
      const width = window.innerWidth;
      const name = (e: Element) =>
        `${e.tagName.toLowerCase()} "${(e.textContent ?? '').trim().slice(0, 30)}"`;
      const selectors = [
        'header.top',
        'h1',
        'h2',
        'h3',
        '[role=tab]',
        'button',
        'label',
        'th',
        '.legend li',
        '.chart text',
        '.chart [data-kind]',
        '[data-testid=live-summary]',
        '[data-testid=zoom-range]',
      ];
      for (const e of Array.from(document.querySelectorAll(selectors.join(',')))) {
        const r = e.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < -0.5 || r.right > width + 0.5) out.push(`${name(e)} spans ${r.left}..${r.right}`);
        // Cut off by a box that hides or scrolls its overflow (a table scrolled sideways, the chart).
        for (let box = e.parentElement; box; box = box.parentElement) {
          const style = getComputedStyle(box);
          if (style.overflowX === 'visible') continue;
          const b = box.getBoundingClientRect();
          if (r.left < b.left - 0.5 || r.right > b.right + 0.5)
            out.push(
              `${name(e)} spans ${r.left}..${r.right}, outside ${box.className} ${b.left}..${b.right}`,
            );
        }
      }
      // The axis's labels are apart from each other.
      const labels = Array.from(document.querySelectorAll('.chart .tick text')).map((e) =>
        e.getBoundingClientRect(),
      );
      for (let i = 1; i < labels.length; i++)
        if (labels[i]!.left < labels[i - 1]!.right + 2)
          out.push(`tick labels ${i - 1} and ${i} touch: ${labels[i - 1]!.right} / ${labels[i]!.left}`);
      if (document.documentElement.scrollWidth > width)
        out.push(`the page is ${document.documentElement.scrollWidth}px wide`);
      return out;
    });
  }

  async function visibleRange(p: Page): Promise<[number, number]> {
    const chart = p.getByTestId('timeline-chart');
    return [Number(await chart.getAttribute('data-from')), Number(await chart.getAttribute('data-to'))];
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), '--if-stale'], { stdio: 'pipe' });
    dataDir = mkdtempSync(join(tmpdir(), 'stagger-timeline-'));
    // The virtual clock starts at the real time, so the page's clock times read as today's.
    clock = new VirtualClock(Date.now());
    service = await Service.start(
      readConfig({ STAGGER_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }),
      { api: true, clock, logger: createLogger({ level: 'silent' }) },
    );
    service.events.on((e) => events.push(e));
    url = service.url!;
    demo = await seedDemo(service.store);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: WIDE, locale: 'en-GB', timezoneId: 'UTC' });
    context.setDefaultTimeout(10_000);
    page = watch(await context.newPage());
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs an hour-long starter cycle in which one session skips its last 14 posts at once', async () => {
    const sessions = (await api<{ sessions: { id: string; label: string }[] }>('GET', '/api/sessions'))
      .sessions;
    const first = sessions.find((s) => s.label === 'sandbox 1')!;
    // Its 7th forward (the 7th group) gets a FLOOD_WAIT of two hours: the rest of its run cannot be sent.
    await service.store.sandbox.addFault({
      accountId: first.id,
      groupKey: DEMO_GROUPS[6]!,
      method: 'forward',
      fromAt: 0,
      error: 'FLOOD_WAIT_7200',
      remaining: 1,
    });
    await api('POST', '/api/bot/start', { execution_mode: 'starter', total_cycle_minutes: 60 });
    await runUntil((e) => e.type === 'cycle.finished' && e.number === 1);
    const view = await api<CycleView>('GET', '/api/bot/cycles/1');
    expect(view.cycle).toMatchObject({ mode: 'starter', cycleSeconds: 3600, status: 'finished' });
    expect(view.counts).toEqual({
      planned: 60,
      sent: 46,
      failed: 0,
      skipped: 14,
      cancelled: 0,
      pending: 0,
      done: 60,
    });
    const skipped = view.slots.filter((s) => s.outcome === 'skipped');
    expect(new Set(skipped.map((s) => s.sessionId))).toEqual(new Set([first.id]));
  });

  it('shows the finished cycle with each slot’s final outcome, and no "pending"', async () => {
    await signIn(page);
    await openTimeline(page);
    const summary = page.getByTestId('live-summary');
    await summary.filter({ hasText: 'Cycle #1 (finished' }).waitFor();
    expect(await summary.textContent()).toMatch(
      /^Cycle #1 \(finished at .+\): 46 sent, 0 failed, 14 skipped, 0 cancelled of 60 posts\.$/,
    );
    const marks = await drawn(page);
    expect(total(marks, 'sent')).toBe(46);
    expect(total(marks, 'skipped')).toBe(14);
    expect(total(marks, 'pending') + total(marks, 'planned')).toBe(0);
    expect(marks.reduce((n, m) => n + m.count, 0)).toBe(60);
    const legend = await page.getByRole('list', { name: 'Legend' }).textContent();
    expect(legend).not.toMatch(/pending|planned/);
    expect(legend).toContain('skipped 14');
    expect(await page.locator('main').textContent()).not.toMatch(/pending|not sent yet/);
    // The axis is this cycle's: an hour.
    expect(await visibleRange(page)).toEqual([0, 3600]);
    await shot(page, 'timeline-cycle-1366');
  });

  it('draws marks at one place so that none hides another: stacked, or one count with its number', async () => {
    const marks = await drawn(page);
    expect(overlaps(marks)).toEqual([]);
    // Sandbox 1's 20 posts fall in 100 s of an hour's axis: a few glyphs, whose counts add up to 6 sent, 14 skipped.
    const lane0 = marks.filter((m) => m.lane === 0);
    expect(lane0.length).toBeLessThan(20);
    expect([total(lane0, 'sent'), total(lane0, 'skipped')]).toEqual([6, 14]);
    // A glyph standing for several posts says how many.
    const counted = lane0.filter((m) => m.count > 1);
    expect(counted.length).toBeGreaterThan(0);
    for (const m of counted) expect(m.text).toBe(String(m.count));
  });

  it('zooms with the buttons and by dragging across the chart, and back to the whole cycle', async () => {
    const chart = page.getByTestId('timeline-chart');
    const ticks = async () => chart.locator('.tick text').allTextContents();
    expect(await ticks()).toContain('1:00:00');

    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await visibleRange(page)).toEqual([900, 2700]);
    expect(await page.getByTestId('zoom-range').textContent()).toBe('Showing 15:00 to 45:00 of 1:00:00.');
    await page.getByRole('button', { name: 'Earlier' }).click();
    expect(await visibleRange(page)).toEqual([0, 1800]);
    await page.getByRole('button', { name: 'Whole cycle' }).click();
    expect(await visibleRange(page)).toEqual([0, 3600]);

    // Drag from the axis's 0:00 to its 10:00, then from 0:00 to a fifth of the way: about two minutes.
    const dragAcross = async (fromTick: string, toFraction: number) => {
      const box = (await chart.boundingBox())!;
      const from = (await chart
        .locator('.tick text', { hasText: new RegExp(`^${fromTick}$`) })
        .boundingBox())!;
      const x0 = from.x + from.width / 2;
      const right = box.x + box.width - 16;
      await page.mouse.move(x0, box.y + 50);
      await page.mouse.down();
      await page.mouse.move(x0 + (right - x0) * toFraction, box.y + 60, { steps: 6 });
      await page.mouse.up();
    };
    await dragAcross('0:00', 1 / 6);
    const [from, to] = await visibleRange(page);
    expect(from).toBeLessThan(5);
    expect(to).toBeGreaterThan(500);
    expect(to).toBeLessThan(700);
    expect(await ticks()).not.toContain('1:00:00');
    await dragAcross('0:00', 1 / 5);
    const [, narrow] = await visibleRange(page);
    expect(narrow).toBeGreaterThan(100);
    expect(narrow).toBeLessThan(140);

    // Zoomed in, each of sandbox 1's 20 posts is its own mark, none covering another.
    const lane0 = (await drawn(page)).filter((m) => m.lane === 0);
    expect(lane0.map((m) => m.count)).toEqual(Array(20).fill(1));
    expect(lane0.filter((m) => m.kind === 'skipped')).toHaveLength(14);
    expect(overlaps(lane0)).toEqual([]);
    // The other sessions post 20 and 40 minutes in: out of this range.
    expect((await drawn(page)).filter((m) => m.lane !== 0)).toEqual([]);
    await shot(page, 'timeline-zoomed-1366');
  });

  it('lists per group which account posted there, when, and what came of it, for the visible range', async () => {
    const table = page.getByRole('table', { name: 'Posts of cycle #1 by group' });
    // Zoomed to sandbox 1's run: its 20 posts, one for each group.
    expect(await page.getByTestId('by-group-summary').textContent()).toMatch(
      /^20 posts to 20 groups from 0:00 to [12]:\d\d\.$/,
    );
    const seventh = table.locator(`tr[data-group="${DEMO_GROUPS[6]}"] li`);
    expect(await seventh.count()).toBe(1);
    expect(await seventh.textContent()).toMatch(
      /^sandbox 1 · \+0:30 \(\d\d:\d\d:\d\d\) · Skipped: the account was paused \(Telegram asked it to wait\)/,
    );

    await page.getByRole('button', { name: 'Whole cycle' }).click();
    expect(await page.getByTestId('by-group-summary').textContent()).toBe(
      '60 posts to 20 groups in the whole cycle.',
    );
    const firstGroup = table.locator(`tr[data-group="${DEMO_GROUPS[0]}"] li`);
    expect(await firstGroup.allTextContents()).toEqual([
      expect.stringMatching(/^sandbox 1 · \+0:00 \(\d\d:\d\d:\d\d\) · sent$/),
      expect.stringMatching(/^sandbox 2 · \+20:00 \(\d\d:\d\d:\d\d\) · sent$/),
      expect.stringMatching(/^sandbox 3 · \+40:00 \(\d\d:\d\d:\d\d\) · sent$/),
    ]);
    // The clock time is the post's own: sent at the cycle's start for the first one.
    const view = await api<CycleView>('GET', '/api/bot/cycles/1');
    const sent = view.slots.find((s) => s.group === DEMO_GROUPS[0] && s.seq === 0)!;
    const clockText = new Date(sent.sentAt!).toLocaleTimeString('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZone: 'UTC',
    });
    expect(await firstGroup.first().textContent()).toContain(`(${clockText})`);
    // Finding a group narrows the list to it.
    await page.getByPlaceholder('Find a group').fill(DEMO_GROUPS[6]!.slice(-3));
    expect(await table.locator('tbody tr').count()).toBe(1);
    await page.getByPlaceholder('Find a group').fill('');
  });

  it('a preview is a preview: another plan’s counts and axis, with none of the cycle’s results', async () => {
    await page.getByRole('tab', { name: 'Plan preview' }).click();
    await page.getByLabel('Mode').selectOption('enterprise');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'Preview: enterprise cycle, 20 posts' }).waitFor();
    const marks = await drawn(page);
    expect(marks.every((m) => m.kind === 'planned')).toBe(true);
    expect(total(marks, 'planned')).toBe(20);
    // The axis and the rows are the enterprise plan's — with the sessions usable for the next cycle: sandbox 1
    // waits out its FLOOD_WAIT — not stretched by the starter cycle's hour nor counting its deliveries.
    const plan = await api<{
      sessions: { session: string }[];
      posts: { session: string; atSeconds: number }[];
    }>('GET', '/api/bot/plan?execution_mode=enterprise');
    expect(plan.sessions).toHaveLength(2);
    expect(await visibleRange(page)).toEqual([0, Math.max(...plan.posts.map((p) => p.atSeconds)) + 5]);
    const sessions = page.getByRole('table', { name: 'Sessions in this plan' });
    expect(await sessions.locator('thead th').allTextContents()).toEqual(['Session', 'Offset', 'Posts']);
    expect(await sessions.locator('tbody tr td:nth-child(3)').allTextContents()).toEqual(
      plan.sessions.map((s) => String(plan.posts.filter((p) => p.session === s.session).length)),
    );
    expect(await sessions.locator('tbody tr td:first-child').allTextContents()).toEqual([
      'sandbox 2',
      'sandbox 3',
    ]);
    const chartCard = page.locator('section', { has: page.getByRole('heading', { name: /^Preview:/ }) });
    expect(await chartCard.textContent()).not.toMatch(/delivered|\bsent\b|skipped/);
    expect(await chartCard.textContent()).toContain('planned 20');
    expect(await page.getByTestId('preview-note').textContent()).toContain('not what the bot is doing');
    await shot(page, 'timeline-preview-1366');

    // The cycle is still the cycle.
    await page.getByRole('tab', { name: 'Cycle #1' }).click();
    expect(await page.getByTestId('live-summary').textContent()).toContain('46 sent, 0 failed, 14 skipped');
    expect(await visibleRange(page)).toEqual([0, 3600]);
  });

  it('a stopped cycle shows its cancelled posts as cancelled, never as pending', async () => {
    await runUntil((e) => e.type === 'cycle.started' && e.number === 2);
    await clock.advance(30_000);
    await page.getByRole('tab', { name: 'Cycle #2' }).waitFor();
    await page.getByRole('tab', { name: 'Cycle #2' }).click();
    await page.getByTestId('live-summary').filter({ hasText: 'Cycle #2 (running)' }).waitFor();
    expect(await page.getByTestId('live-summary').textContent()).toMatch(/\d+ pending of \d+ posts/);
    await api('POST', '/api/bot/stop');
    await runUntil((e) => e.type === 'cycle.finished' && e.number === 2);
    const view = await api<CycleView>('GET', '/api/bot/cycles/2');
    expect(view.cycle.status).toBe('stopped');
    expect(view.counts.pending).toBe(0);
    expect(view.counts.cancelled).toBeGreaterThan(0);
    const summary = page.getByTestId('live-summary');
    await summary.filter({ hasText: 'Cycle #2 (stopped' }).waitFor();
    expect(await summary.textContent()).toContain(
      `${view.counts.sent} sent, ${view.counts.failed} failed, ${view.counts.skipped} skipped, ${view.counts.cancelled} cancelled of ${view.counts.planned} posts.`,
    );
    const marks = await drawn(page);
    expect(total(marks, 'cancelled')).toBe(view.counts.cancelled);
    expect(total(marks, 'pending')).toBe(0);
    expect(await page.locator('main').textContent()).not.toMatch(/pending|not sent yet/);
    await shot(page, 'timeline-stopped-1366');
  });

  it('at 390×844 nothing of the timeline is cut off or wider than the screen', async () => {
    const phone = watch(await browser.newPage({ viewport: PHONE, locale: 'en-GB', timezoneId: 'UTC' }));
    await signIn(phone);
    await openTimeline(phone);
    await phone.getByTestId('timeline-chart').waitFor();
    // As the page opens (the running bot's cycle), then each tab.
    expect(await clippedOn(phone), 'on arrival').toEqual([]);
    for (const tab of ['Cycle #2', 'Plan preview'] as const) {
      await phone.getByRole('tab', { name: tab }).click();
      await phone.getByTestId('timeline-chart').waitFor();
      expect(await clippedOn(phone), tab).toEqual([]);
    }
    await phone.getByRole('tab', { name: 'Plan preview' }).click();
    await shot(phone, 'timeline-preview-390');
    await phone.getByRole('tab', { name: 'Cycle #2' }).click();
    await shot(phone, 'timeline-cycle-390');
    // The page's header: the title and the tabs are on the screen, one above the other, not covered.
    const h1 = (await phone.getByRole('heading', { level: 1, name: 'Timeline' }).boundingBox())!;
    const tabs = (await phone.getByRole('tablist').boundingBox())!;
    expect(h1.x).toBeGreaterThanOrEqual(0);
    expect(tabs.x + tabs.width).toBeLessThanOrEqual(PHONE.width);
    expect(tabs.y).toBeGreaterThanOrEqual(h1.y + h1.height);
    await phone.close();
  });

  it('logged no console error, no page error and no failed request', () => {
    expect(problems).toEqual([]);
  });
});
