import pg from 'pg';
import type { Logger } from '../../logger.js';
import {
  ChangeListeners,
  TICKET_CHANGE_COLUMNS,
  checkChangePage,
  ticketChangeValues,
  toTicketChange,
  type NewTicketChangeRow,
  type TicketChangeRow,
} from '../changeLog.js';
import type { TicketChangeRecord } from '../store.js';

/**
 * The change log of the PostgreSQL store: appending (inside the store's transactions), reading,
 * and watching with LISTEN/NOTIFY.
 *
 * Why a change's id is its transaction's id (`pg_current_xact_id()`, times 1024 plus the
 * change's place in its transaction: a batch of concurrent changes shares one transaction), not
 * a sequence's. The
 * feed's reader remembers the last id it delivered and asks for larger ones, so no change may
 * become readable after one with a larger id was read. Transactions commit in any order; what a
 * reader can know is which transactions have ended: every transaction id below
 * `pg_snapshot_xmin(pg_current_snapshot())` belongs to one that has committed or rolled back,
 * and every transaction still running or yet to start has an id at or above it. With the
 * transaction id as the change's id, "listable" is exactly "id below 1024 times that xmin", and nothing
 * can ever be written below it again (ENDED_BELOW narrows "running" to this database's). A sequence would not do, even filtered by its writer's
 * transaction id: sequence values and transaction ids are handed out independently, so a
 * transaction A that got its transaction id first can take a larger sequence value than a later
 * B, and commit first; a reader then sees A's change (A's id is below the xmin, since only B is
 * running) and moves past B's smaller value before B commits. The test "a change whose
 * transaction began first but committed last" plays exactly that. Serialising writers (an
 * advisory lock until commit) would fix the order but costs throughput; this costs writers
 * nothing.
 *
 * The price: ids have large gaps (every transaction of the server takes 1024, changes or not);
 * a transaction writes at most 1024 changes; a change waits, unlisted, while any
 * transaction of this database that began before it is still open (ours are bounded by
 * idle_in_transaction_session_timeout; those of other databases are told apart, see
 * ENDED_BELOW); and ids stay increasing over a restart, a
 * failover or pg_upgrade (which keep transaction ids), but not over a dump and restore into a
 * new cluster, which starts transaction ids afresh: clients must then reload.
 */

/**
 * The channel committed changes are announced on (by ChangeAnnouncer, after their commit); the
 * payload is the schema, so that stores in other schemas of the same database can tell the
 * announcement is not theirs.
 */
export const CHANGES_CHANNEL = 'tickets_changes';

/** Appends a change, in the caller's transaction; answers its id (ChangeAnnouncer tells). */
export const INSERT_CHANGE = `INSERT INTO ticket_changes (${TICKET_CHANGE_COLUMNS.join(', ')})
  VALUES (${TICKET_CHANGE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  RETURNING id`;

/**
 * How many changes one transaction may write: a change's id is its transaction's id times this,
 * plus its place among them (migration 5).
 */
export const CHANGES_PER_TRANSACTION = 1024;

/**
 * Transactions running in another database of the server, which cannot write this one's
 * change log: their 32-bit ids, as `pg_stat_activity` (readable by any role, ids included) and
 * `pg_prepared_xacts` show them. Only these are known not to be ours; a transaction that ends
 * between the snapshot and this look is not here and is waited for, as before.
 */
const ELSEWHERE_XIDS = `SELECT backend_xid::text::bigint FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL
      AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database <> current_database()`;

/**
 * Every id below this one belongs to a transaction that has ended (committed or not), or to
 * none that can still write a change: the smallest id among the transactions the statement's
 * snapshot sees running, leaving out those of other databases (an idle session in another
 * application's database would otherwise hold the feed back for as long as it stays open), or,
 * with none left, the first id the snapshot does not know of. A transaction id is 64 bits here
 * and 32 in the views; two running ones never share their low 32 bits.
 */
const ENDED_BELOW = `(SELECT coalesce(
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
      WHERE x::text::bigint % 4294967296 NOT IN (${ELSEWHERE_XIDS})),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint
  ) * ${CHANGES_PER_TRANSACTION})`;

const LIST_CHANGES = `SELECT * FROM ticket_changes
  WHERE tenant = $1 AND id > $2 AND id < ${ENDED_BELOW} ORDER BY id LIMIT $3`;

const LATEST_EVENT_ID = `SELECT coalesce(max(id), 0) AS id FROM ticket_changes
  WHERE id < ${ENDED_BELOW}`;

export const PURGE_CHANGES = 'DELETE FROM ticket_changes WHERE changed_at < $1';

/** What a statement runs on: the pool, a pooled connection, or a connection of its own. */
type Queryable = pg.Pool | pg.ClientBase;

export async function appendChange(db: Queryable, change: NewTicketChangeRow): Promise<number> {
  // A number under the store's type parsers; text on a plain connection (as in the tests).
  const { rows } = await db.query<{ id: number | string }>(
    INSERT_CHANGE,
    ticketChangeValues(change),
  );
  return Number(rows[0]!.id);
}

export async function listChanges(
  db: Queryable,
  tenant: string,
  afterEventId: number,
  limit: number,
): Promise<TicketChangeRecord[]> {
  checkChangePage(afterEventId, limit);
  const { rows } = await db.query<TicketChangeRow>(LIST_CHANGES, [tenant, afterEventId, limit]);
  return rows.map(toTicketChange);
}

export async function latestEventId(db: Queryable, mark = ''): Promise<number> {
  const { rows } = await db.query<{ id: number }>(mark + LATEST_EVENT_ID);
  return rows[0]!.id;
}

/** Begins every statement of the watch connection, so that pg_stat_activity tells it apart. */
export const WATCH_MARK = '/* tickets change watch */ ';

