/** `stagger plan`: the exact timeline of one cycle, as a table that reads like the seed note or as JSON. */
import { planCycle, type Plan } from '../core/plan.js';
import { planToJson } from '../core/plan-json.js';
import { asUsageError, parseOptions } from './args.js';
import { planOptionsHelp, planOptionSpec, readPlanConfig } from './plan-options.js';

const help = `usage: stagger plan --mode starter|enterprise --sessions N --groups G|--groups-file FILE [options]

${planOptionsHelp}`;

export async function planCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, planOptionSpec);
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const config = readPlanConfig(values);
  let plan: Plan<number, string>;
  try {
    plan = planCycle({
      mode: config.mode,
      sessions: config.sessions,
      groups: config.groups,
      delayBetweenPosts: config.delayBetweenPosts,
      totalCycleMinutes: config.totalCycleMinutes,
      minGroupGapSeconds: config.minGroupGapSeconds,
    });
  } catch (error) {
    asUsageError(error);
  }
  if (config.format === 'json') {
    const json = planToJson(
      plan,
      (s) => s,
      (g) => g,
      config.inputWarnings,
    );
    write(jsonChunks(json));
  } else {
    write(lines(formatPlanTable(plan, config.groups.length, config.inputWarnings)));
  }
  return 0;
}

/** Writes the chunks to stdout in pieces of about 64 KiB. */
export function write(chunks: Iterable<string>): void {
  let buffer = '';
  for (const chunk of chunks) {
    buffer += chunk;
    if (buffer.length > 1 << 16) {
      process.stdout.write(buffer);
      buffer = '';
    }
  }
  process.stdout.write(buffer);
}

function* lines(items: Iterable<string>): Generator<string> {
  for (const line of items) yield `${line}\n`;
}

/**
 * `JSON.stringify(value)` and a newline, in pieces: one array element at a time, so that a plan of millions of
 * posts is not one string (V8 refuses strings beyond about 512 MiB). Same text as `JSON.stringify`.
 */
export function* jsonChunks(value: object): Generator<string> {
  let separator = '{';
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined || typeof field === 'function') continue;
    yield `${separator}${JSON.stringify(key)}:`;
    separator = ',';
    if (Array.isArray(field)) {
      yield '[';
      for (let i = 0; i < field.length; i++)
        yield `${i === 0 ? '' : ','}${JSON.stringify(field[i]) ?? 'null'}`;
      yield ']';
    } else {
      yield JSON.stringify(field);
    }
  }
  yield separator === '{' ? '{}\n' : '}\n';
}

export function secondsText(value: number): string {
  const text = Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '');
  if (value < 60) return `${text}s`;
  const minutes = value / 60;
  return `${text}s (${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min)`;
}

/**
 * The note's "Timeline" sections: per session its offset, its posts, and its duration. The header counts the groups
 * given (`groupCount`), also when no session takes them.
 */
export function* formatPlanTable<S, G>(
  plan: Plan<S, G>,
  groupCount: number,
  extraWarnings: readonly { code: string; message: string }[] = [],
): Generator<string> {
  const cycle =
    plan.cycleSeconds === null ? 'cycle ends after its last post' : `cycle ${secondsText(plan.cycleSeconds)}`;
  const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  yield `Mode: ${plan.mode} · ${cycle} · delay ${plan.delayBetweenPosts}s · ${count(plan.sessions.length, 'session')} · ${count(groupCount, 'group')} · ${count(plan.posts.length, 'post')}`;
  const bySession = new Map<number, { group: G; atSeconds: number }[]>();
  for (const p of plan.posts) {
    let list = bySession.get(p.sessionIndex);
    if (!list) bySession.set(p.sessionIndex, (list = []));
    list.push(p);
  }
  for (const s of plan.sessions) {
    yield '';
    const start =
      plan.mode === 'starter' ? `starts at ${secondsText(s.offsetSeconds)}` : 'starts immediately';
    yield `Session ${String(s.session)}: ${start}`;
    const own = bySession.get(s.index) ?? [];
    if (own.length === 0) yield '  (no groups: idle)';
    for (const p of own) yield `  - ${String(p.group)}: ${secondsText(p.atSeconds)}`;
    // From the session's first post to its last, as planned: posts at 0, 5 and 10 s take 10 s.
    const first = own[0];
    const last = own[own.length - 1];
    if (own.length === 1) yield '  1 post';
    else if (first && last) {
      yield `  Duration: ${secondsText(last.atSeconds - first.atSeconds)}, first post to last (${own.length} posts)`;
    }
  }
  const warnings = [...extraWarnings, ...plan.warnings];
  if (warnings.length > 0) {
    yield '';
    yield 'Warnings:';
    for (const w of warnings) yield `  ${w.code}: ${w.message}`;
  }
}
