/**
 * The post history's views on SQLite and PostgreSQL: what happened, latest first across cycles (a stop's
 * cancellations at the stop, never at their planned time), and what is still to come, soonest first, each paged by
 * its cursor without a row lost or repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostStatus } from '../../src/core/model.js';
import type { PostPage } from '../../src/storage/bots.js';
import { requirePostgres } from '../support/postgres.js';
import { sqlFixture, type Fixture } from '../support/store-fixture.js';

const engines: ('sqlite' | 'postgres')[] = ['sqlite'];
if (await requirePostgres('post history')) engines.push('postgres');

const T = Date.UTC(2030, 0, 1);
const S = 1000;

type Spec = [group: string, status: PostStatus, plannedAt: number, sentAt?: number];

describe.each(engines)('post history on %s', (engine) => {
  let fx: Fixture;
  let botId = '';
  let otherBot = '';

  beforeAll(async () => {
    fx = await sqlFixture(engine);
    const bot = await fx.addBot({ sessions: 2, groups: ['@a', '@b', '@c', '@d', '@e', '@f'] });
    botId = bot.botId;
    const add = async (number: number, finishedAt: number | null, specs: Spec[]) => {
      const { cycle } = await fx.runtime.createCycle(
        {
          botId,
          number,
          mode: 'starter',
          slot: number - 1,
          cycleSeconds: 60,
          plannedStartAt: T + (number - 1) * 60 * S,
          deadlineAt: T + number * 60 * S,
          expectedEndAt: T + number * 60 * S,
          finishedAt: null,
          status: 'running',
          reason: null,
          warnings: [],
        },
        specs.map(([groupKey, status, plannedAt, sentAt], seq) => ({
          botId,
          seq,
          sessionId: bot.sessionIds[seq % 2]!,
          plannedSessionId: bot.sessionIds[seq % 2]!,
          groupKey,
          plannedAt,
          randomId: String(number * 100 + seq),
          status,
          reason: status === 'skipped' ? 'group_gap' : status === 'cancelled' ? 'stopped' : null,
          error: null,
          attempts: sentAt === undefined ? 0 : 1,
          sentAt: sentAt ?? null,
        })),
      );
      if (finishedAt !== null) await fx.runtime.finishCycle(cycle.id, 'stopped', 'stop:cancel', finishedAt);
    };
    // Cycle 1, stopped at +30 s: the second session's run (planned from +20 s) was sent late, after the first's
    // (its seq order is not its time order); what was planned after the stop was cancelled at the stop.
    await add(1, T + 30 * S, [
      ['@a', 'sent', T, T + 1 * S],
      ['@b', 'sent', T + 20 * S, T + 25 * S],
      ['@c', 'skipped', T + 10 * S],
      ['@d', 'sent', T + 21 * S, T + 22 * S],
      ['@e', 'cancelled', T + 40 * S],
      ['@f', 'cancelled', T + 41 * S],
    ]);
    // Cycle 2, running: two sent, one being sent, three still planned (the later ones first in seq order).
    await add(2, null, [
      ['@a', 'sent', T + 60 * S, T + 60 * S],
      ['@b', 'planned', T + 95 * S],
      ['@c', 'sending', T + 70 * S],
      ['@d', 'sent', T + 62 * S, T + 63 * S],
      ['@e', 'planned', T + 90 * S],
      ['@f', 'planned', T + 90 * S],
    ]);
    otherBot = (await fx.addBot({ sessions: 1, groups: ['@z'] })).botId;
  });

  afterAll(async () => {
    await fx?.close();
  });

  const show = (page: PostPage) =>
    page.posts.map(
      (p) =>
        `${p.cycleNumber} ${p.groupKey} ${p.status} ${p.happenedAt === null ? '-' : (p.happenedAt - T) / S}`,
    );

  /** Every row of a view, read `limit` at a time through the cursor. */
  async function pages(view: 'done' | 'planned', limit: number, filter: { status?: PostStatus } = {}) {
    const rows: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await fx.store!.bots.posts(botId, { view, limit, cursor, ...filter });
      rows.push(...show(page));
      if (page.nextCursor === null) return rows;
      cursor = page.nextCursor;
    }
    throw new Error('the cursor never ends');
  }

  const DONE = [
    '2 @d sent 63',
    '2 @a sent 60',
    // cancelled by the stop at +30 s: then, not at their planned +40/+41 s
    '1 @f cancelled 30',
    '1 @e cancelled 30',
    '1 @b sent 25',
    '1 @d sent 22',
    '1 @c skipped 10',
    '1 @a sent 1',
  ];

  it('done: what happened, latest first, with the time it happened; nothing still to come', async () => {
    expect(show(await fx.store!.bots.posts(botId, { view: 'done', limit: 50 }))).toEqual(DONE);
    for (const limit of [1, 2, 3, 7]) expect(await pages('done', limit)).toEqual(DONE);
  });

  it('planned: what is still to come (planned or being sent), soonest first', async () => {
    const PLANNED = ['2 @c sending -', '2 @e planned -', '2 @f planned -', '2 @b planned -'];
    expect(show(await fx.store!.bots.posts(botId, { view: 'planned', limit: 50 }))).toEqual(PLANNED);
    for (const limit of [1, 3]) expect(await pages('planned', limit)).toEqual(PLANNED);
  });

  it('a view with a status or a cycle shows the rows of both; a status of the other view shows none', async () => {
    expect(await pages('done', 1, { status: 'cancelled' })).toEqual([
      '1 @f cancelled 30',
      '1 @e cancelled 30',
    ]);
    expect(show(await fx.store!.bots.posts(botId, { view: 'done', cycle: 1, limit: 3 }))).toEqual(
      DONE.slice(2, 5),
    );
    expect((await fx.store!.bots.posts(botId, { view: 'done', status: 'planned', limit: 5 })).posts).toEqual(
      [],
    );
    expect((await fx.store!.bots.posts(botId, { view: 'planned', status: 'sent', limit: 5 })).posts).toEqual(
      [],
    );
  });

  it('all (the default) is unchanged: every post, newest first by id', async () => {
    const all = await fx.store!.bots.posts(botId, { limit: 50 });
    expect(all.posts.map((p) => `${p.cycleNumber} ${p.groupKey}`)).toEqual(
      ['f', 'e', 'd', 'c', 'b', 'a']
        .flatMap((g) => [`2 @${g}`])
        .concat(['f', 'e', 'd', 'c', 'b', 'a'].map((g) => `1 @${g}`)),
    );
  });

  it('a cursor from another bot’s history reads nothing of either bot', async () => {
    const theirs = await fx.store!.bots.posts(botId, { view: 'done', limit: 1 });
    for (const view of ['done', 'planned'] as const) {
      const page = await fx.store!.bots.posts(otherBot, { view, limit: 5, cursor: theirs.nextCursor! });
      expect(page).toEqual({ posts: [], nextCursor: null });
    }
  });
});
