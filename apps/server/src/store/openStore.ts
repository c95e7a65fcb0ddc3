import type { DatabaseConfig } from '../config.js';
import type { Logger } from '../logger.js';
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
  const { PostgresStore } = await import('./postgres/postgresStore.js');
  return PostgresStore.open(database.url, {
    migrate,
    logger,
    onIdleError: (error) => logger?.warn({ err: error }, 'an idle database connection broke'),
  });
}
