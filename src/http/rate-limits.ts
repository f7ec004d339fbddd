/**
 * Fixed-window request counters, on the service's clock. Several limits apply to one request (per address before
 * authentication, failed sign-ins per address, reads or writes per caller, a route's own), so they are plain
 * counters the access hook consults in order, not a plugin that runs once per request.
 */
export interface RateLimit {
  /** Requests allowed per window. */
  max: number;
  windowMs: number;
}

/** The limits of one API instance (AppDeps.rateLimits overrides any of them). */
export interface RateLimits {
  /** Every request from one address, public routes included, before anything else is done. */
  perAddress: RateLimit;
  /** Failed authentications from one address; past it, requests with credentials are refused unread. */
  failedAuthPerAddress: RateLimit;
  /** Reads (GET, HEAD) per authenticated caller. */
  readsPerCaller: RateLimit;
  /** Writes per authenticated caller. */
  writesPerCaller: RateLimit;
  /** Live event streams (SSE) open at once per user. */
  streamsPerUser: number;
}

const MINUTE = 60_000;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  // A dashboard page load is about ten requests and its pages poll every few seconds; 1,200 a minute leaves room
  // for several people behind one address while a flood from one address is cut off.
  perAddress: { max: 1_200, windowMs: MINUTE },
  // Tokens are 256-bit random values: guessing is hopeless, but a stream of bad tokens is an attack, not a user.
  failedAuthPerAddress: { max: 30, windowMs: MINUTE },
  readsPerCaller: { max: 600, windowMs: MINUTE },
  writesPerCaller: { max: 120, windowMs: MINUTE },
  streamsPerUser: 10,
};

export interface Verdict {
  ok: boolean;
  /** When the caller may try again (ms), when refused. */
  retryAfterMs: number;
}

export class WindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastPrune: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {
    this.lastPrune = now();
  }

  /** Counts one request for `key`; refused when the window's count is already at the limit. */
  hit(key: string): Verdict {
    const verdict = this.check(key);
    if (verdict.ok) this.window(key).count++;
    return verdict;
  }

  /** Whether `key` is at its limit, without counting. */
  check(key: string): Verdict {
    const now = this.now();
    this.prune(now);
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.limit.windowMs || window.count < this.limit.max) {
      return { ok: true, retryAfterMs: 0 };
    }
    return { ok: false, retryAfterMs: window.start + this.limit.windowMs - now };
  }

  private window(key: string): { start: number; count: number } {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.limit.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    return window;
  }

  /** Ended windows are forgotten once a window, so the map holds only the keys seen recently. */
  private prune(now: number): void {
    if (now - this.lastPrune < this.limit.windowMs) return;
    this.lastPrune = now;
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.limit.windowMs) this.windows.delete(key);
    }
  }
}
