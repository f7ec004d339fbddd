/**
 * The real gateway: Telegram through mtcute 0.30.3, composed of one part per job —
 * the client pool (`client-pool.ts`: one client per session, the auth-key persistence), the peer resolver
 * (`peer-resolver.ts`: the PeerCache, the dialogs read, paced username resolving), the forward (`post-forward.ts`: an
 * album in one call), the source check and read (`source-check.ts`: the album found at planning) and the preflight
 * (`preflight.ts`, which also reads a session's group facts for the runtime).
 *
 * - The library never sleeps on a limit (see client-factory.ts) and every call passes `floodSleepThreshold: 0`:
 *   FLOOD_WAIT_X and friends come back at once as raw answers, and the scheduler decides.
 * - Telegram's answers are returned, never thrown (`answers.ts`). Credentials never reach a log or an error.
 */
import type { TelegramClient } from '@mtcute/node';
import type { FreezeState } from '../../core/freeze.js';
import type { GroupTarget } from '../../core/group-targets.js';
import type { TelegramAnswer } from '../../core/outcome.js';
import type { PostRef } from '../../core/post-link.js';
import {
  forwardedMessages,
  type ForwardRequest,
  type Gateway,
  type PreflightReport,
  type PreflightRow,
  type SessionHandle,
  type SourceRead,
} from '../gateway.js';
import { bigintToLong } from './answers.js';
import {
  buildClient,
  createDefaultClient,
  type ClientFactory,
  type ClientParams,
  type TelegramLogger,
} from './client-factory.js';
import { ClientPool } from './client-pool.js';
import { PeerResolver } from './peer-resolver.js';
import type { PeerCache } from './peers.js';
import { PostForward } from './post-forward.js';
import { emptyRow, Preflight } from './preflight.js';
import type { CredentialSource } from './session-credentials.js';
import { SourceCheck } from './source-check.js';
import { wallClock, type TelegramClock } from './telegram-clock.js';

export type { PeerCache } from './peers.js';
export { MemoryPeerCache } from './peers.js';
export type { CredentialSource, SessionCredentials } from './session-credentials.js';

export interface MtcuteGatewayOptions {
  credentials: CredentialSource;
  peers: PeerCache;
  /** Tests inject the offline harness. `testMode` is set for sessions on Telegram's test servers. */
  createClient?: (params: ClientParams) => TelegramClient;
  logger?: TelegramLogger;
  /** Called when the session's key or DC changed (e.g. Telegram moved the account to another DC). */
  onAuthStringChanged?: (sessionId: string, authString: string) => Promise<void>;
  /** Called once per connect with the freeze the account's app config describes (null: none). */
  onFreezeChanged?: (sessionId: string, freeze: FreezeState | null) => Promise<void>;
  /**
   * A connection that has not opened by then has failed: the call is answered CONNECT_TIMEOUT (phase `connect`,
   * nothing sent). Default 20 s.
   */
  connectTimeoutMs?: number;
  /** Per-call timeout; a call without an answer by then reports TIMEOUT. Default 60 s. */
  callTimeoutMs?: number;
  /** How long `release()` lets calls on the wire finish before closing. Default 30 s. */
  releaseGraceMs?: number;
  /** Sessions preflight checks at the same time (targets of one session always go one after another). Default 4. */
  preflightConcurrency?: number;
  /**
   * How old an account's dialogs read must be before a target it cannot resolve reads them again (a group joined
   * since). At most one re-read per session per this time. Default 10 minutes.
   */
  dialogRefreshMs?: number;
  /**
   * Least time between two contacts.resolveUsername calls of one session (a username not in the account's
   * dialogs). Default 1 s (`DEFAULT_RESOLVE_PACING`).
   */
  usernameResolveIntervalMs?: number;
  /**
   * The release grace, the dialogs-read retry and re-read, the username pacing and ban expiry run on it. Default:
   * the wall clock.
   */
  clock?: TelegramClock;
}

