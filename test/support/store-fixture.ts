/**
 * One way to set up bots on every engine the runtime persists to — memory, SQLite, PostgreSQL — so the same
 * contract tests and runtime scenarios run on each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotSettings, CycleRecord, PostRecord } from '../../src/core/model.js';
import { cycleFromRow } from '../../src/storage/runtime-store.js';
import type { ExecutionMode } from '../../src/core/plan.js';
import { MemoryRuntimeStore } from '../../src/runtime/memory-store.js';
import type { RuntimeStore } from '../../src/runtime/store.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { MemorySandboxStore, type SandboxStore } from '../../src/telegram/sandbox/sandbox-store.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export type EngineName = 'memory' | 'sqlite' | 'postgres';

export interface BotSpec {
  mode?: ExecutionMode | null;
  totalCycleMinutes?: number | null;
  settings?: Partial<BotSettings>;
  sessions?: number;
  groups?: string[];
  desiredState?: 'running' | 'stopped';
  postLink?: string;
}

export interface CreatedBot {
  botId: string;
  userId: string;
  sessionIds: string[];
}

export interface Fixture {
  engine: EngineName;
  runtime: RuntimeStore;
  sandbox: SandboxStore;
  /** The SQL store (null for memory). */
  store: Store | null;
  addBot(spec: BotSpec): Promise<CreatedBot>;
  /** Every post of the bot, oldest first. */
  posts(botId: string): Promise<PostRecord[]>;
  cycles(botId: string): Promise<CycleRecord[]>;
  close(): Promise<void>;
}

export async function memoryFixture(): Promise<Fixture> {
  const runtime = new MemoryRuntimeStore();
  let n = 0;
  return {
    engine: 'memory',
    runtime,
    sandbox: new MemorySandboxStore(),
    store: null,
    async addBot(spec) {
      const userId = `u${++n}`;
      const sessionIds = Array.from({ length: spec.sessions ?? 1 }, (_, i) => `${userId}s${i}`);
      const botId = runtime.addBot({
        userId,
        mode: spec.mode ?? null,
        totalCycleMinutes: spec.totalCycleMinutes ?? null,
        settings: spec.settings ?? {},
        desiredState: spec.desiredState ?? 'running',
        sessions: sessionIds.map((id) => ({ id })),
        groups: spec.groups ?? [],
        postLink: spec.postLink ?? 'https://t.me/stagger_demo/1',
      });
      return { botId, userId, sessionIds };
    },
    async posts(botId) {
      return runtime.listPosts(botId);
    },
    async cycles(botId) {
      return runtime.listCycles(botId);
    },
    async close() {},
  };
}

export async function sqlFixture(
  engine: 'sqlite' | 'postgres',
  options: { now?: () => number } = {},
): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-test-'));
  let pgdb: TestDatabase | null = null;
  if (engine === 'postgres') pgdb = await createTestDatabase();
  const store = await openStore({ dataDir, url: pgdb?.url, ...(options.now ? { now: options.now } : {}) });
  let n = 0;
  return {
    engine,
    runtime: store.runtime,
    sandbox: store.sandbox,
    store,
    async addBot(spec) {
      const user = await store.users.create({ name: `customer ${++n}`, maxSessions: spec.sessions ?? 1 });
      const sessionIds: string[] = [];
      for (let i = 0; i < (spec.sessions ?? 1); i++) {
        const s = await store.sessions.create({
          ownerUserId: user.id,
          label: `session ${i}`,
          driver: 'sandbox',
        });
        sessionIds.push(s.id);
      }
      const botId = await store.bots.ensureForUser(user.id);
      await store.bots.setPostLink(botId, spec.postLink ?? 'https://t.me/stagger_demo/1');
      await store.bots.setGroups(botId, spec.groups ?? []);
      if (spec.settings) await store.bots.setSettings(botId, spec.settings);
      await store.bots.start(botId, spec.mode ?? 'enterprise', spec.totalCycleMinutes ?? null);
      if (spec.mode === null) {
        await store.db
          .updateTable('bots')
          .set({ execution_mode: null })
          .where('id', '=', store.runtime.bind(botId))
          .execute();
      }
      if (spec.desiredState === 'stopped') await store.bots.stop(botId);
      return { botId, userId: user.id, sessionIds };
    },
    async posts(botId) {
      const page = await store.bots.posts(botId, { limit: 1_000_000 });
      return page.posts.map(({ cycleNumber: _n, happenedAt: _h, ...p }) => p).reverse();
    },
    async cycles(botId) {
      const rows = await store.db
        .selectFrom('cycles')
        .selectAll()
        .where('bot_id', '=', store.runtime.bind(botId))
        .orderBy('id')
        .execute();
      return rows.map(cycleFromRow);
    },
    async close() {
      await store.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function fixtureFor(engine: EngineName): Promise<Fixture> {
  return engine === 'memory' ? memoryFixture() : sqlFixture(engine);
}
