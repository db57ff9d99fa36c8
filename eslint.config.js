import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const restrict = (patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist', 'dev-dist', 'node_modules', 'coverage', 'test-results', '.device', '.gl'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      // The core runs in Node, in the worker and in tests: no DOM, no Node built-ins, no UI or worker code.
      'no-restricted-imports': restrict([
        { group: ['node:*', 'fs', 'path', 'os', 'zlib'], message: 'src/core must not use Node built-ins.' },
        {
          group: ['react', 'react-dom', 'react-dom/*', 'plotly.js*', 'comlink'],
          message: 'src/core is UI-free.',
        },
        {
          group: ['**/ui/**', '**/worker/**', '**/cli/**'],
          message: 'src/core must not depend on outer layers.',
        },
      ]),
      'no-restricted-globals': ['error', 'window', 'document', 'localStorage', 'navigator'],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['node:*', 'react', 'react-dom', 'plotly.js*'],
          message: 'The worker has no DOM and no Node.',
        },
        { group: ['**/ui/**', '**/cli/**'], message: 'The worker must not depend on the UI or the CLI.' },
      ]),
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The UI only renders and asks: heavy work goes through the worker API; from core it takes types and
      // small pure helpers (method and metric lists, formatting, statistics), never a model.
      'no-restricted-imports': restrict([
        { group: ['@tensorflow/*'], message: 'The UI never runs models; ask the worker.' },
        { group: ['**/cli/**', 'node:*'], message: 'The UI must not depend on the CLI or Node.' },
      ]),
    },
  },
);
