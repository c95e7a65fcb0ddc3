/**
 * Which store the HTTP suites run on. The vitest project `sqlite` runs every test file over
 * SQLite files; the project `postgres` runs the HTTP-level suites again, unchanged, each server
 * in a PostgreSQL schema of its own (see vitest.config.ts).
 */
export type StoreKind = 'sqlite' | 'postgres';

const configured = process.env['TICKETS_TEST_STORE'];
if (configured !== undefined && configured !== 'sqlite' && configured !== 'postgres') {
  throw new Error(`TICKETS_TEST_STORE must be sqlite or postgres, not ${configured}`);
}

export const STORE_KIND: StoreKind = configured ?? 'sqlite';
