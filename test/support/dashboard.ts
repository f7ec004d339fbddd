/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against an in-process Stagger on
 * the virtual clock: the same composition root as `stagger serve`, with demo data (sandbox sessions and groups),
 * listening on a free port of 127.0.0.1. Nothing happens until the test moves the clock (`advance`), so what the
 * pages show is exactly what the runtime did by then.
 *
 * Every console error, page error and failed request is collected; `assertClean` fails the test on any that is
 * not expected. Chromium is never downloaded: without it `HAVE_CHROMIUM` is false (the suites warn and skip, unless
 * CI=true, where a missing browser fails).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { readConfig } from '../../src/config.js';
import { seedDemo, type DemoCredentials } from '../../src/demo.js';
import { createLogger } from '../../src/logger.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import { Service } from '../../src/service.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Screenshots are test artifacts (git-ignored): looked at by people, never compared by the tests. */
export const SCREENSHOTS = join(ROOT, 'artifacts/screenshots');

/** How every browser test starts Chromium: headless, and nothing fetched from beyond this machine. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Browser tests without Chromium say loudly that they did not run; on CI (CI=true) that is a failure, never a
 * skip. Call at the top of a browser test file, naming its tests.
 */
export function requireChromium(what: string): void {
  if (HAVE_CHROMIUM) return;
  if (process.env.CI !== 'true') {
    console.warn(
      `\n*** test/web: ${what} DID NOT RUN: no Chromium at ${CHROMIUM}. ` +
        'Install it with `apt-get install -y chromium` (CI installs it in .ci/run). ***\n',
    );
    return;
  }
  describe(`${what} on CI`, () => {
    it('needs Chromium', () => {
      expect.fail(`CI=true but there is no Chromium at ${CHROMIUM}: .ci/run should have installed it`);
    });
  });
}

export const DESKTOP = { width: 1366, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;
export type Viewport = { width: number; height: number };

/** Failed responses the pages make on purpose. */
const EXPECTED_FAILURES = [
  /^409 GET \/api\/admin\/cluster$/, // a one-process installation has no cluster view
];

export interface Dashboard {
  url: string;
  service: Service;
  clock: VirtualClock;
  demo: DemoCredentials;
  /** A new tab of this size, signed in with `token` on the Overview (without one: on the sign-in page). */
  open(viewport: Viewport, token?: string): Promise<Page>;
  /** Moves the virtual clock by `ms`, in steps, so the live stream reaches the browser as it would. */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** A call to the API as `token`; the answer's JSON (fails on a status other than 200/201). */
  call(token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Fails on any console error, page error or unexpected failed request seen so far. */
  assertClean(): void;
  close(): Promise<void>;
}

export async function openDashboard(options: { startAt?: number } = {}): Promise<Dashboard> {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), '--if-stale'], { stdio: 'pipe' });
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-web-'));
  // The virtual time starts at the real time (to the minute), so that the pages' "today" and the server's agree.
  const clock = new VirtualClock(options.startAt ?? Math.ceil(Date.now() / 60_000) * 60_000);
  const config = readConfig({ STAGGER_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
  const service = await Service.start(config, {
    api: true,
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  let browser: Browser | null = null;
  let context: BrowserContext;
  let demo: DemoCredentials;
  try {
    demo = await seedDemo(service.store);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    context.setDefaultTimeout(10_000);
  } catch (error) {
    await browser?.close();
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = service.url!;
  const problems: string[] = [];
  const failures: string[] = [];

  function watch(page: Page): Page {
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const text = message.text();
      // Mirrors a failed response, which is checked with its method and path below.
      if (text.startsWith('Failed to load resource: the server responded with a status of')) return;
      problems.push(`console.${message.type()}: ${text}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() < 400) return;
      failures.push(
        `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`,
      );
    });
    page.on('requestfailed', (request) => {
      const path = new URL(request.url()).pathname;
      // The live stream is cancelled when a tab closes or navigates.
      if (path === '/api/bot/events' && request.failure()?.errorText === 'net::ERR_ABORTED') return;
      failures.push(`request failed: ${request.method()} ${path}: ${request.failure()?.errorText}`);
    });
    return page;
  }

  return {
    url,
    service,
    clock,
    demo,
    async open(viewport, token) {
      const page = watch(await context.newPage());
      await page.setViewportSize(viewport);
      await page.goto(url);
      if (token === undefined) {
        await page.getByLabel('API token').waitFor();
        return page;
      }
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      return page;
    },
    async advance(ms, stepMs = 1000) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await clock.runUntil(Math.min(end, clock.now() + stepMs));
        // Real time for the stream to carry what happened to the browser.
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async call(token, method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status !== 200 && res.status !== 201)
        throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
    assertClean() {
      const unexpected = failures.filter((f) => !EXPECTED_FAILURES.some((re) => re.test(f)));
      if (problems.length > 0 || unexpected.length > 0) {
        throw new Error(`the pages logged problems:\n${[...problems, ...unexpected].join('\n')}`);
      }
    },
    async close() {
      await context.close().catch(() => undefined);
      await browser?.close();
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Goes to a page by its link in the main navigation (opening the phone's menu first), and waits for its data. */
export async function go(page: Page, link: string, title = link): Promise<void> {
  const menu = page.getByRole('button', { name: 'Menu' });
  if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await settled(page);
}

/** The page has loaded its data (the live stream never lets the network go idle). */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => !/Loading /.test(document.querySelector('main')?.textContent ?? ''));
}

export async function signOut(page: Page): Promise<void> {
  const menu = page.getByRole('button', { name: 'Menu' });
  if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').waitFor();
}
