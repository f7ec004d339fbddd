/**
 * What the HTTP layer is built from, and the API's version: app.ts and the routes both need them, so they live
 * here rather than in app.ts (which imports the routes).
 */
import type { Config } from '../config.js';
import type { PinoLogger } from '../logger.js';
import type { BotControl } from '../runtime/bot-control.js';
import type { Clock } from '../runtime/clock.js';
import type { Listener } from '../runtime/events.js';
import type { RuntimeOptions } from '../runtime/options.js';
import type { ClusterView } from '../storage/leases.js';
import type { Store } from '../storage/store.js';
import type { Gateway } from '../telegram/gateway.js';
import type { LoginManager } from '../telegram/mtcute/login.js';
import type { SessionCredentials } from '../telegram/mtcute/mtcute-gateway.js';
import type { SessionCheck } from '../telegram/mtcute/session-check.js';
import type { RateLimits } from './rate-limits.js';

export const VERSION = '0.1.0';

/** What the real-Telegram routes need; absent in a process without the mtcute adapter. */
export interface SessionServices {
  login: LoginManager;
  check(credentials: SessionCredentials): Promise<SessionCheck>;
  /** TELEGRAM_API_ID / TELEGRAM_API_HASH, if set. */
  defaultApi: { apiId: number | undefined; apiHash: string | undefined };
}

export interface AppDeps {
  config: Config;
  store: Store;
  control: BotControl;
  clock: Clock;
  gateway: Gateway;
  /** The runtime's event stream (this process's, or relayed from the workers). */
  events: { on(listener: Listener): () => void };
  logger?: PinoLogger | false;
  sessions?: SessionServices;
  /** Cluster view for GET /api/admin/cluster (when workers run on PostgreSQL). */
  cluster?: () => Promise<ClusterView>;
  /** Where the built dashboard is; served at / when present. */
  webRoot?: string;
  /** The runtime's tunables, for the rules the API shares with it (next cycle, words quoting numbers). */
  policy?: RuntimeOptions;
  /** Overrides of the default rate limits (tests; see rate-limits.ts). */
  rateLimits?: Partial<RateLimits>;
}
