/**
 * How the bot is doing — the worst current condition as the server judged it (src/core/condition.ts), with the
 * others below it — start/stop, the latest cycle's progress, the next cycle, the counters over all cycles and the
 * last error.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { ActionPlace } from '../../../src/core/condition.js';
import type { PlanJson } from '../../../src/core/plan-json.js';
import type { ExecutionMode } from '../../../src/core/plan.js';
import { count } from '../../../src/core/words.js';
import { api } from '../api';
import { useOnEvents } from '../feed';
import { useAction, useResource } from '../hooks';
import { Link } from '../router';
import type { BotCondition, BotStatus } from '../types';
import { Badge, ErrorText, Loading, Relative, formatTime } from '../ui';
import { stateNow } from '../session-state';

/** The dashboard's page for each place the server says to act. */
const PAGE_OF: Record<ActionPlace, string> = {
  sessions: '/app/sessions',
  post_and_groups: '/app/post',
  activity: '/app/activity',
};

export function Overview() {
  const status = useResource<BotStatus>('/api/bot/status', { refreshMs: 5000 });
  useOnEvents(['bot.', 'cycle.', 'post.', 'session.'], status.reload);
  const s = status.data;

  return (
    <div className="stack">
      <ErrorText error={status.error} />
      {!s ? (
        status.loading && <Loading what="the bot’s status" />
      ) : (
        <>
          <section className="card" aria-labelledby="bot-state">
            <h2 id="bot-state">
              Bot <Badge value={s.status} />
            </h2>
            <ConditionLine condition={s.condition} testId="bot-condition" />
            {s.conditions.length > 1 && (
              <ul className="conditions" aria-label="Also now" data-testid="bot-conditions">
                {s.conditions.slice(1).map((c) => (
                  <li key={c.code}>
                    <ConditionLine condition={c} />
                  </li>
                ))}
              </ul>
            )}
            {s.status !== 'stopped' && (
              <p className="muted">
                Mode: <strong>{s.execution_mode ?? '—'}</strong>
                {s.execution_mode === 'starter' && s.total_cycle_minutes !== null && (
                  <>, a cycle every {s.total_cycle_minutes} min</>
                )}
              </p>
            )}
            <StartStop status={s} onChange={status.reload} />
          </section>

          <div className="grid2">
            <section className="card" aria-labelledby="cycle-title">
              <h2 id="cycle-title">Latest cycle</h2>
              {s.cycle ? <CycleView cycle={s.cycle} /> : <p className="muted">No cycle has run yet.</p>}
              <p>
                Next cycle: <Relative iso={s.nextCycleAt} />
              </p>
            </section>
            <section className="card" aria-labelledby="counters-title">
              <h2 id="counters-title">All cycles so far</h2>
              <dl className="counters" aria-label="Counted over every cycle since the bot was created">
                <div>
                  <dt>Sent, all cycles</dt>
                  <dd data-testid="stat-sent">{s.stats.sent}</dd>
                </div>
                <div>
                  <dt>Failed, all cycles</dt>
                  <dd data-testid="stat-failed">{s.stats.failed}</dd>
                </div>
                <div>
                  <dt>Flood waits, all cycles</dt>
                  <dd data-testid="stat-flood-waits">{s.stats.floodWaits}</dd>
                </div>
              </dl>
              <p className="muted small" data-testid="session-summary">
                {count(s.sessions.length, 'session')}:{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'active').length} active,{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'paused').length} paused,{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'dead').length} dead.{' '}
                <Link to="/app/sessions">Manage sessions</Link>
              </p>
            </section>
          </div>

          <LastError status={s} />
        </>
      )}
    </div>
  );
}

/** One condition: its words, when it ends by itself, and a link to where to act. */
function ConditionLine({ condition, testId }: { condition: BotCondition; testId?: string }) {
  return (
    <p
      className={`condition condition-${condition.level}`}
      data-level={condition.level}
      data-code={condition.code}
      data-testid={testId}
      role={testId ? 'status' : undefined}
    >
      {condition.message}
      {condition.until && (
        <>
          {' '}
          <span className="condition-until">
            {condition.sessionIds.length > 1 ? 'The first pause ends' : 'It ends'}{' '}
            <Relative iso={condition.until} />.
          </span>
        </>
      )}
      {condition.action && (
        <>
          {' '}
          <Link to={PAGE_OF[condition.action.where]}>{condition.action.label}</Link>
        </>
      )}
    </p>
  );
}

/** The last error the server knows of; "None" only while nothing is wrong. */
function LastError({ status }: { status: BotStatus }) {
  const error = status.latestError;
  const troubled = status.condition.level === 'warning' || status.condition.level === 'critical';
  const label = (id: string) => status.sessions.find((x) => x.id === id)?.label ?? `session #${id}`;
  return (
    <section className="card" aria-labelledby="last-error-title" data-testid="last-error">
      <h2 id="last-error-title">Last error</h2>
      {error ? (
        <>
          <p className="error">{error.text}</p>
          <p className="muted small">
            {[
              error.code,
              error.group && `group ${error.group}`,
              error.sessionId && label(error.sessionId),
              error.cycle !== null && `cycle #${error.cycle}`,
              error.at && `due ${formatTime(error.at)}`,
            ]
              .filter(Boolean)
              .join(' · ')}{' '}
            {error.cycle !== null && <Link to="/app/activity">See the posts in Activity</Link>}
          </p>
        </>
      ) : troubled ? (
        <p>No post of the latest cycle failed or was skipped; what is wrong now is said above.</p>
      ) : (
        <p className="muted">None.</p>
      )}
    </section>
  );
}

