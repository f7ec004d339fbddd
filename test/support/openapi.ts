/**
 * The API's OpenAPI document as tests read it: its operations, the schema of each answer, and a checker that
 * validates real answers against them with Ajv (OpenAPI 3.0's `nullable` included, with the formats the API
 * documents). An exchange through `call` also keeps what the route handed Fastify before serialization, so a test
 * can tell that nothing a route returns is dropped by its response schema.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { addFormats } from '../../src/http/schemas.js';

export type Schema = Record<string, unknown>;

export interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

export interface DocResponse {
  description: string;
  content?: Record<string, Media>;
  headers?: Record<string, { schema: Schema; description?: string }>;
}

export interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, DocResponse>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

export interface DocOperation {
  /** `POST /api/sessions/{id}/check`: the method and the path as the document writes them. */
  key: string;
  method: string;
  path: string;
  operation: Operation;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

export function operationsOf(doc: OpenApiDocument): DocOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, operation })),
  );
}

/** A Fastify route (`/api/sessions/:id`) as the document names it (`/api/sessions/{id}`). */
export function documentPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, '{$1}');
}

/** The examples of a media object: its `example`, or each of its `examples`. */
export function examplesOf(media: Media): unknown[] {
  if (media.example !== undefined) return [media.example];
  return Object.values(media.examples ?? {}).map((e) => e.value);
}

/** A copy where every object schema with properties refuses fields it does not declare. */
export function closedSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closedSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closedSchema(v)]))
        : closedSchema(value);
  }
  if (out.properties !== undefined && out.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

/** Validates values against the document's schemas. */
export class SchemaChecker {
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  /** What is wrong with `value` (empty: it matches). */
  problems(schema: Schema, value: unknown): string[] {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
    );
  }
}

/** One request and its answer, with what the route handed Fastify before serializing it (when it did). */
export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  /** The payload before serialization; undefined when none was serialized (204, a stream). */
  raw: unknown;
}

/** The request header that marks the request a test measures (the others set things up). */
const MEASURED = 'x-openapi-measured';
const payloads = new WeakMap<FastifyInstance, Map<string, unknown>>();

/** Keeps the payloads of measured requests; call before the app's first request. */
export function watchPayloads(app: FastifyInstance): void {
  const seen = new Map<string, unknown>();
  payloads.set(app, seen);
  app.addHook('preSerialization', async (request, _reply, payload) => {
    const id = request.headers[MEASURED];
    if (typeof id === 'string') seen.set(id, payload);
    return payload;
  });
}

let sequence = 0;

export interface CallOptions {
  token?: string | null;
  /** An object is sent as JSON; a string or a Buffer as it is (give its content type). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A measured request through the app (in-process). */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  options: CallOptions = {},
): Promise<Exchange> {
  const id = String(++sequence);
  const headers: Record<string, string> = { ...options.headers, [MEASURED]: id };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const inject: InjectOptions = { method, url, headers };
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
      inject.payload = options.body;
      headers['content-type'] ??= 'application/json';
    } else inject.payload = options.body as object;
  }
  const res = await app.inject(inject);
  const seen = payloads.get(app);
  const raw = seen?.get(id);
  seen?.delete(id);
  return { status: res.statusCode, headers: res.headers, text: res.body, raw };
}

/** Server-Sent Events as `text/event-stream` writes them: the event name and the data of each. */
export function parseEventStream(text: string): { event: string | null; data: string }[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line !== '' && !line.startsWith(':')))
    .filter((lines) => lines.some((line) => line.startsWith('data:')))
    .map((lines) => ({
      event:
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice('event:'.length)
          .trim() ?? null,
      data: lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice('data:'.length).trimStart())
        .join('\n'),
    }));
}

const valueAjv = addFormats(new Ajv({ allErrors: true, strict: false }));

/** What is wrong with `value` against one of the API's own TypeBox schemas, checked as Fastify checks it. */
export function schemaErrors(schema: object, value: unknown): string[] {
  const validate = valueAjv.compile(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());
}
