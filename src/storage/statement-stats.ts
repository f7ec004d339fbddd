/**
 * Counts the statements this process sends to PostgreSQL, by the path that sent them: the runtime's commits of
 * `sending` marks and outcomes (its own per-post path), the sandbox Telegram, the lease keeper, and everything
 * else. Every statement is a round trip (BEGIN and COMMIT included), which is what the database work of a post
 * costs; the cluster benchmark divides these counts by the posts delivered.
 *
 * The path is carried by the async context of the call (`countedAs`), so that a repository needs no handle of its
 * own: the pool's clients count each `query` under the path of whoever called it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';

export const STATEMENT_PATHS = ['commit', 'sandbox', 'leases', 'other'] as const;
export type StatementPath = (typeof STATEMENT_PATHS)[number];
export type StatementCounts = Record<StatementPath, number>;

const current = new AsyncLocalStorage<StatementPath>();

/** Runs `fn` with every statement it sends (and every one its continuations send) counted under `path`. */
export function countedAs<T>(path: StatementPath, fn: () => Promise<T>): Promise<T> {
  return current.run(path, fn);
}

export class StatementCounter {
  private readonly counts: StatementCounts = { commit: 0, sandbox: 0, leases: 0, other: 0 };

  /**
   * Counts every statement of the pool's clients; `path` fixes the path for a pool used by one part only (the
   * lease keeper's own connection).
   */
  attach(pool: pg.Pool, path?: StatementPath): void {
    const add = (): void => this.add(path ?? current.getStore() ?? 'other');
    pool.on('connect', (client) => {
      const query = client.query;
      // One function for every overload of `query`: it only counts, then hands the call on unchanged.
      client.query = function (this: pg.PoolClient, ...args: unknown[]) {
        add();
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof client.query;
    });
  }

  add(path: StatementPath): void {
    this.counts[path]++;
  }

  snapshot(): StatementCounts {
    return { ...this.counts };
  }
}

/** `object` with every method call counted under `path` (a repository that belongs to one part). */
export function countingAs<T extends object>(path: StatementPath, object: T): T {
  return new Proxy(object, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        current.run(path, () => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}
