import pg from 'pg';
import type { HistoryEntry, Ticket } from '@tickets/domain';
import type { Logger } from '../../logger.js';
import {
  type CallerRecord,
  type HistoryPaging,
  type IdempotencyRecord,
  type LoginAdmission,
  type LoginFailures,
  type LoginThrottlePolicy,
  type ProvisionPlan,
  type ProvisionSummary,
  type ResourceRecord,
  type SessionRecord,
  type Store,
  type StoredHistoryEntry,
  type StoredWorkflow,
  type TenantRecord,
  type TicketChange,
  type TicketChangeRecord,
  type TicketList,
  type TicketQuery,
  type UserRecord,
} from '../store.js';
import { createdChange } from '../changeLog.js';
import {
  toHistory,
  toIdempotency,
  toTicket,
  ticketViewOfValues,
  type HistoryRow,
  type IdempotencyRow,
  type TicketRow,
} from '../rows.js';
import { retryWhileBusy, type BusyPolicy } from '../retryWhileBusy.js';
import { assertSchemaKnown } from '../schemaVersion.js';
import { PostgresChangeWatch, appendChange, latestEventId, listChanges } from './changeFeed.js';
import { applyMigrationIn, POSTGRES_MIGRATIONS } from './migrations.js';
import { ChangeAnnouncer } from './announcer.js';
import * as accounts from './accounts.js';
import { callerLoader, changeLoader, idempotencyLoader, ticketLoader } from './batched.js';
import { TicketCountFolder } from './ticketCounts.js';
import { AFTER_FOUND, LIST_DELTAS, LIST_TOTAL, listQuery, type ListRow } from './ticketList.js';
import {
  all,
  applyProvisionIn,
  insertHistory,
  insertIdempotency,
  insertTicketRow,
  one,
  commitChangeIn,
  IdempotencyRace,
  allocateTicketNumberIn,
  purgeExpiredIn,
} from './writes.js';
import { isConnectionLost } from './unreachable.js';
import {
  connectionConfig,
  DEFAULT_LOCK_TIMEOUT_MS,
  isBusy,
  LIST_POOL_SIZE,
  LIST_SESSION,
  openPool,
  POOL_SIZE,
  WATCH_QUERY_TIMEOUT_MS,
} from './connection.js';

export { isConnectionLost };

export interface PostgresStoreOptions {
  /** Apply pending migrations on open (default); `migrate` opens without, to report them. */
  readonly migrate?: boolean;
  /**
   * A schema to work in instead of the URL's (or the server's) `search_path`: set on every pooled
   * connection. It must exist. `?options=-c%20search_path%3DNAME` in the URL does the same.
   */
  readonly schema?: string;
  /** The longest one statement waits for a lock, and a call retries a busy database (5 s). */
  readonly lockTimeoutMs?: number;
  /** Told when an idle pooled connection breaks (it is replaced on the next call). */
  readonly onIdleError?: (error: Error) => void;
  /** Told (at warn) when the change watcher's connection breaks, and when a listener throws. */
  readonly logger?: Logger | undefined;
}

