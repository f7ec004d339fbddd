/**
 * Every page of the dashboard, the customer's and the operator's, at a laptop's size (1366×900) and a phone's
 * (390×844), with a bot in the middle of a cycle: each is saved as a screenshot (artifacts/screenshots/, for
 * people to look at) and checked for content that does not fit: the page must not scroll sideways, and no
 * element of the page may reach beyond the window (a table that scrolls inside its box hides columns just the
 * same).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  go,
  HAVE_CHROMIUM,
  requireChromium,
  openDashboard,
  PHONE,
  SCREENSHOTS,
  settled,
  type Dashboard,
  type Viewport,
} from '../support/dashboard.js';

const CUSTOMER_PAGES = [
  ['overview', 'Overview'],
  ['timeline', 'Timeline'],
  ['post', 'Post and groups'],
  ['sessions', 'Sessions'],
  ['activity', 'Activity'],
] as const;

const OPERATOR_PAGES = [
  ['admin/users', 'Users and plans'],
  ['admin/pool', 'Session pool'],
  ['admin/bots', 'All bots'],
  ['admin/cluster', 'Cluster'],
] as const;

const SIZES: readonly [string, Viewport][] = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
];

/**
 * Elements that reach beyond the window, or beyond a box that scrolls or clips them sideways (a table scrolling
 * inside its card hides columns as surely as the window's edge), described for the failure message (at most 8).
 */
async function outside(page: Page): Promise<{ scrollWidth: number; width: number; elements: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const elements: string[] = [];
    /** The nearest ancestor that cuts its content off sideways (scrolls or clips). */
    const clipper = (el: Element): Element | null => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return a;
      }
      return null;
    };
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      // Kept out of sight on purpose: read by screen readers only, or the skip link until it has the focus.
      if (el.closest('.sr-only') || (el.matches('.skip') && el !== document.activeElement)) continue;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const box = clipper(el)?.getBoundingClientRect();
      const left = Math.max(0, box?.left ?? 0);
      const right = Math.min(width, box?.right ?? width);
      if (rect.left < left - 1 || rect.right > right + 1) {
        const name = `${el.tagName.toLowerCase()}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
        const text = (el.textContent ?? '').trim().slice(0, 40);
        elements.push(`${name} [${Math.round(rect.left)}, ${Math.round(rect.right)}] "${text}"`);
        if (elements.length >= 8) break;
      }
    }
    return { scrollWidth: document.scrollingElement!.scrollWidth, width, elements };
  });
}

requireChromium('the screenshots of every page');

describe.runIf(HAVE_CHROMIUM)('every page fits a laptop and a phone', () => {
  let dash: Dashboard;
  let operatorToken = '';

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    dash = await openDashboard();
    operatorToken = (await dash.service.store.users.issueToken(dash.demo.adminId, 'screens')).token;
    const token = dash.demo.token;
    // A bot half-way through a starter cycle: sent posts, planned ones, a live timeline.
    await dash.call(token, 'PUT', '/api/bot/settings', {
      delay_between_posts: 0.5,
      min_group_gap_seconds: 0,
    });
    await dash.call(token, 'POST', '/api/bot/start', { execution_mode: 'starter', total_cycle_minutes: 1 });
    await dash.advance(40_000);
    // Sessions in the operator's pool: their rows have the assign form.
    await dash.call(operatorToken, 'POST', '/api/admin/sessions', { driver: 'sandbox', count: 2 });
  }, 90_000);

  afterAll(async () => {
    await dash?.close();
  });

  async function check(page: Page, name: string): Promise<void> {
    await settled(page);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    const found = await outside(page);
    // Soft: every page is shot and checked even when one fails.
    expect.soft(found.scrollWidth, `${name}: the page scrolls sideways`).toBeLessThanOrEqual(found.width);
    expect.soft(found.elements, `${name}: elements beyond the window`).toEqual([]);
  }

  for (const [size, viewport] of SIZES) {
    it(`the customer's pages at ${viewport.width}×${viewport.height}`, async () => {
      const page = await dash.open(viewport, dash.demo.token);
      try {
        for (const [path, title] of CUSTOMER_PAGES) {
          // By the menu, as a person goes: a reload would cut the page's requests off halfway.
          await go(page, title);
          await check(page, `${size}-${path.replace('/', '-')}`);
        }
      } finally {
        await page.close();
      }
    });

    it(`the operator's pages at ${viewport.width}×${viewport.height}`, async () => {
      const page = await dash.open(viewport, operatorToken);
      try {
        for (const [path, title] of OPERATOR_PAGES) {
          // By the menu, as a person goes: a reload would cut the page's requests off halfway.
          await go(page, title);
          await check(page, `${size}-${path.replace('/', '-')}`);
        }
        // A user's row opened for editing: its form across the row.
        await go(page, 'Users and plans');
        await page.getByRole('button', { name: 'Edit Demo customer' }).click();
        await page.getByRole('form', { name: 'Edit Demo customer' }).waitFor();
        await check(page, `${size}-admin-users-edit`);
      } finally {
        await page.close();
      }
    });

    it(`the sign-in page at ${viewport.width}×${viewport.height}`, async () => {
      const page = await dash.open(viewport);
      try {
        await check(page, `${size}-sign-in`);
      } finally {
        await page.close();
      }
    });
  }

  it('logged no console error, no page error and no unexpected failed request', () => {
    dash.assertClean();
  });
});
