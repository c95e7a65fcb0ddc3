import { createRequire } from 'node:module';
import type { DatabaseConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type * as PostgresStoreModule from './postgres/postgresStore.js';
import type { SqliteStoreOptions } from './sqlite/sqliteStore.js';
import type { Store } from './store.js';

/**
 * Opens the configured database, applying pending migrations unless told not to. `onFatal` and
 * `datasync` concern SQLite only (see SqliteStoreOptions); PostgreSQL handles its own flushes.
 * Only the configured store's module is loaded: a server on SQLite never loads pg (about 3 MiB
 * of heap), nor one on PostgreSQL better-sqlite3.
 */
export async function openStore(
  database: DatabaseConfig,
  options: {
    readonly migrate?: boolean;
    readonly logger?: Logger;
  } & Pick<SqliteStoreOptions, 'onFatal' | 'datasync'> = {},
): Promise<Store> {
  const { logger, onFatal, datasync } = options;
  const migrate = options.migrate ?? true;
  if (database.kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite/sqliteStore.js');
    const { path, cacheMiB } = database;
    return SqliteStore.open(path, { migrate, logger, onFatal, datasync, cacheMiB });
  }
  const { PostgresStore } = await importPostgresStore();
  return PostgresStore.open(database.url, {
    migrate,
    logger,
    onIdleError: (error) => logger?.warn({ err: error }, 'an idle database connection broke'),
  });
}

/**
 * The PostgreSQL store's module. When it loads, pg asks whether it runs in a Cloudflare Worker:
 * by `navigator.userAgent`, which node has from version 21 on, or else by making a fetch
 * `Response`, which on node 20 loads the whole of node's fetch implementation (undici), 4 MB of
 * heap that this server never uses. On node 20 pg is loaded first, in one synchronous step with
 * node 21's `navigator` there (no other code runs meanwhile); the store's `import` then finds
 * it loaded.
 */
async function importPostgresStore(): Promise<typeof PostgresStoreModule> {
  if (!('navigator' in globalThis)) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { userAgent: `Node.js/${process.versions.node.split('.', 1)[0]}` },
      configurable: true,
    });
    try {
      createRequire(import.meta.url)('pg');
    } finally {
      delete (globalThis as { navigator?: unknown }).navigator;
    }
  }
  return import('./postgres/postgresStore.js');
}
