/**
 * The sandbox: a simulated Telegram behind the Gateway interface. It models what matters to a scheduler —
 * accounts that can be limited, revoked or banned; groups with membership, write permission, slow mode, paid
 * messages and closed forum topics; a per-account flood limit (token bucket → FLOOD_WAIT_X); random_id
 * deduplication (RANDOM_ID_DUPLICATE); source posts that are albums; latency; and injected faults — and records
 * every delivered message. Deterministic under a seed; virtual or real time.
 */
import { endsFactReads, paymentRequiredError, unknownFacts } from '../../core/group-facts.js';
import type { GroupTarget } from '../../core/group-targets.js';
import type { TelegramAnswer } from '../../core/outcome.js';
import type { PostRef } from '../../core/post-link.js';
import type { Clock } from '../../runtime/clock.js';
import { SeededRandom, type RandomSource } from '../../runtime/random.js';
import {
  forwardedMessages,
  type ForwardRequest,
  type Gateway,
  type PreflightReport,
  type PreflightRow,
  type SessionHandle,
  type SourceRead,
} from '../gateway.js';
import type {
  FloodPolicy,
  ForwardView,
  SandboxAccountStatus,
  SandboxGroup,
  SandboxMethod,
  SandboxSourceState,
  SandboxStore,
} from './sandbox-store.js';
import { refillBucket, sourceViewKey } from './sandbox-store.js';

export interface SandboxOptions {
  clock: Clock;
  store: SandboxStore;
  seed?: number;
  /** Simulated round trip per call, uniformly in [min, max] ms. Default 0. */
  latencyMs?: { min: number; max: number };
  /** The per-account flood limit. Default: bursts of 30, one call per second sustained. */
  flood?: FloodPolicy;
  /**
   * Groups the store does not know: in the open world (default) they exist and every account is a member, so a
   * demo works with any group list; closed, they answer PEER_ID_INVALID.
   */
  openWorld?: boolean;
}

const ACCOUNT_ERRORS: Record<Exclude<SandboxAccountStatus, 'ok'>, string> = {
  limited: 'PEER_FLOOD',
  revoked: 'AUTH_KEY_UNREGISTERED',
  banned: 'USER_DEACTIVATED_BAN',
  frozen: 'FROZEN_METHOD_INVALID',
  deactivated: 'USER_DEACTIVATED',
};

export const DEFAULT_SANDBOX_FLOOD: FloodPolicy = { burst: 30, refillPerSecond: 1 };

function fail(error: string, code = 400): TelegramAnswer {
  return { ok: false, error, code };
}

export class SandboxGateway implements Gateway {
  private readonly clock: Clock;
  readonly store: SandboxStore;
  private readonly random: RandomSource;
  private readonly latency: { min: number; max: number };
  private readonly flood: FloodPolicy;
  private readonly openWorld: boolean;

  constructor(options: SandboxOptions) {
    this.clock = options.clock;
    this.store = options.store;
    this.random = new SeededRandom(options.seed ?? 1);
    this.latency = options.latencyMs ?? { min: 0, max: 0 };
    this.flood = options.flood ?? DEFAULT_SANDBOX_FLOOD;
    this.openWorld = options.openWorld ?? true;
  }

  private async roundTrip(signal?: AbortSignal): Promise<void> {
    const { min, max } = this.latency;
    if (max <= 0) return;
    // The call is on the wire: a stop does not cut it short (the post being sent finishes).
    void signal;
    await this.clock.sleep(min + this.random.nextFloat() * (max - min));
  }

  /** Faults, account state and the flood limit: what every call meets first. */
  private async gate(
    accountId: string,
    groupKey: string | null,
    method: SandboxMethod,
  ): Promise<TelegramAnswer | null> {
    const refused = await this.refusal(accountId, groupKey, method);
    if (refused) return fail(refused.error, refused.code);
    const flood = await this.store.takeFloodToken(accountId, this.clock.now(), this.flood);
    if (!flood.ok) return fail(`FLOOD_WAIT_${flood.waitSeconds}`, 420);
    return null;
  }

  /** What reading the source answers: for this account when its own view was set, else for everyone. */
  private async sourceError(source: PostRef, accountId: string | null): Promise<string | null> {
    const own =
      accountId === null ? null : await this.store.getSourceState(sourceViewKey(source.canonical, accountId));
    return sourceStateError(own ?? (await this.store.getSourceState(source.canonical)));
  }

  private async groupOf(target: GroupTarget): Promise<SandboxGroup | null> {
    return this.groupOr(
      (await this.store.getGroup(target.key)) ?? (await this.store.getGroup(baseKey(target))),
      target,
    );
  }

  /** A group the store does not know: in the open world it exists and every account is a member. */
  private groupOr(known: SandboxGroup | null, target: GroupTarget): SandboxGroup | null {
    if (known) return known;
    if (!this.openWorld) return null;
    return { key: target.key, isChannel: false, members: null, readOnly: [], banned: [], slowmodeSeconds: 0 };
  }

