/**
 * `stagger simulate`: runs a bot on the sandbox Telegram on a virtual clock — the real runtime, nothing mocked
 * but time and Telegram — and prints what happened. An hour-long starter cycle takes milliseconds.
 */
import { LIMITS } from '../core/limits.js';
import { DEFAULT_BOT_SETTINGS } from '../core/model.js';
import { explain } from '../core/outcome.js';
import { explainReason, explainText, type ExplainPolicy } from '../core/reasons.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../runtime/options.js';
import { runSimulation, type SimulationResult } from '../runtime/simulation.js';
import { asUsageError, limitOption, numberOption, parseOptions, span, UsageError } from './args.js';
import { planOptionsHelp, planOptionSpec, readPlanConfig } from './plan-options.js';
import { jsonChunks, secondsText, write } from './plan-command.js';

const spec = {
  ...planOptionSpec,
  cycles: { type: 'string' },
  'delay-between-cycles': { type: 'string' },
  seed: { type: 'string' },
  fault: { type: 'string', multiple: true },
} as const;

const help = `usage: stagger simulate --mode starter|enterprise --sessions N --groups G|--groups-file FILE [options]

${planOptionsHelp}
  --cycles K                  cycles to run (default 1)
  --delay-between-cycles S    enterprise: pause after a cycle, ${span(LIMITS.delayBetweenCycles)} seconds (default ${DEFAULT_BOT_SETTINGS.delayBetweenCycles})
  --seed N                    sandbox seed (default 1)
  --fault SESSION:ERROR@SECONDS   from that virtual time on, the session's next forward gets ERROR
                              (repeatable; e.g. 1:FLOOD_WAIT_900@610, 2:AUTH_KEY_UNREGISTERED@0, 0:SLOWMODE_WAIT_30@0)`;