/**
 * The PostgreSQL store (node-postgres, one pool). Every multi-statement call is one transaction
 * on one connection; a ticket change is conditional on its version, so that several server
 * processes can share the database: of concurrent changes of one ticket exactly one is written.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly busyPolicy: BusyPolicy;
  private readonly changeWatch: PostgresChangeWatch;
  private readonly announcer: ChangeAnnouncer;
  private readonly countFolder: TicketCountFolder;
  /** The hot calls, batched per turn of the event loop (batched.ts). */
  private readonly callers = callerLoader((fn) => this.run(fn));
  private readonly tickets = ticketLoader((fn) => this.run(fn));
  private readonly idempotency = idempotencyLoader((fn) => this.run(fn));
  private readonly changes = changeLoader(
    (fn) => this.run(fn),
    (change) => this.commitChangeAlone(change),
  );
  private closing: Promise<void> | undefined;

  private constructor(
    pool: pg.Pool,
    private readonly listPool: pg.Pool,
    patienceMs: number,
    changeWatch: PostgresChangeWatch,
    logger?: Logger,
  ) {
    this.pool = pool;
    this.busyPolicy = { isBusy, isUnreachable: isConnectionLost, patienceMs };
    this.changeWatch = changeWatch;
    this.announcer = new ChangeAnnouncer(pool, logger);
    this.countFolder = new TicketCountFolder(pool, logger);
  }

  /** Opens a pool on `url` and (unless told otherwise) applies pending migrations. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const { schema } = options;
    const connection = connectionConfig(url);
    const pool = (max: number, settings: readonly string[]): pg.Pool =>
      openPool(connection, { max, lockTimeoutMs, settings, onIdleError: options.onIdleError });
    const searchPath =
      schema === undefined ? [] : [`SET search_path TO ${pg.escapeIdentifier(schema)}`];
    // The list page's statements, prepared once (ticketList.ts), on connections of their own:
    // their settings (LIST_SESSION) must reach no other statement, a purge's `changed_at < $1`
    // is best planned for its value.
    const listPool = pool(LIST_POOL_SIZE, [...searchPath, ...LIST_SESSION]);
    const changeWatch = new PostgresChangeWatch({
      client: { ...connection, query_timeout: WATCH_QUERY_TIMEOUT_MS },
      schema,
      logger: options.logger,
    });
    const store = new PostgresStore(
      pool(POOL_SIZE, searchPath),
      listPool,
      lockTimeoutMs,
      changeWatch,
      options.logger,
    );
    try {
      if (options.migrate !== false) await store.applyMigrations();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Runs `fn` in one transaction on one pooled connection: committed when it returns, rolled back
   * when it throws; the whole of it retried while the database is busy. `snapshot` reads every
   * statement from one snapshot (REPEATABLE READ, read-only), as SQLite's transactions do.
   */
  private inTransaction<T>(
    fn: (db: pg.PoolClient) => Promise<T>,
    { snapshot = false }: { readonly snapshot?: boolean } = {},
  ): Promise<T> {
    return retryWhileBusy(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      // While checked out, a client's connection errors (the server restarted, the connection
      // was cut) are ours to catch; unheard, they would end the process.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query(snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          // The connection is unusable: the pool must not hand it out again.
          broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }, this.busyPolicy);
  }

  /** One statement on any pooled connection (autocommit), retried while the database is busy. */
  private run<T>(fn: (db: pg.Pool) => Promise<T>, pool = this.pool): Promise<T> {
    return retryWhileBusy(() => fn(pool), this.busyPolicy);
  }

  async migrate(): Promise<number[]> {
    return this.applyMigrations();
  }

  /** The versions recorded as applied (none before the first migration made the table). */
  private async appliedMigrations(): Promise<number[]> {
    return this.run(async (pool) => {
      const table = await pool.query<{ exists: boolean }>(
        "SELECT to_regclass('schema_migrations') IS NOT NULL AS exists",
      );
      if (!table.rows[0]?.exists) return [];
      const rows = await pool.query<{ version: string }>('SELECT version FROM schema_migrations');
      return rows.rows.map((row) => Number(row.version));
    });
  }

  /**
   * Applies the migrations not yet applied; returns their versions. Each runs in a transaction
   * that first takes an advisory lock of this schema, so that processes migrating at once take
   * turns and each version is applied once.
   */
  private async applyMigrations(): Promise<number[]> {
    assertSchemaKnown(await this.appliedMigrations(), POSTGRES_MIGRATIONS);
    const done: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      const applied = await this.inTransaction((db) => applyMigrationIn(db, migration));
      if (applied) done.push(migration.version);
    }
    // Only now is the schema known to be current, the counts' tables there to be folded.
    this.countFolder.startTicking();
    return done;
  }

  async getTenant(id: string): Promise<TenantRecord | undefined> {
    const row = await this.run((db) =>
      one<{ id: string; name: string; workflow_id: number | null }>(
        db,
        'SELECT id, name, workflow_id FROM tenants WHERE id = $1',
        [id],
      ),
    );
    return (
      row && {
        id: row.id,
        name: row.name,
        ...(row.workflow_id !== null && { workflowId: row.workflow_id }),
      }
    );
  }

  async getWorkflow(id: number): Promise<StoredWorkflow | undefined> {
    return this.run((db) =>
      one<StoredWorkflow>(db, 'SELECT id, tenant, name, xml FROM workflows WHERE id = $1', [id]),
    );
  }

  async countTenants(): Promise<number> {
    const row = await this.run((db) => one<{ n: number }>(db, 'SELECT count(*) AS n FROM tenants'));
    return row!.n;
  }

  // Accounts: the statements are in accounts.ts.

  getUser(id: string): Promise<UserRecord | undefined> {
    return this.run((db) => accounts.getUser(db, id));
  }

  getUsers(ids: readonly string[]): Promise<UserRecord[]> {
    return this.run((db) => accounts.getUsers(db, ids));
  }

  findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]> {
    return this.run((db) => accounts.findUsersByEmail(db, email, tenant));
  }

  getResource(id: string): Promise<ResourceRecord | undefined> {
    return this.run((db) => accounts.getResource(db, id));
  }

  adminResourceIds(userId: string): Promise<string[]> {
    return this.run((db) => accounts.adminResourceIds(db, userId));
  }

  adminResources(userId: string): Promise<ResourceRecord[]> {
    return this.run((db) => accounts.adminResources(db, userId));
  }

  getLoginFailures(key: string): Promise<LoginFailures | undefined> {
    return this.run((db) => accounts.getLoginFailures(db, key));
  }

  recordLoginFailure(key: string, now: Date): Promise<void> {
    return this.run((db) => accounts.recordLoginFailure(db, key, now));
  }

  admitLoginAttempt(key: string, now: Date, policy: LoginThrottlePolicy): Promise<LoginAdmission> {
    return this.inTransaction((db) => accounts.admitLoginAttemptIn(db, key, now, policy));
  }

  clearLoginFailures(key: string): Promise<void> {
    return this.run((db) => accounts.clearLoginFailures(db, key));
  }

  createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean> {
    return this.inTransaction((db) => accounts.createSessionIn(db, session, ifPasswordHash));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.run((db) => accounts.getSession(db, id));
  }

  getCaller(sessionId: string): Promise<CallerRecord | undefined> {
    return this.callers.load(sessionId);
  }

  renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    return this.run((db) => accounts.renewSession(db, id, expiresAt, now));
  }

  endSession(id: string, now: Date): Promise<void> {
    return this.run((db) => accounts.endSession(db, id, now));
  }

  async allocateTicketNumber(tenant: string): Promise<number> {
    return this.inTransaction((db) => allocateTicketNumberIn(db, tenant));
  }

  async insertTicket(
    ticket: Ticket,
    history: readonly HistoryEntry[],
    idempotency?: IdempotencyRecord,
  ): Promise<'inserted' | 'id-taken' | 'conflict'> {
    try {
      const inserted = await this.inTransaction(async (db) => {
        if (!(await insertTicketRow(db, ticket))) return 'id-taken' as const;
        for (const entry of history) await insertHistory(db, ticket.id, entry);
        if (idempotency && !(await insertIdempotency(db, idempotency))) throw new IdempotencyRace();
        await appendChange(db, createdChange(ticket));
        return 'inserted' as const;
      });
      if (inserted === 'inserted') this.announcer.announce();
      return inserted;
    } catch (error) {
      if (error instanceof IdempotencyRace) return 'conflict';
      throw error;
    }
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const row = await this.run((db) =>
      one<TicketRow>(db, 'SELECT * FROM tickets WHERE id = $1', [id]),
    );
    return row && toTicket(row);
  }

  async getTicketWithAuthor(
    id: string,
  ): Promise<{ ticket: Ticket; authorName: string } | undefined> {
    return this.tickets.load(id);
  }

  async listTickets(query: TicketQuery): Promise<TicketList> {
    const { config, planOnce } = listQuery(query);
    const pool = planOnce ? this.listPool : this.pool;
    const { rows } = await this.run((db) => db.query<ListRow>(config), pool);
    const first = rows[0]!;
    this.countFolder.sawDeltas(first[LIST_DELTAS] as number);
    const total = first[LIST_TOTAL] as number;
    if (first[AFTER_FOUND] === false) return { total, tickets: [], unknownAfter: true };
    return { total, tickets: first[0] === null ? [] : rows.map(ticketViewOfValues) };
  }

  async commitChange(
    change: TicketChange,
  ): Promise<{ historyId: number; eventId: number } | 'conflict'> {
    // One statement writes every change that arrives with this one (batched.ts).
    const committed = await this.changes.load(change);
    if (committed !== 'conflict') this.announcer.announce();
    return committed;
  }

  /**
   * A change in a transaction of its own, statement by statement: where one with an
   * idempotency record goes when its batch's statement failed (its key may be taken).
   */
  private async commitChangeAlone(
    change: TicketChange,
  ): Promise<{ historyId: number; eventId: number } | 'conflict'> {
    try {
      return await this.inTransaction((db) => commitChangeIn(db, change));
    } catch (error) {
      if (error instanceof IdempotencyRace) return 'conflict';
      throw error;
    }
  }

  async listHistory(ticketId: string): Promise<StoredHistoryEntry[]> {
    const rows = await this.run((db) =>
      all<HistoryRow>(db, 'SELECT * FROM history WHERE ticket_id = $1 ORDER BY id', [ticketId]),
    );
    return rows.map(toHistory);
  }

  async pageHistory(
    ticketId: string,
    page: HistoryPaging,
  ): Promise<{ total: number; entries: StoredHistoryEntry[] }> {
    return this.inTransaction(
      async (db) => {
        const { n } = (await one<{ n: number }>(
          db,
          'SELECT count(*) AS n FROM history WHERE ticket_id = $1',
          [ticketId],
        ))!;
        const rows = await all<HistoryRow>(
          db,
          'SELECT * FROM history WHERE ticket_id = $1 ORDER BY id LIMIT $2 OFFSET $3',
          [ticketId, page.count, page.start],
        );
        return { total: n, entries: rows.map(toHistory) };
      },
      { snapshot: true },
    );
  }

  async listChanges(
    tenant: string,
    afterEventId: number,
    limit: number,
  ): Promise<TicketChangeRecord[]> {
    return this.run((db) => listChanges(db, tenant, afterEventId, limit));
  }

  async latestEventId(): Promise<number> {
    return this.run((db) => latestEventId(db));
  }

  async watchChanges(listener: () => void): Promise<() => Promise<void>> {
    return this.changeWatch.watch(listener);
  }

  async getIdempotency(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.idempotency.load([userId, key]);
  }

  async saveIdempotency(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    const row = await this.inTransaction(async (db) => {
      await insertIdempotency(db, record);
      return one<IdempotencyRow>(db, 'SELECT * FROM idempotency WHERE user_id = $1 AND key = $2', [
        record.userId,
        record.key,
      ]);
    });
    return toIdempotency(row!);
  }

  async applyProvision(plan: ProvisionPlan): Promise<ProvisionSummary> {
    return this.inTransaction((db) => applyProvisionIn(db, plan));
  }

  async purgeExpired(now: Date): Promise<void> {
    await this.inTransaction((db) => purgeExpiredIn(db, now));
  }

  /**
   * Folds the list counts' deltas into their base now (each process also does it by itself,
   * see ticketCounts.ts); the totals read the same before and after.
   */
  async foldTicketCounts(): Promise<void> {
    await this.run(() => this.countFolder.fold());
  }

  /** A COMMIT that returned is durable (synchronous_commit), and only then are rows visible. */
  async flushed(): Promise<void> {}

  async ping(): Promise<void> {
    await this.run((db) => db.query('SELECT 1'));
  }

  /**
   * Stops every change watcher, then ends the pool (waiting for checked-out connections to come
   * back); a second call is a no-op.
   */
  async close(): Promise<void> {
    this.closing ??= this.changeWatch
      .close()
      .then(() => this.announcer.idle())
      .then(() => this.countFolder.close())
      .then(() => Promise.all([this.pool.end(), this.listPool.end()]))
      .then(() => undefined);
    await this.closing;
  }
}
