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
  toTicketWithAuthor,
  ticketWithAuthorQuery,
  toHistory,
  toIdempotency,
  toTicket,
  type HistoryRow,
  type IdempotencyRow,
  type TicketRow,
} from '../rows.js';
import { SqliteAccounts } from './accounts.js';
import { dropValueSamples } from './valueSamples.js';
import { listTickets } from './ticketList.js';
import { SqliteChangeFeed } from './changeFeed.js';
import { GroupCommit } from './groupCommit.js';
import { WalSync, type Datasync, type StoreBrokenError } from './walSync.js';
import { IdempotencyRace, SqliteWrites } from './writes.js';
import { applyMigrations } from './migrations.js';
import { createPrivately } from './privateFile.js';
import { wrapStoreCalls } from './storeCalls.js';
import { transactionsOf, type Transactions } from './transactions.js';

/** How long SQLite itself waits for a lock, blocking; and how long, in all, a call keeps trying. */
const BUSY_TIMEOUT_MS = 25;
const BUSY_PATIENCE_MS = 5_000;

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  );
};

/** Where SQLite keeps temporary tables and journals while serving (not while migrating). */
const TEMP_STORE = 'MEMORY';

/** The write-ahead log's length, in pages, that makes the next commit copy it back. */
export const CHECKPOINT_PAGES = 10_000;
/** The size the log's file is cut back to when it is reused, bytes. */
export const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** SQLite's page cache unless told otherwise (TICKETS_SQLITE_CACHE_MIB), MiB. */
export const DEFAULT_CACHE_MIB = 4;

export interface SqliteStoreOptions {
  /** SQLite's page cache, MiB (DEFAULT_CACHE_MIB by default). */
  readonly cacheMiB?: number | undefined;
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
  private readonly accounts: SqliteAccounts;
  private readonly transactions: Transactions;
  /** Ticket changes and creations: the ones that arrive together share one durable commit. */
  private readonly group: GroupCommit;

