/** What every SQL repository shares: the Kysely handle, the engine, and how a 64-bit id is bound to a query. */
import type { Kysely } from 'kysely';
import type { DbInt } from './codec.js';
import type { Dialect } from './database.js';
import type { Schema } from './schema.js';

export abstract class SqlRepository {
  constructor(
    readonly db: Kysely<Schema>,
    readonly dialect: Dialect,
  ) {}

  /**
   * A 64-bit id or value (a decimal string) as a query parameter: SQLite (safeIntegers) takes a bigint; pg takes
   * the decimal string. Never a JS number.
   */
  bind(value: string): DbInt {
    return this.dialect === 'sqlite' ? BigInt(value) : value;
  }
}
