/**
 * The sandbox's state — accounts, groups, source posts, injected faults and every delivered message — behind a
 * small store interface, so the same simulated Telegram runs in memory (tests, `stagger simulate`) or in the
 * project database (several processes share one sandbox).
 */

/** What Telegram would say about the account as a whole. */
export type SandboxAccountStatus = 'ok' | 'limited' | 'revoked' | 'banned' | 'frozen' | 'deactivated';

export interface SandboxAccount {
  id: string;
  status: SandboxAccountStatus;
}

export interface SandboxGroup {
  key: string;
  /** A broadcast channel: only admins post (CHAT_ADMIN_REQUIRED). */
  isChannel: boolean;
  /** Accounts in the group; null = every account (the open demo world). */
  members: string[] | null;
  /** Members that may not write (CHAT_WRITE_FORBIDDEN). */
  readOnly: string[];
  /** Members banned from writing (USER_BANNED_IN_CHANNEL). */
  banned: string[];
  slowmodeSeconds: number;
  /** Paid messages: stars a message (ALLOW_PAYMENT_REQUIRED_X). Absent or 0: free. */
  paidStars?: number;
  /** Forum topics of the group that are closed (TOPIC_CLOSED). Absent: none. */
  closedTopics?: number[];
}

export type SandboxSourceState = 'ok' | 'protected' | 'deleted' | 'private';

/**
 * The link under which one account's own view of a source post is stored: a state put there overrides the post's
 * state for that account only (`private`: a private source chat the account is not in). A key, not a schema, so
 * every store keeps it.
 */
export function sourceViewKey(link: string, accountId: string): string {
  return `${link}#account=${accountId}`;
}

export interface SandboxDelivery {
  id: number;
  accountId: string;
  groupKey: string;
  randomId: string;
  sourceLink: string;
  at: number;
  trace: Record<string, string>;
}

/**
 * What a call does: `forward`; `source`, the per-cycle check of the source; `read`, the read when a cycle is planned;
 * `facts`, reading a group's facts (membership, rights, slow mode, paid messages, topics).
 */
export type SandboxMethod = 'forward' | 'source' | 'read' | 'facts';

/** A delivery stored (its id is the message's id in the group: increasing in every group), or a random_id seen. */
export type SandboxInsert = { status: 'inserted'; id: number } | { status: 'duplicate' };

export interface SandboxFault {
  /** Null matches any account / any group. */
  accountId: string | null;
  groupKey: string | null;
  method: SandboxMethod | null;
  /** From this time on (epoch ms). */
  fromAt: number;
  error: string;
  /** How many calls get the error; -1 = every call. */
  remaining: number;
}

export interface FloodPolicy {
  /** Calls an account may make in a burst. */
  burst: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
}

export type FloodDecision = { ok: true } | { ok: false; waitSeconds: number };

/** An account's flood bucket as stored; null fields: never used (a full bucket). */
export interface FloodBucket {
  tokens: number | null;
  updatedAt: number | null;
}

/** Which forward `readForward` is for: `baseKey` is the group a topic target lives in (else its own key). */
export interface ForwardQuery {
  accountId: string;
  groupKey: string;
  baseKey: string;
  sourceLink: string;
  now: number;
}

/**
 * Everything a forward meets, read at once: the first fault due for it, the account's state and flood bucket, the
 * source's state for this account (its own view when one is set), the group (by its key, else its base key), and —
 * when that group has slow mode — the account's last delivery there. Null: not stored.
 */
export interface ForwardView {
  fault: { id: number; error: string } | null;
  status: SandboxAccountStatus | null;
  /** Null: the account has no row yet. */
  bucket: FloodBucket | null;
  sourceState: SandboxSourceState | null;
  group: SandboxGroup | null;
  lastDeliveryAt: number | null;
}

/**
 * What a forward changes, decided from its view: one use of the fault that answers it; or the flood token it took
 * (the bucket as it was read and as it is now) and the messages it delivered.
 */
export type ForwardWrite =
  | { kind: 'fault'; faultId: number }
  | {
      kind: 'call';
      accountId: string;
      read: FloodBucket | null;
      bucket: { tokens: number; updatedAt: number };
      deliveries: Omit<SandboxDelivery, 'id'>[];
    };

