import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { createHttpServer } from '../../src/http/httpServer.js';
import { provision, type ProvisionInput } from '../../src/provision.js';
import { PostgresStore } from '../../src/store/postgres/postgresStore.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import type { Store } from '../../src/store/store.js';
import { fixture } from './fixtures.js';
import { logSink } from './logSink.js';
import { createSchema, dropSchema, TEST_DATABASE_URL } from './postgres.js';
import { STORE_KIND, type StoreKind } from './storeKind.js';

/** Rows of a plain SQL query against the server's database, whichever it is. */
export type SqlQuery = <R extends Record<string, unknown>>(text: string) => Promise<R[]>;

export interface TestServer extends AsyncDisposable {
  readonly url: string;
  readonly app: App;
  /** Which database the server runs on. */
  readonly kind: StoreKind;
  readonly store: Store;
  /** The SQLite file on disk; '' on PostgreSQL, which has no file of its own. */
  readonly dbPath: string;
  /** Reads the database directly (SQL both stores understand), as a check of what is stored. */
  readonly sql: SqlQuery;
  /** Every log line written, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<AppDeps, 'store' | 'logger'>> {
  /** What to provision; the two-tenant fixture by default. */
  readonly data?: ProvisionInput;
  /** Wraps the store the app sees (e.g. to make a method fail); provisioning and `store` use the real one. */
  readonly wrapStore?: (store: Store) => Store;
  /**
   * The database: a SQLite file (the default, unless `TICKETS_TEST_STORE=postgres`, which the
   * vitest project `postgres` sets), or a schema of its own at TEST_DATABASE_URL.
   */
  readonly kind?: StoreKind;
  /** A PostgreSQL URL to use as it is (its own `search_path`), instead of a fresh schema. */
  readonly postgresUrl?: string;
}

interface OpenedDatabase {
  readonly store: Store;
  readonly dbPath: string;
  readonly sql: SqlQuery;
  readonly remove: () => Promise<void>;
}

async function openSqlite(): Promise<OpenedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tickets-test-'));
  const dbPath = join(dir, 'tickets.db');
  const store = SqliteStore.open(dbPath);
  // A connection of its own, read-only: each statement sees what is committed when it runs.
  let reader: Database.Database | undefined;
  const sql: SqlQuery = async <R>(text: string) => {
    reader ??= new Database(dbPath, { readonly: true, fileMustExist: true });
    return reader.prepare(text).all() as R[];
  };
  return {
    store,
    dbPath,
    sql,
    remove: async () => {
      reader?.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(url: string | undefined): Promise<OpenedDatabase> {
  const schema = url === undefined ? await createSchema('tickets_http') : undefined;
  const store = await PostgresStore.open(url ?? TEST_DATABASE_URL, schema ? { schema } : {});
  // A connection of its own (autocommit: each statement sees what is committed when it runs),
  // made on first use; BIGINT and count(*) read as numbers, as SQLite answers them.
  let reader: Promise<pg.Client> | undefined;
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({
      connectionString: url ?? TEST_DATABASE_URL,
      types: { getTypeParser: numbersParser() },
    });
    client.on('error', () => {});
    await client.connect();
    if (schema !== undefined)
      await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    return client;
  };
  const sql: SqlQuery = async <R>(text: string) => {
    reader ??= connect();
    return (await (await reader).query(text)).rows as R[];
  };
  return {
    store,
    dbPath: '',
    sql,
    remove: async () => {
      if (reader) await (await reader.catch(() => undefined))?.end().catch(() => {});
      await store.close();
      if (schema !== undefined) await dropSchema(schema);
    },
  };
}

/** node-postgres's type parsers, with INT8 and NUMERIC read as JS numbers. */
function numbersParser() {
  const numeric = new Set([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
  return ((oid: number, format?: 'text' | 'binary') =>
    numeric.has(oid) && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'];
}

/** The real app on port 0 over a fresh database: a SQLite file in a temporary folder, or a PostgreSQL schema. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { data, wrapStore, kind: requested, postgresUrl, ...deps } = options;
  const kind = requested ?? (postgresUrl !== undefined ? 'postgres' : STORE_KIND);
  const database = kind === 'postgres' ? await openPostgres(postgresUrl) : await openSqlite();
  const { store } = database;
  try {
    await provision(store, data ?? fixture);
  } catch (error) {
    await database.remove();
    throw error;
  }
  const { logger, lines: logs } = logSink();
  const app = createApp({
    secret: 'test-secret-test-secret-test-secret!',
    ...deps,
    store: wrapStore ? wrapStore(store) : store,
    logger,
  });
  const server: Server = createHttpServer(app.koa, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.liveChanges.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.remove();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    kind,
    store,
    dbPath: database.dbPath,
    sql: database.sql,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}
