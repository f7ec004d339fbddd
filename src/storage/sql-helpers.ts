/** The few places where SQLite and PostgreSQL need different SQL. */
import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from './database.js';

/** The database's clock in epoch milliseconds (leases are timed by it, not by any worker's clock). */
export function dbNowMs(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}

export type SqlType = 'bigint' | 'integer' | 'text' | 'double precision';

/**
 * An inline table of values to join in an UPDATE … FROM: one statement for a whole batch. Every value is cast, so
 * PostgreSQL knows the column types (a bare NULL would be text).
 */
export function valuesTable(
  dialect: Dialect,
  columns: readonly { name: string; type: SqlType }[],
  rows: readonly (readonly unknown[])[],
): RawBuilder<unknown> {
  const tuples = sql.join(
    rows.map(
      (row) => sql`(${sql.join(row.map((value, i) => sql`cast(${value} as ${sql.raw(columns[i]!.type)})`))})`,
    ),
  );
  if (dialect === 'postgres') {
    return sql`(values ${tuples}) as v(${sql.join(columns.map((c) => sql.ref(c.name)))})`;
  }
  const names = sql.join(columns.map((c, i) => sql`${sql.ref(`column${i + 1}`)} as ${sql.ref(c.name)}`));
  return sql`(select ${names} from (values ${tuples})) as v`;
}

/** Splits a batch so one statement stays under the engines' parameter limits. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
