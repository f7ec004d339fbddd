/**
 * Schema pieces the routes share, built from the core's definitions so the API accepts exactly what the core
 * (and the CLI) accept: record ids, and numbers in the ranges of src/core/limits.ts. The validators of requests
 * live here too: the app uses them for every route, and a route that checks its values itself (the start body)
 * compiles its shape with the same one.
 */
import { Type, type SchemaOptions, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { isRecordId, type NumberRange } from '../core/limits.js';

export const RECORD_ID_FORMAT = 'record-id';
/** ISO 8601 times, as every time in an answer is written (presenters.ts `iso`). */
export const DATE_TIME_FORMAT = 'date-time';

/** Teaches an Ajv instance the formats these schemas use. */
export function addFormats(ajv: Ajv): Ajv {
  return (
    ajv
      .addFormat(RECORD_ID_FORMAT, { type: 'string', validate: isRecordId })
      // A file part of a multipart body: documented, not a text to check.
      .addFormat('binary', true)
      .addFormat(DATE_TIME_FORMAT, {
        type: 'string',
        // What Date#toISOString writes (years past 9999 with a sign and six digits).
        validate: (text) =>
          /^(\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(text) &&
          !Number.isNaN(Date.parse(text)),
      })
  );
}

/** Request bodies are checked strictly: wrong types are errors (not coerced), unknown fields are errors. */
export const bodyAjv = addFormats(
  new Ajv({
    allErrors: false,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    strict: false,
  }),
);
/** Query strings and path params arrive as text: numbers and booleans in them are coerced. */
export const queryAjv = addFormats(
  new Ajv({
    allErrors: false,
    coerceTypes: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  }),
);

/** A database id in a path, query or body: a positive whole number that fits 64 bits (else 400, never 500). */
export const RecordId = (description = 'an id') =>
  Type.String({ format: RECORD_ID_FORMAT, maxLength: 19, description });

export const IdParams = Type.Object({ id: RecordId() });

/** A number schema with the range's bounds (the limit shows in the 400's message and in the OpenAPI document). */
export function rangeSchema(range: NumberRange, description?: string) {
  const options = { minimum: range.min, maximum: range.max, ...(description ? { description } : {}) };
  return range.integer ? Type.Integer(options) : Type.Number(options);
}

/** One of a few words: a plain `enum` (the document lists the words; a union of literals would be one per word). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/**
 * The schema, or null. An enum takes null among its values: OpenAPI 3.0's `nullable` does not extend an `enum`
 * (the document's converter would write `nullable` beside an enum without null, which refuses null).
 */
export function Nullable<T extends TSchema>(
  schema: T,
  options: SchemaOptions = {},
): TUnsafe<Static<T> | null> {
  const values = (schema as { enum?: unknown }).enum;
  if (Array.isArray(values))
    return Type.Unsafe<Static<T> | null>({ ...schema, ...options, enum: [...values, null], nullable: true });
  return Type.Union([schema, Type.Null()], options) as unknown as TUnsafe<Static<T> | null>;
}

/** A time in an answer: ISO 8601 text in UTC. */
export const DateTime = (description?: string) =>
  Type.String({ format: DATE_TIME_FORMAT, ...(description ? { description } : {}) });

/**
 * The shape of a body schema without the types of its fields: an object keeps its field names (unknown fields stay
 * errors), each field takes any value. For a route whose values are checked by a core rule that answers its own
 * codes (the original's contract), while the document still shows the fields' types.
 */
export function shapeOf(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) return { ...s, anyOf: s.anyOf.map(shapeOf) };
  if (s.type === 'object' && typeof s.properties === 'object' && s.properties !== null) {
    return { ...s, properties: Object.fromEntries(Object.keys(s.properties).map((key) => [key, {}])) };
  }
  return s;
}
