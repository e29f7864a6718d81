// Lint rules, and the import rules that encode derivc's layers (ARCHITECTURE.md): cli → targets →
// compiler, never back. The compiler is pure — no file system, processes, environment, clock or
// network — so everything it needs comes through the Host port; targets never reach into the CLI.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that do effects: only targets/io and cli may import them. */
const EFFECTS = [
  'node:fs',
  'node:fs/promises',
  'fs',
  'fs/promises',
  'node:child_process',
  'child_process',
  'node:process',
  'process',
  'node:net',
  'node:http',
  'node:https',
  'node:os',
  'os',
  'execa',
  'dockerode',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'compiler/generated/**', '.derivc/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Control characters in regular expressions are what the quoting and parsing code is about.
      'no-control-regex': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['compiler/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: EFFECTS.map((name) => ({
            name,
            message: 'the compiler is pure: file access goes through the Host port (compiler/host.ts), effects live in targets/io and cli',
          })),
          patterns: [
            {
              group: ['**/targets/**', '../targets/*', '../../targets/*'],
              message: 'the compiler imports no target: targets depend on the compiler, not the other way round',
            },
            { group: ['**/cli/**', '../cli/*', '../../cli/*'], message: 'the compiler imports nothing from the CLI' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'the compiler is pure: no environment, no process state; pass what it needs in' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'the compiler has no clock: output must not depend on when it runs' }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: 'the compiler has no clock: output must not depend on when it runs' },
      ],
    },
  },
  {
    files: ['targets/**/*.ts'],
    ignores: ['targets/io/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:child_process', 'child_process', 'execa', 'dockerode'].map((name) => ({
            name,
            message: 'targets plan and interpret steps; processes and the Engine are reached through TargetIO (targets/io)',
          })),
          patterns: [{ group: ['**/cli/**', '../cli/*', '../../cli/*'], message: 'targets import nothing from the CLI' }],
        },
      ],
    },
  },
  {
    files: ['targets/io/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli/**', '../cli/*', '../../cli/*'], message: 'targets import nothing from the CLI' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.{ts,mjs}', 'schema/**/*.mjs', '*.js', '*.ts'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
