/**
 * The composition root on SQLite with a virtual clock: the repositories stamp with the service's one clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { VirtualClock } from '../src/runtime/clock.js';
import { Service } from '../src/service.js';

const START = Date.UTC(2030, 0, 1);
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startService(clock: VirtualClock) {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagger-service-'));
  dirs.push(dataDir);
  const logger = createLogger({ level: 'silent' });
  const service = await Service.start(readConfig({ STAGGER_DATA_DIR: dataDir }), { clock, logger });
  return { service, logger };
}

it('has the repositories stamp with the service’s clock', async () => {
  const clock = new VirtualClock(START);
  const { service } = await startService(clock);
  try {
    const user = await service.store.users.create({ name: 'stamped' });
    expect(user.createdAt).toBe(START);
  } finally {
    await service.close();
  }
});
