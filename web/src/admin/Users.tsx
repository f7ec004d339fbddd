/** Operator: users and their plans; a new user's token is shown once. */
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAction, useResource } from '../hooks';
import type { PlanStatus, PlanType, Role, User } from '../types';
import { Badge, ConfirmButton, DataTable, ErrorText, formatTime, Loading, Notice } from '../ui';

const PLAN_TYPES: (PlanType | '')[] = ['', 'STARTER', 'ENTERPRISE'];
const PLAN_STATUSES: PlanStatus[] = ['active', 'inactive', 'expired', 'suspended'];
const ROLES: Role[] = ['user', 'admin'];

interface UserForm {
  name: string;
  role: Role;
  plan_type: PlanType | '';
  plan_status: PlanStatus;
  max_sessions: string;
}

const body = (f: UserForm) => ({
  name: f.name.trim(),
  role: f.role,
  plan_type: f.plan_type === '' ? null : f.plan_type,
  plan_status: f.plan_status,
  max_sessions: Number(f.max_sessions),
});

export function AdminUsers() {
  const users = useResource<{ users: User[] }>('/api/admin/users');
  const [editing, setEditing] = useState<string | null>(null);
  const { error, run } = useAction();

  function remove(user: User) {
    return run(async () => {
      await api('DELETE', `/api/admin/users/${user.id}`);
      users.reload();
    });
  }

  return (
    <div className="stack">
      <NewUser onCreated={users.reload} />
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <ErrorText error={error ?? users.error} />
        {!users.data ? (
          users.loading && <Loading what="the users" />
        ) : (
          <DataTable columns={['Name', 'Role', 'Plan', 'Plan status', 'Max sessions', 'Created', 'Actions']}>
            {users.data.users.map((u) =>
              editing === u.id ? (
                <EditRow
                  key={u.id}
                  user={u}
                  onDone={() => {
                    setEditing(null);
                    users.reload();
                  }}
                  onCancel={() => setEditing(null)}
                />
              ) : (
                <tr key={u.id}>
                  <td>
                    {u.name}
                    <div className="muted small">#{u.id}</div>
                  </td>
                  <td>{u.role}</td>
                  <td>{u.plan_type ?? '—'}</td>
                  <td>
                    <Badge value={u.plan_status} />
                  </td>
                  <td>{u.max_sessions}</td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setEditing(u.id)}
                        aria-label={`Edit ${u.name}`}
                      >
                        Edit
                      </button>
                      <ConfirmButton
                        label="Delete"
                        confirmLabel={`Delete ${u.name}`}
                        onConfirm={() => remove(u)}
                      />
                    </div>
                  </td>
                </tr>
              ),
            )}
          </DataTable>
        )}
      </section>
    </div>
  );
}

function UserFields({ form, set, prefix }: { form: UserForm; set: (f: UserForm) => void; prefix: string }) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${prefix}-name`}>Name</label>
        <input
          id={`${prefix}-name`}
          type="text"
          required
          maxLength={200}
          value={form.name}
          onChange={(e) => set({ ...form, name: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-role`}>Role</label>
        <select
          id={`${prefix}-role`}
          value={form.role}
          onChange={(e) => set({ ...form, role: e.target.value as Role })}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r === 'admin' ? 'operator (admin)' : 'customer (user)'}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-plan-type`}>Plan</label>
        <select
          id={`${prefix}-plan-type`}
          value={form.plan_type}
          onChange={(e) => set({ ...form, plan_type: e.target.value as PlanType | '' })}
        >
          {PLAN_TYPES.map((p) => (
            <option key={p} value={p}>
              {p === '' ? 'none' : p}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-plan-status`}>Plan status</label>
        <select
          id={`${prefix}-plan-status`}
          value={form.plan_status}
          onChange={(e) => set({ ...form, plan_status: e.target.value as PlanStatus })}
        >
          {PLAN_STATUSES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-max`}>Max sessions</label>
        <input
          id={`${prefix}-max`}
          type="number"
          min={0}
          max={1000}
          step={1}
          required
          value={form.max_sessions}
          onChange={(e) => set({ ...form, max_sessions: e.target.value })}
        />
      </div>
    </>
  );
}

function NewUser({ onCreated }: { onCreated: () => void }) {
  const empty: UserForm = {
    name: '',
    role: 'user',
    plan_type: 'STARTER',
    plan_status: 'active',
    max_sessions: '5',
  };
  const [form, setForm] = useState<UserForm>(empty);
  const [created, setCreated] = useState<{ user: User; token: string } | null>(null);
  const { error, busy, run } = useAction();

  function submit(event: FormEvent) {
    event.preventDefault();
    setCreated(null);
    void run(async () => {
      const answer = await api<{ user: User; token: string }>('POST', '/api/admin/users', body(form));
      setCreated(answer);
      setForm(empty);
      onCreated();
    });
  }

  return (
    <section className="card" aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <form onSubmit={submit}>
        <div className="fields">
          <UserFields form={form} set={setForm} prefix="new-user" />
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Create user
          </button>
        </div>
      </form>
      <ErrorText error={error} />
      {created && (
        <div className="token-box" role="status">
          <p>
            <strong>{created.user.name}</strong> was created. Their API token is shown{' '}
            <strong>only once</strong>: copy it now and hand it over safely.
          </p>
          <label htmlFor="new-token">Token for {created.user.name}</label>
          <input
            id="new-token"
            type="text"
            readOnly
            value={created.token}
            onFocus={(e) => e.currentTarget.select()}
            data-testid="new-user-token"
          />
        </div>
      )}
    </section>
  );
}

function EditRow({ user, onDone, onCancel }: { user: User; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<UserForm>({
    name: user.name,
    role: user.role,
    plan_type: user.plan_type ?? '',
    plan_status: user.plan_status,
    max_sessions: String(user.max_sessions),
  });
  const { error, busy, run } = useAction();

  function submit(event: FormEvent) {
    event.preventDefault();
    void run(async () => {
      await api('PATCH', `/api/admin/users/${user.id}`, body(form));
      onDone();
    });
  }

  return (
    <tr>
      <td colSpan={7}>
        <form onSubmit={submit} aria-label={`Edit ${user.name}`}>
          <div className="fields">
            <UserFields form={form} set={setForm} prefix={`edit-${user.id}`} />
          </div>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Save
            </button>
            <button type="button" className="secondary" onClick={onCancel}>
              Cancel
            </button>
          </div>
          <ErrorText error={error} />
        </form>
        {!error && busy && <Notice>Saving…</Notice>}
      </td>
    </tr>
  );
}
