import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
  type StoredWorkflow,
  type StoredHistoryEntry,
  type TenantRecord,
  type TicketChange,
  type TicketChangeRecord,
  type TicketList,
  type TicketQuery,
  type UserRecord,
} from '../store.js';
import {
  callerQuery,
  toCaller,
  toTicketWithAuthor,
  ticketWithAuthorQuery,
  type CallerRow,
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
import { retryWhileBusy } from '../retryWhileBusy.js';
import { SqliteChangeFeed } from './changeFeed.js';
import { GroupCommit } from './groupCommit.js';
import { WalSync, type Datasync, type StoreBrokenError } from './walSync.js';
import { IdempotencyRace, SqliteWrites } from './writes.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { createPrivately } from './privateFile.js';

/** How long SQLite itself waits for a lock, blocking; and how long, in all, a call keeps trying. */
const BUSY_TIMEOUT_MS = 25;
const BUSY_PATIENCE_MS = 5_000;

const AsyncFunction = (async () => {}).constructor;

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  );
};

export interface SqliteStoreOptions {
  /** `FULL` (default) makes a committed transaction survive a power loss; `NORMAL` a process crash. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Apply pending migrations on open (default); `migrate` opens without, to report them. */
  readonly migrate?: boolean;
  /** Told (at warn) when a change listener throws, and (at fatal) when a flush fails. */
  readonly logger?: Logger | undefined;
  /**
   * Called once when flushing the write-ahead log failed: the store then refuses every write and
   * every wait for durability, and `ping` throws; whoever owns the process ends it, so that
   * reopening recovers the database (see WalSync).
   */
  readonly onFatal?: ((error: StoreBrokenError) => void) | undefined;
  /** How the write-ahead log is flushed (default fdatasync); tests inject a failing one. */
  readonly datasync?: Datasync | undefined;
  /** `ping` throws while a flush has run longer than this (default 10 s): a hung disk. */
  readonly flushStalledAfterMs?: number | undefined;
}

