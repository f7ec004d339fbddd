/** The `bots` column each counter of a commit adds to: the one list both SQL committers write counters from. */
import type { CounterDelta } from '../core/model.js';
import type { BotsTable } from './schema.js';

export const COUNTER_COLUMNS = {
  sent: 'sent_count',
  duplicates: 'duplicate_count',
  failed: 'failed_count',
  skipped: 'skipped_count',
  floodWaits: 'flood_wait_count',
} as const satisfies { readonly [K in keyof Required<CounterDelta>]: keyof BotsTable };

export const COUNTER_FIELDS = Object.keys(COUNTER_COLUMNS) as readonly (keyof CounterDelta)[];
