/** The shell: sign-in, navigation (collapsing on phones), and the pages. */
import { useCallback, useEffect, useRef, useState, type FormEvent, type JSX } from 'react';
import { api, ApiError, getToken, messageOf, onUnauthorized, setToken } from './api';
import type { StreamState } from './events';
import { FeedProvider, useFeed } from './feed';
import { useAction } from './hooks';
import { Link, navigate, usePath } from './router';
import { ErrorText } from './ui';
import { Overview } from './pages/Overview';
import { Timeline } from './pages/Timeline';
import { PostAndGroups } from './pages/PostAndGroups';
import { Sessions } from './pages/Sessions';
import { Activity } from './pages/Activity';
import { AdminUsers } from './admin/Users';
import { AdminPool } from './admin/Pool';
import { AdminBots } from './admin/Bots';
import { AdminCluster } from './admin/Cluster';

interface Page {
  path: string;
  title: string;
  admin?: boolean;
  render: () => JSX.Element;
}

const PAGES: Page[] = [
  { path: '/app/overview', title: 'Overview', render: () => <Overview /> },
  { path: '/app/timeline', title: 'Timeline', render: () => <Timeline /> },
  { path: '/app/post', title: 'Post and groups', render: () => <PostAndGroups /> },
  { path: '/app/sessions', title: 'Sessions', render: () => <Sessions /> },
  { path: '/app/activity', title: 'Activity', render: () => <Activity /> },
  { path: '/app/admin/users', title: 'Users and plans', admin: true, render: () => <AdminUsers /> },
  { path: '/app/admin/pool', title: 'Session pool', admin: true, render: () => <AdminPool /> },
  { path: '/app/admin/bots', title: 'All bots', admin: true, render: () => <AdminBots /> },
  { path: '/app/admin/cluster', title: 'Cluster', admin: true, render: () => <AdminCluster /> },
];

type Who = { token: string; admin: boolean };

/** The live badge: a word, and what it means for what the pages show. */
const LIVE: Record<StreamState, { word: string; meaning: string }> = {
  open: {
    word: 'live',
    meaning: 'Live: the bot’s events arrive as they happen, and the pages update by themselves.',
  },
  connecting: {
    word: 'connecting…',
    meaning: 'Connecting to the bot’s live events; until then the pages refresh every few seconds.',
  },
  closed: {
    word: 'offline',
    meaning:
      'Offline: live events are not arriving (the server cannot be reached); it is tried again by itself, and the pages refresh when it is back.',
  },
};

/** Who the token belongs to: GET /api/me says the role (an invalid token throws a 401 ApiError). */
async function isAdmin(token: string): Promise<boolean> {
  const me = await api<{ role: string }>('GET', '/api/me', undefined, { token });
  return me.role === 'admin';
}

export function App() {
  const [who, setWho] = useState<Who | null>(null);
  const [checking, setChecking] = useState(() => getToken() !== null);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);

  const signOut = useCallback((reason: string | null = null) => {
    setToken(null);
    navigate('/app/overview', true);
    setWho(null);
    setSignedOutReason(reason);
  }, []);

  useEffect(() => {
    onUnauthorized((message) => signOut(`You were signed out: ${message}.`));
    return () => onUnauthorized(null);
  }, [signOut]);

  // A token kept in this tab from before a reload: check it again.
  useEffect(() => {
    const stored = getToken();
    if (!stored) return;
    let current = true;
    api('GET', '/api/bot/status', undefined, { token: stored })
      .then(() => isAdmin(stored))
      .then((admin) => current && setWho({ token: stored, admin }))
      .catch((error: unknown) => {
        if (!current) return;
        setToken(null);
        setSignedOutReason(`Please sign in again: ${messageOf(error)}`);
      })
      .finally(() => current && setChecking(false));
    return () => {
      current = false;
    };
  }, []);

  if (checking) return <p className="muted center">Loading…</p>;
  if (!who) {
    return (
      <SignIn
        reason={signedOutReason}
        onSignedIn={(next) => {
          setSignedOutReason(null);
          setWho(next);
          if (!window.location.pathname.startsWith('/app/')) navigate('/app/overview', true);
        }}
      />
    );
  }
  return (
    <FeedProvider
      token={who.token}
      onUnauthorized={() => signOut('You were signed out: the token was refused.')}
    >
      <Shell admin={who.admin} onSignOut={() => signOut()} />
    </FeedProvider>
  );
}