const NOOP_LOGGER: TelegramLogger = { info() {}, warn() {}, error() {} };

/** Real TCP clients; mtcute's own log lines go to the gateway's logger when there is one. */
function defaultClientFactory(logger: TelegramLogger | undefined): ClientFactory {
  return logger ? (params) => buildClient(params, { logger }) : createDefaultClient;
}

export class MtcuteGateway implements Gateway {
  private readonly pool: ClientPool;
  private readonly resolver: PeerResolver;
  private readonly forwarding: PostForward;
  private readonly sourceCheck: SourceCheck;
  private readonly preflightCheck: Preflight;

  constructor(options: MtcuteGatewayOptions) {
    const logger = options.logger ?? NOOP_LOGGER;
    const clock = options.clock ?? wallClock;
    const callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.pool = new ClientPool({
      credentials: options.credentials,
      createClient: options.createClient ?? defaultClientFactory(options.logger),
      logger,
      clock,
      releaseGraceMs: options.releaseGraceMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs,
      onAuthStringChanged: options.onAuthStringChanged,
      onFreezeChanged: options.onFreezeChanged,
    });
    const resolver = new PeerResolver({
      peers: options.peers,
      logger,
      clock,
      ...(options.dialogRefreshMs !== undefined ? { dialogRefreshMs: options.dialogRefreshMs } : {}),
      ...(options.usernameResolveIntervalMs !== undefined
        ? { pacing: { minIntervalMs: options.usernameResolveIntervalMs } }
        : {}),
    });
    this.resolver = resolver;
    this.forwarding = new PostForward(resolver, callTimeoutMs);
    this.sourceCheck = new SourceCheck(resolver, callTimeoutMs);
    this.preflightCheck = new Preflight({
      pool: this.pool,
      resolver,
      sourceCheck: this.sourceCheck,
      clock,
      callTimeoutMs,
      concurrency: options.preflightConcurrency ?? 4,
    });
  }

  /** `signal` ends only a wait for the session's connection: once the forward is on the wire, it finishes. */
  async forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer> {
    // A random_id outside int64, or messages without a random_id each, is a planning bug: thrown, not answered.
    const messages = forwardedMessages(request);
    const messageIds = messages.map((m) => m.messageId);
    const randomIds = messages.map((m) => bigintToLong(m.randomId));
    return this.pool.run(
      request.session.id,
      (client) => this.forwarding.send(client, request, messageIds, randomIds),
      signal,
    );
  }

  async checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    return this.pool.run(session.id, (client) => this.sourceCheck.check(client, source, signal), signal);
  }

  async readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    let messageIds: number[] = [];
    // The pool sees the answer (a dead key closes the client) and carries it; the album comes alongside.
    const answer = await this.pool.run(
      session.id,
      async (client) => {
        const read = await this.sourceCheck.read(client, source, signal);
        messageIds = read.messageIds;
        return read.answer;
      },
      signal,
    );
    return { answer, messageIds: answer.ok ? messageIds : [] };
  }

  preflight(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport> {
    return this.preflightCheck.run(sessions, targets, source);
  }

  async groupFacts(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    signal?: AbortSignal,
  ): Promise<PreflightRow[]> {
    if (targets.length === 0) return [];
    let rows: PreflightRow[] = [];
    const answer = await this.pool.run(
      session.id,
      async (client) => {
        const read = await this.preflightCheck.readFacts(client, targets, signal);
        rows = read.rows;
        return read.answer;
      },
      signal,
    );
    if (answer.ok) return rows;
    // The session could not run (no credentials, a dead key, a failed connect): every target not read says why.
    const error = answer.error;
    return [...rows, ...targets.slice(rows.length).map((t) => ({ ...emptyRow(session.id, t), error }))];
  }

  async release(sessionId: string): Promise<void> {
    await this.pool.release(sessionId);
    // The next client starts without what this one learnt from the dialogs (groups may have been joined since).
    this.resolver.forget(sessionId);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