export interface SandboxStore {
  getAccount(id: string): Promise<SandboxAccount | null>;
  putAccount(account: SandboxAccount): Promise<void>;
  getGroup(key: string): Promise<SandboxGroup | null>;
  putGroup(group: SandboxGroup): Promise<void>;
  getSourceState(link: string): Promise<SandboxSourceState | null>;
  putSourceState(link: string, state: SandboxSourceState): Promise<void>;
  /** The album the post at `link` is one message of (its message ids in order); null for a single message. */
  getSourceAlbum(link: string): Promise<number[] | null>;
  /** Declares the post at `link` one of an album of these messages (its own id among them); its state is kept. */
  putSourceAlbum(link: string, messageIds: readonly number[]): Promise<void>;
  addFault(fault: SandboxFault): Promise<void>;
  /** Takes the first matching fault due at `now` (consuming one of its uses) and returns its error. */
  takeFault(
    accountId: string,
    groupKey: string | null,
    method: SandboxMethod,
    now: number,
  ): Promise<string | null>;
  /** Token bucket per account: one token per call. */
  takeFloodToken(accountId: string, now: number, policy: FloodPolicy): Promise<FloodDecision>;
  lastDeliveryAt(accountId: string, groupKey: string): Promise<number | null>;
  /** Atomic on (accountId, randomId): a second delivery with the same pair is `duplicate` and not stored. */
  insertDelivery(delivery: Omit<SandboxDelivery, 'id'>): Promise<SandboxInsert>;
  listDeliveries(): Promise<SandboxDelivery[]>;
  /** A forward's view of the sandbox in one read (the calls of one instant share one round trip on PostgreSQL). */
  readForward(query: ForwardQuery): Promise<ForwardView>;
  /**
   * Applies a forward's changes atomically, if the world is still as read: the fault still has a use, the bucket
   * has not moved (another call of the account came between). Null when it was not — nothing was written; read
   * again. Else one result per delivery, in order (inserted, or a random_id already delivered).
   */
  writeForward(write: ForwardWrite): Promise<SandboxInsert[] | null>;
}

/** The token bucket, shared by every store: pure arithmetic on (tokens, last refill time). */
export function refillBucket(
  tokens: number,
  updatedAt: number,
  now: number,
  policy: FloodPolicy,
): { tokens: number; decision: FloodDecision } {
  const refilled = Math.min(
    policy.burst,
    tokens + (Math.max(0, now - updatedAt) / 1000) * policy.refillPerSecond,
  );
  if (refilled >= 1) return { tokens: refilled - 1, decision: { ok: true } };
  const waitSeconds = Math.max(1, Math.ceil((1 - refilled) / policy.refillPerSecond));
  return { tokens: refilled, decision: { ok: false, waitSeconds } };
}

export function faultMatches(
  fault: SandboxFault,
  accountId: string,
  groupKey: string | null,
  method: SandboxMethod,
  now: number,
): boolean {
  return (
    fault.remaining !== 0 &&
    fault.fromAt <= now &&
    (fault.accountId === null || fault.accountId === accountId) &&
    (fault.groupKey === null || fault.groupKey === groupKey) &&
    (fault.method === null || fault.method === method)
  );
}

export class MemorySandboxStore implements SandboxStore {
  private readonly accounts = new Map<string, SandboxAccount>();
  private readonly groups = new Map<string, SandboxGroup>();
  private readonly sources = new Map<string, SandboxSourceState>();
  private readonly albums = new Map<string, number[]>();
  private readonly faults: SandboxFault[] = [];
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly deliveries: SandboxDelivery[] = [];
  private readonly byRandomId = new Set<string>();
  private readonly lastByPair = new Map<string, number>();

