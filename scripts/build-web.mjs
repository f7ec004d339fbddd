#!/usr/bin/env node
// Builds the dashboard (web/) into web/dist, which `stagger serve` serves at `/`. Runs on `npm ci`/`npm install`
// (the `prepare` script) and before `npm start` (with --if-stale: only when web/dist is missing or older than
// the sources), so nobody has to remember a build step.
//
//   node scripts/build-web.mjs              build now
//   node scripts/build-web.mjs --if-stale   build only if web/dist is missing or older than its sources
//   node scripts/build-web.mjs --dev --out DIR
//                                           a development build (React's warnings kept) into DIR, for tests
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const DIST = join(WEB, 'dist');
/** What the built files depend on. */
const SOURCES = [
  join(WEB, 'src'),
  join(WEB, 'public'),
  join(WEB, 'index.html'),
  join(WEB, 'vite.config.ts'),
  join(WEB, 'tsconfig.json'),
  // The dashboard bundles values from the server's pure core (its other imports from src/ are types, erased).
  join(ROOT, 'src', 'core'),
  join(ROOT, 'package-lock.json'),
  fileURLToPath(import.meta.url),
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isStale() {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((source) => newestMtime(source) > built);
}

const { values } = parseArgs({
  options: {
    'if-stale': { type: 'boolean', default: false },
    dev: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

if (values['if-stale'] && !values.dev && !values.out && !isStale()) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  console.error(
    'stagger: cannot build the dashboard: the "vite" package is not installed (run `npm ci`). The API works without it.',
  );
  process.exit(1);
}

const started = Date.now();
const outDir = values.out ? resolve(values.out) : DIST;
if (values.dev) process.env.NODE_ENV = 'development';
try {
  await vite.build({
    configFile: join(WEB, 'vite.config.ts'),
    root: WEB,
    logLevel: 'warn',
    mode: values.dev ? 'development' : 'production',
    build: {
      outDir,
      emptyOutDir: true,
      ...(values.dev ? { minify: false } : {}),
    },
  });
} catch (error) {
  console.error(`stagger: building the dashboard failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
console.log(
  `stagger: dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s (${outDir.startsWith(ROOT) ? outDir.slice(ROOT.length + 1) : outDir})`,
);
