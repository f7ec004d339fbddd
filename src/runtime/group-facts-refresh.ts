/**
 * Reading what the sessions know about their groups before a cycle runs (src/core/group-facts.ts decides what is
 * due and what the facts mean). When a cycle is planned, each usable session reads the facts of its planned groups
 * that are older than the refresh interval; in enterprise mode also, for a group its planned session may not post
 * to, the other sessions' facts — a hand-off needs to know who may post there. What is read is stored (a restart,
 * the preview and the dashboard know it) and a group's slow mode goes to the guard.
 */
import {
  dueFactPairs,
  handOverFactPairs,
  unknownFacts,
  type FactPair,
  type GroupFacts,
} from '../core/group-facts.js';
import { parseGroupTarget, type GroupTarget } from '../core/group-targets.js';
import type { SessionInfo } from '../core/model.js';
import type { ExecutionMode } from '../core/plan.js';
import { usableAt } from '../core/session-state.js';
import type { Logger } from '../logger.js';
import type { Gateway, PreflightRow } from '../telegram/gateway.js';
import type { BotState } from './bot-state.js';
import type { Clock } from './clock.js';
import type { RuntimeOptions } from './options.js';
import type { RuntimeStore } from './store.js';
import type { Turns } from './turns.js';

export interface FactsRefreshDeps {
  clock: Clock;
  gateway: Gateway;
  store: RuntimeStore;
  options: RuntimeOptions;
  logger: Logger;
  /** Each session's reads and their write take a turn of their own (turns.ts). */
  turns?: Turns;
}

export interface FactsRefreshInput {
  botId: string;
  mode: ExecutionMode;
  /** The plan's posts: which session posts to which group. */
  planned: readonly FactPair[];
  /** The sessions the cycle was planned with (the ones that may read). */
  sessions: readonly SessionInfo[];
  /** Every session of the bot (whose stored facts are loaded). */
  allSessionIds: readonly string[];
  signal: AbortSignal;
  /** When the reads are due by (the plan's own deadline), for the order of turns; default now. */
  due?: number;
}

export async function refreshGroupFacts(
  deps: FactsRefreshDeps,
  state: BotState,
  input: FactsRefreshInput,
): Promise<void> {
  // Facts a preflight read since the last planning count as reads (their slow mode goes to the guard).
  await state.noteFacts(state.setFacts(await deps.store.loadGroupFacts(input.allSessionIds)));
  const refreshMs = deps.options.groupFactsRefreshSeconds * 1000;
  const planned = dueFactPairs(input.planned, state.factsOf, deps.clock.now(), refreshMs);
  await readFacts(deps, state, input, planned);
  // Only after the planned reads: they tell which groups need someone else.
  const ids = input.sessions.map((s) => s.id);
  const candidates = handOverFactPairs(input.mode, input.planned, ids, state.factsOf);
  await readFacts(deps, state, input, dueFactPairs(candidates, state.factsOf, deps.clock.now(), refreshMs));
}

async function readFacts(
  deps: FactsRefreshDeps,
  state: BotState,
  input: FactsRefreshInput,
  pairs: readonly FactPair[],
): Promise<void> {
  const bySession = new Map<string, GroupTarget[]>();
  for (const p of pairs) {
    let target: GroupTarget;
    try {
      target = parseGroupTarget(p.groupKey);
    } catch {
      continue; // not a target: its posts fail as invalid_target without asking Telegram anything
    }
    bySession.set(p.sessionId, [...(bySession.get(p.sessionId) ?? []), target]);
  }
  for (const info of input.sessions) {
    const targets = bySession.get(info.id);
    if (!targets || input.signal.aborted) continue;
    const session = state.session(info.id) ?? info;
    // A paused or retired session asks nothing now; its facts are read when it plans again.
    if (!usableAt(session, deps.clock.now())) continue;
    await deps.turns?.next(input.due ?? deps.clock.now());
    let rows: PreflightRow[];
    try {
      rows = await deps.gateway.groupFacts({ id: session.id, driver: session.driver }, targets, input.signal);
    } catch (error) {
      deps.logger.error(
        { err: error, botId: input.botId },
        'reading group facts threw; treated as a network error',
      );
      rows = targets.map((t) => unknownFacts(session.id, t.key, 'NETWORK_ERROR'));
    }
    // A failed read is stored too: it is not asked again before the interval is over (no storm of retries).
    const checkedAt = deps.clock.now();
    const facts: GroupFacts[] = rows.map((r) => ({ ...r, checkedAt }));
    if (facts.length === 0) continue;
    await deps.store.saveGroupFacts(facts);
    await state.noteFacts(facts);
  }
}
