// One flat config for the whole repository. The import boundaries of docs/style.md
// ("what may import what") are enforced here with no-restricted-imports.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const node = ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'];
const serverOnly = [
  'koa',
  'koa/*',
  '@koa/*',
  '@trpc/server',
  '@trpc/server/*',
  'better-sqlite3',
  'pg',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', '**/.turbo/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The domain is pure: no I/O, no Node built-ins, no framework.
    files: ['packages/domain/src/**/*.ts'],
    ignores: ['packages/domain/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: node, message: 'packages/domain is pure: no Node built-ins.' },
            { group: serverOnly, message: 'packages/domain may not depend on server libraries.' },
            { group: ['vscode'], message: 'packages/domain may not import vscode.' },
            {
              group: ['@tickets/*'],
              message: 'packages/domain imports no other workspace package.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'packages/domain is pure: take configuration as parameters.' },
        { name: 'Buffer', message: 'packages/domain is pure: no Node built-ins.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Take the clock as a parameter.' },
        { object: 'Math', property: 'random', message: 'Take randomness as a parameter.' },
      ],
    },
  },
  {
    // The contract is pure declarations: the domain and zod, nothing that does I/O.
    files: ['packages/contract/src/**/*.ts'],
    ignores: ['packages/contract/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: node, message: 'packages/contract is pure: no Node built-ins.' },
            { group: serverOnly, message: 'packages/contract may not depend on server libraries.' },
            { group: ['vscode'], message: 'packages/contract may not import vscode.' },
            {
              group: ['@tickets/server', '@tickets/client', '@tickets/vscode'],
              message: 'packages/contract imports only the domain.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'packages/contract is pure.' },
        { name: 'Buffer', message: 'packages/contract is pure.' },
      ],
    },
  },
  {
    // The client may import the server's router only as a type.
    files: ['packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: serverOnly, message: 'packages/client may not depend on server libraries.' },
            { group: ['vscode'], message: 'packages/client may not import vscode.' },
            {
              group: ['@tickets/server', '@tickets/server/*'],
              allowTypeImports: true,
              message: 'packages/client may import the server only as `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/server/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['vscode'], message: 'The server may not import vscode.' },
            {
              group: ['@tickets/client', '@tickets/client/*'],
              message: 'The server may not import the client.',
            },
            {
              group: ['@tickets/vscode', '@tickets/vscode/*'],
              message: 'The server may not import the extension.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/vscode/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: serverOnly, message: 'The extension may not depend on server libraries.' },
            {
              group: ['@tickets/server', '@tickets/server/*'],
              message: 'The extension talks to the server through @tickets/client.',
            },
          ],
        },
      ],
    },
  },
);
