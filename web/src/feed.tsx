/** One live event stream per signed-in tab, shared by the pages (Overview, Timeline, Activity). */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { openEventStream, type StreamState } from './events';
import type { LiveEvent } from './types';

/** How many recent events the tab keeps in memory. */
const KEEP = 500;

interface Feed {
  events: LiveEvent[];
  state: StreamState;
  /** Called for every new event, after `events` has it. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

const FeedContext = createContext<Feed>({ events: [], state: 'closed', subscribe: () => () => undefined });

export function FeedProvider({
  token,
  onUnauthorized,
  children,
}: {
  token: string;
  onUnauthorized: () => void;
  children: ReactNode;
}) {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  const listeners = useRef(new Set<(event: LiveEvent) => void>());
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    let seq = 0;
    return openEventStream({
      token,
      onState: setState,
      onUnauthorized: () => unauthorized.current(),
      onMessage(message) {
        let data: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(message.data);
          if (!parsed || typeof parsed !== 'object') return;
          data = parsed as Record<string, unknown>;
        } catch {
          return;
        }
        const at = typeof data.at === 'number' ? data.at : Date.now();
        // The data is the server's presented event (as every API answer, trusted in shape); its type is the SSE
        // event name.
        const event = {
          ...data,
          seq: ++seq,
          type: message.event,
          at,
          time: typeof data.time === 'string' ? data.time : new Date(at).toISOString(),
        } as LiveEvent;
        setEvents((old) =>
          old.length >= KEEP ? [...old.slice(old.length - KEEP + 1), event] : [...old, event],
        );
        for (const l of listeners.current) l(event);
      },
    });
  }, [token]);

  // One function for the tab's whole life: a subscriber's effect must not restart (and drop its pending timer)
  // each time an event arrives.
  const subscribe = useCallback((listener: (event: LiveEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo<Feed>(() => ({ events, state, subscribe }), [events, state, subscribe]);
  return <FeedContext.Provider value={value}>{children}</FeedContext.Provider>;
}

export function useFeed(): Feed {
  return useContext(FeedContext);
}

/**
 * Calls `onEvent` (debounced) when an event whose type starts with one of `prefixes` arrives: pages refresh their
 * data when the bot did something.
 */
export function useOnEvents(prefixes: readonly string[], onEvent: () => void, delayMs = 400): void {
  const { subscribe } = useFeed();
  const callback = useRef(onEvent);
  callback.current = onEvent;
  const key = prefixes.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const wanted = key.split(',');
    const off = subscribe((event) => {
      if (!wanted.some((p) => event.type.startsWith(p))) return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        callback.current();
      }, delayMs);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, key, delayMs]);
}
