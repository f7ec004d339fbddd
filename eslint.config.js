// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What keeps src/core pure and src/runtime on its injected Clock and RandomSource: the globals that read the clock,
 * draw randomness, schedule work or reach the process and the network — and the ways around a check on a name:
 * the global object (`globalThis.Date.now()`), code from strings, `Date`/`Math` passed around or aliased
 * (`Reflect.get(Date, 'now')`), `Date()` as a function, `new Date()` without a time, and `import()`.
 */
/** @param {string} message what the rule keeps, for the folder it applies to */
function purityRules(message) {
  const globals = [
    'setTimeout',
    'setInterval',
    'setImmediate',
    'clearTimeout',
    'clearInterval',
    'clearImmediate',
    'queueMicrotask',
    'process',
    'performance',
    'crypto',
    'fetch',
    'require',
    'globalThis',
    'global',
    'window',
    'self',
    'eval',
    'Function',
  ];
  return {
    'no-restricted-globals': ['error', ...globals.map((name) => ({ name, message }))],
    'no-restricted-properties': [
      'error',
      { object: 'Date', property: 'now', message },
      { object: 'Math', property: 'random', message },
    ],
    'no-restricted-syntax': [
      'error',
      {
        selector: 'NewExpression[callee.name="Date"][arguments.length=0]',
        message: `\`new Date()\` reads the clock. ${message}`,
      },
      {
        // Date and Math only as `new Date(t)`, `Date.x`, `Math.x` (and as types): anything else — `Date()`, an
        // alias, an argument to Reflect.get, `Date[key]`, a cast — would slip past the two properties above.
        selector: `Identifier[name=/^(Date|Math)$/]:not(${[
          'NewExpression > Identifier.callee',
          'MemberExpression[computed=false] > Identifier.object',
          'MemberExpression[property.type="Literal"] > Identifier.object',
          'MemberExpression[computed=false] > Identifier.property',
          'Property[computed=false][shorthand=false] > Identifier.key',
          'MethodDefinition[computed=false] > Identifier.key',
          'PropertyDefinition[computed=false] > Identifier.key',
          'TSPropertySignature[computed=false] > Identifier.key',
          'TSMethodSignature[computed=false] > Identifier.key',
          'TSTypeReference > Identifier.typeName',
          'TSQualifiedName > Identifier',
          'TSTypeQuery > Identifier.exprName',
        ].join(', ')})`,
        message: `Date and Math are used only as \`new Date(t)\`, \`Date.x\` and \`Math.x\`. ${message}`,
      },
      { selector: 'ImportExpression', message: `No \`import()\`: dependencies are static. ${message}` },
    ],
  };
}

const CORE = 'src/core is pure: time, randomness and I/O come in as arguments.';
const RUNTIME =
  'src/runtime runs on the injected Clock and RandomSource (src/runtime/clock.ts alone touches real timers).';

/** Node modules that give the runtime time, timers, randomness or the process behind the Clock's back. */
const RUNTIME_MODULES = ['timers', 'timers/promises', 'perf_hooks', 'process', 'crypto'];

/** @param {string[]} names the modules of RUNTIME_MODULES still forbidden */
function runtimeModules(names) {
  return { patterns: [{ regex: `^(node:)?(${names.join('|')})$`, message: RUNTIME }] };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'web/dist/**', 'artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests read JSON responses loosely.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      ...purityRules(CORE),
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./)',
              message:
                'src/core imports only its own modules (./…): no I/O, no other src/ folders, no packages.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/runtime/**/*.ts'],
    // The real clock is the one place real timers are set; tests may wait on them.
    ignores: ['src/runtime/**/*.test.ts', 'src/runtime/clock.ts'],
    rules: {
      ...purityRules(RUNTIME),
      'no-restricted-imports': ['error', runtimeModules(RUNTIME_MODULES)],
    },
  },
  {
    // CryptoRandom is the production RandomSource, as SystemClock is the production Clock.
    files: ['src/runtime/random.ts'],
    rules: {
      'no-restricted-imports': ['error', runtimeModules(RUNTIME_MODULES.filter((name) => name !== 'crypto'))],
    },
  },
);