function CycleView({ cycle }: { cycle: NonNullable<BotStatus['cycle']> }) {
  const p = cycle.posts;
  return (
    <>
      <p>
        Cycle <strong>#{cycle.number}</strong> <Badge value={cycle.status} /> started{' '}
        {formatTime(cycle.startedAt)}
        {cycle.finishedAt && <>, finished {formatTime(cycle.finishedAt)}</>}.
      </p>
      <label className="progress">
        <span data-testid="cycle-progress">
          {p.done} of {count(p.planned, 'post')} done (sent or decided)
          {p.cancelled > 0 && <>, {p.cancelled} cancelled</>}
        </span>
        <progress max={Math.max(1, p.planned)} value={p.done} />
      </label>
      <ul className="chips" aria-label={`Posts in cycle #${cycle.number}`}>
        <li className="chips-label">This cycle:</li>
        <li>sent {p.sent}</li>
        <li>failed {p.failed}</li>
        <li title="Skipped, missed (Stagger was not running when due) or not attempted (the cycle ended first)">
          skipped {p.skipped}
        </li>
        <li>cancelled {p.cancelled}</li>
        <li title="Planned or being sent">pending {p.pending}</li>
      </ul>
    </>
  );
}

function StartStop({ status, onChange }: { status: BotStatus; onChange: () => void }) {
  const running = status.status !== 'stopped';
  const [mode, setMode] = useState<ExecutionMode>('starter');
  const [minutes, setMinutes] = useState('60');
  const [ready, setReady] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const { error, busy, run } = useAction();

  // Pre-filled with what a start without choices would use: stored configuration, else the plan's default.
  useEffect(() => {
    let current = true;
    api<PlanJson<string, string>>('GET', '/api/bot/plan')
      .then((plan) => {
        if (!current) return;
        setMode(plan.mode);
        if (plan.cycleSeconds) setMinutes(String(Math.round(plan.cycleSeconds / 60)));
      })
      .catch(() => undefined)
      .finally(() => current && setReady(true));
    return () => {
      current = false;
    };
  }, []);

  function start(event: FormEvent) {
    event.preventDefault();
    void run(async () => {
      const body =
        mode === 'starter'
          ? { execution_mode: mode, total_cycle_minutes: Number(minutes) }
          : { execution_mode: mode };
      await api('POST', '/api/bot/start', body);
      onChange();
    });
  }

  function stop() {
    setConfirming(false);
    void run(async () => {
      await api('POST', '/api/bot/stop');
      onChange();
    });
  }

  if (running) {
    // A stop cancels the running cycle's posts not yet sent: asked first, with how many.
    const cycle = status.cycle;
    const cancels = cycle && cycle.status === 'running' ? cycle.posts.pending : 0;
    if (confirming && cancels > 0) {
      return (
        <div className="actions confirm-stop" role="group" aria-labelledby="stop-question">
          <p id="stop-question" className="warn-text">
            Stopping now cancels {cancels} of the {count(cycle!.posts.planned, 'post')} of cycle #
            {cycle!.number}: {cancels === 1 ? 'it has' : 'they have'} not been sent yet, and{' '}
            {cancels === 1 ? 'is' : 'are'} not sent later.
          </p>
          <button type="button" className="danger" onClick={stop} disabled={busy} autoFocus>
            Stop and cancel {count(cancels, 'post')}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep running
          </button>
        </div>
      );
    }
    return (
      <div className="actions">
        <button
          type="button"
          className="danger"
          onClick={() => (cancels > 0 ? setConfirming(true) : stop())}
          disabled={busy}
        >
          {busy ? 'Stopping…' : 'Stop the bot'}
        </button>
        <ErrorText error={error} />
      </div>
    );
  }
  return (
    <form className="inline-form" onSubmit={start} aria-label="Start the bot">
      <div className="field">
        <label htmlFor="start-mode">Mode</label>
        <select
          id="start-mode"
          value={mode}
          onChange={(e) => setMode(e.target.value as ExecutionMode)}
          disabled={!ready}
        >
          <option value="starter">starter (staggered sessions)</option>
          <option value="enterprise">enterprise (groups split between sessions)</option>
        </select>
      </div>
      {mode === 'starter' && (
        <div className="field">
          <label htmlFor="start-minutes">Cycle length (minutes)</label>
          <input
            id="start-minutes"
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            required
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
            disabled={!ready}
          />
        </div>
      )}
      <button type="submit" disabled={busy || !ready}>
        {busy ? 'Starting…' : 'Start the bot'}
      </button>
      <ErrorText error={error} />
    </form>
  );
}
