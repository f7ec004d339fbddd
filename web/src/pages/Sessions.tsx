/** The customer's Telegram sessions: list, sandbox sessions, log in a real account, import, check, delete. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf } from '../api';
import { useOnEvents } from '../feed';
import { useAction, useResource } from '../hooks';
import type { EffectiveSessionState } from '../../../src/core/session-state.js';
import type { Session, SessionFreeze } from '../types';
import { stateNow } from '../session-state';
import {
  Badge,
  ConfirmButton,
  DataTable,
  ErrorText,
  formatTime,
  HowManyField,
  Loading,
  Notice,
  Relative,
} from '../ui';

interface CheckResult {
  ok: boolean;
  dead?: boolean;
  error?: string;
  errorText?: string;
  limited?: boolean;
  limitReasons?: string[];
  account?: { id: string | null; name: string | null; username: string | null };
  frozen?: SessionFreeze | null;
}

export function Sessions() {
  const list = useResource<{ sessions: Session[] }>('/api/sessions');
  useOnEvents(['session.'], list.reload);
  return (
    <div className="stack">
      <section className="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Your sessions</h2>
        <ErrorText error={list.error} />
        {!list.data ? (
          list.loading && <Loading what="the sessions" />
        ) : list.data.sessions.length === 0 ? (
          <p className="muted">
            No session yet: add sandbox sessions to try Stagger, or log in a Telegram account.
          </p>
        ) : (
          <SessionTable sessions={list.data.sessions} onChange={list.reload} />
        )}
      </section>
      <div className="grid2">
        <AddSandbox onAdded={list.reload} />
        <Login onDone={list.reload} />
      </div>
      <Import onDone={list.reload} />
    </div>
  );
}

function SessionTable({ sessions, onChange }: { sessions: Session[]; onChange: () => void }) {
  const [checks, setChecks] = useState<Record<string, CheckResult | string>>({});
  /** The session the last action was for: its buttons are disabled while that action runs. */
  const [target, setTarget] = useState<string | null>(null);
  const { error, busy, run } = useAction();

  function check(id: string) {
    setTarget(id);
    return run(
      async () => {
        const result = await api<CheckResult>('POST', `/api/sessions/${id}/check`);
        setChecks((c) => ({ ...c, [id]: result }));
        onChange();
      },
      // A failed check is shown in its row, not above the table.
      (caught) => setChecks((c) => ({ ...c, [id]: messageOf(caught) })),
    );
  }

  function remove(id: string) {
    setTarget(id);
    return run(async () => {
      await api('DELETE', `/api/sessions/${id}`);
      onChange();
    });
  }

  return (
    <>
      <ErrorText error={error} />
      <DataTable columns={['Session', 'State', 'Cooldown until', 'Account', 'Added', 'Actions']}>
        {sessions.map((s) => {
          const result = checks[s.id];
          const state = stateNow(s);
          return (
            <tr key={s.id}>
              <td>
                {s.label}
                <div className="muted small">
                  {s.driver === 'sandbox' ? 'sandbox' : 'Telegram'} · #{s.id}
                </div>
              </td>
              <td>
                <Badge value={shownState(state)} />
                {s.stateReason && state.status !== 'active' && (
                  <div className="muted small" data-testid="session-state-text">
                    {s.stateText ?? s.stateReason.replaceAll('_', ' ')}
                  </div>
                )}
                {state.status === 'paused' && CONNECT_PAUSES.has(state.statusReason ?? '') && (
                  <div className="small" data-testid="session-retry">
                    Tried again <Relative iso={s.cooldownUntil} />
                  </div>
                )}
                {state.statusReason === 'frozen' && s.frozen && <FreezeView freeze={s.frozen} />}
              </td>
              <td>
                {state.cooldownUntil !== null && s.cooldownUntil ? <Relative iso={s.cooldownUntil} /> : '—'}
              </td>
              <td>
                {s.account
                  ? [s.account.name, s.account.username && `@${s.account.username}`]
                      .filter(Boolean)
                      .join(' ') || s.account.id
                  : '—'}
              </td>
              <td>{formatTime(s.createdAt)}</td>
              <td>
                <div className="row-actions">
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => check(s.id)}
                    disabled={busy && target === s.id}
                    aria-label={`Check ${s.label}`}
                  >
                    Check
                  </button>
                  <ConfirmButton
                    label="Delete"
                    confirmLabel={`Delete ${s.label}`}
                    onConfirm={() => remove(s.id)}
                    disabled={busy && target === s.id}
                  />
                </div>
                {result && <CheckView result={result} />}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </>
  );
}

/** Pauses of a session whose connection did not open (src/core/reachability.ts). */
const CONNECT_PAUSES: ReadonlySet<string> = new Set(['connecting', 'unreachable']);

/** The word on a session's badge: its state, or what keeps it out of use when that says more. */
function shownState(state: EffectiveSessionState): string {
  if (state.status === 'dead' && state.statusReason === 'frozen') return 'frozen';
  if (state.status === 'paused' && state.statusReason === 'unreachable') return 'unreachable';
  return state.status;
}

/** A frozen account: since when, until when Telegram keeps it, and where its owner appeals. */
function FreezeView({ freeze }: { freeze: SessionFreeze }) {
  return (
    <div className="small" data-testid="session-freeze">
      Frozen by Telegram{freeze.since ? ` since ${formatTime(freeze.since)}` : ''}
      {freeze.until ? `; deleted ${formatTime(freeze.until)} unless an appeal lifts the freeze` : ''}.{' '}
      {freeze.appealUrl && (
        <a href={freeze.appealUrl} target="_blank" rel="noopener noreferrer">
          Appeal the freeze
        </a>
      )}
    </div>
  );
}

function CheckView({ result }: { result: CheckResult | string }) {
  if (typeof result === 'string') return <p className="error small">{result}</p>;
  if (result.ok && result.frozen) {
    return (
      <div className="error small">
        Not usable while frozen{result.account?.name ? ` (${result.account.name})` : ''}:
        <FreezeView freeze={result.frozen} />
      </div>
    );
  }
  if (!result.ok) {
    return (
      <p className="error small">
        {result.dead ? 'Not usable: ' : 'Check failed: '}
        {result.errorText ?? result.error}
      </p>
    );
  }
  return (
    <p className="ok small">
      Works{result.account?.name ? ` as ${result.account.name}` : ''}
      {result.limited
        ? ` — limited by Telegram${result.limitReasons?.length ? `: ${result.limitReasons.join(', ')}` : ''}`
        : ''}
      .
    </p>
  );
}

function AddSandbox({ onAdded }: { onAdded: () => void }) {
  const [count, setCount] = useState('1');
  const [done, setDone] = useState<string | null>(null);
  const { error, busy, run } = useAction();

  function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    void run(async () => {
      const answer = await api<{ sessions: Session[] }>('POST', '/api/sessions/sandbox', {
        count: Number(count),
      });
      setDone(`Added ${answer.sessions.map((s) => s.label).join(', ')}.`);
      onAdded();
    });
  }

  return (
    <section className="card" aria-labelledby="sandbox-title">
      <h2 id="sandbox-title">Add sandbox sessions</h2>
      <p className="muted small">
        Pretend accounts that post into Stagger’s built-in sandbox, not to Telegram.
      </p>
      <form onSubmit={submit} className="inline-form">
        <HowManyField id="sandbox-count" max={50} value={count} onChange={setCount} />
        <button type="submit" disabled={busy}>
          Add
        </button>
      </form>
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}

/** The optional fields of a new session, read back by optionalFields(): its label, then the API credentials. */
function OptionalFields({ prefix }: { prefix: string }) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${prefix}-label`}>Label (optional)</label>
        <input id={`${prefix}-label`} name="label" type="text" maxLength={100} />
      </div>
      <ApiCredentialFields prefix={prefix} />
    </>
  );
}

function ApiCredentialFields({ prefix }: { prefix: string }) {
  return (
    <details>
      <summary>Telegram API credentials (optional)</summary>
      <p className="muted small">
        From my.telegram.org. Leave empty when the server has TELEGRAM_API_ID and TELEGRAM_API_HASH set.
      </p>
      <div className="fields">
        <div className="field">
          <label htmlFor={`${prefix}-api-id`}>api_id</label>
          <input id={`${prefix}-api-id`} name="api_id" type="number" min={1} step={1} inputMode="numeric" />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-api-hash`}>api_hash</label>
          <input
            id={`${prefix}-api-hash`}
            name="api_hash"
            type="text"
            autoComplete="off"
            spellCheck={false}
            pattern="[0-9a-fA-F]{32}"
            title="32 hex digits"
          />
        </div>
      </div>
    </details>
  );
}