export function parseFault(
  text: string,
  sessions: number,
): { session: number; error: string; atSeconds: number } {
  const match = /^(\d+):([A-Z][A-Z0-9_]*)@(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--fault ${JSON.stringify(text)} is not SESSION:ERROR@SECONDS (e.g. 1:FLOOD_WAIT_900@610)`,
    );
  }
  const session = Number(match[1]);
  if (session >= sessions) {
    throw new UsageError(`--fault ${text}: there is no session ${session} (sessions are 0..${sessions - 1})`);
  }
  return { session, error: match[2]!, atSeconds: Number(match[3]) };
}

export async function simulateCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, spec);
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const config = readPlanConfig(values);
  const cycles = numberOption('cycles', values.cycles, 1, { min: 1, max: 1000, integer: true });
  const seed = numberOption('seed', values.seed, 1, { min: 0, max: 2 ** 53 - 1, integer: true });
  const delayBetweenCycles = limitOption(
    'delay-between-cycles',
    values['delay-between-cycles'],
    undefined,
    LIMITS.delayBetweenCycles,
  );
  const faults = (values.fault ?? []).map((f) => parseFault(f, config.sessions.length));
  if (config.sessions.length > 10_000) throw new UsageError('--sessions: at most 10000 for a simulation');
  let result: SimulationResult;
  try {
    result = await runSimulation({
      mode: config.mode,
      sessions: config.sessions.length,
      groups: config.groups,
      delayBetweenPosts: config.delayBetweenPosts,
      totalCycleMinutes: config.totalCycleMinutes,
      minGroupGapSeconds: config.minGroupGapSeconds,
      delayBetweenCycles,
      cycles,
      seed,
      faults,
    });
  } catch (error) {
    asUsageError(error);
  }
  result.warnings.unshift(...config.inputWarnings);
  if (config.format === 'json') write(jsonChunks(result));
  else write(formatSimulation(result).map((line) => `${line}\n`));
  return 0;
}

/** The explanations' numbers: the runtime's defaults, which the simulation runs with. */
const POLICY: ExplainPolicy = DEFAULT_RUNTIME_OPTIONS;

/** An error name Telegram (or our transport) gives, shown as it is; a session reason standing in for one is not. */
function codeNote(error: string | null): string {
  return error !== null && /^[A-Z][A-Z0-9_]*$/.test(error) ? ` [${error}]` : '';
}

type Result = SimulationResult['results'][number];
type Event = SimulationResult['events'][number];

/** A post's result in the service's words (the API's reasonText), with Telegram's code beside them. */
function resultText(r: Result): string {
  if (r.status === 'sent' || r.status === 'duplicate') {
    // Later than planned: it waited for its session's pause or a hand-off (each has its line), or the group's gap.
    const late =
      r.atSeconds > r.plannedAtSeconds ? `, ${secondsText(r.atSeconds - r.plannedAtSeconds)} late` : '';
    const duplicate = r.status === 'duplicate' ? ` — ${explain(r.outcome ?? 'RANDOM_ID_DUPLICATE')}` : '';
    return `sent${late}${duplicate}`;
  }
  const words = r.reason === null ? null : explainText('post', r.reason, POLICY, r.outcome);
  if (words) return `${words}${codeNote(r.outcome)}`;
  const why = r.reason ?? (r.outcome === null ? null : explain(r.outcome));
  return `${r.status}${why === null ? '' : ` (${why})`}${codeNote(r.outcome)}`;
}

function sessionWords(reason: string | null): string {
  return reason === null ? '' : ` — ${explainReason('session', reason, POLICY) ?? reason}`;
}

function eventText(e: Event): string {
  switch (e.type) {
    case 'attempt_failed':
      return `session ${e.session} → ${e.group ?? '?'}: not sent, Telegram answered ${e.error ?? 'an error'}`;
    case 'handed_off':
      return `${e.group ?? '?'}: handed from session ${e.session} to session ${e.toSession ?? '?'}`;
    case 'session_paused':
      return `session ${e.session}: paused until ${secondsText(e.untilSeconds ?? e.atSeconds)}${sessionWords(e.reason)}${codeNote(e.error)}`;
    case 'session_resumed':
      return `session ${e.session}: active again`;
    case 'session_retired':
      return `session ${e.session}: dead${sessionWords(e.reason)}${codeNote(e.error)}`;
  }
}

/**
 * At one instant, cause before consequence: Telegram's answer (a refused attempt, or the post it ended), then what
 * it did to the session, then the posts it handed on, then the rest.
 */
const EVENT_RANK: Record<Event['type'], number> = {
  attempt_failed: 0,
  session_paused: 1,
  session_retired: 1,
  session_resumed: 1,
  handed_off: 2,
};

function resultRank(r: Result): number {
  return r.status !== 'sent' && r.status !== 'duplicate' && codeNote(r.outcome) !== '' ? 0 : 3;
}

function cycleText(cycle: SimulationResult['cycles'][number]): string {
  if (cycle.reason === null) return cycle.status;
  const words = explainText('cycle', cycle.reason, POLICY);
  // `previous_cycle_overran: 3 slot(s) skipped`: the words, and the detail after the reason.
  const detail = cycle.reason.includes(':')
    ? ` (${cycle.reason.slice(cycle.reason.indexOf(':') + 1).trim()})`
    : '';
  return words ? `${words}${detail}` : `${cycle.status} (${cycle.reason})`;
}

function formatSimulation(result: SimulationResult): string[] {
  const lines: string[] = [];
  for (const cycle of result.cycles) {
    const end = cycle.endSeconds === null ? '' : ` → ${secondsText(cycle.endSeconds)}`;
    lines.push(`Cycle ${cycle.number} ${secondsText(cycle.startSeconds)}${end}: ${cycleText(cycle)}`);
    const entries = [
      ...result.results
        .filter((r) => r.cycle === cycle.number)
        .map((r) => ({
          at: r.atSeconds,
          rank: resultRank(r),
          text: `session ${r.session} → ${r.group}: ${resultText(r)}`,
        })),
      ...result.events
        .filter((e) => e.cycle === cycle.number)
        .map((e) => ({ at: e.atSeconds, rank: EVENT_RANK[e.type], text: eventText(e) })),
    ].sort((a, b) => a.at - b.at || a.rank - b.rank);
    for (const e of entries) lines.push(`  ${secondsText(e.at).padEnd(22)} ${e.text}`);
    lines.push('');
  }
  const count = (status: string): number => result.results.filter((r) => r.status === status).length;
  lines.push(
    `Delivered ${result.deliveries.length} · sent ${count('sent')} · duplicate ${count('duplicate')} · failed ${count('failed')} · skipped ${count('skipped') + count('not_attempted') + count('missed')} · cancelled ${count('cancelled')}`,
  );
  lines.push('Sessions at the end:');
  for (const s of result.sessions) {
    // A session still paused at the end is paused by its last pause.
    const pause = result.events.findLast((e) => e.type === 'session_paused' && e.session === s.index);
    const until =
      s.state === 'paused' && pause?.untilSeconds != null ? ` until ${secondsText(pause.untilSeconds)}` : '';
    lines.push(`  session ${s.index}: ${s.state}${until}${sessionWords(s.reason)}`);
  }
  if (result.warnings.length > 0) {
    lines.push('Warnings:');
    for (const w of result.warnings) lines.push(`  ${w.code}: ${w.message}`);
  }
  return lines;
}
