/** Loading data from the API into a component: `{data, error, loading, reload}`. */
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