/** api_id/api_hash/label from a form, only those filled. */
function optionalFields(form: FormData): { api_id?: number; api_hash?: string; label?: string } {
  const apiId = String(form.get('api_id') ?? '').trim();
  const apiHash = String(form.get('api_hash') ?? '').trim();
  const label = String(form.get('label') ?? '').trim();
  return {
    ...(apiId ? { api_id: Number(apiId) } : {}),
    ...(apiHash ? { api_hash: apiHash } : {}),
    ...(label ? { label } : {}),
  };
}

type LoginStep =
  | { step: 'phone' }
  | { step: 'code'; loginId: string }
  | { step: 'password'; loginId: string; hint: string | null };

function Login({ onDone }: { onDone: () => void }) {
  const [state, setState] = useState<LoginStep>({ step: 'phone' });
  const [done, setDone] = useState<string | null>(null);
  const { error, busy, run } = useAction();

  type Finish = { status?: 'done'; session?: Session; passwordRequired?: boolean; hint?: string | null };
  function finished(answer: Finish, loginId: string) {
    if (answer.passwordRequired) {
      setState({ step: 'password', loginId, hint: answer.hint ?? null });
    } else {
      setDone(`Logged in: ${answer.session?.label ?? 'the account'} was added.`);
      setState({ step: 'phone' });
      onDone();
    }
  }

  function submitPhone(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setDone(null);
    void run(async () => {
      const answer = await api<{ loginId: string }>('POST', '/api/sessions/login', {
        phone: String(form.get('phone') ?? '').trim(),
        ...optionalFields(form),
      });
      setState({ step: 'code', loginId: answer.loginId });
    });
  }

  /** The code or the cloud password of a login under way. */
  function submitStep(loginId: string, step: 'code' | 'password', value: string) {
    void run(async () =>
      finished(
        await api<Finish>('POST', `/api/sessions/login/${encodeURIComponent(loginId)}/${step}`, {
          [step]: value,
        }),
        loginId,
      ),
    );
  }

  const startOver = () => setState({ step: 'phone' });

  return (
    <section className="card" aria-labelledby="login-title">
      <h2 id="login-title">Log in a Telegram account</h2>
      {state.step === 'phone' && (
        <form onSubmit={submitPhone}>
          <div className="field">
            <label htmlFor="login-phone">Phone number</label>
            <input
              id="login-phone"
              name="phone"
              type="tel"
              autoComplete="tel"
              placeholder="+441234567890"
              required
              minLength={5}
            />
          </div>
          <OptionalFields prefix="login" />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Send the code
            </button>
          </div>
        </form>
      )}
      {state.step === 'code' && (
        <LoginStepForm
          name="code"
          label="Login code"
          type="text"
          inputMode="numeric"
          autoComplete="one-time-code"
          submitLabel="Log in"
          busy={busy}
          onSubmit={(code) => submitStep(state.loginId, 'code', code.trim())}
          onStartOver={startOver}
        >
          Telegram sent a login code to the account (in the Telegram app, or by SMS).
        </LoginStepForm>
      )}
      {state.step === 'password' && (
        <LoginStepForm
          name="password"
          label="Cloud password"
          type="password"
          autoComplete="current-password"
          submitLabel="Finish login"
          busy={busy}
          onSubmit={(password) => submitStep(state.loginId, 'password', password)}
          onStartOver={startOver}
        >
          This account has two-step verification{state.hint ? ` (hint: ${state.hint})` : ''}.
        </LoginStepForm>
      )}
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}

/** A step of the login that asks for one value (the code, the cloud password), with "Start over". */
function LoginStepForm({
  name,
  label,
  type,
  inputMode,
  autoComplete,
  submitLabel,
  busy,
  onSubmit,
  onStartOver,
  children,
}: {
  name: string;
  label: string;
  type: 'text' | 'password';
  inputMode?: 'numeric';
  autoComplete: string;
  submitLabel: string;
  busy: boolean;
  /** The field's value, as typed. */
  onSubmit: (value: string) => void;
  onStartOver: () => void;
  /** What the step is about, above the field. */
  children: ReactNode;
}) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(String(new FormData(event.currentTarget).get(name) ?? ''));
  }
  return (
    <form onSubmit={submit}>
      <p>{children}</p>
      <div className="field">
        <label htmlFor={`login-${name}`}>{label}</label>
        <input
          id={`login-${name}`}
          name={name}
          type={type}
          inputMode={inputMode}
          autoComplete={autoComplete}
          required
          autoFocus
        />
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        <button type="button" className="secondary" onClick={onStartOver}>
          Start over
        </button>
      </div>
    </form>
  );
}

