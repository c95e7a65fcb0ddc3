/**
 * The benchmark's data, the same for every server: tenant `bench` with 10,000 tickets (all in
 * REOPEN, so that the first pass resolves them), user Ada who administers their API; tenant
 * `big` with LIST_TICKETS tickets for the list page, made by one SQL statement.
 */
import { provision } from '../src/provision.js';
import { PostgresStore } from '../src/store/postgres/postgresStore.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import type { Store } from '../src/store/store.js';

export const BENCH_PASSWORD = 'bench-password-1';
export const ACTION_TICKETS = 10_000;
export const BENCH_EMAIL = 'ada@bench.test';
export const LIST_EMAIL = 'lee@big.test';
/** The filtered list page the list scenario reads (a quarter of the big tenant's tickets). */
export const LIST_PATH = '/api/tickets?APIID=api1.big&State=OPEN&count=20';

const PLAN = {
  tenants: [
    { id: 'bench', name: 'Bench' },
    { id: 'big', name: 'Big' },
  ],
  users: [
    { id: 'ada.bench', email: BENCH_EMAIL, password: BENCH_PASSWORD, name: 'Ada' },
    { id: 'lee.big', email: LIST_EMAIL, password: BENCH_PASSWORD, name: 'Lee' },
  ],
  resources: [
    { id: 'api.bench', type: 'api', name: 'API', admins: ['ada.bench'] },
    { id: 'api1.big', type: 'api', name: 'API 1', admins: ['lee.big'] },
    { id: 'api2.big', type: 'api', name: 'API 2', admins: [] },
  ],
  tickets: [
    ...Array.from({ length: ACTION_TICKETS }, (_, i) => ({
      id: `t${i}.bench`,
      Title: `Ticket ${i}`,
      Environment: 'Production',
      APIID: 'api.bench',
      author: 'ada.bench',
      State: 'REOPEN',
    })),
    {
      id: 'seed.big',
      Title: 'Listed',
      Environment: 'Sandbox',
      APIID: 'api1.big',
      author: 'lee.big',
    },
  ],
};

const COLUMNS =
  'id, tenant, title, description, environment, api_id, app_id, labels, tags, state, step, author_id, created, updated, version, comment_count, workflow_id';

/** The copies of seed.big, as one SELECT over `i` (SQLite and PostgreSQL alike). */
const copies = (created: string) => `
  SELECT 'l' || i || '.big', tenant, title || ' ' || i, description, environment,
    CASE i % 2 WHEN 0 THEN 'api1.big' ELSE 'api2.big' END, app_id, labels, tags,
    CASE i % 4 WHEN 0 THEN 'OPEN' WHEN 1 THEN 'RESOLVED' WHEN 2 THEN 'CLOSED' ELSE 'REOPEN' END,
    (i % 4) + 1, author_id, ${created}, ${created}, version, comment_count, workflow_id`;

async function provisionBench(store: Store): Promise<void> {
  await provision(store, PLAN);
}

export async function seedSqlite(path: string, listTickets: number): Promise<void> {
  const store = SqliteStore.open(path);
  try {
    await provisionBench(store);
  } finally {
    await store.close();
  }
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path);
  try {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO tickets (${COLUMNS})
       ${copies("strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + i, 'unixepoch')")}
       FROM n, tickets WHERE tickets.id = 'seed.big'`,
    ).run(listTickets);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

/**
 * `meanwhile` runs while PostgreSQL inserts the list's tickets (one statement, in PostgreSQL's
 * own process: this process's event loop is free), e.g. the SQLite seed.
 */
export async function seedPostgres(
  url: string,
  schema: string,
  listTickets: number,
  meanwhile: () => Promise<void> = async () => {},
): Promise<void> {
  const store = await PostgresStore.open(url, { schema });
  try {
    await provisionBench(store);
  } finally {
    await store.close();
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const inserted = client.query(
      `INSERT INTO tickets (${COLUMNS})
       ${copies(`to_char(to_timestamp(1700000000 + i) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`)}
       FROM generate_series(1, $1::int) AS i, tickets WHERE tickets.id = 'seed.big'`,
      [listTickets],
    );
    // Both settle before either fails the seed: no query left running on a closed client.
    const [insert, other] = await Promise.allSettled([inserted, meanwhile()]);
    if (insert.status === 'rejected') throw insert.reason;
    if (other.status === 'rejected') throw other.reason;
    // As autovacuum would soon: the visibility map lets counts be index-only scans.
    await client.query('VACUUM ANALYZE');
    // The seed's hundreds of MiB written out now, not by PostgreSQL's next checkpoint, which
    // spreads its writes over minutes of the measured runs (of either store: one disk, two cores).
    await client.query('CHECKPOINT').catch((error: unknown) => {
      console.warn(`no CHECKPOINT after seeding (${(error as Error).message}): expect more noise`);
    });
  } finally {
    await client.end();
  }
}