/**
 * The SQLite store (better-sqlite3): WAL, foreign keys on, `synchronous = FULL` by default.
 * Every multi-row write is one transaction; a ticket change is conditional on its version.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  private readonly statements = new Map<string, Database.Statement>();
  private readonly changes: SqliteChangeFeed;
  private readonly writes: SqliteWrites;
  /** Ticket changes and creations: the ones that arrive together share one durable commit. */
  private readonly group: GroupCommit;

  private constructor(
    db: Database.Database,
    private readonly wal: WalSync,
    logger?: Logger,
  ) {
    this.db = db;
    const sql = (text: string) => this.sql(text);
    this.changes = new SqliteChangeFeed(sql, logger);
    this.writes = new SqliteWrites(sql, this.changes);
    this.group = new GroupCommit(
      db,
      { isBusy, patienceMs: BUSY_PATIENCE_MS },
      () => {
        wal.committed();
        return wal.durable();
      },
      () => wal.assertUsable(),
    );
  }

  /** A prepared statement, compiled once per SQL text. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (path !== ':memory:' && path !== '') {
      mkdirSync(dirname(path), { recursive: true });
      createPrivately(path);
    }
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // NORMAL inside SQLite either way: with FULL (the default), WalSync flushes the log before
    // any write is acknowledged, without holding up the event loop.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Wait for another process's lock only briefly inside SQLite (that wait blocks the event
    // loop); longer waits happen between attempts, asynchronously (see retryWhileBusy).
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const inMemory = path === ':memory:' || path === '';
    const flushed = (options.synchronous ?? 'FULL') === 'FULL' && !inMemory;
    const store = new SqliteStore(
      db,
      new WalSync(flushed ? `${path}-wal` : undefined, {
        datasync: options.datasync,
        stalledAfterMs: options.flushStalledAfterMs,
        onFailure: (error) => {
          options.logger?.fatal(
            { err: error.cause },
            'flushing the write-ahead log failed: the store refuses every write from now on',
          );
          options.onFatal?.(error);
        },
      }),
      options.logger,
    );
    if (options.migrate !== false) {
      store.applyMigrations();
      store.wal.committed();
    }
    return store;
  }

  async migrate(): Promise<number[]> {
    return this.applyMigrations();
  }

  /** Applies the migrations not yet applied; returns their versions. */
  private applyMigrations(): number[] {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
    );
    const applied = new Set(
      (this.sql('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (row) => row.version,
      ),
    );
    const done: number[] = [];
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.db
        .transaction(() => {
          this.db.exec(migration.sql);
          this.sql(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
          ).run(migration.version, migration.name, new Date().toISOString());
        })
        .immediate();
      done.push(migration.version);
    }
    return done;
  }

  async getTenant(id: string): Promise<TenantRecord | undefined> {
    const row = this.sql('SELECT id, name, workflow_id FROM tenants WHERE id = ?').get(id) as
      { id: string; name: string; workflow_id: number | null } | undefined;
    return (
      row && {
        id: row.id,
        name: row.name,
        ...(row.workflow_id !== null && { workflowId: row.workflow_id }),
      }
    );
  }

  async getWorkflow(id: number): Promise<StoredWorkflow | undefined> {
    return this.sql('SELECT id, tenant, name, xml FROM workflows WHERE id = ?').get(id) as
      StoredWorkflow | undefined;
  }

  async countTenants(): Promise<number> {
    return (this.sql('SELECT count(*) AS n FROM tenants').get() as { n: number }).n;
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.sql('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  async getUsers(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.sql(`SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))`).all(
      JSON.stringify([...new Set(ids)]),
    ) as UserRow[];
    return rows.map(toUser);
  }

  async findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]> {
    const rows = (
      tenant === undefined
        ? this.sql('SELECT * FROM users WHERE email = ? ORDER BY id').all(email.toLowerCase())
        : this.sql('SELECT * FROM users WHERE email = ? AND tenant = ?').all(
            email.toLowerCase(),
            tenant,
          )
    ) as UserRow[];
    return rows.map(toUser);
  }

  async getResource(id: string): Promise<ResourceRecord | undefined> {
    return this.sql('SELECT id, tenant, type, name FROM resources WHERE id = ?').get(id) as
      ResourceRecord | undefined;
  }

  async adminResourceIds(userId: string): Promise<string[]> {
    return (
      this.sql(
        'SELECT resource_id FROM resource_admins WHERE user_id = ? ORDER BY resource_id',
      ).all(userId) as {
        resource_id: string;
      }[]
    ).map((row) => row.resource_id);
  }

  async adminResources(userId: string): Promise<ResourceRecord[]> {
    return this.sql(
      `SELECT r.id, r.tenant, r.type, r.name FROM resource_admins a
       JOIN resources r ON r.id = a.resource_id
       JOIN users u ON u.id = a.user_id AND u.tenant = r.tenant
       WHERE a.user_id = ? ORDER BY r.id`,
    ).all(userId) as ResourceRecord[];
  }

  async getLoginFailures(key: string): Promise<LoginFailures | undefined> {
    const row = this.sql('SELECT count, last_failure_at FROM login_failures WHERE key = ?').get(
      key,
    ) as { count: number; last_failure_at: number } | undefined;
    return row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
  }

  async recordLoginFailure(key: string, now: Date): Promise<void> {
    this.countLoginFailure(key, now);
  }

  private countLoginFailure(key: string, now: Date): void {
    this.sql(
      `INSERT INTO login_failures (key, count, last_failure_at) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET count = count + 1, last_failure_at = excluded.last_failure_at`,
    ).run(key, now.getTime());
  }

  async admitLoginAttempt(
    key: string,
    now: Date,
    policy: LoginThrottlePolicy,
  ): Promise<LoginAdmission> {
    // One write transaction (synchronous, so no other call of this process runs inside it; BEGIN
    // IMMEDIATE keeps other processes out): the read, the decision and the count.
    return this.db
      .transaction(() => {
        const row = this.sql('SELECT count, last_failure_at FROM login_failures WHERE key = ?').get(
          key,
        ) as { count: number; last_failure_at: number } | undefined;
        const previous = row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
        const admission = decideLoginAttempt(previous, now, policy);
        if (admission.admitted) this.countLoginFailure(key, admission.at);
        return admission;
      })
      .immediate();
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.sql('DELETE FROM login_failures WHERE key = ?').run(key);
  }

  async createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean> {
    // One statement: the check and the insert cannot be split by a change of the password.
    return (
      this.sql(
        `INSERT INTO sessions (id, user_id, tenant, csrf_token, login_at, expires_at, ended_at)
         SELECT @id, @userId, @tenant, @csrfToken, @loginAt, @expiresAt, NULL
         WHERE @hash IS NULL
            OR EXISTS (SELECT 1 FROM users WHERE id = @userId AND password_hash = @hash)`,
      ).run({
        id: session.id,
        userId: session.userId,
        tenant: session.tenant,
        csrfToken: session.csrfToken,
        loginAt: session.loginAt.getTime(),
        expiresAt: session.expiresAt.getTime(),
        hash: ifPasswordHash ?? null,
      }).changes === 1
    );
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.sql('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async getCaller(sessionId: string): Promise<CallerRecord | undefined> {
    const row = this.sql(callerQuery('?', 'json_group_array(r.resource_id)', "'[]'")).get(
      sessionId,
    ) as CallerRow | undefined;
    return row && toCaller(row);
  }

  async renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    const result = this.sql(
      'UPDATE sessions SET expires_at = ? WHERE id = ? AND ended_at IS NULL AND expires_at > ?',
    ).run(expiresAt.getTime(), id, now.getTime());
    return result.changes === 1;
  }

  async endSession(id: string, now: Date): Promise<void> {
    this.sql('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL').run(
      now.getTime(),
      id,
    );
  }

  async allocateTicketNumber(tenant: string): Promise<number> {
    return this.db
      .transaction(() => {
        for (;;) {
          const row = this.sql(
            'UPDATE tenants SET ticket_seq = ticket_seq + 1 WHERE id = ? RETURNING ticket_seq',
          ).get(tenant) as { ticket_seq: number } | undefined;
          if (!row) throw new Error(`allocateTicketNumber: no tenant ${tenant}`);
          const taken = this.sql('SELECT 1 FROM tickets WHERE id = ?').get(
            `ticket${row.ticket_seq}.${tenant}`,
          );
          if (!taken) return row.ticket_seq;
        }
      })
      .immediate();
  }

  async insertTicket(
    ticket: Ticket,
    history: readonly HistoryEntry[],
    idempotency?: IdempotencyRecord,
  ): Promise<'inserted' | 'id-taken' | 'conflict'> {
    try {
      const eventId = await this.group.run(() =>
        this.writes.insertTicket(ticket, history, idempotency),
      );
      if (eventId === 'id-taken') return eventId;
      this.changes.committed(eventId);
      return 'inserted';
    } catch (error) {
      if (error instanceof IdempotencyRace) return 'conflict';
      throw error;
    }
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const row = this.sql('SELECT * FROM tickets WHERE id = ?').get(id) as TicketRow | undefined;
    return row && toTicket(row);
  }

  async getTicketWithAuthor(
    id: string,
  ): Promise<{ ticket: Ticket; authorName: string } | undefined> {
    const row = this.sql(ticketWithAuthorQuery('?')).get(id) as
      (TicketRow & { author_name: string | null }) | undefined;
    return row && toTicketWithAuthor(row);
  }

  async listTickets(query: TicketQuery): Promise<TicketList> {
    const where = ['tenant = @tenant'];
    if (query.apiId !== undefined) where.push('api_id = @apiId');
    if (query.appId !== undefined) where.push('app_id = @appId');
    if (query.authorId !== undefined) where.push('author_id = @authorId');
    if (query.state !== undefined) where.push('state = @state');
    const params = {
      tenant: query.tenant,
      apiId: query.apiId ?? null,
      appId: query.appId ?? null,
      authorId: query.authorId ?? null,
      state: query.state ?? null,
      start: query.start,
      count: query.count,
    };
    const clause = where.join(' AND ');
    // The counts file a ticket without an API (or app) under '': an empty filter matches no
    // ticket, so it must match no count either.
    const countClause = [clause, ...(query.apiId === '' || query.appId === '' ? ['0'] : [])].join(
      ' AND ',
    );
    return this.db
      .transaction((): TicketList => {
        // From the counts the triggers keep (migration 4): a few rows, whatever the matches.
        const total = (
          this.sql(`SELECT coalesce(sum(n), 0) AS n FROM ticket_counts WHERE ${countClause}`).get(
            params,
          ) as { n: number }
        ).n;
        let page = clause;
        let cursor = {};
        if (query.after !== undefined) {
          // Keyset paging: the index walk starts at the `after` ticket's place in the order.
          const after = this.sql(
            'SELECT created, id FROM tickets WHERE id = @id AND tenant = @tenant',
          ).get({ id: query.after, tenant: query.tenant }) as
            { created: string; id: string } | undefined;
          if (!after) return { total, tickets: [], unknownAfter: true };
          page += ` AND created <= @afterCreated AND (created < @afterCreated OR id > @afterId)`;
          cursor = { afterCreated: after.created, afterId: after.id };
        }
        const rows = this.sql(
          `SELECT t.*, (SELECT name FROM users u WHERE u.id = t.author_id) AS author_name
           FROM tickets t WHERE ${page} ORDER BY t.created DESC, t.id ASC
           LIMIT @count OFFSET @start`,
        ).all({ ...params, ...cursor }) as (TicketRow & { author_name: string | null })[];
        return { total, tickets: rows.map(toTicketWithAuthor) };
      })
      .deferred();
  }

  async commitChange(
    change: TicketChange,
  ): Promise<{ historyId: number; eventId: number } | 'conflict'> {
    try {
      const result = await this.group.run(() => this.writes.applyChange(change));
      if (result !== 'conflict') this.changes.committed(result.eventId);
      return result;
    } catch (error) {
      if (error instanceof IdempotencyRace) return 'conflict';
      throw error;
    }
  }

  async listHistory(ticketId: string): Promise<StoredHistoryEntry[]> {
    const rows = this.sql('SELECT * FROM history WHERE ticket_id = ? ORDER BY id').all(
      ticketId,
    ) as HistoryRow[];
    return rows.map(toHistory);
  }

  async pageHistory(
    ticketId: string,
    page: HistoryPaging,
  ): Promise<{ total: number; entries: StoredHistoryEntry[] }> {
    const params = { ticketId, start: page.start, count: page.count };
    return this.db
      .transaction(() => {
        const total = (
          this.sql('SELECT count(*) AS n FROM history WHERE ticket_id = @ticketId').get(params) as {
            n: number;
          }
        ).n;
        const rows = this.sql(
          'SELECT * FROM history WHERE ticket_id = @ticketId ORDER BY id LIMIT @count OFFSET @start',
        ).all(params) as HistoryRow[];
        return { total, entries: rows.map(toHistory) };
      })
      .deferred();
  }

  async listChanges(
    tenant: string,
    afterEventId: number,
    limit: number,
  ): Promise<TicketChangeRecord[]> {
    const changes = this.changes.list(tenant, afterEventId, limit);
    // They may be another process's commits, which that process flushes only before it answers:
    // the next flush (which the live feed waits for) covers them too, whoever wrote them.
    if (changes.length > 0) this.wal.committed();
    return changes;
  }

  async latestEventId(): Promise<number> {
    return this.changes.latest();
  }

  async watchChanges(listener: () => void): Promise<() => Promise<void>> {
    if (!this.db.open) throw new Error('watchChanges: the store is closed');
    return this.changes.watch(listener);
  }

  async getIdempotency(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.sql('SELECT * FROM idempotency WHERE user_id = ? AND key = ?').get(
      userId,
      key,
    ) as IdempotencyRow | undefined;
    return row && toIdempotency(row);
  }

  async saveIdempotency(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    this.writes.insertIdempotency(record);
    return (await this.getIdempotency(record.userId, record.key))!;
  }

  async applyProvision(plan: ProvisionPlan): Promise<ProvisionSummary> {
    return this.db.transaction(() => this.writes.applyProvision(plan)).immediate();
  }

  async purgeExpired(now: Date): Promise<void> {
    const t = now.getTime();
    this.db
      .transaction(() => {
        this.sql('DELETE FROM idempotency WHERE created_at < ?').run(t - IDEMPOTENCY_TTL_MS);
        this.sql('DELETE FROM login_failures WHERE last_failure_at < ?').run(
          t - LOGIN_FAILURE_TTL_MS,
        );
        this.sql('DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?').run(t, t - 60_000);
        this.changes.purge(t - CHANGE_RETENTION_MS);
      })
      .immediate();
  }

  async flushed(): Promise<void> {
    await this.wal.durable();
  }

  async ping(): Promise<void> {
    this.wal.assertHealthy();
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.changes.stopAll();
    await this.wal.close();
    if (this.db.open) this.db.close();
  }
}