function Import({ onDone }: { onDone: () => void }) {
  const [done, setDone] = useState<string | null>(null);
  const { error, setError, busy, run } = useAction();

  function send(body: FormData | Record<string, unknown>, form: HTMLFormElement) {
    setDone(null);
    return run(async () => {
      const answer = await api<{ session: Session; format: string }>('POST', '/api/sessions/import', body);
      setDone(`Imported ${answer.session.label} (${answer.format} session).`);
      form.reset();
      onDone();
    });
  }

  function submitFile(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get('file');
    if (!(file instanceof File) || file.size === 0) {
      setError('Choose a .session file first.');
      return;
    }
    const body = new FormData();
    for (const [key, value] of Object.entries(optionalFields(form))) body.set(key, String(value));
    body.set('file', file);
    void send(body, event.currentTarget);
  }

  function submitString(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const session = String(form.get('session') ?? '').trim();
    if (!session) {
      setError('Paste a session string first.');
      return;
    }
    void send({ session, ...optionalFields(form) }, event.currentTarget);
  }

  return (
    <section className="card" aria-labelledby="import-title">
      <h2 id="import-title">Import a session</h2>
      <p className="muted small">
        A Telethon .session file, or a Telethon, Pyrogram or mtcute session string. Use an account only here
        while Stagger runs it: the same session in two places gets it revoked by Telegram.
      </p>
      <div className="grid2">
        <form onSubmit={submitFile} aria-label="Import a session file">
          <div className="field">
            <label htmlFor="import-file">Session file</label>
            <input id="import-file" name="file" type="file" accept=".session,application/octet-stream" />
          </div>
          <OptionalFields prefix="import-file" />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Import file
            </button>
          </div>
        </form>
        <form onSubmit={submitString} aria-label="Import a session string">
          <div className="field">
            <label htmlFor="import-string">Session string</label>
            <textarea id="import-string" name="session" rows={3} spellCheck={false} maxLength={8192} />
          </div>
          <OptionalFields prefix="import-string" />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Import string
            </button>
          </div>
        </form>
      </div>
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}
