/**
 * The plan as a stable JSON document — the contract of `stagger plan --format json` and `GET /api/bot/plan`.
 * Shape: {mode, cycleSeconds, delayBetweenPosts, sessions: [{index, offsetSeconds, groups}],
 * posts: [{session, group, atSeconds}], warnings: [{code, message}]}; posts by atSeconds, then session index.
 */
import type { Plan } from './plan.js';

export interface PlanJson<SJ, GJ> {
  mode: Plan['mode'];
  cycleSeconds: number | null;
  delayBetweenPosts: number;
  /** `session` extends the original shape: which session the row is. */
  sessions: { index: number; session: SJ; offsetSeconds: number; groups: GJ[] }[];
  posts: { session: SJ; group: GJ; atSeconds: number }[];
  warnings: { code: string; message: string }[];
}

export function planToJson<S, G, SJ, GJ>(
  plan: Plan<S, G>,
  sessionId: (session: S) => SJ,
  groupId: (group: G) => GJ,
  extraWarnings: readonly { code: string; message: string }[] = [],
): PlanJson<SJ, GJ> {
  return {
    mode: plan.mode,
    cycleSeconds: plan.cycleSeconds,
    delayBetweenPosts: plan.delayBetweenPosts,
    sessions: plan.sessions.map((s) => ({
      index: s.index,
      session: sessionId(s.session),
      offsetSeconds: s.offsetSeconds,
      groups: s.groups.map(groupId),
    })),
    posts: plan.posts.map((p) => ({
      session: sessionId(p.session),
      group: groupId(p.group),
      atSeconds: p.atSeconds,
    })),
    warnings: [...extraWarnings, ...plan.warnings].map((w) => ({ code: w.code, message: w.message })),
  };
}