  /** What Telegram would tell this account about the target: its preflight row, and its facts for the runtime. */
  private async factsRow(accountId: string, target: GroupTarget): Promise<PreflightRow> {
    const group = await this.groupOf(target);
    // A group the account never met says nothing about itself (a forward answers PEER_ID_INVALID).
    if (!group) return SandboxGateway.unknownRow(accountId, target, 'PEER_ID_INVALID');
    const error = SandboxGateway.writeError(group, accountId);
    return {
      sessionId: accountId,
      groupKey: target.key,
      member: group.members === null || group.members.includes(accountId),
      canWrite: error === null,
      slowmodeSeconds: group.slowmodeSeconds,
      paidStars: group.paidStars ?? 0,
      topicClosed: target.topicId !== undefined ? topicClosed(group, target) : null,
      // The sandbox's groups named `@name` are addressed by that name already; the others have none.
      username: null,
      error,
    };
  }

  /** A row that knows nothing but why (the account could not ask). */
  private static unknownRow(accountId: string, target: GroupTarget, error: string): PreflightRow {
    return unknownFacts(accountId, target.key, error);
  }

  private static writeError(group: SandboxGroup, accountId: string): string | null {
    if (group.members !== null && !group.members.includes(accountId)) return 'USER_NOT_PARTICIPANT';
    if (group.isChannel) return 'CHAT_ADMIN_REQUIRED';
    if (group.banned.includes(accountId)) return 'USER_BANNED_IN_CHANNEL';
    if (group.readOnly.includes(accountId)) return 'CHAT_WRITE_FORBIDDEN';
    return null;
  }

  async checkSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<TelegramAnswer> {
    await this.roundTrip(signal);
    const gated = await this.gate(session.id, null, 'source');
    if (gated) return gated;
    const error = await this.sourceError(source, session.id);
    return error ? fail(error) : { ok: true };
  }

  async readSource(session: SessionHandle, source: PostRef, signal?: AbortSignal): Promise<SourceRead> {
    await this.roundTrip(signal);
    const gated = await this.gate(session.id, null, 'read');
    if (gated) return { answer: gated, messageIds: [] };
    const error = await this.sourceError(source, session.id);
    if (error) return { answer: fail(error), messageIds: [] };
    const album = await this.store.getSourceAlbum(source.canonical);
    return { answer: { ok: true }, messageIds: album ?? [source.messageId] };
  }

  /**
   * One call for all the post's messages (an album: each with its own random_id). Each message is delivered once per
   * (account, random_id); a call whose every random_id was delivered before answers RANDOM_ID_DUPLICATE.
   *
   * What the call meets is read at once (`readForward`) and what it changes written at once (`writeForward`), in the
   * order a call meets them: a fault, the account's state, the flood limit (a token is taken whatever follows),
   * the source, the group (membership, rights, topic, paid messages, slow mode), then the delivery. A write that
   * finds the world moved since the read (another call took the fault's last use, or a token of the account) is
   * read again.
   */
  async forward(request: ForwardRequest, signal?: AbortSignal): Promise<TelegramAnswer> {
    const messages = forwardedMessages(request);
    await this.roundTrip(signal);
    const accountId = request.session.id;
    const target = request.target;
    for (;;) {
      const now = this.clock.now();
      const view = await this.store.readForward({
        accountId,
        groupKey: target.key,
        baseKey: baseKey(target),
        sourceLink: request.source.canonical,
        now,
      });
      if (view.fault) {
        if ((await this.store.writeForward({ kind: 'fault', faultId: view.fault.id })) === null) continue;
        return faultAnswer(view.fault.error);
      }
      if (view.status !== null && view.status !== 'ok') return fail(ACCOUNT_ERRORS[view.status], 403);
      const { tokens, decision } = refillBucket(
        view.bucket?.tokens ?? this.flood.burst,
        view.bucket?.updatedAt ?? now,
        now,
        this.flood,
      );
      const refused = decision.ok
        ? this.forwardRefusal(view, accountId, target, now)
        : fail(`FLOOD_WAIT_${decision.waitSeconds}`, 420);
      const written = await this.store.writeForward({
        kind: 'call',
        accountId,
        read: view.bucket,
        bucket: { tokens, updatedAt: now },
        deliveries: refused
          ? []
          : messages.map((message) => ({
              accountId,
              groupKey: target.key,
              randomId: message.randomId.toString(),
              sourceLink: request.source.canonical,
              at: now,
              trace: { ...(request.trace ?? {}) },
            })),
      });
      if (written === null) continue;
      if (refused) return refused;
      const messageIds = written.flatMap((w) => (w.status === 'inserted' ? [w.id] : []));
      if (messageIds.length === 0) return fail('RANDOM_ID_DUPLICATE');
      return { ok: true, messageId: messageIds[0]!, messageIds };
    }
  }

