/** Shared by the CLI commands that work on the database directly: open it (migrating), run, close. */
import { openStore, type Store } from '../storage/store.js';
import { configOrUsage, databaseName, usageOnStartErrorAsync } from './process.js';

export async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
  const config = configOrUsage();
  const store: Store = await usageOnStartErrorAsync(`cannot open ${databaseName(config)}`, () =>
    openStore({
      dataDir: config.dataDir,
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      secretKey: config.secretKey,
    }),
  );
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}
