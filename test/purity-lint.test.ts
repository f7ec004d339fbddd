/**
 * The lint rule that keeps src/core pure and src/runtime on its Clock: each way of reaching the real clock,
 * timers, randomness or the process is an error there, the harmless forms of Date and Math are not, and
 * src/runtime/clock.ts (the real clock) may do all of it.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const PURITY_RULES = new Set([
  'no-restricted-globals',
  'no-restricted-properties',
  'no-restricted-syntax',
  'no-restricted-imports',
]);

const forbidden: Record<string, string> = {
  'Date.now()': 'export const t = Date.now();',
  "Date['now']()": "export const t = Date['now']();",
  'globalThis.Date.now()': 'export const t = globalThis.Date.now();',
  'Date() as a function': 'export const t = Date();',
  'new Date() without a time': 'export const t = new Date();',
  'new Date without parentheses': 'export const t = new Date;',
  'an alias of Date': 'const D = Date;\nexport const t = D.now();',
  'Date cast': 'export const t = (Date as DateConstructor).now();',
  "Reflect.get(Date, 'now')": "export const t = (Reflect.get(Date, 'now') as () => number)();",
  'Date[key]': "const key = 'now';\nexport const t = Date[key]();",
  'a destructured Date.now': 'const { now } = Date;\nexport const t = now();',
  'Math.random()': 'export const r = Math.random();',
  "Reflect.get(Math, 'random')": "export const r = (Reflect.get(Math, 'random') as () => number)();",
  'performance.now()': 'export const t = performance.now();',
  'crypto.randomUUID()': 'export const id = crypto.randomUUID();',
  'process.hrtime': 'export const t = process.hrtime.bigint();',
  setTimeout: 'setTimeout(() => undefined, 10);',
  setInterval: 'setInterval(() => undefined, 10);',
  setImmediate: 'setImmediate(() => undefined);',
  queueMicrotask: 'queueMicrotask(() => undefined);',
  'globalThis.setTimeout': 'globalThis.setTimeout(() => undefined, 10);',
  'globalThis.setInterval': 'globalThis.setInterval(() => undefined, 10);',
  'dynamic import()': "export const m = import('./plan.js');",
  eval: "export const t = eval('Date.now()') as number;",
  'new Function': "export const f = new Function('return Date.now()');",
};

const allowed: Record<string, string> = {
  'new Date(t)': 'export const iso = (t: number) => new Date(t).toISOString();',
  'Date.UTC': 'export const epoch = Date.UTC(2026, 0, 1);',
  'Date.parse': "export const t = Date.parse('2026-01-01T00:00:00Z');",
  'Math.floor and Math.max': 'export const f = (x: number) => Math.max(0, Math.floor(x));',
  'Date as a type': 'export type D = Date;\nexport const f = (d: Date): number => d.getTime();',
  'a property named Date': 'export const o = { Date: 1, Math: 2 };\nexport const d = o.Date + o.Math;',
};

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: 'eslint.config.js' });
});

async function purityErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages
    .filter((m) => m.severity === 2 && m.ruleId !== null && PURITY_RULES.has(m.ruleId))
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe.each(['src/core/x.ts', 'src/runtime/x.ts'])('the purity rule in %s', (filePath) => {
  it.each(Object.entries(forbidden))('forbids %s', async (_name, code) => {
    expect(await purityErrors(code, filePath)).not.toEqual([]);
  });

  it.each(Object.entries(allowed))('allows %s', async (_name, code) => {
    expect(await purityErrors(code, filePath)).toEqual([]);
  });
});

describe('src/runtime', () => {
  const timers = [
    "import { setTimeout } from 'node:timers/promises';\nexport const wait = () => setTimeout(10);",
    "import { performance } from 'node:perf_hooks';\nexport const t = () => performance.now();",
    "import { randomBytes } from 'node:crypto';\nexport const id = () => randomBytes(8);",
    "import process from 'node:process';\nexport const t = () => process.uptime();",
  ];

  it.each(timers)('forbids modules that go around the Clock: %s', async (code) => {
    expect(await purityErrors(code, 'src/runtime/x.ts')).not.toEqual([]);
  });

  it('lets random.ts draw from node:crypto (CryptoRandom), and nothing more', async () => {
    expect(await purityErrors(timers[2]!, 'src/runtime/random.ts')).toEqual([]);
    expect(await purityErrors(timers[0]!, 'src/runtime/random.ts')).not.toEqual([]);
    expect(await purityErrors(forbidden['Date.now()']!, 'src/runtime/random.ts')).not.toEqual([]);
  });

  it('lets clock.ts, the real clock, touch real time and timers', async () => {
    for (const code of [...Object.values(forbidden), ...timers])
      expect(await purityErrors(code, 'src/runtime/clock.ts')).toEqual([]);
  });

  it('lets tests wait on real timers', async () => {
    expect(await purityErrors(forbidden['setTimeout']!, 'src/runtime/x.test.ts')).toEqual([]);
  });
});

it('leaves the rest of src alone', async () => {
  expect(await purityErrors(forbidden['Date.now()']!, 'src/storage/x.ts')).toEqual([]);
});
