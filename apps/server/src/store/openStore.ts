import type { DatabaseConfig } from '../config.js';
import { PostgresStore } from './postgres/postgresStore.js';
import { SqliteStore } from './sqlite/sqliteStore.js';
import type { Store } from './store.js';

/** Opens the configured database, applying pending migrations unless told not to. */
export async function openStore(
  database: DatabaseConfig,
  options: { readonly migrate?: boolean } = {},
): Promise<Store> {
  if (database.kind === 'sqlite') return SqliteStore.open(database.path, options);
  return PostgresStore.open(database.url, options);
}
