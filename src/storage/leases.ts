/**
 * Workers and bot leases on PostgreSQL (scale-out). A lease row per bot: owner, an epoch incremented on every
 * takeover, and `expires_at` from the database's clock — no worker's clock decides who owns a bot. The write that
 * marks a post `sending` checks owner+epoch+expiry in the same statement (runtime-store.ts): that is the fence.
 */
import { sql, type Kysely } from 'kysely';
import { closeStaleCycles } from './bots.js';
import { int64, num, numOrNull } from './codec.js';
import type { Dialect } from './database.js';
import type { LeaseGrant, Renewal } from '../runtime/lease-keeper.js';
import type { Schema } from './schema.js';
import { dbNowMs, valuesTable } from './sql-helpers.js';

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

  async removeWorker(id: string): Promise<void> {
    await sql`delete from workers where id = ${id}`.execute(this.db);
  }

  /**
   * A keeper's tick in one statement (one round trip, so that renewing stays fast under load): this worker's
   * heartbeat, the renewal of the leases it still holds (same epoch, not yet expired — what is not returned is
   * lost) with each bot's desired state, and the counts its claims are decided on. All of it at one instant of the
   * database's clock: a dead worker stops counting as live exactly when its leases expire, so the survivors' fair
   * share already leaves it out when they claim its bots.
   */
  async renew(
    worker: { id: string; host: string; pid: number },
    held: readonly { botId: string; epoch: number }[],
    leaseMs: number,
    orphanAfterMs: number,
  ): Promise<Renewal> {
    const owner = worker.id;
    const renewed =
      held.length === 0
        ? sql`renewed as (select null::bigint as bot_id, null::bigint as epoch, null::bigint as expires_at
              where false)`
        : sql`renewed as (update leases l set expires_at = t.now + ${leaseMs} from t, ${valuesTable(
            this.dialect,
            [
              { name: 'bot_id', type: 'bigint' },
              { name: 'epoch', type: 'bigint' },
            ],
            held.map((h) => [h.botId, h.epoch]),
          )}
              where l.bot_id = v.bot_id and l.epoch = v.epoch and l.owner_id = ${owner} and l.expires_at > t.now
              returning l.bot_id, l.epoch, l.expires_at)`;
    // Running bots nobody holds a live lease on (no row yet, released, or expired), and since when they are free.
    const free = sql`from bots b left join leases l on l.bot_id = b.id, t
      where b.desired_state = 'running' and (l.bot_id is null or l.owner_id is null or l.expires_at <= t.now)`;
    const rows = await sql<{
      renewed: { bot_id: string; epoch: number; expires_at: number; desired: string }[];
      running: string;
      workers: string;
      claimable: string;
      orphans: string;
      abandoned: string;
      next_expiry: string | null;
      now: string;
      orphaned_cycles: boolean;
    }>`
      with t as (select ${this.dbNow()} as now),
      hb as (insert into workers (id, host, pid, started_at, heartbeat_at)
             select ${owner}, ${worker.host}, ${worker.pid}, t.now, t.now from t
             on conflict (id) do update set heartbeat_at = excluded.heartbeat_at),
      -- Rows of workers long dead are cleaned up on the way.
      gone as (delete from workers w using t where w.heartbeat_at < t.now - ${leaseMs * 20} and w.id <> ${owner}),
      ${renewed}
      select
        (select coalesce(json_agg(json_build_object('bot_id', r.bot_id::text, 'epoch', r.epoch,
                'expires_at', r.expires_at, 'desired', b.desired_state)), '[]'::json)
           from renewed r join bots b on b.id = r.bot_id) as renewed,
        (select count(*) from bots where desired_state = 'running') as running,
        (select count(*) from workers w, t where w.heartbeat_at > t.now - ${leaseMs} or w.id = ${owner}) as workers,
        (select count(*) ${free}) as claimable,
        (select count(*) ${free} and coalesce(l.expires_at, 0) <= t.now - ${orphanAfterMs}) as orphans,
        (select count(*) ${free} and l.owner_id is not null) as abandoned,
        (select min(l.expires_at) from leases l join bots b on b.id = l.bot_id, t
          where b.desired_state = 'running' and l.owner_id <> ${owner} and l.expires_at > t.now) as next_expiry,
        (select now from t) as now,
        exists (select 1 from bots b left join leases l on l.bot_id = b.id, t
                where b.desired_state = 'stopped'
                  and (l.bot_id is null or l.owner_id is null or l.expires_at <= t.now)
                  and exists (select 1 from cycles c where c.bot_id = b.id and c.status = 'running'))
          as orphaned_cycles`.execute(this.db);
    const r = rows.rows[0]!;
    return {
      renewed: r.renewed.map((x) => ({
        botId: int64(x.bot_id),
        epoch: num(x.epoch),
        expiresAt: num(x.expires_at),
        desired: x.desired === 'running' ? 'running' : 'stopped',
      })),
      runningBots: num(r.running),
      liveWorkers: num(r.workers),
      claimable: num(r.claimable),
      orphans: num(r.orphans),
      abandoned: num(r.abandoned),
      nextExpiry: numOrNull(r.next_expiry),
      now: num(r.now),
      orphanedCycles: r.orphaned_cycles,
    };
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