/** Calls that write nothing: after them, there is nothing new to flush. */
const READS = new Set([
  'getTenant',
  'getWorkflow',
  'countTenants',
  'getUser',
  'getUsers',
  'findUsersByEmail',
  'getResource',
  'adminResourceIds',
  'adminResources',
  'getLoginFailures',
  'getSession',
  'getCaller',
  'getTicket',
  'getTicketWithAuthor',
  'listTickets',
  'listHistory',
  'pageHistory',
  'getIdempotency',
  'listChanges',
  'latestEventId',
  'watchChanges',
  'flushed',
  'ping',
]);
/** The group commit retries its batches and flushes them itself. */
const GROUP_COMMITTED = new Set(['insertTicket', 'commitChange']);

// Every call of the Store interface (the async methods; `close` aside) is retried while the
// database is busy; one that writes then resolves only once what it wrote is on disk (WalSync),
// while reads answer at once (Store.flushed is for answers that show what was read). Private
// helpers are synchronous and run inside those calls.
for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
  const method: unknown = Reflect.get(SqliteStore.prototype, name);
  if (name === 'close' || !(method instanceof AsyncFunction)) continue;
  const call = method as (this: SqliteStore, ...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(SqliteStore.prototype, name, {
    value: async function durably(this: SqliteStore, ...args: unknown[]) {
      const wal = (this as unknown as { wal: WalSync }).wal;
      // After a failed flush nothing is written (nor acknowledged) any more.
      if (!READS.has(name)) wal.assertUsable();
      if (GROUP_COMMITTED.has(name)) return call.apply(this, args);
      const result = await retryWhileBusy(() => call.apply(this, args), {
        isBusy,
        patienceMs: BUSY_PATIENCE_MS,
      });
      if (!READS.has(name)) {
        wal.committed();
        await wal.durable();
      }
      return result;
    },
  });
}
