/**
 * The one table of the post fields a patch sets (POST_PATCH_COLUMNS) and of the counters a commit adds
 * (COUNTER_COLUMNS), held against the types they serve. The type-level checks fail the type check (`tsc`, part of
 * `npm test`); the contract suite proves on every engine that each column is written.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CounterDelta, PostRecord } from '../../src/core/model.js';
import {
  POST_PATCH_COLUMNS,
  POST_PATCH_FIELDS,
  type PostPatch,
  type PostPatchField,
} from '../../src/runtime/store.js';
import { COUNTER_COLUMNS, COUNTER_FIELDS } from '../../src/storage/bot-counters.js';
import type { BotsTable, PostsTable } from '../../src/storage/schema.js';

type Columns = typeof POST_PATCH_COLUMNS;
type Patched = { [F in PostPatchField]-?: Exclude<PostPatch[F], undefined> };

/** What each kind of value is in TypeScript. */
interface ValueTypes {
  text: string | null;
  integer: number;
  bigint: number | null;
  id: string;
  json: number[];
}

describe('the columns a commit writes', () => {
  it('cover every field of PostPatch but the post’s own ids, and nothing else', () => {
    expectTypeOf<keyof Columns>().toEqualTypeOf<Exclude<keyof PostPatch, 'postId' | 'botId'>>();
    expectTypeOf(POST_PATCH_FIELDS).toEqualTypeOf<readonly PostPatchField[]>();
    expect([...POST_PATCH_FIELDS]).toEqual(Object.keys(POST_PATCH_COLUMNS));
  });

  it('name columns of posts, each once', () => {
    expectTypeOf<Columns[PostPatchField]['column']>().toExtend<keyof PostsTable>();
    const columns = POST_PATCH_FIELDS.map((f) => POST_PATCH_COLUMNS[f].column);
    expect(new Set(columns).size).toBe(columns.length);
  });

  it('give each field the kind of value its type holds', () => {
    expectTypeOf<Patched>().toExtend<{ [F in PostPatchField]: ValueTypes[Columns[F]['value']] }>();
  });

  it('set fields a post record has under the same name and type (the memory store sets them there)', () => {
    expectTypeOf<Patched>().toExtend<Pick<PostRecord, PostPatchField>>();
  });

  it('add every counter of a batch to its own column of bots', () => {
    expectTypeOf<keyof typeof COUNTER_COLUMNS>().toEqualTypeOf<keyof CounterDelta>();
    expectTypeOf<(typeof COUNTER_COLUMNS)[keyof CounterDelta]>().toExtend<keyof BotsTable>();
    expect([...COUNTER_FIELDS]).toEqual(Object.keys(COUNTER_COLUMNS));
    expect(new Set(Object.values(COUNTER_COLUMNS)).size).toBe(COUNTER_FIELDS.length);
  });
});
