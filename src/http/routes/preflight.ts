/**
 * Preflight of a bot: for each (session, group) — is the account a member, may it write, slow mode, paid messages,
 * a closed topic — and is the source forwardable. Each row is stored as that pair's group facts (the runtime then
 * does not ask again within the hour), and says what the facts mean for posting (core/group-facts.ts). It asks Telegram about every pair, so it is itself limited: one run per bot at a time,
 * and a result is reused for a minute (a customer clicking "check" repeatedly must not cause a resolve storm).
 *
 * A real (mtcute) session is never run on two clients at once: Telegram revokes a key used like that. In one
 * process the preflight shares the runtime's client, so it may run while the bot does; in a cluster the bot may be
 * running on another worker, so a running bot's real sessions are not checked from here (409 SESSION_IN_USE).
 */
import { Type, type Static } from '@sinclair/typebox';
import { parseGroupTarget } from '../../core/group-targets.js';
import { explain } from '../../core/outcome.js';
import { parsePostLink } from '../../core/post-link.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../runtime/options.js';
import type { BotConfig } from '../../storage/bots.js';
import type { User } from '../../storage/users.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { FactsVerdictFields, GroupFactsFields, presentFactsVerdict } from '../presenters.js';
import { DateTime, Nullable } from '../schemas.js';

const REUSE_MS = 60_000;

export const PreflightAnswer = Type.Object(
  {
    checkedAt: DateTime(),
    source: Type.Object({
      ok: Type.Boolean({ description: 'is the source post there and forwardable' }),
      error: Nullable(Type.String()),
      errorText: Nullable(Type.String({ description: 'the error in plain words' })),
    }),
    rows: Type.Array(
      Type.Object({
        sessionId: Type.String(),
        groupKey: Type.String(),
        ...GroupFactsFields,
        errorText: Nullable(Type.String({ description: 'the error in plain words' })),
        ...FactsVerdictFields,
      }),
      { description: 'one row per (session, group)' },
    ),
    summary: Type.Object({
      sessions: Type.Integer({ minimum: 0, description: 'live sessions checked' }),
      groups: Type.Integer({ minimum: 0 }),
      problems: Type.Integer({ minimum: 0, description: 'rows with an error, no right to write, or a skip' }),
    }),
  },
  {
    description: 'What Telegram answered for each (session, group), and for the source post.',
    examples: [
      {
        checkedAt: '2026-01-01T11:58:00.000Z',
        source: { ok: true, error: null, errorText: null },
        rows: [
          {
            sessionId: '7',
            groupKey: '@my_group',
            member: true,
            canWrite: true,
            slowmodeSeconds: 0,
            paidStars: 25,
            topicClosed: null,
            username: 'my_group',
            error: null,
            errorText: null,
            skipReason: 'paid_messages',
            skipText:
              'Skipped: the group charges 25 stars a message (paid messages), and Stagger never pays to post.',
            factsText: ['paid: 25 stars — skipped'],
          },
        ],
        summary: { sessions: 1, groups: 1, problems: 1 },
      },
    ],
  },
);
type Preflight = Static<typeof PreflightAnswer>;

export class RateLimitedPreflight {
  private readonly recent = new Map<string, { at: number; result: Promise<Preflight>; key: string }>();

  constructor(private readonly deps: AppDeps) {}

  run(user: User, bot: BotConfig): Promise<Preflight> {
    const now = this.deps.clock.now();
    const key = JSON.stringify([bot.postLink, bot.groups]);
    const cached = this.recent.get(bot.id);
    if (cached && cached.key === key && now - cached.at < REUSE_MS) return cached.result;
    const result = this.check(user, bot);
    this.recent.set(bot.id, { at: now, result, key });
    result.catch(() => this.recent.delete(bot.id));
    return result;
  }

  private async check(user: User, bot: BotConfig): Promise<Preflight> {
    const sessions = (await this.deps.store.sessions.listByOwner(user.id)).filter((s) => s.status !== 'dead');
    const source = bot.postLink ? parsePostLink(bot.postLink) : null;
    // No group and no post: nothing to ask Telegram, so no session connects (and none can be in use twice).
    if (bot.groups.length === 0 && source === null) {
      return {
        checkedAt: new Date(this.deps.clock.now()).toISOString(),
        source: { ok: false, error: null, errorText: null },
        rows: [],
        summary: { sessions: sessions.length, groups: 0, problems: 0 },
      };
    }
    if (this.deps.cluster && bot.desiredState === 'running' && sessions.some((s) => s.driver === 'mtcute')) {
      throw new ApiError(
        'SESSION_IN_USE',
        'the bot is running (possibly on another worker) with these Telegram sessions: stop it to run a preflight',
      );
    }
    const report = await this.deps.gateway.preflight(
      sessions.map((s) => ({ id: s.id, driver: s.driver })),
      bot.groups.map((g) => parseGroupTarget(g)),
      source,
    );
    const checkedAt = this.deps.clock.now();
    await this.deps.store.runtime.saveGroupFacts(report.rows.map((r) => ({ ...r, checkedAt })));
    // The group's slow mode as its settings say it: the guard's interval for the group from the next start on.
    const slowmodes = new Map<string, number>();
    for (const r of report.rows) if (r.slowmodeSeconds !== null) slowmodes.set(r.groupKey, r.slowmodeSeconds);
    for (const [groupKey, seconds] of slowmodes)
      await this.deps.store.runtime.setGroupSlowmode(bot.id, groupKey, seconds);
    const policy = this.deps.policy ?? DEFAULT_RUNTIME_OPTIONS;
    const rows = report.rows.map((r) => ({
      ...r,
      errorText: r.error ? explain(r.error) : null,
      ...presentFactsVerdict(r, policy),
    }));
    const problems = rows.filter(
      (r) => r.error !== null || r.canWrite === false || r.skipReason !== null,
    ).length;
    return {
      checkedAt: new Date(this.deps.clock.now()).toISOString(),
      source: { ...report.source, errorText: report.source.error ? explain(report.source.error) : null },
      rows,
      summary: { sessions: sessions.length, groups: bot.groups.length, problems },
    };
  }
}
