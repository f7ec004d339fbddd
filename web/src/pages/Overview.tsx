/** Status, start/stop, the current cycle's progress, the next cycle, counters and the last error. */
import { useEffect, useState, type FormEvent } from 'react';
import type { PlanJson } from '../../../src/core/plan-json.js';
import type { ExecutionMode } from '../../../src/core/plan.js';
import { api } from '../api';
import { useOnEvents } from '../feed';
import { useAction, useResource } from '../hooks';
import { Link } from '../router';
import type { BotStatus } from '../types';
import { Badge, ErrorText, Loading, Relative, formatTime } from '../ui';
import { stateNow } from '../session-state';

const STATUS_WORDS: Record<BotStatus['status'], string> = {
  running: 'The bot is running: posts go out on schedule.',
  stopped: 'The bot is stopped: nothing is posted.',
  needs_attention: 'The bot is running but needs attention: see the last error below.',
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
            <p>{STATUS_WORDS[s.status]}</p>
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
              <h2 id="cycle-title">Current cycle</h2>
              {s.cycle ? <CycleView cycle={s.cycle} /> : <p className="muted">No cycle has run yet.</p>}
              <p>
                Next cycle: <Relative iso={s.nextCycleAt} />
              </p>
            </section>
            <section className="card" aria-labelledby="counters-title">
              <h2 id="counters-title">Counters</h2>
              <dl className="counters">
                <div>
                  <dt>Sent</dt>
                  <dd data-testid="stat-sent">{s.stats.sent}</dd>
                </div>
                <div>
                  <dt>Failed</dt>
                  <dd>{s.stats.failed}</dd>
                </div>
                <div>
                  <dt>Flood waits</dt>
                  <dd>{s.stats.floodWaits}</dd>
                </div>
              </dl>
              <p className="muted small">
                {s.sessions.length} session{s.sessions.length === 1 ? '' : 's'}:{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'active').length} active,{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'paused').length} paused,{' '}
                {s.sessions.filter((x) => stateNow(x).status === 'dead').length} dead.{' '}
                <Link to="/app/sessions">Manage sessions</Link>
              </p>
            </section>
          </div>

          <section className="card" aria-labelledby="last-error-title">
            <h2 id="last-error-title">Last error</h2>
            {s.lastError ? <p className="error">{s.lastError}</p> : <p className="muted">None.</p>}
          </section>
        </>
      )}
    </div>
  );
}

function CycleView({ cycle }: { cycle: NonNullable<BotStatus['cycle']> }) {
  const p = cycle.posts;
  const done = p.sent + p.failed + p.skipped + p.cancelled;
  return (
    <>
      <p>
        Cycle <strong>#{cycle.number}</strong> <Badge value={cycle.status} /> started{' '}
        {formatTime(cycle.startedAt)}
        {cycle.finishedAt && <>, finished {formatTime(cycle.finishedAt)}</>}.
      </p>
      <label className="progress">
        <span>
          {done} of {p.planned} posts done
        </span>
        <progress max={Math.max(1, p.planned)} value={done} />
      </label>
      <ul className="chips" aria-label="Posts in this cycle">
        <li>sent {p.sent}</li>
        <li>failed {p.failed}</li>
        <li>skipped {p.skipped}</li>
        <li>cancelled {p.cancelled}</li>
        <li>pending {p.pending}</li>
      </ul>
    </>
  );
}

function StartStop({ status, onChange }: { status: BotStatus; onChange: () => void }) {
  const running = status.status !== 'stopped';
  const [mode, setMode] = useState<ExecutionMode>('starter');
  const [minutes, setMinutes] = useState('60');
  const [ready, setReady] = useState(false);
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
    void run(async () => {
      await api('POST', '/api/bot/stop');
      onChange();
    });
  }

  if (running) {
    return (
      <div className="actions">
        <button type="button" className="danger" onClick={stop} disabled={busy}>
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
