import pg from 'pg';
import type { HistoryEntry, Ticket } from '@tickets/domain';
import type { Logger } from '../../logger.js';
import {
  CHANGE_RETENTION_MS,
  IDEMPOTENCY_TTL_MS,
  LOGIN_FAILURE_TTL_MS,
  type CallerRecord,
  type HistoryPaging,
  type IdempotencyRecord,
  decideLoginAttempt,
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
import { committedChange, createdChange } from '../changeLog.js';
import {
  toHistory,
  toIdempotency,
  toSession,
  toTicket,
  toUser,
  type HistoryRow,
  type IdempotencyRow,
  type SessionRow,
  type TicketRow,
  type UserRow,
} from '../rows.js';
import { retryWhileBusy, type BusyPolicy } from '../retryWhileBusy.js';
import {
  PURGE_CHANGES,
  PostgresChangeWatch,
  appendChange,
  latestEventId,
  listChanges,
} from './changeFeed.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { ChangeAnnouncer } from './announcer.js';
import { callerLoader, changeLoader, ticketLoader } from './batched.js';
import { TicketCountFolder } from './ticketCounts.js';
import { listStatement, type ListRow } from './ticketList.js';
import {
  all,
  applyProvisionIn,
  changes,
  insertHistory,
  insertIdempotency,
  insertTicketRow,
  one,
} from './writes.js';
import { isConnectionLost, withDefaultUser } from './unreachable.js';

/**
 * How long one statement may wait for a lock another transaction holds (PostgreSQL's
 * `lock_timeout`), and how long, in all, a call keeps retrying a busy database before it gives up
 * with StoreBusyError (a 503).
 */
const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
/** Migrations wait longer for each other: another process may be applying a slow one. */
const MIGRATION_LOCK_TIMEOUT = '60s';
/** The first key of the migrations' advisory lock (the second is the schema's name, hashed). */
const MIGRATION_LOCK_CLASS = 0x7469636b; // 'tick'
const CONNECT_TIMEOUT_MS = 10_000;
/** No query takes this long here unless the server stopped answering. */
const QUERY_TIMEOUT_MS = 30_000;
/** The change watcher's queries are tiny: past this, its connection is taken for dead. */
const WATCH_QUERY_TIMEOUT_MS = 10_000;

/** lock_not_available (lock_timeout), serialization_failure, deadlock_detected: worth a retry. */
const BUSY_CODES: ReadonlySet<string> = new Set(['55P03', '40001', '40P01']);

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BUSY_CODES.has(code);
};

export { isConnectionLost };

/**
 * BIGINT columns (times in epoch milliseconds, counters, row ids) as JS numbers; node-postgres
 * answers them as strings by default. Every value the store writes is a safe integer.
 */
