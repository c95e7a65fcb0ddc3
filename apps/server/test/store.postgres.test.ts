import type { TicketId } from '@tickets/domain';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { StoreBusyError } from '../src/errors/appError.js';
import type { Logger } from '../src/logger.js';
import { committedChange } from '../src/store/changeLog.js';
import { openStore } from '../src/store/openStore.js';
import { appendChange, CHANGES_CHANNEL, WATCH_MARK } from '../src/store/postgres/changeFeed.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { listQuery } from '../src/store/postgres/ticketList.js';
import { PostgresStore, type PostgresStoreOptions } from '../src/store/postgres/postgresStore.js';
import type { TicketQuery } from '../src/store/store.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import {
  createSchema,
  dropSchema,
  TEST_DATABASE_URL,
  urlWithSearchPath,
  withClient,
} from './support/postgres.js';
import { runScript, SERVER_DIR } from './support/childServer.js';
import { describeStoreContract } from './support/storeContract.js';
import { commentOn, NOW, PLAN, ticket } from './support/storeFixtures.js';

/** Each contract test gets a store over a schema of its own, dropped after. */
describeStoreContract('PostgresStore', async () => {
  const schema = await createSchema();
  const stores: PostgresStore[] = [];
  try {
    stores.push(await PostgresStore.open(TEST_DATABASE_URL, { schema }));
  } catch (error) {
    await dropSchema(schema);
    throw error;
  }
  return {
    store: stores[0]!,
    openAnother: async () => {
      const another = await PostgresStore.open(TEST_DATABASE_URL, { schema });
      stores.push(another);
      return another;
    },
    close: async () => {
      for (const store of stores) await store.close();
      await dropSchema(schema);
    },
  };
});

/** `code` of a PostgreSQL error, from a promise expected to reject. */
const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected the statement to fail');
};