  async getAccount(id: string): Promise<SandboxAccount | null> {
    return this.accounts.get(id) ?? null;
  }
  async putAccount(account: SandboxAccount): Promise<void> {
    this.accounts.set(account.id, { ...account });
  }
  async getGroup(key: string): Promise<SandboxGroup | null> {
    return this.groups.get(key) ?? null;
  }
  async putGroup(group: SandboxGroup): Promise<void> {
    // As the SQL store keeps it: a group without paid messages or closed topics reads back with 0 and none.
    this.groups.set(group.key, {
      ...group,
      paidStars: group.paidStars ?? 0,
      closedTopics: group.closedTopics ?? [],
    });
  }
  async getSourceState(link: string): Promise<SandboxSourceState | null> {
    return this.sources.get(link) ?? null;
  }
  async putSourceState(link: string, state: SandboxSourceState): Promise<void> {
    this.sources.set(link, state);
  }
  async getSourceAlbum(link: string): Promise<number[] | null> {
    const album = this.albums.get(link);
    return album ? [...album] : null;
  }
  async putSourceAlbum(link: string, messageIds: readonly number[]): Promise<void> {
    // Declared, the post exists (as the SQL store's row does): `ok` unless a state was set.
    if (!this.sources.has(link)) this.sources.set(link, 'ok');
    this.albums.set(link, [...messageIds]);
  }
  async addFault(fault: SandboxFault): Promise<void> {
    this.faults.push({ ...fault });
  }
  async takeFault(
    accountId: string,
    groupKey: string | null,
    method: SandboxMethod,
    now: number,
  ): Promise<string | null> {
    const fault = this.faults.find((f) => faultMatches(f, accountId, groupKey, method, now));
    if (!fault) return null;
    if (fault.remaining > 0) fault.remaining--;
    return fault.error;
  }
  async takeFloodToken(accountId: string, now: number, policy: FloodPolicy): Promise<FloodDecision> {
    const bucket = this.buckets.get(accountId) ?? { tokens: policy.burst, updatedAt: now };
    const { tokens, decision } = refillBucket(bucket.tokens, bucket.updatedAt, now, policy);
    this.buckets.set(accountId, { tokens, updatedAt: now });
    return decision;
  }
  async lastDeliveryAt(accountId: string, groupKey: string): Promise<number | null> {
    return this.lastByPair.get(`${accountId}\u0000${groupKey}`) ?? null;
  }
  async insertDelivery(delivery: Omit<SandboxDelivery, 'id'>): Promise<SandboxInsert> {
    const key = `${delivery.accountId}\u0000${delivery.randomId}`;
    if (this.byRandomId.has(key)) return { status: 'duplicate' };
    this.byRandomId.add(key);
    const id = this.deliveries.length + 1;
    this.deliveries.push({ ...delivery, id });
    this.lastByPair.set(`${delivery.accountId}\u0000${delivery.groupKey}`, delivery.at);
    return { status: 'inserted', id };
  }
  async listDeliveries(): Promise<SandboxDelivery[]> {
    return this.deliveries.slice();
  }
  async readForward(q: ForwardQuery): Promise<ForwardView> {
    const faultId = this.faults.findIndex((f) => faultMatches(f, q.accountId, q.groupKey, 'forward', q.now));
    const bucket = this.buckets.get(q.accountId);
    const group = this.groups.get(q.groupKey) ?? this.groups.get(q.baseKey) ?? null;
    return {
      fault: faultId < 0 ? null : { id: faultId, error: this.faults[faultId]!.error },
      status: this.accounts.get(q.accountId)?.status ?? null,
      // The SQL stores keep the bucket in the account's row: a row exists once either was written.
      bucket:
        bucket || this.accounts.has(q.accountId)
          ? { tokens: bucket?.tokens ?? null, updatedAt: bucket?.updatedAt ?? null }
          : null,
      sourceState:
        this.sources.get(sourceViewKey(q.sourceLink, q.accountId)) ?? this.sources.get(q.sourceLink) ?? null,
      group: group ? { ...group } : null,
      lastDeliveryAt:
        group && group.slowmodeSeconds > 0
          ? (this.lastByPair.get(`${q.accountId}\u0000${q.groupKey}`) ?? null)
          : null,
    };
  }
  async writeForward(write: ForwardWrite): Promise<SandboxInsert[] | null> {
    if (write.kind === 'fault') {
      const fault = this.faults[write.faultId];
      if (!fault || fault.remaining === 0) return null;
      if (fault.remaining > 0) fault.remaining--;
      return [];
    }
    const now = this.buckets.get(write.accountId);
    const exists = now !== undefined || this.accounts.has(write.accountId);
    const same =
      write.read === null
        ? !exists
        : exists &&
          (now?.tokens ?? null) === write.read.tokens &&
          (now?.updatedAt ?? null) === write.read.updatedAt;
    if (!same) return null;
    this.buckets.set(write.accountId, { ...write.bucket });
    const results: SandboxInsert[] = [];
    for (const d of write.deliveries) results.push(await this.insertDelivery(d));
    return results;
  }
}