  private constructor(
    db: Database.Database,
    private readonly wal: WalSync,
    private readonly logger?: Logger,
  ) {
    this.db = db;
    const sql = (text: string) => this.sql(text);
    this.changes = new SqliteChangeFeed(sql, logger);
    this.writes = new SqliteWrites(sql, this.changes);
    this.transactions = transactionsOf(db);
    this.accounts = new SqliteAccounts(this.transactions, sql);
    this.group = new GroupCommit(
      db,
      { isBusy, patienceMs: BUSY_PATIENCE_MS },
      () => {
        wal.committed();
        return wal.durable();
      },
      () => wal.assertUsable(),
    );
    // A Store call as a function-valued field would escape wrapStoreCalls (storeCalls.ts).
    for (const [name, value] of Object.entries(this)) {
      if (typeof value === 'function') throw new TypeError(`SqliteStore.${name}: a method, please`);
    }
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
    // A checkpoint runs inside the COMMIT that fills the log to this many pages, on the event
    // loop, with two flushes to disk. SQLite's default, 1,000 pages, took one every few hundred
    // actions under load; at 10,000 (a log of about 40 MiB, reused from its start once copied
    // back) a page written many times meanwhile is copied back once: 18% more actions per
    // second at 16 connections, 10% less CPU each (5 s runs side by side, 4 rounds). The price:
    // a checkpoint of 10,000 distinct pages holds the event loop longer (140 ms against 28 ms
    // at 1,000, 30,000 updates of random rows on this machine's disk, in 28% less time in all).
    db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    // A large transaction or a long reader lets the log grow past that; once it is reused, the
    // file is cut back to this size rather than keeping its largest.
    db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    db.pragma('foreign_keys = ON');
    // Temporary files in memory. The group commit's savepoints keep the pages they change in a
    // statement journal, which otherwise spills to a new temporary file past 64 KiB: a batch
    // of a few actions did, every time (open, unlink, writes, close: a quarter of an action's CPU).
    // Not while migrating (see applyMigrations).
    db.pragma(`temp_store = ${TEMP_STORE}`);
    // The page cache (in KiB when negative). better-sqlite3's own default, 16 MiB, took a server
    // under load past 100 MiB; beyond the cache, the operating system's keeps the file close.
    db.pragma(`cache_size = ${-Math.round((options.cacheMiB ?? DEFAULT_CACHE_MIB) * 1024)}`);
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
      try {
        store.applyMigrations();
      } catch (error) {
        db.close();
        throw error;
      }
      store.wal.committed();
    }
    return store;
  }

  async migrate(): Promise<number[]> {
    return this.applyMigrations();
  }

  /** Applies the migrations not yet applied; returns their versions. */
  private applyMigrations(): number[] {
    // Building an index over a million tickets sorts them: in temporary files, as SQLite does
    // by default, not in memory (where it took three times the memory of the whole server).
    this.db.pragma('temp_store = DEFAULT');
    try {
      const done = applyMigrations(this.db, (text) => this.sql(text));
      try {
        if (dropValueSamples(this.db)) {
          this.logger?.info("dropped SQLite's per-value planner samples (sqlite_stat4)");
        }
      } catch (error) {
        // Another process holds the write lock: the samples can wait for the next open.
        if (!isBusy(error)) throw error;
        this.logger?.warn(
          { err: error },
          "kept SQLite's per-value planner samples (sqlite_stat4) for now: another process is writing",
        );
      }
      return done;
    } finally {
      this.db.pragma(`temp_store = ${TEMP_STORE}`);
    }
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

  // Accounts: the statements are in accounts.ts.

  async getUser(id: string): Promise<UserRecord | undefined> {
    return this.accounts.getUser(id);
  }

  async getUsers(ids: readonly string[]): Promise<UserRecord[]> {
    return this.accounts.getUsers(ids);
  }

  async findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]> {
    return this.accounts.findUsersByEmail(email, tenant);
  }

  async getResource(id: string): Promise<ResourceRecord | undefined> {
    return this.accounts.getResource(id);
  }

  async adminResourceIds(userId: string): Promise<string[]> {
    return this.accounts.adminResourceIds(userId);
  }

  async adminResources(userId: string): Promise<ResourceRecord[]> {
    return this.accounts.adminResources(userId);
  }

  async getLoginFailures(key: string): Promise<LoginFailures | undefined> {
    return this.accounts.getLoginFailures(key);
  }

  async recordLoginFailure(key: string, now: Date): Promise<void> {
    return this.accounts.recordLoginFailure(key, now);
  }

  async admitLoginAttempt(
    key: string,
    now: Date,
    policy: LoginThrottlePolicy,
  ): Promise<LoginAdmission> {
    return this.accounts.admitLoginAttempt(key, now, policy);
  }

  async clearLoginFailures(key: string): Promise<void> {
    return this.accounts.clearLoginFailures(key);
  }

  async createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean> {
    return this.accounts.createSession(session, ifPasswordHash);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    return this.accounts.getSession(id);
  }

  async getCaller(sessionId: string): Promise<CallerRecord | undefined> {
    return this.accounts.getCaller(sessionId);
  }

  async renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    return this.accounts.renewSession(id, expiresAt, now);
  }

  async endSession(id: string, now: Date): Promise<void> {
    return this.accounts.endSession(id, now);
  }

  async allocateTicketNumber(tenant: string): Promise<number> {
    return this.transactions.write(() => {
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
    });
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
    return listTickets(this.transactions, (text) => this.sql(text), query);
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
    return this.transactions.read(() => {
      const total = (
        this.sql('SELECT count(*) AS n FROM history WHERE ticket_id = @ticketId').get(params) as {
          n: number;
        }
      ).n;
      // LIMIT +@count, not @count: SQLite folds a bare parameter in LIMIT into the plan as a
      // constant, and so plans the statement again each time one is bound (every call). The
      // unary plus leaves it an expression, read as the statement runs.
      const rows = this.sql(
        'SELECT * FROM history WHERE ticket_id = @ticketId ORDER BY id LIMIT +@count OFFSET +@start',
      ).all(params) as HistoryRow[];
      return { total, entries: rows.map(toHistory) };
    });
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
    return this.transactions.write(() => this.writes.applyProvision(plan));
  }

  async purgeExpired(now: Date): Promise<void> {
    const t = now.getTime();
    this.transactions.write(() => {
      this.sql('DELETE FROM idempotency WHERE created_at < ?').run(t - IDEMPOTENCY_TTL_MS);
      this.sql('DELETE FROM login_failures WHERE last_failure_at < ?').run(
        t - LOGIN_FAILURE_TTL_MS,
      );
      this.sql('DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?').run(t, t - 60_000);
      this.changes.purge(t - CHANGE_RETENTION_MS);
    });
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

wrapStoreCalls(SqliteStore.prototype, { isBusy, patienceMs: BUSY_PATIENCE_MS });
