import { ConfigError, type DatabaseConfig } from '../config.js';
import { SqliteStore } from './sqlite/sqliteStore.js';
import type { Store } from './store.js';

/** Opens the configured database, applying pending migrations. */
export async function openStore(
  database: DatabaseConfig,
  options: { readonly migrate?: boolean } = {},
): Promise<Store> {
  if (database.kind === 'sqlite') return SqliteStore.open(database.path, options);
  throw new ConfigError(
    'DATABASE_URL: PostgreSQL is not supported by this version yet; use sqlite:PATH or leave it unset',
  );
}
