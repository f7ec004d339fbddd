// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Globals that read the clock, draw randomness or schedule work: never in the pure core. */
const impureGlobals = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'queueMicrotask',
  'process',
  'performance',
  'crypto',
  'fetch',
  'require',
].map((name) => ({ name, message: 'src/core is pure: time, randomness and I/O come in as arguments.' }));

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
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core is pure: take `now` as an argument.' },
        {
          object: 'Math',
          property: 'random',
          message: 'src/core is pure: take a seed or random values as arguments.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/core is pure: `new Date()` reads the clock; take `now` as an argument.',
        },
      ],
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
);
