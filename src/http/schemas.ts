/**
 * Schema pieces the routes share, built from the core's definitions so the API accepts exactly what the core
 * (and the CLI) accept: record ids, and numbers in the ranges of src/core/limits.ts.
 */
import { Type } from '@sinclair/typebox';
import type { Ajv } from 'ajv';
import { isRecordId, type NumberRange } from '../core/limits.js';

export const RECORD_ID_FORMAT = 'record-id';

/** Teaches an Ajv instance the formats these schemas use. */
export function addFormats(ajv: Ajv): Ajv {
  return ajv.addFormat(RECORD_ID_FORMAT, { type: 'string', validate: isRecordId });
}

/** A database id in a path, query or body: a positive whole number that fits 64 bits (else 400, never 500). */
export const RecordId = (description = 'an id') =>
  Type.String({ format: RECORD_ID_FORMAT, maxLength: 19, description });

export const IdParams = Type.Object({ id: RecordId() });

/** A number schema with the range's bounds (the limit shows in the 400's message and in the OpenAPI document). */
export function rangeSchema(range: NumberRange, description?: string) {
  const options = { minimum: range.min, maximum: range.max, ...(description ? { description } : {}) };
  return range.integer ? Type.Integer(options) : Type.Number(options);
}