  /** What the source and the group answer a forward that got past the flood limit; null: it is delivered. */
  private forwardRefusal(
    view: ForwardView,
    accountId: string,
    target: GroupTarget,
    now: number,
  ): TelegramAnswer | null {
    // The forward reads the source first: what that answers is about the source, not the target.
    const sourceError = sourceStateError(view.sourceState);
    if (sourceError) return { ok: false, error: sourceError, code: 400, phase: 'source' };
    const group = this.groupOr(view.group, target);
    if (!group) return fail('PEER_ID_INVALID');
    const writeError = SandboxGateway.writeError(group, accountId);
    if (writeError) return fail(writeError, 403);
    if (topicClosed(group, target)) return fail('TOPIC_CLOSED');
    // Stagger never sets allow_paid_stars: a paid group refuses the message with its price.
    if ((group.paidStars ?? 0) > 0) return fail(paymentRequiredError(group.paidStars!), 403);
    const last = view.lastDeliveryAt;
    if (group.slowmodeSeconds > 0 && last !== null && now - last < group.slowmodeSeconds * 1000) {
      return fail(`SLOWMODE_WAIT_${Math.ceil((group.slowmodeSeconds * 1000 - (now - last)) / 1000)}`, 420);
    }
    return null;
  }

  async preflight(
    sessions: readonly SessionHandle[],
    targets: readonly GroupTarget[],
    source: PostRef | null,
  ): Promise<PreflightReport> {
    const sourceError = source ? await this.sourceError(source, null) : 'no source post';
    const rows: PreflightRow[] = [];
    for (const session of sessions) {
      const account = await this.store.getAccount(session.id);
      const accountError = account && account.status !== 'ok' ? ACCOUNT_ERRORS[account.status] : null;
      for (const target of targets) {
        // An account Telegram refuses learns nothing about the group (as a real dead key).
        rows.push(
          accountError
            ? SandboxGateway.unknownRow(session.id, target, accountError)
            : await this.factsRow(session.id, target),
        );
      }
    }
    return { source: { ok: sourceError === null, error: sourceError }, rows };
  }

  /**
   * The facts of one account's targets, one read each. Faults (`method: 'facts'`) and the account's state apply
   * as to any call; the flood bucket does not: Telegram limits each method on its own, and reading full chats does
   * not use up the forwards' budget.
   */
  async groupFacts(
    session: SessionHandle,
    targets: readonly GroupTarget[],
    signal?: AbortSignal,
  ): Promise<PreflightRow[]> {
    const rows: PreflightRow[] = [];
    for (const [i, target] of targets.entries()) {
      if (signal?.aborted) break;
      await this.roundTrip(signal);
      const refused = await this.refusal(session.id, target.key, 'facts');
      if (refused === null) {
        rows.push(await this.factsRow(session.id, target));
        continue;
      }
      rows.push(SandboxGateway.unknownRow(session.id, target, refused.error));
      if (!endsFactReads(refused.error, refused.code)) continue;
      // A dead key or a limit ends the reads: the rest say why, without a call.
      for (const rest of targets.slice(i + 1))
        rows.push(SandboxGateway.unknownRow(session.id, rest, refused.error));
      break;
    }
    return rows;
  }

  /** A fault, or the account's state, refusing a call. */
  private async refusal(
    accountId: string,
    groupKey: string | null,
    method: SandboxMethod,
  ): Promise<{ error: string; code: number } | null> {
    const fault = await this.store.takeFault(accountId, groupKey, method, this.clock.now());
    if (fault) return { error: fault, code: faultCode(fault) };
    const account = await this.store.getAccount(accountId);
    if (account && account.status !== 'ok') return { error: ACCOUNT_ERRORS[account.status], code: 403 };
    return null;
  }

  async release(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The code Telegram gives an injected error: 420 for the waits, 400 for the rest. */
function faultCode(error: string): number {
  return /^FLOOD|^SLOWMODE/.test(error) ? 420 : 400;
}

function faultAnswer(error: string): TelegramAnswer {
  return fail(error, faultCode(error));
}

/** What reading a source in this state answers (null: the post is there and may be forwarded). */
function sourceStateError(state: SandboxSourceState | null): string | null {
  if (state === 'protected') return 'CHAT_FORWARDS_RESTRICTED';
  if (state === 'deleted') return 'MSG_ID_INVALID';
  if (state === 'private') return 'CHANNEL_PRIVATE';
  return null;
}

function topicClosed(group: SandboxGroup, target: GroupTarget): boolean {
  return target.topicId !== undefined && (group.closedTopics ?? []).includes(target.topicId);
}

/** A topic target (`-100…/42`) lives in its group (`-100…`). */
function baseKey(target: GroupTarget): string {
  const slash = target.key.indexOf('/');
  return slash < 0 ? target.key : target.key.slice(0, slash);
}
