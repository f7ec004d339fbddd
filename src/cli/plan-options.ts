/**
 * The options `stagger plan` and `stagger simulate` share: mode, sessions, groups, delay, cycle minutes, format.
 */
import { readFileSync } from 'node:fs';
import { assertGroupTargets, MAX_GROUP_TARGETS } from '../core/group-targets.js';
import { LIMITS } from '../core/limits.js';
import { DEFAULT_BOT_SETTINGS } from '../core/model.js';
import { DEFAULT_DELAY_BETWEEN_POSTS, isExecutionMode, type ExecutionMode } from '../core/plan.js';
import {
  asUsageError,
  choiceOption,
  limitOption,
  numberOption,
  span,
  UsageError,
  type OptionSpec,
} from './args.js';

export const planOptionSpec = {
  mode: { type: 'string' },
  sessions: { type: 'string' },
  groups: { type: 'string' },
  'groups-file': { type: 'string' },
  delay: { type: 'string' },
  'cycle-minutes': { type: 'string' },
  'min-group-gap': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface PlanConfig {
  mode: ExecutionMode;
  sessions: number[];
  groups: string[];
  delayBetweenPosts: number;
  totalCycleMinutes: number | undefined;
  minGroupGapSeconds: number;
  format: 'table' | 'json';
  /** Warnings from reading the groups (duplicates removed). */
  inputWarnings: { code: string; message: string }[];
}

type PlanValues = {
  [K in keyof typeof planOptionSpec]?: (typeof planOptionSpec)[K]['type'] extends 'boolean'
    ? boolean
    : string;
};

/** Most groups the CLI accepts from `--groups G` (the parser caps a groups file at 10,000 targets). */
const MAX_SYNTHETIC_GROUPS = 1_000_000;

/**
 * The largest cycle the CLI plans: the service's largest (a customer's most sessions, each posting to the longest
 * group list, in starter). A starter plan of 100,000 sessions × 1,000,000 groups would not fit in memory.
 */
const MAX_PLAN_POSTS = LIMITS.maxSessions.max * MAX_GROUP_TARGETS;

export function readPlanConfig(values: PlanValues): PlanConfig {
  const modeRaw = values.mode ?? 'enterprise';
  if (!isExecutionMode(modeRaw)) {
    throw new UsageError(`--mode must be starter or enterprise, got ${JSON.stringify(modeRaw)}`);
  }
  if (values.sessions === undefined) throw new UsageError('--sessions N is required');
  // The ranges are the API's (one definition in LIMITS): what the CLI previews, the API accepts, and back.
  const sessionCount = limitOption('sessions', values.sessions, 0, LIMITS.planSessions);
  const delayBetweenPosts = limitOption(
    'delay',
    values.delay,
    DEFAULT_DELAY_BETWEEN_POSTS,
    LIMITS.delayBetweenPosts,
  );
  const totalCycleMinutes = limitOption(
    'cycle-minutes',
    values['cycle-minutes'],
    undefined,
    LIMITS.totalCycleMinutes,
  );
  if (modeRaw === 'starter' && totalCycleMinutes === undefined) {
    throw new UsageError('starter mode requires --cycle-minutes M with M > 0');
  }
  // The bot's setting, with the bot's default: `plan` previews what the runtime (and `simulate`) will hold to.
  const minGroupGapSeconds = limitOption(
    'min-group-gap',
    values['min-group-gap'],
    DEFAULT_BOT_SETTINGS.minGroupGapSeconds,
    LIMITS.minGroupGapSeconds,
  );
  const format = choiceOption('format', values.format, ['table', 'json'] as const, 'table');

  let groups: string[];
  const inputWarnings: PlanConfig['inputWarnings'] = [];
  if (values.groups !== undefined && values['groups-file'] !== undefined) {
    throw new UsageError('give either --groups G or --groups-file FILE, not both');
  }
  if (values['groups-file'] !== undefined) {
    let text: string;
    try {
      text = readFileSync(values['groups-file'], 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read --groups-file ${values['groups-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    try {
      const parsed = assertGroupTargets(text);
      groups = parsed.targets.map((t) => t.key);
      inputWarnings.push(...parsed.warnings.map((w) => ({ code: w.code, message: w.message })));
    } catch (error) {
      asUsageError(error);
    }
  } else if (values.groups !== undefined) {
    const count = numberOption('groups', values.groups, 0, {
      min: 0,
      max: MAX_SYNTHETIC_GROUPS,
      integer: true,
    });
    groups = Array.from({ length: count }, (_, i) => `g${i}`);
  } else {
    throw new UsageError('--groups G or --groups-file FILE is required');
  }

  // Starter gives every session every group; enterprise's posts are the groups, at most MAX_SYNTHETIC_GROUPS.
  const posts = sessionCount * groups.length;
  if (modeRaw === 'starter' && posts > MAX_PLAN_POSTS) {
    throw new UsageError(
      `starter: ${sessionCount} sessions × ${groups.length} groups is ${posts} posts in one cycle; at most ` +
        `${MAX_PLAN_POSTS} (${LIMITS.maxSessions.max} sessions × ${MAX_GROUP_TARGETS} groups)`,
    );
  }

  return {
    mode: modeRaw,
    sessions: Array.from({ length: sessionCount }, (_, i) => i),
    groups,
    delayBetweenPosts,
    totalCycleMinutes: modeRaw === 'starter' ? totalCycleMinutes : undefined,
    minGroupGapSeconds,
    format,
    inputWarnings,
  };
}

export const planOptionsHelp = `  --mode starter|enterprise   execution mode (default enterprise)
  --sessions N                number of sessions (${span(LIMITS.planSessions)}), named 0..N-1
  --groups G                  number of groups (0…${MAX_SYNTHETIC_GROUPS}), named g0..g{G-1}
  --groups-file FILE          real targets, one per line (-100… ids, @names, t.me/name, optional /topic)
  --delay S                   seconds between two posts of one session, ${span(LIMITS.delayBetweenPosts)} (default ${DEFAULT_DELAY_BETWEEN_POSTS})
  --cycle-minutes M           starter: the cycle length T in whole minutes, ${span(LIMITS.totalCycleMinutes)} (required for starter)
  --min-group-gap S           minimum seconds between two posts to one group, ${span(LIMITS.minGroupGapSeconds)} (default ${DEFAULT_BOT_SETTINGS.minGroupGapSeconds}):
                              the runtime holds or skips posts to keep it; the plan warns when its rhythm breaks it
  --format table|json         output format (default table)`;
