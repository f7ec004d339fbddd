/** The SQLite files and the data directory are private to the user running Stagger, whatever the umask. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_FILE_NAME } from '../../src/storage/secret-box.js';
import { openStore } from '../../src/storage/store.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

let base: string;
let umask: number;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'stagger-modes-'));
  // The usual default umask: it lets group and others read whatever is created without an explicit mode.
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(base, { recursive: true, force: true });
});

describe('file modes of the SQLite data directory', () => {
  it('creates the directory 0700 and the database, -wal, -shm and key files 0600', async () => {
    const dataDir = join(base, 'data');
    const store = await openStore({ dataDir });
    try {
      await store.users.create({ name: 'owner' });
      const db = join(dataDir, 'stagger.db');
      // The WAL and shared-memory files exist while the database is open.
      expect(existsSync(`${db}-wal`)).toBe(true);
      expect(existsSync(`${db}-shm`)).toBe(true);
      expect({
        dir: modeOf(dataDir),
        db: modeOf(db),
        wal: modeOf(`${db}-wal`),
        shm: modeOf(`${db}-shm`),
        key: modeOf(join(dataDir, KEY_FILE_NAME)),
      }).toEqual({ dir: '700', db: '600', wal: '600', shm: '600', key: '600' });
    } finally {
      await store.close();
    }
  });

  it('leaves an existing data directory as its owner made it', async () => {
    const dataDir = join(base, 'data');
    mkdirSync(dataDir, { mode: 0o750 });
    const store = await openStore({ dataDir });
    try {
      expect(modeOf(dataDir)).toBe('750');
      expect(modeOf(join(dataDir, 'stagger.db'))).toBe('600');
    } finally {
      await store.close();
    }
  });
});

describe('file modes on PostgreSQL', async () => {
  const { createTestDatabase, requirePostgres } = await import('../support/postgres.js');
  const run = await requirePostgres('file modes on PostgreSQL');
  it.runIf(run)('a missing data directory is created 0700 for the key file', async () => {
    const pg = await createTestDatabase();
    const dataDir = join(base, 'pg-data');
    const store = await openStore({ dataDir, url: pg.url });
    try {
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(dataDir, KEY_FILE_NAME))).toBe('600');
    } finally {
      await store.close();
      await pg.drop();
    }
  });
});
