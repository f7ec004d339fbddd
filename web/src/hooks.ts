/**
 * Loading data from the API into a component: `{data, error, loading, reload}`; running a user's action with its
 * error and busy flag: `{error, setError, busy, setBusy, run}`; whether a media query matches now.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, messageOf } from './api';

export interface Resource<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

export function useResource<T>(path: string | null, options: { refreshMs?: number } = {}): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const first = useRef(true);

  useEffect(() => {
    first.current = true;
    setData(null);
  }, [path]);

  useEffect(() => {
    if (path === null) return;
    // A superseded answer is ignored rather than aborted: no cancelled requests in the browser's log.
    let current = true;
    if (first.current) setLoading(true);
    api<T>('GET', path)
      .then((value) => {
        if (!current) return;
        first.current = false;
        setData(value);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (!current) return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'CLIENT', messageOf(caught)));
      })
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
  }, [path, tick]);

  const refreshMs = options.refreshMs;
  useEffect(() => {
    if (!refreshMs || path === null) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, path, reload]);

  return { data, error, loading, reload };
}

export interface Action {
  /** The last failure in words (an ApiError's message), or a message the component set itself. */
  error: string | null;
  setError(error: string | null): void;
  /** True while an action runs. */
  busy: boolean;
  /** For work that cannot go through `run`, such as a load that ignores superseded answers. */
  setBusy(busy: boolean): void;
  /**
   * Clears the error, runs `action` with `busy` set, and answers whether it succeeded. A failure becomes `error`
   * (the caught value's message), or goes to `onError` instead when one is given.
   */
  run(action: () => Promise<unknown>, onError?: (caught: unknown) => void): Promise<boolean>;
}

export function useAction(): Action {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<unknown>, onError?: (caught: unknown) => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      if (onError) onError(caught);
      else setError(messageOf(caught));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, setError, busy, setBusy, run };
}

/** Whether the CSS media query matches, following the window as it changes (a phone turned, a window resized). */
export function useMediaQuery(media: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(media).matches);
  useEffect(() => {
    const list = window.matchMedia(media);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [media]);
  return matches;
}
