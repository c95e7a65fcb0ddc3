/**
 * The PostgreSQL store's background folds of the list counts (ticketCounts.ts): they run once
 * the schema is current, and clean up after themselves.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/logger.js';
import { PostgresStore, type PostgresStoreOptions } from '../src/store/postgres/postgresStore.js';
import { FOLD_EVERY_MS } from '../src/store/postgres/ticketCounts.js';
import { createSchema, dropSchema, TEST_DATABASE_URL, withClient } from './support/postgres.js';
import { PLAN, ticket } from './support/storeFixtures.js';

describe('PostgresStore: the background folds of the list counts', () => {
  let schema: string;
  const toClose: PostgresStore[] = [];

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    for (const store of toClose.splice(0).reverse()) await store.close();
    await dropSchema(schema);
  });

  const open = async (options: PostgresStoreOptions = {}): Promise<PostgresStore> => {
    const store = await PostgresStore.open(TEST_DATABASE_URL, { schema, ...options });
    toClose.push(store);
    return store;
  };
  /** One number from a statement on a connection of its own, as another process would read. */
  const count = (sql: string, params: unknown[] = []): Promise<number> =>
    withClient(async (client) => {
      await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
      const { rows } = await client.query<{ n: string }>(sql, params);
      return Number(rows[0]!.n);
    });
  const deltas = () => count('SELECT count(*) AS n FROM ticket_count_deltas');

  it("the background fold vacuums the list counts' deltas it moved, so lists do not read their dead rows", async () => {
    const store = await open();
    await store.applyProvision(PLAN);
    const vacuums = () =>
      count(
        `SELECT vacuum_count AS n FROM pg_stat_user_tables
         WHERE schemaname = $1 AND relname = 'ticket_count_deltas'`,
        [schema],
      );
    const before = await vacuums();
    for (let n = 1; n <= 5; n += 1) await store.insertTicket(ticket(n), []);
    // Within a tick or two of the fold (every two seconds): moved, then vacuumed.
    await expect.poll(vacuums, { timeout: 20_000, interval: 250 }).toBeGreaterThan(before);
    expect(await deltas()).toBe(0);
  });

  it('opened without migrating (the CLI migrate command), the store folds nothing until migrate() has made the schema current', async () => {
    // Only setInterval is faked, so that the fold's ticks come when told; the pool's timers and
    // the queries run for real. close() waits for a fold on its way, so a tick's failure would
    // have been logged by the time it returns.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const warn = vi.fn();
      const logger = { warn } as unknown as Logger;
      // On a fresh schema the counts' tables do not exist: a fold would fail, and warn.
      const unmigrated = await open({ migrate: false, logger });
      vi.advanceTimersByTime(FOLD_EVERY_MS * 3);
      await unmigrated.close();
      expect(warn).not.toHaveBeenCalled();

      // Once migrate() has applied the migrations, the ticks fold.
      const migrated = await open({ migrate: false, logger });
      await migrated.migrate();
      await migrated.applyProvision(PLAN);
      for (let n = 1; n <= 3; n += 1) await migrated.insertTicket(ticket(n), []);
      expect(await deltas()).toBeGreaterThan(0);
      vi.advanceTimersByTime(FOLD_EVERY_MS);
      await migrated.close();
      expect(await deltas()).toBe(0);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
