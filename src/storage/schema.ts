/**
 * Table types for Kysely. One schema for SQLite and PostgreSQL; integers come back as bigint (SQLite) or
 * string/number (pg), so reads go through ./codec.ts. Times are epoch milliseconds in bigint columns; booleans
 * are 0/1 integers (the same on both engines).
 */
import type { ColumnType, Generated } from 'kysely';
import type { DbInt } from './codec.js';

type Id = Generated<DbInt>;
type Int = ColumnType<DbInt, DbInt, DbInt>;
type IntNull = ColumnType<DbInt | null, DbInt | null | undefined, DbInt | null>;
type Real = ColumnType<number, number, number>;
type RealNull = ColumnType<number | null, number | null | undefined, number | null>;
type Text = string;
type TextNull = ColumnType<string | null, string | null | undefined, string | null>;

export interface MetaTable {
  key: Text;
  value: Text;
}

export interface UsersTable {
  id: Id;
  name: Text;
  role: Text;
  plan_type: TextNull;
  plan_status: Text;
  max_sessions: Int;
  /** The JWT subject for users created from a trusted token. */
  external_id: TextNull;
  created_at: Int;
}

export interface ApiTokensTable {
  id: Id;
  user_id: Int;
  token_hash: Text;
  label: TextNull;
  created_at: Int;
  last_used_at: IntNull;
  revoked_at: IntNull;
}

export interface TelegramSessionsTable {
  id: Id;
  /** Null: in the operator's pool, not assigned to a customer. */
  owner_user_id: IntNull;
  /** `customer`: the customer's own account (deleted with them); `pool`: the operator's, lent to customers. */
  origin: ColumnType<string, string | undefined, string>;
  label: Text;
  driver: Text;
  /** AES-256-GCM, see secret-box.ts. Never returned by the API. */
  auth_encrypted: TextNull;
  api_id: IntNull;
  api_hash_encrypted: TextNull;
  tg_user_id: IntNull;
  tg_username: TextNull;
  tg_name: TextNull;
  status: Text;
  status_reason: TextNull;
  cooldown_until: IntNull;
  created_at: Int;
  updated_at: Int;
  /** Failed connects in a row (src/core/reachability.ts). */
  connect_failures: ColumnType<DbInt, DbInt | undefined, DbInt>;
  /** A frozen account, as Telegram's app config says (src/core/freeze.ts): since / until in epoch ms. */
  frozen_since: IntNull;
  frozen_until: IntNull;
  freeze_appeal_url: TextNull;
}

export interface BotsTable {
  id: Id;
  user_id: Int;
  post_link: TextNull;
  execution_mode: TextNull;
  total_cycle_minutes: IntNull;
  delay_between_posts: Real;
  delay_between_cycles: Real;
  min_group_gap_seconds: Real;
  silent: Int;
  hide_sender: Int;
  desired_state: Text;
  anchor_at: IntNull;
  anchor_cycle_seconds: RealNull;
  needs_attention: Int;
  last_error: TextNull;
  sent_count: Int;
  duplicate_count: Int;
  failed_count: Int;
  skipped_count: Int;
  flood_wait_count: Int;
  updated_at: Int;
}

export interface BotGroupsTable {
  bot_id: Int;
  position: Int;
  key: Text;
  slowmode_seconds: IntNull;
}

export interface CyclesTable {
  id: Id;
  bot_id: Int;
  number: Int;
  mode: Text;
  slot: IntNull;
  cycle_seconds: RealNull;
  planned_start_at: Int;
  deadline_at: Int;
  expected_end_at: Int;
  finished_at: IntNull;
  status: Text;
  reason: TextNull;
  warnings: Text;
  /** The source post as read at planning: its link and message ids (JSON); both null when it was not read. */
  source_link: TextNull;
  source_message_ids: TextNull;
}

export interface PostsTable {
  id: Id;
  cycle_id: Int;
  bot_id: Int;
  seq: Int;
  session_id: Int;
  planned_session_id: Int;
  group_key: Text;
  planned_at: Int;
  random_id: Int;
  status: Text;
  reason: TextNull;
  error: TextNull;
  attempts: Int;
  sent_at: IntNull;
  /** JSON of decimal int64 strings, one per message of an album; null for a single message (random_id alone). */
  random_ids: TextNull;
  /** JSON of the message ids the forward created in the group; null when not known. */
  sent_message_ids: TextNull;
}

export interface PairStatesTable {
  bot_id: Int;
  session_id: Int;
  group_key: Text;
  cooldown_until: IntNull;
  parked_until: IntNull;
  parked_reason: TextNull;
  unknown_failures: Int;
  skip_through_cycle: IntNull;
  last_error: TextNull;
}

/** What a session knows about a group before posting there; booleans as 0/1, null = not known. */
export interface GroupFactsTable {
  session_id: Int;
  group_key: Text;
  checked_at: Int;
  member: IntNull;
  can_write: IntNull;
  slowmode_seconds: IntNull;
  paid_stars: IntNull;
  topic_closed: IntNull;
  username: TextNull;
  error: TextNull;
}

export interface PeerCacheTable {
  session_id: Int;
  key: Text;
  value: Text;
}

export interface LeasesTable {
  bot_id: Int;
  owner_id: TextNull;
  epoch: Int;
  expires_at: Int;
}

export interface WorkersTable {
  id: Text;
  host: Text;
  pid: Int;
  started_at: Int;
  heartbeat_at: Int;
}

export interface SandboxAccountsTable {
  id: Text;
  status: Text;
  flood_tokens: RealNull;
  flood_updated_at: IntNull;
}

export interface SandboxGroupsTable {
  key: Text;
  is_channel: Int;
  members: TextNull;
  read_only: Text;
  banned: Text;
  slowmode_seconds: Int;
  /** Stars a message (0: free). */
  paid_stars: ColumnType<DbInt, DbInt | undefined, DbInt>;
  /** JSON array of closed topic ids. */
  closed_topics: ColumnType<string, string | undefined, string>;
}

export interface SandboxSourcesTable {
  link: Text;
  state: Text;
  /** JSON: the message ids of the album the post is one message of; null for a single message. */
  message_ids: TextNull;
}

export interface SandboxFaultsTable {
  id: Id;
  account_id: TextNull;
  group_key: TextNull;
  method: TextNull;
  from_at: Int;
  error: Text;
  remaining: Int;
}

export interface SandboxDeliveriesTable {
  id: Id;
  account_id: Text;
  group_key: Text;
  random_id: Int;
  source_link: Text;
  at: Int;
  trace: Text;
}

export interface Schema {
  meta: MetaTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  telegram_sessions: TelegramSessionsTable;
  bots: BotsTable;
  bot_groups: BotGroupsTable;
  cycles: CyclesTable;
  posts: PostsTable;
  pair_states: PairStatesTable;
  group_facts: GroupFactsTable;
  peer_cache: PeerCacheTable;
  leases: LeasesTable;
  workers: WorkersTable;
  sandbox_accounts: SandboxAccountsTable;
  sandbox_groups: SandboxGroupsTable;
  sandbox_sources: SandboxSourcesTable;
  sandbox_faults: SandboxFaultsTable;
  sandbox_deliveries: SandboxDeliveriesTable;
}
