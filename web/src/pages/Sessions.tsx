/** The customer's Telegram sessions: list, sandbox sessions, log in a real account, import, check, delete. */
import { useState, type FormEvent } from 'react';
import { api, messageOf } from '../api';
import { useOnEvents } from '../feed';
import { useResource } from '../hooks';
import type { Session } from '../types';
import { Badge, ConfirmButton, ErrorText, Loading, Notice, Relative, formatTime } from '../ui';

interface CheckResult {
  ok: boolean;
  dead?: boolean;
  error?: string;
  errorText?: string;
  limited?: boolean;
  limitReasons?: string[];
  account?: { id: string | null; name: string | null; username: string | null };
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
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function check(id: string) {
    setBusy(id);
    setError(null);
    try {
      const result = await api<CheckResult>('POST', `/api/sessions/${id}/check`);
      setChecks((c) => ({ ...c, [id]: result }));
      onChange();
    } catch (caught) {
      setChecks((c) => ({ ...c, [id]: messageOf(caught) }));
    } finally {
      setBusy(null);
    }
  }

  async function remove(id: string) {
    setBusy(id);
    setError(null);
    try {
      await api('DELETE', `/api/sessions/${id}`);
      onChange();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <ErrorText error={error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">State</th>
              <th scope="col">Cooldown until</th>
              <th scope="col">Account</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => {
              const result = checks[s.id];
              return (
                <tr key={s.id}>
                  <td>
                    {s.label}
                    <div className="muted small">
                      {s.driver === 'sandbox' ? 'sandbox' : 'Telegram'} · #{s.id}
                    </div>
                  </td>
                  <td>
                    <Badge value={s.state} />
                    {s.stateReason && <div className="muted small">{s.stateReason.replaceAll('_', ' ')}</div>}
                  </td>
                  <td>{s.cooldownUntil ? <Relative iso={s.cooldownUntil} /> : '—'}</td>
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
                        disabled={busy === s.id}
                        aria-label={`Check ${s.label}`}
                      >
                        Check
                      </button>
                      <ConfirmButton
                        label="Delete"
                        confirmLabel={`Delete ${s.label}`}
                        onConfirm={() => remove(s.id)}
                        disabled={busy === s.id}
                      />
                    </div>
                    {result && <CheckView result={result} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

function CheckView({ result }: { result: CheckResult | string }) {
  if (typeof result === 'string') return <p className="error small">{result}</p>;
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
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const answer = await api<{ sessions: Session[] }>('POST', '/api/sessions/sandbox', {
        count: Number(count),
      });
      setDone(`Added ${answer.sessions.map((s) => s.label).join(', ')}.`);
      onAdded();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="sandbox-title">
      <h2 id="sandbox-title">Add sandbox sessions</h2>
      <p className="muted small">
        Pretend accounts that post into Stagger’s built-in sandbox, not to Telegram.
      </p>
      <form onSubmit={submit} className="inline-form">
        <div className="field">
          <label htmlFor="sandbox-count">How many</label>
          <input
            id="sandbox-count"
            type="number"
            min={1}
            max={50}
            step={1}
            required
            value={count}
            onChange={(e) => setCount(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          Add
        </button>
      </form>
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
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
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

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

  function submitCode(event: FormEvent<HTMLFormElement>, loginId: string) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get('code') ?? '').trim();
    void run(async () =>
      finished(
        await api<Finish>('POST', `/api/sessions/login/${encodeURIComponent(loginId)}/code`, { code }),
        loginId,
      ),
    );
  }

  function submitPassword(event: FormEvent<HTMLFormElement>, loginId: string) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get('password') ?? '');
    void run(async () =>
      finished(
        await api<Finish>('POST', `/api/sessions/login/${encodeURIComponent(loginId)}/password`, {
          password,
        }),
        loginId,
      ),
    );
  }

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
          <div className="field">
            <label htmlFor="login-label">Label (optional)</label>
            <input id="login-label" name="label" type="text" maxLength={100} />
          </div>
          <ApiCredentialFields prefix="login" />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Send the code
            </button>
          </div>
        </form>
      )}
      {state.step === 'code' && (
        <form onSubmit={(e) => submitCode(e, state.loginId)}>
          <p>Telegram sent a login code to the account (in the Telegram app, or by SMS).</p>
          <div className="field">
            <label htmlFor="login-code">Login code</label>
            <input
              id="login-code"
              name="code"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              autoFocus
            />
          </div>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Log in
            </button>
            <button type="button" className="secondary" onClick={() => setState({ step: 'phone' })}>
              Start over
            </button>
          </div>
        </form>
      )}
      {state.step === 'password' && (
        <form onSubmit={(e) => submitPassword(e, state.loginId)}>
          <p>This account has two-step verification{state.hint ? ` (hint: ${state.hint})` : ''}.</p>
          <div className="field">
            <label htmlFor="login-password">Cloud password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              autoFocus
            />
          </div>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Finish login
            </button>
            <button type="button" className="secondary" onClick={() => setState({ step: 'phone' })}>
              Start over
            </button>
          </div>
        </form>
      )}
      <ErrorText error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}

function Import({ onDone }: { onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function send(body: FormData | Record<string, unknown>, form: HTMLFormElement) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const answer = await api<{ session: Session; format: string }>('POST', '/api/sessions/import', body);
      setDone(`Imported ${answer.session.label} (${answer.format} session).`);
      form.reset();
      onDone();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
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
          <div className="field">
            <label htmlFor="import-file-label">Label (optional)</label>
            <input id="import-file-label" name="label" type="text" maxLength={100} />
          </div>
          <ApiCredentialFields prefix="import-file" />
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
          <div className="field">
            <label htmlFor="import-string-label">Label (optional)</label>
            <input id="import-string-label" name="label" type="text" maxLength={100} />
          </div>
          <ApiCredentialFields prefix="import-string" />
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
