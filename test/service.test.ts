/**
 * The composition root on SQLite with a virtual clock: the repositories stamp with the service's one clock, and
 * a shutdown closes every part even when one of them fails or hangs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('Service.close', () => {
  it('closes the other parts when one of them fails to close', async () => {
    const { service, logger } = await startService(new VirtualClock(START));
    const failure = new Error('login manager would not close');
    vi.spyOn(service.login, 'close').mockRejectedValue(failure);
    const gateway = vi.spyOn(service.gateway, 'close');
    const store = vi.spyOn(service.store, 'close');
    const errors = vi.spyOn(logger, 'error');

    await service.close();

    expect(gateway).toHaveBeenCalledOnce();
    expect(store).toHaveBeenCalledOnce();
    await expect(store.mock.results[0]!.value).resolves.toBeUndefined();
    expect(errors).toHaveBeenCalledWith(
      { part: 'login manager', err: failure },
      'closing login manager failed; going on',
    );
  });

  it('gives up on a part that hangs once the bound has passed, and closes the rest', async () => {
    const clock = new VirtualClock(START);
    const { service, logger } = await startService(clock);
    vi.spyOn(service.runtime!, 'close').mockReturnValue(new Promise(() => undefined));
    const store = vi.spyOn(service.store, 'close');
    const warnings = vi.spyOn(logger, 'warn');

    let closed = false;
    const closing = service.close().then(() => (closed = true));
    await clock.advance(9_999);
    expect(closed).toBe(false);
    // At the bound the runtime is given up on; the parts after it close in (real) time of their own.
    await clock.advance(1);
    await closing;

    expect(store).toHaveBeenCalledOnce();
    await expect(store.mock.results[0]!.value).resolves.toBeUndefined();
    expect(warnings).toHaveBeenCalledWith(
      expect.objectContaining({ part: 'runtime' }),
      'runtime did not close in time; going on',
    );
    expect(warnings).toHaveBeenCalledWith({ notClosed: ['runtime'] }, 'stopped; some parts did not close');
  });
});
