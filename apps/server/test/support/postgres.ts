/**
 * The PostgreSQL server the tests use: TEST_DATABASE_URL (`.ci/run` and the CI workflow set it
 * and start the server), else a local one with trust auth. Every test works in a schema of its
 * own, created here and dropped (CASCADE) when the test is done, so that tests never see each
 * other's rows and nothing is left behind. A server that cannot be reached fails the test with a
 * message saying so: these tests are never skipped.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The URL without its password, for messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** Runs `fn` on a fresh connection (closed after); a clear error when the server is not there. */
export async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(
      `PostgreSQL cannot be reached at ${redacted(TEST_DATABASE_URL)} (${(error as Error).message}). ` +
        'These tests need it: start it (.ci/run does) or set TEST_DATABASE_URL.',
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a schema with a unique name and answers the name. */
export async function createSchema(prefix = 'tickets_test'): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withClient((client) => client.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`));
  return name;
}

export async function dropSchema(name: string): Promise<void> {
  await withClient((client) =>
    client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`),
  );
}

/**
 * A DATABASE_URL that works in `schema`: PostgreSQL's `options` startup parameter, which
 * node-postgres passes on, sets `search_path` for every connection made with it.
 */
export function urlWithSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}