/** While anyone watches, how often the watcher looks whether more changes became listable. */
export const CHANGE_TICK_MS = 1_000;
/** The first wait before connecting again, doubled after each failure up to the last. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 10_000;

export interface ChangeWatchOptions {
  /** How to connect: the store's own settings (URL, timeouts, type parsers). */
  readonly client: pg.ClientConfig;
  /** The schema to work in, as the store's pool does. */
  readonly schema?: string | undefined;
  /** Told (at warn) when the watch connection breaks or cannot be made, and when a listener throws. */
  readonly logger?: Logger | undefined;
}

/**
 * The watchers of one store, on one dedicated connection (not from the pool: it stays in LISTEN
 * for as long as anyone watches) that is made for the first watcher and closed after the last.
 * A listener is called on every announcement; after the connection was (re)made, since
 * announcements may have been missed meanwhile; and when the latest listable id grew since the
 * last look, once a second: an announcement can arrive while its change is still held back
 * (an older transaction is open), and then only a later look finds it listable. The look is one
 * indexed query per store, not one per listener, and it also finds a connection that died
 * silently.
 */
export class PostgresChangeWatch {
  private readonly listeners: ChangeListeners;
  /** The LISTEN connection, while it is up. */
  private client: pg.Client | undefined;
  /** `current_schema()` there: announcements naming another schema are not ours. */
  private schema = '';
  /** Counts the times watching stopped: a connection made for an earlier round is closed. */
  private round = 0;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private looking = false;
  private failures = 0;
  /** The latest listable id at the last look. */
  private latest = 0;
  private closed = false;
  private readonly ended = new WeakSet<pg.Client>();

  constructor(private readonly options: ChangeWatchOptions) {
    this.listeners = new ChangeListeners(options.logger);
  }

  /**
   * Adds a watcher. The first one waits for the first connection attempt, so that changes
   * committed after this answers are announced to it (when the attempt failed, it is retried in
   * the background, and the listener is called once connected).
   */
  async watch(listener: () => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('watchChanges: the store is closed');
    const remove = this.listeners.add(listener);
    if (this.listeners.size === 1 && !this.tick) this.start();
    await this.connecting;
    return async () => {
      if (remove()) await this.stop();
    };
  }

  /** Stops every watcher and closes the connection (the store is closing). */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.stop();
  }

  private start(): void {
    // Unref'd, as the connection's socket is: watching never keeps the process alive.
    this.tick = setInterval(() => void this.look(), CHANGE_TICK_MS).unref();
    this.connect();
  }

  private async stop(): Promise<void> {
    this.round += 1;
    clearInterval(this.tick);
    clearTimeout(this.retry);
    this.tick = undefined;
    this.retry = undefined;
    this.failures = 0;
    const client = this.client;
    this.client = undefined;
    if (client) await this.end(client);
    // A connection still being made for this round closes itself when it is done.
    await this.connecting;
  }

  private connect(): void {
    const attempt = this.connectOnce(this.round);
    this.connecting = attempt;
    void attempt.then(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
  }

  /** One attempt; never rejects (a failure schedules the next attempt). */
  private async connectOnce(round: number): Promise<void> {
    const client = new pg.Client(this.options.client);
    client.on('error', (error) => this.lost(client, round, error));
    client.on('end', () => this.lost(client, round, new Error('the connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL) return;
      if (message.payload && this.schema && message.payload !== this.schema) return;
      this.listeners.fire();
    });
    let latest: number;
    try {
      await client.connect();
      // pg.Client has unref() (for pg.Pool's allowExitOnIdle), though its types do not say so.
      (client as unknown as { unref?: () => void }).unref?.();
      const { schema } = this.options;
      if (schema !== undefined)
        await client.query(`${WATCH_MARK}SET search_path TO ${pg.escapeIdentifier(schema)}`);
      await client.query(`${WATCH_MARK}LISTEN ${CHANGES_CHANNEL}`);
      const { rows } = await client.query<{ schema: string | null }>(
        `${WATCH_MARK}SELECT current_schema() AS schema`,
      );
      this.schema = rows[0]?.schema ?? '';
      latest = await latestEventId(client, WATCH_MARK);
    } catch (error) {
      this.lost(client, round, error);
      return;
    }
    if (round !== this.round) {
      await this.end(client);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.latest = Math.max(this.latest, latest);
    // Changes may have been committed while nobody listened.
    this.listeners.fire();
  }

  /** Once a second: did more changes become listable since the last look? */
  private async look(): Promise<void> {
    const { client, round } = this;
    if (!client || this.looking) return;
    this.looking = true;
    try {
      const latest = await latestEventId(client, WATCH_MARK);
      if (latest > this.latest) {
        this.latest = latest;
        this.listeners.fire();
      }
    } catch (error) {
      this.lost(client, round, error);
    } finally {
      this.looking = false;
    }
  }

  /** The connection broke (or could not be made): close it, and connect again after a while. */
  private lost(client: pg.Client, round: number, error: unknown): void {
    if (this.ended.has(client)) return;
    void this.end(client);
    if (this.client === client) this.client = undefined;
    if (round !== this.round || this.closed) return;
    this.failures += 1;
    const delay = Math.round(
      Math.min(RETRY_FIRST_MS * 2 ** (this.failures - 1), RETRY_MAX_MS) * (0.5 + Math.random()),
    );
    this.options.logger?.warn(
      { err: error, retryInMs: delay, failures: this.failures },
      'the change feed has no database connection; connecting again',
    );
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (round === this.round) this.connect();
    }, delay).unref();
  }

  private async end(client: pg.Client): Promise<void> {
    if (this.ended.has(client)) return;
    this.ended.add(client);
    await client.end().catch(() => {});
  }
}