function SignIn({ reason, onSignedIn }: { reason: string | null; onSignedIn: (who: Who) => void }) {
  const [value, setValue] = useState('');
  const { error, setError, busy, run } = useAction();
  useEffect(() => {
    document.title = 'Sign in · Stagger';
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    const token = value.trim();
    if (!token) {
      setError('Enter your API token.');
      return;
    }
    void run(
      async () => {
        await api('GET', '/api/bot/status', undefined, { token });
        const admin = await isAdmin(token);
        setToken(token);
        onSignedIn({ token, admin });
      },
      (caught) =>
        setError(
          caught instanceof ApiError && caught.status === 401
            ? `That token was not accepted: ${caught.message}.`
            : messageOf(caught),
        ),
    );
  }

  return (
    <main className="signin">
      <form className="card" onSubmit={submit} method="post" aria-labelledby="signin-title">
        <h1 id="signin-title">
          <img src="/favicon.svg" alt="" width="28" height="28" /> Stagger
        </h1>
        <p className="muted">Sign in with the API token you were given.</p>
        {reason && <p className="notice">{reason}</p>}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="stg_…"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-describedby={error ? 'signin-error' : undefined}
          autoFocus
        />
        {error && (
          <p className="error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          The token stays in this browser tab only and is forgotten when you close it.
        </p>
      </form>
    </main>
  );
}

function Shell({ admin, onSignOut }: { admin: boolean; onSignOut: () => void }) {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const { state } = useFeed();
  const pages = PAGES.filter((p) => !p.admin || admin);
  const page = pages.find((p) => p.path === path);

  useEffect(() => {
    document.title = `${page?.title ?? 'Not found'} · Stagger`;
    setMenuOpen(false);
    // Arriving (after signing in, the focused button is gone) and moving between pages put the keyboard focus on
    // the page's heading: a screen reader announces the page, and Tab / Shift+Tab go on from a known place.
    heading.current?.focus();
  }, [page]);

  const navLink = (p: Page) => (
    <li key={p.path}>
      <Link to={p.path} aria-current={p.path === path ? 'page' : undefined}>
        {p.title}
      </Link>
    </li>
  );

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className={admin ? 'top two-rows' : 'top'}>
        <div className="bar">
          <Link to="/app/overview" className="brand">
            <img src="/favicon.svg" alt="" width="24" height="24" /> Stagger
          </Link>
          <span className={`live live-${state}`} title={LIVE[state].meaning} data-testid="live-badge">
            {LIVE[state].word}
            <span className="sr-only">: {LIVE[state].meaning}</span>
          </span>
          <button
            type="button"
            className="menu-toggle secondary"
            aria-expanded={menuOpen}
            aria-controls="nav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        </div>
        <nav id="nav" aria-label="Main" className={menuOpen ? 'open' : ''}>
          <ul>{pages.filter((p) => !p.admin).map(navLink)}</ul>
          {admin && (
            <>
              <span className="nav-label">Operator</span>
              <ul>{pages.filter((p) => p.admin).map(navLink)}</ul>
            </>
          )}
          <button type="button" className="secondary signout" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      <main id="main" className="content">
        <h1 ref={heading} tabIndex={-1}>
          {page?.title ?? 'Page not found'}
        </h1>
        {page ? (
          page.render()
        ) : path.startsWith('/app/admin/') && !admin ? (
          <ErrorText error="This page is for operators." />
        ) : (
          <p>
            There is no page here. Go to the <Link to="/app/overview">overview</Link>.
          </p>
        )}
      </main>
    </>
  );
}
