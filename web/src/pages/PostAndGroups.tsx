/**
 * The post to forward, the group list (with per-line errors), what is known of each group before posting (slow
 * mode, paid messages, closed topics, write rights) with the preview's warnings, and the delays.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { FactsWarning } from '../../../src/core/group-facts.js';
import type { TargetLineError, TargetWarning } from '../../../src/core/group-targets.js';
import type { PlanJson } from '../../../src/core/plan-json.js';
import { count } from '../../../src/core/words.js';
import { api, ApiError, messageOf } from '../api';
import { useAction, useResource } from '../hooks';
import type { GroupView, Session, Settings } from '../types';
import { ErrorText, Loading, Notice } from '../ui';

export function PostAndGroups() {
  // Saving the groups changes what is known of them: the facts card reloads.
  const [groupsVersion, setGroupsVersion] = useState(0);
  return (
    <div className="stack">
      <PostLink />
      <Groups onSaved={() => setGroupsVersion((n) => n + 1)} />
      <GroupFacts version={groupsVersion} />
      <SettingsForm />
    </div>
  );
}

/** A light check before asking the server, which has the final word. */
const LOOKS_LIKE_POST =
  /^(?:(?:https?:\/\/)?(?:www\.)?(?:t|telegram)\.me\/\S+\/\d+\/?(?:[?#]\S*)?|tg:\/\/(?:resolve|privatepost)\?\S+)$/i;

interface PostAnswer {
  post_link: string | null;
  source: { chat: string; messageId: number; topicId: number | null } | null;
}

function PostLink() {
  const loaded = useResource<PostAnswer>('/api/bot/post');
  const [value, setValue] = useState('');
  const [saved, setSaved] = useState<PostAnswer | null>(null);
  const { error, setError, busy, run } = useAction();
  const lastChecked = useRef<string | null>(null);

  useEffect(() => {
    if (!loaded.data) return;
    setValue(loaded.data.post_link ?? '');
    setSaved(loaded.data);
    lastChecked.current = loaded.data.post_link ?? '';
  }, [loaded.data]);

  async function save(): Promise<void> {
    const link = value.trim();
    if (link === lastChecked.current) return;
    lastChecked.current = link;
    if (!link) {
      setError('Enter the link of the post to forward.');
      return;
    }
    if (!LOOKS_LIKE_POST.test(link)) {
      setError(
        'That does not look like a Telegram post link: expected t.me/<channel>/<message id> or t.me/c/<id>/<message id>.',
      );
      return;
    }
    await run(async () => {
      const answer = await api<PostAnswer>('PUT', '/api/bot/post', { post_link: link });
      setSaved(answer);
      setValue(answer.post_link ?? link);
      lastChecked.current = answer.post_link ?? link;
    });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    lastChecked.current = null;
    void save();
  }

  return (
    <section className="card" aria-labelledby="post-title">
      <h2 id="post-title">The post</h2>
      {loaded.loading && !loaded.data ? (
        <Loading what="the post" />
      ) : (
        <form onSubmit={submit} className="inline-form">
          <div className="field grow">
            <label htmlFor="post-link">Post link</label>
            <input
              id="post-link"
              type="text"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://t.me/channel/123"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              onBlur={() => void save()}
              aria-invalid={error ? true : undefined}
              aria-describedby="post-help"
            />
            <small id="post-help" className="muted">
              A public post (t.me/channel/123), a private one (t.me/c/1234567890/123) or a forum topic post.
              It is checked when you leave the field.
            </small>
          </div>
          <button type="submit" disabled={busy}>
            Save post
          </button>
        </form>
      )}
      <ErrorText error={error ?? loaded.error} />
      {!error && saved?.source && (
        <Notice>
          Forwarding message {saved.source.messageId} of {saved.source.chat}
          {saved.source.topicId !== null && <> (topic {saved.source.topicId})</>}: {saved.post_link}
        </Notice>
      )}
    </section>
  );
}

interface GroupsAnswer {
  groups: GroupView[];
}

function Groups({ onSaved }: { onSaved: () => void }) {
  const loaded = useResource<GroupsAnswer>('/api/bot/groups');
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<TargetLineError[]>([]);
  const [warnings, setWarnings] = useState<TargetWarning[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const { error, setError, busy, run } = useAction();
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (loaded.data) setText(loaded.data.groups.map((g) => g.key).join('\n'));
  }, [loaded.data]);

  const lines = text.split(/\r?\n/);
  const filled = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    void run(
      async () => {
        // Every line is sent, blank ones too, so that the server's line numbers are the textarea's.
        const answer = await api<{ groups: string[]; warnings: TargetWarning[] }>('PUT', '/api/bot/groups', {
          groups: text === '' ? [] : lines,
        });
        setErrors([]);
        setWarnings(answer.warnings);
        setSaved(`Saved ${count(answer.groups.length, 'group')}.`);
        onSaved();
      },
      (caught) => {
        const details =
          caught instanceof ApiError ? (caught.details as { errors?: TargetLineError[] }) : undefined;
        const lineErrors = Array.isArray(details?.errors) ? details.errors : [];
        setErrors(lineErrors);
        setWarnings([]);
        // Bad lines are listed one by one beside the groups: the server's message, which spells every one of them
        // out again in one paragraph, would say each twice. Other refusals (too many groups) are said as they are.
        const onlyLines = caught instanceof ApiError && caught.code === 'INVALID_GROUP_TARGETS';
        setError(
          onlyLines && lineErrors.length > 0
            ? `Nothing was saved: ${count(lineErrors.length, 'line')} to fix, listed beside the groups.`
            : messageOf(caught),
        );
      },
    );
  }

  /** Puts the cursor on a line of the textarea. */
  function goToLine(line: number) {
    const element = area.current;
    if (!element) return;
    let start = 0;
    for (let i = 1; i < line; i++) start += (lines[i - 1]?.length ?? 0) + 1;
    const end = start + (lines[line - 1]?.length ?? 0);
    element.focus();
    element.setSelectionRange(start, end);
  }

  return (
    <section className="card" aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      {loaded.loading && !loaded.data ? (
        <Loading what="the groups" />
      ) : (
        <form onSubmit={submit}>
          <div className="groups-layout">
            <div className="field">
              <label htmlFor="groups">Groups, one per line</label>
              <textarea
                id="groups"
                ref={area}
                rows={12}
                spellCheck={false}
                value={text}
                onChange={(e) => setText(e.target.value)}
                aria-invalid={errors.length > 0 ? true : undefined}
                aria-describedby="groups-help"
              />
              <small id="groups-help" className="muted">
                @username, t.me/username, a chat id like -1001234567890, or a forum topic (t.me/group/12).
                Paste many lines at once; # starts a comment. {count(filled, 'line')} filled.
              </small>
            </div>
            {errors.length > 0 && (
              <div className="line-errors" aria-labelledby="line-errors-title">
                <h3 id="line-errors-title">Lines to fix</h3>
                <ul>
                  {errors.map((e) => (
                    <li key={e.line} data-line={e.line}>
                      <button type="button" className="link" onClick={() => goToLine(e.line)}>
                        Line {e.line}
                      </button>
                      : <code>{e.text}</code> — {e.message}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </div>
          <div className="actions">
            <button type="submit" disabled={busy}>
              {busy ? 'Saving…' : 'Save groups'}
            </button>
          </div>
        </form>
      )}
      <ErrorText error={error ?? loaded.error} />
      {saved && <Notice>{saved}</Notice>}
      {warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {warnings.map((w) => (
            <li key={`${w.code}-${w.line}`}>{w.message}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The preview as GET /api/bot/plan sends it, with the warnings from the groups' known facts. */
type Preview = PlanJson<string, string> & { groupWarnings: FactsWarning[] };

interface PreflightAnswer {
  summary: { sessions: number; groups: number; problems: number };
}

/**
 * What each session knows of each group — read from Telegram when a cycle is planned (at most once an hour) or by
 * "Check the groups now" (the preflight) — and what the preview warns about because of it.
 */
function GroupFacts({ version }: { version: number }) {
  const groups = useResource<GroupsAnswer>('/api/bot/groups');
  const preview = useResource<Preview>('/api/bot/plan');
  const sessions = useResource<{ sessions: Session[] }>('/api/sessions');
  const [checked, setChecked] = useState<string | null>(null);
  const { error, busy, run } = useAction();
  const { reload: reloadGroups } = groups;
  const { reload: reloadPreview } = preview;

  useEffect(() => {
    if (version === 0) return;
    reloadGroups();
    reloadPreview();
  }, [version, reloadGroups, reloadPreview]);

  function check() {
    setChecked(null);
    void run(async () => {
      const report = await api<PreflightAnswer>('GET', '/api/bot/preflight');
      const { groups: g, sessions: n, problems } = report.summary;
      setChecked(
        `Checked ${count(g, 'group')} with ${count(n, 'session')}: ` +
          `${problems === 0 ? 'no problem' : count(problems, 'problem')}.`,
      );
      reloadGroups();
      reloadPreview();
    });
  }

  const labels = new Map((sessions.data?.sessions ?? []).map((s) => [s.id, s.label]));
  const list = groups.data?.groups ?? [];
  const known = list.filter((g) => g.facts.some((f) => f.factsText.length > 0));
  const warnings = preview.data?.groupWarnings ?? [];

  return (
    <section className="card" aria-labelledby="facts-title">
      <h2 id="facts-title">Before posting</h2>
      <p className="muted">
        What Stagger knows of each group: read from Telegram when a cycle is planned (at most once an hour per
        account and group) or when you check now. Stagger never pays to post: a group with paid messages is
        skipped.
      </p>
      <div className="actions">
        <button type="button" onClick={check} disabled={busy}>
          {busy ? 'Checking…' : 'Check the groups now'}
        </button>
      </div>
      <ErrorText error={error ?? groups.error} />
      {checked && <Notice>{checked}</Notice>}
      {warnings.length > 0 && (
        <ul className="warnings" aria-label="Preview warnings">
          {warnings.map((w) => (
            <li key={`${w.code}-${w.group}`} data-code={w.code}>
              {w.message}
            </li>
          ))}
        </ul>
      )}
      {!groups.data ? (
        groups.loading && <Loading what="what is known of the groups" />
      ) : known.length === 0 ? (
        <p className="muted">
          {list.some((g) => g.facts.length > 0)
            ? 'Nothing known stops a post.'
            : 'Not checked yet: the groups are read when the bot plans its next cycle.'}
        </p>
      ) : (
        <ul className="group-facts" aria-label="Group facts">
          {known.map((g) => (
            <li key={g.key} data-group={g.key}>
              <code>{g.key}</code>
              <ul>
                {g.facts
                  .filter((f) => f.factsText.length > 0)
                  .map((f) => (
                    <li key={f.sessionId} title={f.skipText ?? undefined}>
                      {labels.get(f.sessionId) ?? f.sessionId}: {f.factsText.join(', ')}
                    </li>
                  ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SettingsForm() {
  const loaded = useResource<Settings>('/api/bot/settings');
  const [form, setForm] = useState<Record<keyof Settings, string | boolean> | null>(null);
  const [saved, setSaved] = useState(false);
  const { error, busy, run } = useAction();

  useEffect(() => {
    if (!loaded.data) return;
    setForm({
      delay_between_posts: String(loaded.data.delay_between_posts),
      delay_between_cycles: String(loaded.data.delay_between_cycles),
      min_group_gap_seconds: String(loaded.data.min_group_gap_seconds),
      silent: loaded.data.silent,
      hide_sender: loaded.data.hide_sender,
    });
  }, [loaded.data]);

  if (!form) {
    return (
      <section className="card" aria-labelledby="settings-title">
        <h2 id="settings-title">Timing and options</h2>
        {loaded.error ? <ErrorText error={loaded.error} /> : <Loading what="the settings" />}
      </section>
    );
  }

  const set = (key: keyof Settings, value: string | boolean) => {
    setForm({ ...form, [key]: value });
    setSaved(false);
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!form) return;
    setSaved(false);
    void run(async () => {
      const answer = await api<Settings>('PUT', '/api/bot/settings', {
        delay_between_posts: Number(form.delay_between_posts),
        delay_between_cycles: Number(form.delay_between_cycles),
        min_group_gap_seconds: Number(form.min_group_gap_seconds),
        silent: form.silent,
        hide_sender: form.hide_sender,
      });
      setForm({
        delay_between_posts: String(answer.delay_between_posts),
        delay_between_cycles: String(answer.delay_between_cycles),
        min_group_gap_seconds: String(answer.min_group_gap_seconds),
        silent: answer.silent,
        hide_sender: answer.hide_sender,
      });
      setSaved(true);
    });
  }

  const number = (key: keyof Settings, label: string, help: string, min: number) => (
    <div className="field">
      <label htmlFor={key}>{label}</label>
      <input
        id={key}
        type="number"
        min={min}
        step="any"
        required
        value={String(form[key])}
        onChange={(e) => set(key, e.target.value)}
        aria-describedby={`${key}-help`}
      />
      <small id={`${key}-help`} className="muted">
        {help}
      </small>
    </div>
  );

  return (
    <section className="card" aria-labelledby="settings-title">
      <h2 id="settings-title">Timing and options</h2>
      <form onSubmit={submit}>
        <div className="fields">
          {number(
            'delay_between_posts',
            'Delay between posts (s)',
            'Between two posts of one session; at least 0.2.',
            0.2,
          )}
          {number(
            'delay_between_cycles',
            'Delay between cycles (s)',
            'Enterprise: the pause after a cycle ends before the next starts.',
            0,
          )}
          {number(
            'min_group_gap_seconds',
            'Minimum group gap (s)',
            'No two of your accounts post to one group closer than this; 0 turns the guard off.',
            0,
          )}
        </div>
        <div className="checks">
          <label>
            <input
              type="checkbox"
              checked={form.silent === true}
              onChange={(e) => set('silent', e.target.checked)}
            />{' '}
            Silent (no notification sound)
          </label>
          <label>
            <input
              type="checkbox"
              checked={form.hide_sender === true}
              onChange={(e) => set('hide_sender', e.target.checked)}
            />{' '}
            Hide the sender (no “Forwarded from” header)
          </label>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
      <ErrorText error={error} />
      {saved && <Notice>Settings saved.</Notice>}
    </section>
  );
}
