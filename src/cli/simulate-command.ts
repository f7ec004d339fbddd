/**
 * `stagger simulate`: runs a bot on the sandbox Telegram on a virtual clock — the real runtime, nothing mocked
 * but time and Telegram — and prints what happened. An hour-long starter cycle takes milliseconds.
 */
import { LIMITS } from '../core/limits.js';
import { DEFAULT_BOT_SETTINGS } from '../core/model.js';
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
  --min-group-gap S           minimum seconds between two posts to one group (default ${DEFAULT_BOT_SETTINGS.minGroupGapSeconds})
  --delay-between-cycles S    enterprise: pause after a cycle, ${span(LIMITS.delayBetweenCycles)} seconds (default ${DEFAULT_BOT_SETTINGS.delayBetweenCycles})
  --seed N                    sandbox seed (default 1)
  --fault SESSION:ERROR@SECONDS   from that virtual time on, the session's next call gets ERROR
                              (repeatable; e.g. 1:FLOOD_WAIT_900@610, 2:AUTH_KEY_UNREGISTERED@0)`;

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

function formatSimulation(result: SimulationResult): string[] {
  const lines: string[] = [];
  for (const cycle of result.cycles) {
    const end = cycle.endSeconds === null ? '' : ` → ${secondsText(cycle.endSeconds)}`;
    lines.push(
      `Cycle ${cycle.number} (${cycle.status}${cycle.reason ? `: ${cycle.reason}` : ''}) ${secondsText(cycle.startSeconds)}${end}`,
    );
    for (const r of result.results.filter((x) => x.cycle === cycle.number)) {
      const why = [r.reason, r.outcome].filter((x) => x !== null && x !== undefined).join(', ');
      lines.push(
        `  ${secondsText(r.atSeconds).padEnd(22)} session ${r.session} → ${r.group}: ${r.status}${why ? ` (${why})` : ''}`,
      );
    }
    lines.push('');
  }
  const count = (status: string): number => result.results.filter((r) => r.status === status).length;
  lines.push(
    `Delivered ${result.deliveries.length} · sent ${count('sent')} · duplicate ${count('duplicate')} · failed ${count('failed')} · skipped ${count('skipped') + count('not_attempted') + count('missed')} · cancelled ${count('cancelled')}`,
  );
  lines.push(
    `Sessions: ${result.sessions.map((s) => `${s.index} ${s.state}${s.reason ? ` (${s.reason})` : ''}`).join(', ')}`,
  );
  if (result.warnings.length > 0) {
    lines.push('Warnings:');
    for (const w of result.warnings) lines.push(`  ${w.code}: ${w.message}`);
  }
  return lines;
}