describe('PostgresStore: PostgreSQL specifics', () => {
  let schema: string;
  const toClose: { close(): Promise<unknown> }[] = [];

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    for (const handle of toClose.splice(0).reverse()) await handle.close();
    await dropSchema(schema);
  });

  const open = async (options: PostgresStoreOptions = {}): Promise<PostgresStore> => {
    const store = await PostgresStore.open(TEST_DATABASE_URL, { schema, ...options });
    toClose.push(store);
    return store;
  };
  /** A raw connection to the same schema, as another process would have. */
  const raw = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> =>
    withClient(async (client) => {
      await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
      return fn(client);
    });

  it('PostgreSQL answers at TEST_DATABASE_URL', async () => {
    const { rows } = await withClient((client) => client.query<{ one: number }>('SELECT 1 AS one'));
    expect(rows).toEqual([{ one: 1 }]);
  });

  it("names its kind, works in the schema it was given, and a search_path in the URL's options does the same", async () => {
    const store = await open();
    expect(store.kind).toBe('postgres');
    await store.applyProvision(PLAN);
    const tables = await raw(async (client) =>
      (
        await client.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        )
      ).rows.map((row) => row.table_name),
    );
    expect(tables).toEqual(expect.arrayContaining(['tickets', 'history', 'schema_migrations']));

    // What the e2e test and a deployment use: the schema chosen by the URL alone.
    const byUrl = await PostgresStore.open(urlWithSearchPath(TEST_DATABASE_URL, schema));
    toClose.push(byUrl);
    expect(await byUrl.migrate()).toEqual([]);
    expect(await byUrl.getUser('ada.acme')).toEqual(PLAN.users[0]);
  });

  it('history is append-only: triggers refuse UPDATE, DELETE and TRUNCATE from any connection', async () => {
    const store = await open();
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), [
      {
        action: 'import',
        from: 'OPEN',
        to: 'OPEN',
        comments: ['kept'],
        userId: 'ada.acme',
        created: NOW.toISOString(),
      },
    ]);
    const before = await store.listHistory('ticket1.acme');

    await raw(async (client) => {
      const triggers = await client.query<{ tgname: string }>(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'history'::regclass AND NOT tgisinternal ORDER BY tgname",
      );
      expect(triggers.rows.map((row) => row.tgname)).toEqual([
        'history_is_append_only_delete',
        'history_is_append_only_truncate',
        'history_is_append_only_update',
      ]);
      await expect(client.query("UPDATE history SET comments = '[]'")).rejects.toThrow(
        /history is append-only/,
      );
      await expect(client.query('DELETE FROM history')).rejects.toThrow(/history is append-only/);
      await expect(client.query('TRUNCATE history')).rejects.toThrow(/history is append-only/);
      await expect(client.query('TRUNCATE tickets CASCADE')).rejects.toThrow(
        /history is append-only/,
      );
      // Nor can the ticket go, taking its history with it.
      expect(await codeOf(client.query('DELETE FROM tickets'))).toBe('23503'); // foreign_key_violation
    });
    expect(await store.listHistory('ticket1.acme')).toEqual(before);
  });

  it('records every migration in schema_migrations, with the versions and names of SQLite', async () => {
    await open();
    const rows = await raw(
      async (client) =>
        (
          await client.query<{ version: string; name: string; applied_at: string }>(
            'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
          )
        ).rows,
    );
    expect(rows.map(({ version, name }) => ({ version: Number(version), name }))).toEqual(
      POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
    for (const row of rows) expect(Number.isNaN(Date.parse(row.applied_at))).toBe(false);
    expect(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name }))).toEqual(
      SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
  });

  it('the schema has the tables and columns of the SQLite schema, no more, no fewer (but its count deltas)', async () => {
    await open();
    // ticket_count_deltas: SQLite's triggers update ticket_counts in place (it has one writer
    // at a time); PostgreSQL's append deltas beside it instead, folded in later, as counters
    // updated in place would make concurrent changes of a tenant's tickets wait on one another.
    const postgres = await raw(async (client) => {
      const { rows } = await client.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name <> 'ticket_count_deltas'`,
        [schema],
      );
      return rows.map((row) => `${row.table_name}.${row.column_name}`).sort();
    });
    const sqlite = new Database(':memory:');
    try {
      for (const migration of SQLITE_MIGRATIONS) sqlite.exec(migration.sql);
      const tables = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      const columns = tables.flatMap((table) =>
        (sqlite.pragma(`table_info(${table})`) as { name: string }[]).map(
          (column) => `${table}.${column.name}`,
        ),
      );
      // schema_migrations is created by each store itself, with the same columns.
      columns.push(
        'schema_migrations.version',
        'schema_migrations.name',
        'schema_migrations.applied_at',
      );
      expect(postgres).toEqual(columns.sort());
    } finally {
      sqlite.close();
    }
  });

  it('ids and creation times are COLLATE "C": ties sort bytewise, as in SQLite, whatever the locale', async () => {
    const store = await open();
    await store.applyProvision(PLAN);
    const collations = await raw(
      async (client) =>
        (
          await client.query<{ column_name: string; collation_name: string }>(
            `SELECT column_name, collation_name FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = 'tickets' AND column_name IN ('id', 'created')
             ORDER BY column_name`,
            [schema],
          )
        ).rows,
    );
    expect(collations).toEqual([
      { column_name: 'created', collation_name: 'C' },
      { column_name: 'id', collation_name: 'C' },
    ]);
    // A linguistic collation would put alpha before Zeta; bytewise, 'Z' (0x5a) < 'a' (0x61).
    const ids = ['alpha.acme', 'Zeta.acme', 'ticket9.acme', 'ticket10.acme'];
    for (const id of ids) await store.insertTicket({ ...ticket(1), id: id as TicketId }, []);
    const page = await store.listTickets({ tenant: 'acme', start: 0, count: 10 });
    expect(page.tickets.map((t) => t.id)).toEqual([
      'Zeta.acme',
      'alpha.acme',
      'ticket10.acme',
      'ticket9.acme',
    ]);
  });

  it("the list page's pool walks the filter's own index for any values: generic plans, no sort, no JIT, even where scanning and sorting look cheaper", async () => {
    const store = await open();
    const four = <T>(f: (n: number) => T): T[] => Array.from({ length: 4 }, (_, n) => f(n));
    await store.applyProvision({
      ...PLAN,
      users: four((n) => ({ ...PLAN.users[0]!, id: `u${n}.acme`, email: `u${n}@acme.test` })),
      resources: (['api', 'app'] as const).flatMap((type) =>
        four((n) => ({ id: `${type}${n}.acme`, tenant: 'acme', type, name: type, admins: [] })),
      ),
    });
    // 4,000 tickets spread over 4 APIs, apps, authors and states, with their statistics.
    await raw(async (client) => {
      await client.query(`
        INSERT INTO tickets (id, tenant, title, description, environment, api_id, app_id, labels,
          tags, state, step, author_id, created, updated, version, comment_count)
        SELECT 't' || i || '.acme', 'acme', 'T', '', 'Sandbox', 'api' || i % 4 || '.acme',
          'app' || i / 4 % 4 || '.acme', '[]', '[]',
          (ARRAY['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN'])[1 + i / 16 % 4], 1,
          'u' || i / 64 % 4 || '.acme', lpad(i::text, 8, '0'), '', 1, 0
        FROM generate_series(0, 3999) AS i`);
      await client.query('ANALYZE tickets');
    });
    const pools = store as unknown as { pool: pg.Pool; listPool: pg.Pool };
    const settings = async (db: pg.Pool | pg.Client) =>
      (
        await db.query(`SELECT current_setting('plan_cache_mode') AS plans,
          current_setting('enable_sort') AS sort, current_setting('jit') AS jit`)
      ).rows[0] as unknown;
    // The list pool's settings reach no other statement: the main pool has the server's own.
    expect(await settings(pools.listPool)).toEqual({
      plans: 'force_generic_plan',
      sort: 'off',
      jit: 'off',
    });
    expect(await settings(pools.pool)).toEqual(await raw(settings));
    const shapes = [
      [{}, 'tickets_by_tenant'],
      [{ state: 'OPEN' }, 'tickets_by_state'],
      [{ apiId: 'api1.acme', state: 'OPEN' }, 'tickets_by_api'],
      [{ appId: 'app1.acme', state: 'OPEN' }, 'tickets_by_app'],
      [{ authorId: 'u1.acme', state: 'OPEN' }, 'tickets_by_author'],
      [{ apiId: 'api1.acme', state: 'OPEN', after: 't900.acme' }, 'tickets_by_api'],
    ] satisfies [Omit<TicketQuery, 'tenant' | 'start' | 'count'>, string][];
    const client = await pools.listPool.connect();
    try {
      /** The plan of the list page's statement for `filter`, as this connection makes it. */
      const planOf = async (filter: Omit<TicketQuery, 'tenant' | 'start' | 'count'>) => {
        const { config, planOnce } = listQuery({ tenant: 'acme', start: 1, count: 20, ...filter });
        expect(planOnce).toBe(true);
        await client.query(`PREPARE page AS ${config.text}`);
        const values = config.values!.map((v) =>
          typeof v === 'string' ? client.escapeLiteral(v) : String(v),
        );
        const { rows } = await client.query<{ 'QUERY PLAN': [Record<string, unknown>] }>(
          `EXPLAIN (FORMAT JSON) EXECUTE page(${values.join(', ')})`,
        );
        await client.query('DEALLOCATE page');
        const [explained] = rows[0]!['QUERY PLAN'];
        const nodes: Record<string, unknown>[] = [];
        const walk = (node: Record<string, unknown>): void => {
          nodes.push(node);
          for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? [])
            walk(child);
        };
        walk(explained!['Plan'] as Record<string, unknown>);
        return { explained, nodes, page: nodes.find((node) => node['Alias'] === 't')! };
      };
      for (const [filter, index] of shapes) {
        const { page } = await planOf(filter);
        expect(page).toMatchObject({ 'Node Type': 'Index Scan', 'Index Name': index });
        // Generic: planned for parameters, not for these values.
        expect(page['Index Cond']).toContain('$1');
      }
      // Reading pages at random made dear (as for a table whose order on disk strays from
      // `created`), and JIT for any statement that would use it: still a walk, in order.
      await client.query('SET random_page_cost = 1000000; SET jit_above_cost = 0');
      for (const [filter] of shapes) {
        const { explained, nodes, page } = await planOf(filter);
        expect(explained).not.toHaveProperty('JIT');
        expect(nodes.map((node) => node['Node Type'])).not.toContain('Sort');
        expect(page['Node Type']).toBe('Index Scan');
      }
    } finally {
      // Its settings were changed above: the connection is not for the pool any more.
      client.release(true);
    }
  });

  it('the list page keeps answering, on the same connections, after another process adds a column to tickets', async () => {
    const store = await open();
    await store.applyProvision(PLAN);
    for (let n = 1; n <= 3; n++) {
      const created = new Date(NOW.getTime() + n * 1000).toISOString();
      await store.insertTicket({ ...ticket(n), state: n === 2 ? 'RESOLVED' : 'OPEN', created }, []);
    }
    // Each filter whose statement is prepared once per connection, with and without `after`,
    // and one planned for its values (an API without a state); each value answers its own page.
    const pages = () =>
      Promise.all(
        (
          [
            {},
            { state: 'OPEN' },
            { state: 'RESOLVED' },
            { apiId: 'payments.acme', state: 'OPEN' },
            { appId: 'shop.acme', state: 'OPEN' },
            { authorId: 'ada.acme', state: 'OPEN', after: 'ticket3.acme' },
            { apiId: 'payments.acme' },
          ] satisfies Omit<TicketQuery, 'tenant' | 'start' | 'count'>[]
        ).map(async (filter) => {
          const page = await store.listTickets({ tenant: 'acme', start: 0, count: 10, ...filter });
          return [page.total, ...page.tickets.map((t) => t.id)];
        }),
      );
    const expected = [
      [3, 'ticket3.acme', 'ticket2.acme', 'ticket1.acme'],
      [2, 'ticket3.acme', 'ticket1.acme'],
      [1, 'ticket2.acme'],
      [2, 'ticket3.acme', 'ticket1.acme'],
      [0],
      [2, 'ticket1.acme'],
      [3, 'ticket3.acme', 'ticket2.acme', 'ticket1.acme'],
    ];
    // Enough rounds for every pooled connection to have prepared (and planned) each statement.
    for (let round = 0; round < 8; round++) expect(await pages()).toEqual(expected);
    // A newer version's migration, say: a prepared `SELECT t.*` would fail from now on, on every
    // connection that prepared it ("cached plan must not change result type").
    await raw((client) =>
      client.query("ALTER TABLE tickets ADD COLUMN priority TEXT DEFAULT 'low'"),
    );
    for (let round = 0; round < 8; round++) expect(await pages()).toEqual(expected);
  });

  it('migrate: opened without migrating, applies every version once, then none', async () => {
    const store = await open({ migrate: false });
    const tables = () =>
      raw(async (client) =>
        (
          await client.query<{ table_name: string }>(
            'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
            [schema],
          )
        ).rows.map((row) => row.table_name),
      );
    expect(await tables()).not.toContain('tickets');
    expect(await store.migrate()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    expect(await tables()).toEqual(expect.arrayContaining(['tickets', 'history', 'workflows']));
    expect(await store.migrate()).toEqual([]);
    expect(await (await open()).migrate()).toEqual([]);
  });

  it('concurrent migrate from several stores is safe: each version applied exactly once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => open({ migrate: false })));
    const applied = await Promise.all(stores.map((store) => store.migrate()));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    const count = await raw(
      async (client) =>
        (await client.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')).rows[0]!
          .n,
    );
    expect(Number(count)).toBe(POSTGRES_MIGRATIONS.length);
    for (const store of stores) expect(await store.migrate()).toEqual([]);
    // And the schema works.
    await stores[0]!.applyProvision(PLAN);
    expect(await stores[3]!.getUser('ada.acme')).toEqual(PLAN.users[0]);
  });

  it('two stores on one schema: a change committed by one is a conflict for the other', async () => {
    const a = await open();
    await a.applyProvision(PLAN);
    await a.insertTicket(ticket(1), []);
    const b = await open();
    const read = (await b.getTicket('ticket1.acme'))!;
    expect(await a.commitChange(commentOn(read, 'a'))).not.toBe('conflict');
    expect(await b.commitChange(commentOn(read, 'b'))).toBe('conflict');
    expect((await b.listHistory('ticket1.acme')).map((row) => row.comments)).toEqual([['a']]);
  });

  it('two stores racing for one version: exactly one change is written', async () => {
    const a = await open();
    await a.applyProvision(PLAN);
    await a.insertTicket(ticket(1), []);
    const b = await open();
    for (let round = 0; round < 5; round += 1) {
      const read = (await a.getTicket('ticket1.acme'))!;
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 === 0 ? a : b).commitChange(commentOn(read, `round ${round} change ${i}`)),
        ),
      );
      expect(
        results.filter((result) => result !== 'conflict'),
        `round ${round}`,
      ).toHaveLength(1);
      expect((await b.getTicket('ticket1.acme'))?.version).toBe(read.version + 1);
    }
    const history = await a.listHistory('ticket1.acme');
    expect(history).toHaveLength(5);
    expect(history.map((row) => row.comments[0]!.split(' change ')[0])).toEqual(
      [0, 1, 2, 3, 4].map((round) => `round ${round}`),
    );
  });

  it('a lock held too long by another transaction gives StoreBusyError, and nothing is written', async () => {
    const store = await open({ lockTimeoutMs: 300 });
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), []);
    const read = (await store.getTicket('ticket1.acme'))!;
    await raw(async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT 1 FROM tickets WHERE id = 'ticket1.acme' FOR UPDATE");
      const error: unknown = await store.commitChange(commentOn(read, 'blocked')).catch((e) => e);
      expect(error).toBeInstanceOf(StoreBusyError);
      expect(((error as StoreBusyError).cause as { code?: string }).code).toBe('55P03');
      await client.query('ROLLBACK');
    });
    expect(await store.listHistory('ticket1.acme')).toEqual([]);
    expect(await store.commitChange(commentOn(read, 'later'))).not.toBe('conflict');
  });

  it('a connection cut in the middle of a transaction is "unreachable" (503), and the process lives on', async () => {
    const store = await open();
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), []);
    const read = (await store.getTicket('ticket1.acme'))!;
    await raw(async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT 1 FROM tickets WHERE id = 'ticket1.acme' FOR UPDATE");
      const pending = store.commitChange(commentOn(read, 'cut off')).catch((e: unknown) => e);
      // Cut the store's connection while its UPDATE waits for the lock held here.
      let seen: unknown[] = [];
      await expect
        .poll(
          async () => {
            // Inside a transaction the activity view is a snapshot taken at first use: renew it.
            await client.query('SELECT pg_stat_clear_snapshot()');
            const { rows } = await client.query<{
              query: string;
              wait: string | null;
              cut: boolean;
            }>(
              `SELECT query, wait_event_type AS wait,
                 -- IS NOT DISTINCT FROM: a statement not yet waiting has no wait_event_type,
                 -- and NULL AND … would still evaluate (and run) pg_terminate_backend.
                 (wait_event_type IS NOT DISTINCT FROM 'Lock'
                   AND query LIKE '%UPDATE tickets%SET%'
                   AND pg_terminate_backend(pid)) AS cut
               FROM pg_stat_activity
               WHERE pid <> pg_backend_pid() AND datname = current_database() AND state <> 'idle'`,
            );
            seen = rows;
            return rows.some((row) => row.cut);
          },
          {
            timeout: 10_000,
            message: `no UPDATE waiting for the lock: ${JSON.stringify(seen)}`,
          },
        )
        .toBe(true);
      const error = await pending;
      expect(error).toBeInstanceOf(StoreBusyError);
      expect((error as StoreBusyError).reason).toBe('unreachable');
      await client.query('ROLLBACK');
    });
    // The broken connection was not handed out again: the store goes on working.
    expect(await store.listHistory('ticket1.acme')).toEqual([]);
    expect(await store.commitChange(commentOn(read, 'later'))).not.toBe('conflict');
  });

  it('openStore: a postgres:// DATABASE_URL opens a migrated PostgresStore', async () => {
    const config = loadConfig({ DATABASE_URL: urlWithSearchPath(TEST_DATABASE_URL, schema) }, []);
    expect(config.database.kind).toBe('postgres');
    const store = await openStore(config.database);
    toClose.push(store);
    expect(store).toBeInstanceOf(PostgresStore);
    expect(await store.migrate()).toEqual([]);
    await store.applyProvision(PLAN);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('replaces the pooled connections PostgreSQL ends while idle: the next calls succeed', async () => {
    // The store's connections carry an application_name of their own, to be found after.
    const url = new URL(TEST_DATABASE_URL);
    const applicationName = `${schema}_idle`;
    url.searchParams.set('application_name', applicationName);
    const idleErrors: Error[] = [];
    const store = await PostgresStore.open(url.toString(), {
      schema,
      onIdleError: (error) => idleErrors.push(error),
    });
    toClose.push(store);
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), []);
    // On both pools: a page of all the tenant's tickets is the list pool's, one of an API's
    // (without a state) the main pool's.
    const burst = () =>
      Promise.all(
        [{}, { apiId: 'payments.acme' }].flatMap((filter) =>
          Array.from({ length: 4 }, () =>
            store.listTickets({ tenant: 'acme', start: 0, count: 10, ...filter }),
          ),
        ),
      );
    // The pool's idle connections (not the watcher's), ended in the same statement when `end`:
    // the counts' folding, every 2 s, may take one of them meanwhile.
    const idleBackends = (end = false) =>
      withClient(async (client) => {
        const { rows } = await client.query<{ pid: number }>(
          // In the select list, so evaluated only for the rows the filter keeps.
          `SELECT pid, CASE WHEN $3 THEN pg_terminate_backend(pid) END FROM pg_stat_activity
           WHERE application_name = $1 AND state = 'idle' AND NOT starts_with(query, $2)`,
          [applicationName, WATCH_MARK, end],
        );
        return rows.map((row) => row.pid);
      });
    await burst();
    const idle = await idleBackends(true);
    expect(idle.length).toBeGreaterThan(1);
    // Each one ended is told (the server logs it at warn), dropped, and opened again when needed.
    await expect.poll(() => idleErrors.length, { timeout: 10_000 }).toBe(idle.length);
    const pages = await burst();
    expect(pages.map((page) => page.tickets.map((t) => t.id))).toEqual(
      Array.from({ length: 8 }, () => ['ticket1.acme']),
    );
    expect((await idleBackends()).some((pid) => idle.includes(pid))).toBe(false);
  });

  it('close is idempotent', async () => {
    const store = await open();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('open fails, and leaves no pool behind, when the schema does not exist', async () => {
    // The store's connections carry an application_name of their own, to be counted after.
    const url = new URL(TEST_DATABASE_URL);
    const applicationName = `${schema}_open`;
    url.searchParams.set('application_name', applicationName);
    await expect(
      PostgresStore.open(url.toString(), { schema: `${schema}_missing` }),
    ).rejects.toThrow();
    const connections = () =>
      withClient(async (client) => {
        const { rows } = await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
          [applicationName],
        );
        return Number(rows[0]!.n);
      });
    // pool.end() does not wait for its connections to go: wait for them (a hang guard: a leaked
    // pool would keep its idle connection for good), without timing anything.
    await expect.poll(connections, { timeout: 5_000 }).toBe(0);
  });

  it('a server that cannot be reached is StoreBusyError "unreachable" (503), not a fault of ours', async () => {
    // Port 1 on loopback: nothing listens there.
    const store = await PostgresStore.open('postgres://postgres@127.0.0.1:1/test', {
      migrate: false,
    });
    try {
      const error = await store.ping().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(StoreBusyError);
      expect((error as StoreBusyError).reason).toBe('unreachable');
    } finally {
      await store.close();
    }
  });
});

describe('PostgresStore: the change log on PostgreSQL', () => {
  let schema: string;
  const toClose: { close(): Promise<unknown> }[] = [];
  /** A bound on waiting for something asynchronous (a hang guard, never a timed assertion). */
  const PATIENCE = { timeout: 10_000 } as const;

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    for (const handle of toClose.splice(0).reverse()) await handle.close();
    await dropSchema(schema);
  });

  /** This test's own application_name: its connections are told apart in pg_stat_activity. */
  const applicationName = () => `${schema}_feed`;
  const open = async (options: PostgresStoreOptions = {}): Promise<PostgresStore> => {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', applicationName());
    const store = await PostgresStore.open(url.toString(), { schema, ...options });
    toClose.push(store);
    return store;
  };
  /** An open transaction on a connection of its own, as another process would have. */
  const transaction = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    client.on('error', () => {});
    await client.connect();
    toClose.push({ close: () => client.end() });
    await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    await client.query('BEGIN');
    return client;
  };
  /** A store with two tickets whose `created` changes are listable. */
  const seeded = async (options: PostgresStoreOptions = {}) => {
    const store = await open(options);
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), []);
    await store.insertTicket(ticket(2), []);
    await expect
      .poll(async () => (await store.listChanges('acme', 0, 10)).length, PATIENCE)
      .toBe(2);
    return store;
  };
  const read = async (store: PostgresStore, n: number) =>
    (await store.getTicket(`ticket${n}.acme`))!;
  /** The backends of this test's change watchers (every statement they run carries the mark). */
  const watchConnections = () =>
    withClient(async (client) => {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND starts_with(query, $2)`,
        [applicationName(), WATCH_MARK],
      );
      return rows.map((row) => row.pid);
    });

  it('an open transaction holds back every change with a larger eventId until it ends', async () => {
    const store = await seeded();
    const before = await store.latestEventId();
    // The store's own path for a change (its row), left uncommitted.
    const open = await transaction();
    const held = await appendChange(open, committedChange(commentOn(await read(store, 1), 'a')));
    const later = await store.commitChange(commentOn(await read(store, 2), 'b'));
    if (later === 'conflict') throw new Error('expected the change to be written');
    expect(later.eventId).toBeGreaterThan(held);

    // Committed, yet not listed: a change with a smaller id may still commit.
    const listed = (await store.listChanges('acme', 0, 10)).map((change) => change.eventId);
    expect(listed).not.toContain(later.eventId);
    expect(listed).not.toContain(held);
    expect(await store.latestEventId()).toBe(before);

    await open.query('COMMIT');
    await expect
      .poll(
        async () => (await store.listChanges('acme', before, 10)).map((c) => c.eventId),
        PATIENCE,
      )
      .toEqual([held, later.eventId]);
    expect(await store.latestEventId()).toBe(later.eventId);
  });

  it('a change whose transaction began first but committed last is still delivered after what was delivered before', async () => {
    // The order a sequence gets wrong: A begins, B begins, B appends, A appends (a sequence
    // would give A the larger value) and commits while B is still open. A reader that polled
    // then, and resumed after the last id it delivered, would never see B's change.
    const store = await seeded();
    const delivered: number[] = [];
    const deliver = async () => {
      const page = await store.listChanges('acme', delivered.at(-1) ?? 0, 100);
      delivered.push(...page.map((change) => change.eventId));
    };
    await deliver();
    const a = await transaction();
    await a.query('SELECT pg_current_xact_id()');
    const b = await transaction();
    await b.query('SELECT pg_current_xact_id()');
    await appendChange(b, committedChange(commentOn(await read(store, 2), 'b')));
    await appendChange(a, committedChange(commentOn(await read(store, 1), 'a')));
    await a.query('COMMIT');
    await deliver();
    await b.query('COMMIT');
    await expect
      .poll(async () => {
        await deliver();
        return delivered.length;
      }, PATIENCE)
      .toBe(4);
    const everything = (await store.listChanges('acme', 0, 100)).map((change) => change.eventId);
    expect(everything).toHaveLength(4);
    expect(delivered).toEqual(everything);
  });

  it('a transaction open in another database of the server holds nothing back', async () => {
    // Another application's session, idle in a transaction for as long as it likes.
    const store = await seeded();
    const before = await store.latestEventId();
    const elsewhere = new URL(TEST_DATABASE_URL);
    elsewhere.pathname = '/postgres';
    const other = new pg.Client({ connectionString: elsewhere.toString() });
    other.on('error', () => {});
    await other.connect();
    toClose.push({ close: () => other.end() });
    await other.query('BEGIN');
    await other.query('SELECT pg_current_xact_id()');

    const later = await store.commitChange(commentOn(await read(store, 2), 'b'));
    if (later === 'conflict') throw new Error('expected the change to be written');
    await expect
      .poll(
        async () => (await store.listChanges('acme', before, 10)).map((c) => c.eventId),
        PATIENCE,
      )
      .toEqual([later.eventId]);
    expect(await store.latestEventId()).toBe(later.eventId);
    await other.query('ROLLBACK');
  });

  it('a commit announces itself on tickets_changes with the schema; a rolled-back change does not', async () => {
    const store = await seeded();
    const heard: string[] = [];
    const listener = new pg.Client({ connectionString: TEST_DATABASE_URL });
    listener.on('error', () => {});
    await listener.connect();
    toClose.push({ close: () => listener.end() });
    listener.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL && message.payload === schema) heard.push(schema);
    });
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);

    const rolledBack = await transaction();
    await appendChange(rolledBack, committedChange(commentOn(await read(store, 1), 'gone')));
    await rolledBack.query('ROLLBACK');
    expect(await store.commitChange(commentOn(await read(store, 1), 'kept'))).not.toBe('conflict');
    await expect.poll(() => heard.length, PATIENCE).toBe(1);
    // Announcements arrive in commit order: had the rolled-back one been sent, it would be here.
    expect(heard).toEqual([schema]);
  });

  it('the watcher connects again when its connection is cut, calls the listener once back, and says so at warn', async () => {
    const warn = vi.fn();
    const store = await seeded({ logger: { warn } as unknown as Logger });
    const listener = vi.fn();
    await store.watchChanges(listener);
    const [pid] = await watchConnections();
    expect(pid).toEqual(expect.any(Number));

    const before = listener.mock.calls.length;
    await withClient((client) => client.query('SELECT pg_terminate_backend($1)', [pid]));
    await expect.poll(() => listener.mock.calls.length, PATIENCE).toBeGreaterThan(before);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.anything() }),
      expect.stringMatching(/change feed/),
    );
    // A new connection, not the old one back.
    await expect
      .poll(async () => {
        const pids = await watchConnections();
        return pids.length === 1 && !pids.includes(pid!);
      }, PATIENCE)
      .toBe(true);

    // And it hears commits again.
    const after = listener.mock.calls.length;
    expect(await store.commitChange(commentOn(await read(store, 1), 'again'))).not.toBe('conflict');
    await expect.poll(() => listener.mock.calls.length, PATIENCE).toBeGreaterThan(after);
  });

  it('the watch connection lives while anyone watches: the last stop closes it, and so does close()', async () => {
    const store = await open();
    const stopA = await store.watchChanges(() => {});
    const stopB = await store.watchChanges(() => {});
    expect(await watchConnections()).toHaveLength(1);
    await stopA();
    expect(await watchConnections()).toHaveLength(1);
    await stopB();
    await expect.poll(watchConnections, PATIENCE).toEqual([]);

    await store.watchChanges(() => {});
    expect(await watchConnections()).toHaveLength(1);
    await store.close();
    await expect.poll(watchConnections, PATIENCE).toEqual([]);
    await expect(store.watchChanges(() => {})).rejects.toThrow(/closed/);
  });

  it('a watcher keeps no process alive', async () => {
    await open();
    const script = `
      const { PostgresStore } = await import(${JSON.stringify(pathToFileURL(join(SERVER_DIR, 'src/store/postgres/postgresStore.ts')).href)});
      const store = await PostgresStore.open(process.env.URL, { schema: process.env.SCHEMA, migrate: false });
      await store.watchChanges(() => {});
      console.log('watching');
    `;
    const exit = await runScript(script, { URL: TEST_DATABASE_URL, SCHEMA: schema });
    expect(exit).toEqual({ code: 0, stdout: 'watching\n' });
  });
});
