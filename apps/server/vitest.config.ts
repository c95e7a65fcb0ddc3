import { defineConfig } from 'vitest/config';

/**
 * The HTTP-level suites run twice, unchanged: over SQLite files (project `sqlite`, every test
 * file) and over PostgreSQL, each server in a schema of its own at TEST_DATABASE_URL (project
 * `postgres`); `test/support/testServer.ts` reads TICKETS_TEST_STORE. `vitest run --project
 * sqlite` runs one of them.
 */
const HTTP_SUITES = [
  'test/actionErrors.test.ts',
  'test/sessions.test.ts',
  'test/tenancy.test.ts',
  'test/writeFeatures.test.ts',
  'test/fuzz.test.ts',
  'test/operations.test.ts',
  'test/controlCharacters.test.ts',
  'test/methodsAndCaching.test.ts',
  'test/idempotencyRaces.test.ts',
  'test/concurrency.test.ts',
  'test/historyPaging.test.ts',
  'test/listTotals.test.ts',
  'test/listKeyset.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          env: { TICKETS_TEST_STORE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: HTTP_SUITES,
          env: { TICKETS_TEST_STORE: 'postgres' },
        },
      },
    ],
  },
});
