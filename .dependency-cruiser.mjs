/**
 * Import cycles fail `npm run check`. Modules in a cycle cannot be understood, tested or moved one at a time, and
 * ESM evaluates such a ring in an order where a module may read a binding of another before it is initialised.
 *
 * Type-only imports count: a cycle made of `import type` costs nothing at run time, but it is the same knot in
 * the design — a low-level module naming a type owned by the module that drives it. The type belongs in a module
 * both can import (as `runtime/lease.ts` and `logger.ts` are).
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Move what both modules need into a third module that imports neither.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'Production code never imports the test kit (it imports devDependencies).',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` is an edge of the graph like any other import (see above).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // ESM specifiers name the emitted `.js`, which dependency-cruiser maps to the `.ts` beside it as tsc does;
    // the dashboard imports without an extension (Vite), so `.ts`/`.tsx` are tried too.
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs'],
      conditionNames: ['import', 'node', 'default'],
    },
  },
};
