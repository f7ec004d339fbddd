/**
 * The Activity page in a real browser, on the virtual clock: the history shows what happened latest first and what
 * is planned in its own view, both following the live stream as the feed does; each row says what happened in one
 * sentence (the core's words for its reason, a Telegram code only as a small detail); a hand-off names the group
 * and both sessions, in the feed and in its row; on a phone every row fits the screen and the page stays short.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainHandOff, explainReason } from '../../src/core/reasons.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../src/runtime/options.js';
import {
  DESKTOP,
  go,
  HAVE_CHROMIUM,
  requireChromium,
  openDashboard,
  PHONE,
  SCREENSHOTS,
  type Dashboard,
} from '../support/dashboard.js';
import { until } from '../support/processes.js';

interface Row {
  id: string;
  group: string;
  status: string;
  sessionId: string;
  plannedSessionId: string;
  reason: string | null;
  reasonText: string | null;
  error: string | null;
  sentAt: string | null;
  happenedAt: string | null;
  plannedAt: string;
}

requireChromium("the Activity page's browser tests");

describe.runIf(HAVE_CHROMIUM)('the Activity page', () => {
  let dash: Dashboard;
  let page: Page;
  let token = '';
  let label = new Map<string, string>();
  let idOf = new Map<string, string>();

  const rows = () => page.locator('table.history tbody tr');
  const times = (locator: Locator) =>
    locator
      .locator('td.when time')
      .evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime')!)));
  const statuses = (locator: Locator) =>
    locator.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
  const posts = async (query: string) =>
    (await dash.call(token, 'GET', `/api/bot/posts?${query}`)).posts as Row[];
  const tab = (name: string) => page.getByRole('tab', { name });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    dash = await openDashboard();
    token = dash.demo.token;
    const sessions = (await dash.call(token, 'GET', '/api/sessions')).sessions as {
      id: string;
      label: string;
    }[];
    label = new Map(sessions.map((s) => [s.id, s.label]));
    idOf = new Map(sessions.map((s) => [s.label, s.id]));
    await dash.call(token, 'PUT', '/api/bot/settings', {
      delay_between_posts: 0.5,
      min_group_gap_seconds: 0,
    });
    page = await dash.open(DESKTOP, token);
    await go(page, 'Activity');
    await page.getByText('No posts yet.').waitFor();
  }, 90_000);

  afterAll(async () => {
    await dash?.close();
  });

  it('lists what happened latest first, and what is planned, soonest first, in its own view', async () => {
    // A starter cycle of 60 s: sandbox 1 posts at 0–9.5 s, sandbox 2 from 20 s, sandbox 3 from 40 s.
    await dash.call(token, 'POST', '/api/bot/start', { execution_mode: 'starter', total_cycle_minutes: 1 });
    await dash.advance(26_000);
    const sent = (await posts('view=done&limit=500')).filter((p) => p.status === 'sent');
    expect(sent.length).toBeGreaterThan(20);
    const latest = sent.reduce((a, b) => (Date.parse(a.sentAt!) >= Date.parse(b.sentAt!) ? a : b));

    await until(async () => (await rows().count()) === sent.length, 10_000);
    expect(new Set(await statuses(rows()))).toEqual(new Set(['sent']));
    const shown = await times(rows());
    expect(shown).toEqual([...shown].sort((a, b) => b - a));
    expect(await rows().first().getAttribute('data-post')).toBe(latest.id);
    expect(shown[0]).toBe(Date.parse(latest.sentAt!));

    await tab('Planned').click();
    const planned = await posts('view=planned&limit=500');
    await until(async () => (await rows().count()) === Math.min(50, planned.length), 10_000);
    expect(planned.length).toBeGreaterThan(20);
    expect(new Set(await statuses(rows()))).toEqual(new Set(['planned']));
    const due = await times(rows());
    expect(due).toEqual([...due].sort((a, b) => a - b));
    expect(due[0]).toBeGreaterThanOrEqual(dash.clock.now() - 1000);
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-planned.png'), fullPage: true });
  });

  it('follows the live stream, as the feed above it does, in both views', async () => {
    // Still on "Planned": as the clock moves, what was sent leaves this view without a reload.
    // It is 26 s into the cycle: sandbox 2 posts until 29.5 s.
    const before = await rows().count();
    await dash.advance(2_000);
    await until(async () => (await rows().count()) < before, 10_000);
    await tab('What happened').click();
    await rows().first().waitFor();
    const shownBefore = await rows().count();
    // sandbox 2's run goes on: new rows come in at the top, as the feed gets its post.sent events.
    await dash.advance(1_500);
    await until(async () => (await rows().count()) > shownBefore, 10_000);
    const newest = (await posts('view=done&limit=1'))[0]!;
    await until(async () => (await rows().first().getAttribute('data-post')) === newest.id, 10_000);
    const feedLine = page.locator('.events li.event-post-sent').first();
    expect(await feedLine.textContent()).toContain(newest.group);
  });

  it('says in one sentence what happened to each post, a Telegram code only as a small detail', async () => {
    const groups = ((await dash.call(token, 'GET', '/api/bot/groups')).groups as { key: string }[]).map(
      (g) => g.key,
    );
    // sandbox 3 is told to wait ten minutes at its first post (at 40 s): the rest of its run is skipped. In the
    // next cycle (from 60 s) sandbox 1 may not write in the sixth group. Then a stop cancels the rest.
    const fault = (session: string, error: string, groupKey: string | null = null) =>
      dash.service.store.sandbox.addFault({
        accountId: idOf.get(session)!,
        groupKey,
        method: 'forward',
        fromAt: dash.clock.now(),
        error,
        remaining: 1,
      });
    await fault('sandbox 3', 'FLOOD_WAIT_600');
    await fault('sandbox 1', 'CHAT_WRITE_FORBIDDEN', groups[5]!);
    await dash.advance(40_000);
    await dash.call(token, 'POST', '/api/bot/stop');
    await dash.advance(1_000);
    const done = await posts('view=done&limit=500');
    const kinds = new Set(done.map((p) => `${p.status} ${p.reason} ${p.error}`));
    expect(kinds).toContain('skipped session_paused flood_wait');
    expect(kinds).toContain('skipped write_forbidden CHAT_WRITE_FORBIDDEN');
    expect(kinds).toContain('cancelled stopped null');

    const filter = async (status: string) => {
      await page.getByLabel('Status').selectOption(status);
      await page.getByRole('button', { name: 'Show' }).click();
      await until(async () => {
        const shown = await statuses(rows());
        return shown.length > 0 && shown.every((s) => s === (status || s));
      }, 10_000);
    };
    const cell = (id: string) => page.locator(`tr[data-post="${id}"] td.reason`);
    await filter('skipped');
    // The account's pause, in the words of the post's reason alone: not a second, contrary explanation of the
    // session's state, nor the raw reason.
    const paused = done.find((p) => p.reason === 'session_paused')!;
    expect(await cell(paused.id).textContent()).toBe(
      explainReason('post', 'session_paused', DEFAULT_RUNTIME_OPTIONS, paused.error),
    );
    // Telegram's refusal: the reason's words, and its code as a small detail.
    const refused = done.find((p) => p.reason === 'write_forbidden')!;
    const words = explainReason('post', 'write_forbidden', DEFAULT_RUNTIME_OPTIONS)!;
    expect(await cell(refused.id).getByTestId('post-why').textContent()).toBe(words);
    expect(await cell(refused.id).locator('code.small').textContent()).toBe('CHAT_WRITE_FORBIDDEN');
    expect(await cell(refused.id).textContent()).toBe(`${words} CHAT_WRITE_FORBIDDEN`);

    await filter('cancelled');
    expect(await rows().first().locator('td.reason').textContent()).toBe(
      explainReason('post', 'stopped', DEFAULT_RUNTIME_OPTIONS),
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-cancelled.png'), fullPage: true });

    await filter('');
    // Every row: one sentence at most, never a raw reason.
    const reasons = await page.locator('td.reason').evaluateAll((cells) =>
      cells.map((c) => ({
        sentences: c.querySelectorAll('[data-testid="post-why"]').length,
        text: c.textContent ?? '',
      })),
    );
    expect(reasons.length).toBeGreaterThan(10);
    for (const r of reasons) {
      expect(r.sentences).toBeLessThanOrEqual(1);
      expect(r.text).not.toMatch(/\b(session_paused|write_forbidden|flood_wait|stopped\b(?!\.))/);
    }
  });

  it('a hand-off names the group that moved and both sessions, in the feed and in its row', async () => {
    const groups = ((await dash.call(token, 'GET', '/api/bot/groups')).groups as { key: string }[]).map(
      (g) => g.key,
    );
    // sandbox 1 may not write in the first group; the others may: enterprise hands that post over.
    const plain = { isChannel: false, members: null, banned: [], slowmodeSeconds: 0 };
    await dash.service.store.sandbox.putGroup({
      ...plain,
      key: groups[0]!,
      readOnly: [idOf.get('sandbox 1')!],
    });
    // What the sessions know of the groups, read now (as "Check the groups now" does): the plan goes by it.
    await dash.call(token, 'GET', '/api/bot/preflight');
    await dash.call(token, 'POST', '/api/bot/start', { execution_mode: 'enterprise' });
    await dash.advance(20_000);
    const handed = (await posts('view=done&limit=500')).find(
      (p) => p.group === groups[0] && p.sessionId !== p.plannedSessionId,
    );
    expect(handed).toMatchObject({ status: 'sent', plannedSessionId: idOf.get('sandbox 1') });
    const from = 'sandbox 1';
    const to = label.get(handed!.sessionId)!;

    const line = page.locator('.events li.event-post-handed_off').first();
    await line.waitFor();
    expect(await line.textContent()).toContain(
      `The post to ${groups[0]} moved from ${from} to ${to}: ${explainHandOff('write_forbidden', from)}.`,
    );

    const row = page.locator(`tr[data-post="${handed!.id}"]`);
    await row.waitFor();
    expect(await row.locator('td.group').textContent()).toContain(groups[0]);
    expect(await row.locator('td.session').textContent()).toBe(to);
    expect(await row.getByTestId('post-why').textContent()).toBe(`Handed over from ${from} to ${to}.`);
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-hand-off.png'), fullPage: true });
    await dash.call(token, 'POST', '/api/bot/stop');
    await dash.advance(1_000);
  });

  it('fits a phone: every row’s status on screen, a page of ten rows at a time, the page a couple of screens tall', async () => {
    const phone = await dash.open(PHONE, token);
    try {
      await go(phone, 'Activity');
      const cards = phone.locator('table.history tbody tr');
      await cards.first().waitFor();
      expect(await cards.count()).toBe(10);
      const width = await phone.evaluate(() => document.documentElement.clientWidth);
      expect(await phone.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(width);
      const badges = await cards
        .locator('td.status .badge')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
      expect(badges).toHaveLength(10);
      for (const [left, right] of badges) {
        expect(left).toBeGreaterThanOrEqual(0);
        expect(right).toBeLessThanOrEqual(width);
      }
      const height = await phone.evaluate(() => document.scrollingElement!.scrollHeight);
      expect(height).toBeLessThanOrEqual(2.5 * PHONE.height);
      await phone.screenshot({ path: join(SCREENSHOTS, 'activity-phone.png'), fullPage: true });
      await phone.getByRole('button', { name: 'Older posts' }).click();
      await until(async () => (await cards.count()) === 20, 10_000);
    } finally {
      await phone.close();
    }
  });

  it('logged no console error, no page error and no unexpected failed request', () => {
    dash.assertClean();
  });
});
