/** Shared by the CLI commands that work on the database directly: open it (migrating), run, close. */
import { readConfig } from '../config.js';
import { StaggerError } from '../core/errors.js';
import { openStore, type Store } from '../storage/store.js';
import { UsageError } from './args.js';

export async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
  let store: Store;
  try {
    const config = readConfig();
    store = await openStore({
      dataDir: config.dataDir,
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      secretKey: config.secretKey,
    });
  } catch (error) {
    if (error instanceof StaggerError) throw new UsageError(error.message);
    throw error;
  }
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}
