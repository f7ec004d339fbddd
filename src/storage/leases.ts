/**
 * Workers and bot leases on PostgreSQL (scale-out). A lease row per bot: owner, an epoch incremented on every
 * takeover, and `expires_at` from the database's clock — no worker's clock decides who owns a bot. The write that
 * marks a post `sending` checks owner+epoch+expiry in the same statement (runtime-store.ts): that is the fence.
 */
import { sql, type Kysely } from 'kysely';
import { closeStaleCycles } from './bots.js';
import { int64, num } from './codec.js';
import type { Dialect } from './database.js';
import type { Schema } from './schema.js';
import { dbNowMs, valuesTable } from './sql-helpers.js';

export interface LeaseGrant {
  botId: string;
  epoch: number;
  expiresAt: number;
}

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  alive: boolean;
  bots: { botId: string; epoch: number; expiresAt: number }[];
}

export interface ClusterView {
  now: number;
  workers: WorkerView[];
  /** Running bots nobody holds a live lease on (waiting for a worker). */
  unowned: { botId: string; epoch: number; owner: string | null; expiresAt: number }[];
  runningBots: number;
}

export class LeaseRepository {
  /**
   * Leases are timed by the database's clock (`dbNow`); `now` stamps what this process records, such as the end of
   * a cycle it closes — the service passes its Clock.
   */
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly dialect: Dialect,
    private readonly now: () => number = Date.now,
  ) {
    if (dialect !== 'postgres') throw new Error('leases need PostgreSQL');
  }

  private dbNow() {
    return dbNowMs(this.dialect);
  }

  async databaseNow(): Promise<number> {
    const row = await sql<{ now: string }>`select ${this.dbNow()} as now`.execute(this.db);
    return num(row.rows[0]!.now);
  }

  async registerWorker(id: string, host: string, pid: number): Promise<void> {
    await sql`insert into workers (id, host, pid, started_at, heartbeat_at)
              values (${id}, ${host}, ${pid}, ${this.dbNow()}, ${this.dbNow()})
              on conflict (id) do update set heartbeat_at = excluded.heartbeat_at`.execute(this.db);
  }

  async heartbeat(id: string): Promise<void> {
    await sql`update workers set heartbeat_at = ${this.dbNow()} where id = ${id}`.execute(this.db);
  }

  async removeWorker(id: string): Promise<void> {
    await sql`delete from workers where id = ${id}`.execute(this.db);
  }

  /** Workers seen within `withinMs`; old rows of dead workers are cleaned up on the way. */
  async liveWorkerCount(withinMs: number): Promise<number> {
    await sql`delete from workers where heartbeat_at < ${this.dbNow()} - ${withinMs * 20}`.execute(this.db);
    const row = await sql<{
      n: string;
    }>`select count(*) as n from workers where heartbeat_at > ${this.dbNow()} - ${withinMs}`.execute(this.db);
    return num(row.rows[0]!.n);
  }

  async runningBotCount(): Promise<number> {
    const row = await sql<{
      n: string;
    }>`select count(*) as n from bots where desired_state = 'running'`.execute(this.db);
    return num(row.rows[0]!.n);
  }

  /** Extends the leases this worker still holds (same epoch, not yet expired). What is not returned is lost. */
  async renew(
    ownerId: string,
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
  ): Promise<LeaseGrant[]> {
    if (held.length === 0) return [];
    const v = valuesTable(
      this.dialect,
      [
        { name: 'bot_id', type: 'bigint' },
        { name: 'epoch', type: 'bigint' },
      ],
      held.map((h) => [h.botId, h.epoch]),
    );
    const rows = await sql<{ bot_id: string; epoch: string; expires_at: string }>`
      update leases l set expires_at = ${this.dbNow()} + ${leaseMs} from ${v}
      where l.bot_id = v.bot_id and l.epoch = v.epoch and l.owner_id = ${ownerId} and l.expires_at > ${this.dbNow()}
      returning l.bot_id, l.epoch, l.expires_at`.execute(this.db);
    return rows.rows.map(grant);
  }

  /**
   * Takes up to `max` leases of running bots that are free or expired, each with a new epoch. `only` limits it
   * to one bot (a start just announced); `freeForMs` to leases free for at least that long (orphans).
   */
  async claim(
    ownerId: string,
    max: number,
    leaseMs: number,
    filter: { only?: string; freeForMs?: number } = {},
  ): Promise<LeaseGrant[]> {
    if (max <= 0) return [];
    const only = filter.only === undefined ? sql`true` : sql`l.bot_id = ${filter.only}`;
    const freeFor = filter.freeForMs ?? 0;
    await sql`insert into leases (bot_id, owner_id, epoch, expires_at)
              select id, null, 0, 0 from bots where desired_state = 'running'
              on conflict (bot_id) do nothing`.execute(this.db);
    const rows = await sql<{ bot_id: string; epoch: string; expires_at: string }>`
      with candidates as (
        select l.bot_id from leases l join bots b on b.id = l.bot_id
                where b.desired_state = 'running' and (l.owner_id is null or l.expires_at <= ${this.dbNow()})
          and l.expires_at <= ${this.dbNow()} - ${freeFor} and ${only}
        order by l.expires_at, l.bot_id
        limit ${max}
        for update of l skip locked
      )
      update leases l set owner_id = ${ownerId}, epoch = l.epoch + 1, expires_at = ${this.dbNow()} + ${leaseMs}
      from candidates c where l.bot_id = c.bot_id
      returning l.bot_id, l.epoch, l.expires_at`.execute(this.db);
    return rows.rows.map(grant);
  }

  /**
   * Closes the cycles of stopped bots that nobody holds a live lease on. A stop closes them itself when no worker
   * holds the bot; this catches the stops that raced a hand-over (the holder was giving the bot back) or whose
   * holder died before it could cancel. Each bot's row is locked and its state read again, so a start that comes
   * in between wins and its new cycle is never touched. Returns the bots whose cycles were closed.
   */
  async closeOrphanedCycles(): Promise<string[]> {
    const candidates = await sql<{ id: string }>`
      select b.id from bots b left join leases l on l.bot_id = b.id
      where b.desired_state = 'stopped'
        and (l.bot_id is null or l.owner_id is null or l.expires_at <= ${this.dbNow()})
        and exists (select 1 from cycles c where c.bot_id = b.id and c.status = 'running')`.execute(this.db);
    const closed: string[] = [];
    for (const { id } of candidates.rows) {
      const done = await this.db.transaction().execute(async (trx) => {
        const still = await sql<{ id: string }>`
          select b.id from bots b left join leases l on l.bot_id = b.id
          where b.id = ${id} and b.desired_state = 'stopped'
            and (l.bot_id is null or l.owner_id is null or l.expires_at <= ${this.dbNow()})
          for update of b`.execute(trx);
        if (still.rows.length === 0) return false;
        await closeStaleCycles(trx, id, this.now());
        return true;
      });
      if (done) closed.push(int64(id));
    }
    return closed;
  }

  /** Gives leases back at once (shutdown, rebalancing, a stopped bot): another worker may take them now. */
  async release(ownerId: string, botIds: readonly string[]): Promise<void> {
    if (botIds.length === 0) return;
    // Free from now on (database time): whoever needs it takes it; after a while, anyone does (see claim).
    await sql`update leases set owner_id = null, expires_at = ${this.dbNow()}
              where owner_id = ${ownerId} and bot_id in (${sql.join(botIds.map((id) => sql`${id}`))})`.execute(
      this.db,
    );
  }

  async desiredStates(botIds: readonly string[]): Promise<Map<string, 'running' | 'stopped'>> {
    if (botIds.length === 0) return new Map();
    const rows = await sql<{ id: string; desired_state: string }>`
      select id, desired_state from bots where id in (${sql.join(botIds.map((id) => sql`${id}`))})`.execute(
      this.db,
    );
    return new Map(
      rows.rows.map((r) => [int64(r.id), r.desired_state === 'running' ? 'running' : 'stopped']),
    );
  }

  async clusterView(aliveWithinMs: number): Promise<ClusterView> {
    const now = await this.databaseNow();
    const workers = await this.db.selectFrom('workers').selectAll().orderBy('started_at').execute();
    const leases = await sql<{
      bot_id: string;
      owner_id: string | null;
      epoch: string;
      expires_at: string;
      desired_state: string;
    }>`
      select l.bot_id, l.owner_id, l.epoch, l.expires_at, b.desired_state
      from leases l join bots b on b.id = l.bot_id order by l.bot_id`.execute(this.db);
    const live = leases.rows.filter((l) => l.owner_id !== null && num(l.expires_at) > now);
    return {
      now,
      workers: workers.map((w) => ({
        id: w.id,
        host: w.host,
        pid: num(w.pid),
        startedAt: num(w.started_at),
        heartbeatAt: num(w.heartbeat_at),
        alive: num(w.heartbeat_at) > now - aliveWithinMs,
        bots: live
          .filter((l) => l.owner_id === w.id)
          .map((l) => ({ botId: int64(l.bot_id), epoch: num(l.epoch), expiresAt: num(l.expires_at) })),
      })),
      unowned: leases.rows
        .filter((l) => l.desired_state === 'running' && !(l.owner_id !== null && num(l.expires_at) > now))
        .map((l) => ({
          botId: int64(l.bot_id),
          epoch: num(l.epoch),
          owner: l.owner_id,
          expiresAt: num(l.expires_at),
        })),
      runningBots: leases.rows.filter((l) => l.desired_state === 'running').length,
    };
  }
}

function grant(r: { bot_id: string; epoch: string; expires_at: string }): LeaseGrant {
  return { botId: int64(r.bot_id), epoch: num(r.epoch), expiresAt: num(r.expires_at) };
}
