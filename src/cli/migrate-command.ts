/** `stagger migrate [--status]`: applies the migrations (reporting each) or lists them. */
import type { Kysely } from 'kysely';
import { openDatabase } from '../storage/database.js';
import { migrate, migrationStatus } from '../storage/migrations.js';
import { parseOptions } from './args.js';
import { configOrUsage, databaseName, usageOnStartErrorAsync } from './process.js';

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    status: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write('usage: stagger migrate [--status]\n');
    return 0;
  }
  const config = configOrUsage();
  const database = await usageOnStartErrorAsync(`cannot open ${databaseName(config)}`, () =>
    openDatabase({ dataDir: config.dataDir, url: config.databaseUrl }),
  );
  try {
    const db = database.db as Kysely<unknown>;
    if (values.status) {
      for (const m of await migrationStatus(db, database.dialect)) {
        process.stdout.write(`${m.applied ? 'applied ' : 'pending '} ${m.name}\n`);
      }
      return 0;
    }
    const report = await migrate(db, database.dialect);
    for (const r of report.results) process.stdout.write(`${r.status.padEnd(12)} ${r.name}\n`);
    if (report.results.length === 0 && report.ok)
      process.stdout.write(`up to date (${database.description})\n`);
    if (!report.ok) {
      process.stderr.write(`stagger migrate: failed, nothing was applied: ${report.error}\n`);
      return 1;
    }
    return 0;
  } finally {
    await database.close();
  }
}