const parseBigint = (text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} is not a safe integer`);
  return value;
};
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseBigint
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

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
  private readonly changes = changeLoader((fn) => this.run(fn));
  private closing: Promise<void> | undefined;

  private constructor(
    pool: pg.Pool,
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
    const connection = {
      connectionString: withDefaultUser(url),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A server that stops answering without closing the connection must not hold a request
      // (and the pool) forever: TCP keepalive, a bound on every query, and on idle transactions.
      keepAlive: true,
      types: TYPES,
    };
    const pool = new pg.Pool({
      ...connection,
      lock_timeout: lockTimeoutMs,
      query_timeout: QUERY_TIMEOUT_MS,
      idle_in_transaction_session_timeout: QUERY_TIMEOUT_MS,
      ...(schema !== undefined && {
        onConnect: async (client: pg.ClientBase) => {
          await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
        },
      }),
    });
    // An idle connection that breaks (the server restarted) is dropped by the pool and replaced
    // on the next call; without a listener the error would end the process.
    pool.on('error', (error) => options.onIdleError?.(error));
    const changeWatch = new PostgresChangeWatch({
      client: { ...connection, query_timeout: WATCH_QUERY_TIMEOUT_MS },
      schema,
      logger: options.logger,
    });
    const store = new PostgresStore(pool, lockTimeoutMs, changeWatch, options.logger);
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
  private run<T>(fn: (db: pg.Pool) => Promise<T>): Promise<T> {
    return retryWhileBusy(() => fn(this.pool), this.busyPolicy);
  }

  async migrate(): Promise<number[]> {
    return this.applyMigrations();
  }

  /**
   * Applies the migrations not yet applied; returns their versions. Each runs in a transaction
   * that first takes an advisory lock of this schema, so that processes migrating at once take
   * turns and each version is applied once.
   */
  private async applyMigrations(): Promise<number[]> {
    const done: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      const applied = await this.inTransaction(async (db) => {
        await db.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
        await db.query(
          "SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))",
          [MIGRATION_LOCK_CLASS],
        );
        await db.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        );
        if (
          await one(db, 'SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version])
        )
          return false;
        await db.query(migration.sql);
        await db.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [migration.version, migration.name, new Date().toISOString()],
        );
        return true;
      });
      if (applied) done.push(migration.version);
    }
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

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = await this.run((db) => one<UserRow>(db, 'SELECT * FROM users WHERE id = $1', [id]));
    return row && toUser(row);
  }

  async getUsers(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.run((db) =>
      all<UserRow>(db, 'SELECT * FROM users WHERE id = ANY($1::text[])', [[...new Set(ids)]]),
    );
    return rows.map(toUser);
  }

  async findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]> {
    // Stored lower-cased (by JavaScript, as SQLite's store does), so compared as such.
    const rows = await this.run((db) =>
      tenant === undefined
        ? all<UserRow>(db, 'SELECT * FROM users WHERE email = $1 ORDER BY id', [
            email.toLowerCase(),
          ])
        : all<UserRow>(db, 'SELECT * FROM users WHERE email = $1 AND tenant = $2', [
            email.toLowerCase(),
            tenant,
          ]),
    );
    return rows.map(toUser);
  }

  async getResource(id: string): Promise<ResourceRecord | undefined> {
    return this.run((db) =>
      one<ResourceRecord>(db, 'SELECT id, tenant, type, name FROM resources WHERE id = $1', [id]),
    );
  }

  async adminResourceIds(userId: string): Promise<string[]> {
    const rows = await this.run((db) =>
      all<{ resource_id: string }>(
        db,
        'SELECT resource_id FROM resource_admins WHERE user_id = $1 ORDER BY resource_id',
        [userId],
      ),
    );
    return rows.map((row) => row.resource_id);
  }

  async adminResources(userId: string): Promise<ResourceRecord[]> {
    return this.run((db) =>
      all<ResourceRecord>(
        db,
        `SELECT r.id, r.tenant, r.type, r.name FROM resource_admins a
         JOIN resources r ON r.id = a.resource_id
         JOIN users u ON u.id = a.user_id AND u.tenant = r.tenant
         WHERE a.user_id = $1 ORDER BY r.id`,
        [userId],
      ),
    );
  }

  async getLoginFailures(key: string): Promise<LoginFailures | undefined> {
    const row = await this.run((db) =>
      one<{ count: number; last_failure_at: number }>(
        db,
        'SELECT count, last_failure_at FROM login_failures WHERE key = $1',
        [key],
      ),
    );
    return row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
  }

  async recordLoginFailure(key: string, now: Date): Promise<void> {
    await this.run((db) =>
      db.query(
        `INSERT INTO login_failures (key, count, last_failure_at) VALUES ($1, 1, $2)
         ON CONFLICT (key) DO UPDATE SET count = login_failures.count + 1,
           last_failure_at = excluded.last_failure_at`,
        [key, now.getTime()],
      ),
    );
  }

  async admitLoginAttempt(
    key: string,
    now: Date,
    policy: LoginThrottlePolicy,
  ): Promise<LoginAdmission> {
    return this.inTransaction(async (db) => {
      // The upsert leaves the count as it was but locks the row (creating it, at 0, when there
      // is none): a concurrent attempt for this key, from any process, waits here until this
      // transaction has decided and counted, and then reads what it counted.
      const row = await one<{ count: number; last_failure_at: number }>(
        db,
        `INSERT INTO login_failures (key, count, last_failure_at) VALUES ($1, 0, $2)
         ON CONFLICT (key) DO UPDATE SET count = login_failures.count
         RETURNING count, last_failure_at`,
        [key, now.getTime()],
      );
      const previous =
        row && row.count > 0
          ? { count: row.count, lastFailureAt: new Date(Number(row.last_failure_at)) }
          : undefined;
      const admission = decideLoginAttempt(previous, now, policy);
      if (admission.admitted) {
        await db.query(
          'UPDATE login_failures SET count = count + 1, last_failure_at = $2 WHERE key = $1',
          [key, admission.at.getTime()],
        );
      }
      return admission;
    });
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.run((db) => db.query('DELETE FROM login_failures WHERE key = $1', [key]));
  }

  async createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean> {
    return this.inTransaction(async (db) => {
      // FOR SHARE waits for a password change in flight; a change that comes later waits for
      // this transaction, and then ends the session made here.
      if (ifPasswordHash !== undefined) {
        const user = await one(
          db,
          'SELECT 1 FROM users WHERE id = $1 AND password_hash = $2 FOR SHARE',
          [session.userId, ifPasswordHash],
        );
        if (!user) return false;
      }
      await db.query(
        `INSERT INTO sessions (id, user_id, tenant, csrf_token, login_at, expires_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
        [
          session.id,
          session.userId,
          session.tenant,
          session.csrfToken,
          session.loginAt.getTime(),
          session.expiresAt.getTime(),
        ],
      );
      return true;
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.run((db) =>
      one<SessionRow>(db, 'SELECT * FROM sessions WHERE id = $1', [id]),
    );
    return row && toSession(row);
  }

  async getCaller(sessionId: string): Promise<CallerRecord | undefined> {
    return this.callers.load(sessionId);
  }

  async renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    const changed = await this.run((db) =>
      changes(
        db,
        'UPDATE sessions SET expires_at = $1 WHERE id = $2 AND ended_at IS NULL AND expires_at > $3',
        [expiresAt.getTime(), id, now.getTime()],
      ),
    );
    return changed === 1;
  }

  async endSession(id: string, now: Date): Promise<void> {
    await this.run((db) =>
      db.query('UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL', [
        now.getTime(),
        id,
      ]),
    );
  }

  async allocateTicketNumber(tenant: string): Promise<number> {
    return this.inTransaction(async (db) => {
      for (;;) {
        const row = await one<{ ticket_seq: number }>(
          db,
          'UPDATE tenants SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq',
          [tenant],
        );
        if (!row) throw new Error(`allocateTicketNumber: no tenant ${tenant}`);
        const taken = await one(db, 'SELECT 1 FROM tickets WHERE id = $1', [
          `ticket${row.ticket_seq}.${tenant}`,
        ]);
        if (!taken) return row.ticket_seq;
      }
    });
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
    const params: unknown[] = [query.tenant];
    const where = ['tenant = $1'];
    const filter = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    filter('api_id', query.apiId);
    filter('app_id', query.appId);
    filter('author_id', query.authorId);
    filter('state', query.state);
    const rows = await this.run((db) =>
      all<ListRow>(db, listStatement(where.join(' AND '), params, query), params),
    );
    const [first] = rows;
    this.countFolder.sawDeltas(first!.list_deltas);
    const total = first!.list_total;
    if (first!.after_found === false) return { total, tickets: [], unknownAfter: true };
    return {
      total,
      tickets: first!.id === null ? [] : rows.map((row) => toTicket(row as TicketRow)),
    };
  }

  async commitChange(
    change: TicketChange,
  ): Promise<{ historyId: number; eventId: number } | 'conflict'> {
    const committed = await this.commitChangeNow(change);
    if (committed !== 'conflict') this.announcer.announce();
    return committed;
  }

  private async commitChangeNow(
    change: TicketChange,
  ): Promise<{ historyId: number; eventId: number } | 'conflict'> {
    // Without an idempotency record (built from the history id), one statement does it all,
    // for every change that arrives with it.
    if (!change.idempotency) return this.changes.load(change);
    const { ticket } = change;
    try {
      return await this.inTransaction(async (db) => {
        // Waits for a concurrent change of the row, then checks the version it committed.
        const updated = await changes(
          db,
          `UPDATE tickets SET state = $1, step = $2, updated = $3, version = $4, comment_count = $5
           WHERE id = $6 AND version = $7`,
          [
            ticket.state,
            ticket.step,
            ticket.updated,
            ticket.version,
            ticket.commentCount,
            ticket.id,
            change.expectedVersion,
          ],
        );
        if (updated !== 1) return 'conflict' as const;
        const historyId = await insertHistory(db, ticket.id, change.history);
        if (change.idempotency && !(await insertIdempotency(db, change.idempotency(historyId))))
          throw new IdempotencyRace();
        return { historyId, eventId: await appendChange(db, committedChange(change)) };
      });
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
    const row = await this.run((db) =>
      one<IdempotencyRow>(db, 'SELECT * FROM idempotency WHERE user_id = $1 AND key = $2', [
        userId,
        key,
      ]),
    );
    return row && toIdempotency(row);
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
    const t = now.getTime();
    await this.inTransaction(async (db) => {
      await db.query('DELETE FROM idempotency WHERE created_at < $1', [t - IDEMPOTENCY_TTL_MS]);
      await db.query('DELETE FROM login_failures WHERE last_failure_at < $1', [
        t - LOGIN_FAILURE_TTL_MS,
      ]);
      await db.query('DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $2', [
        t,
        t - 60_000,
      ]);
      await db.query(PURGE_CHANGES, [t - CHANGE_RETENTION_MS]);
    });
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
      .then(() => this.pool.end());
    await this.closing;
  }
}

/** Another request stored an outcome under the same idempotency key first. */
class IdempotencyRace extends Error {}
