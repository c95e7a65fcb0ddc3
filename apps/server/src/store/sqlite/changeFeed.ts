import type Database from 'better-sqlite3';
import type { Logger } from '../../logger.js';
import {
  ChangeListeners,
  TICKET_CHANGE_COLUMNS,
  checkChangePage,
  toTicketChange,
  type NewTicketChangeRow,
  type TicketChangeRow,
} from '../changeLog.js';
import type { TicketChangeRecord } from '../store.js';

/**
 * How often a watched store looks at the file for changes another process committed: a read of
 * the largest id, cheap at any size of the table. Changes of this process are told at once.
 */
export const SQLITE_CHANGE_POLL_MS = 250;

const INSERT_CHANGE = `INSERT INTO ticket_changes (${TICKET_CHANGE_COLUMNS.join(', ')})
  VALUES (${TICKET_CHANGE_COLUMNS.map((column) => `@${column}`).join(', ')})`;

/**
 * The change log of the SQLite store: appending (inside the store's transactions), reading, and
 * watching. SQLite has one writer at a time, and a row's id is taken inside its write
 * transaction, so ids commit in order: whatever a reader sees is a prefix of the log, and no
 * change with a smaller id can appear later.
 */
export class SqliteChangeFeed {
  private readonly listeners: ChangeListeners;
  private poll: NodeJS.Timeout | undefined;
  /** The largest id this watcher has told its listeners about (or found when it started). */
  private seen = 0;

  constructor(
    private readonly sql: (text: string) => Database.Statement,
    logger?: Logger,
  ) {
    this.listeners = new ChangeListeners(logger);
  }

  /** Appends a change; inside the caller's transaction. Answers its eventId. */
  append(change: NewTicketChangeRow): number {
    return Number(this.sql(INSERT_CHANGE).run(change).lastInsertRowid);
  }

  /** Tells the listeners of this process, right after the commit that appended `eventId`. */
  committed(eventId: number): void {
    if (this.listeners.size === 0) return;
    // The poll need not report it again.
    this.seen = Math.max(this.seen, eventId);
    this.listeners.fire();
  }

  list(tenant: string, afterEventId: number, limit: number): TicketChangeRecord[] {
    checkChangePage(afterEventId, limit);
    const rows = this.sql(
      // LIMIT +?: a bare parameter there is planned anew at each call (see SqliteStore.pageHistory).
      'SELECT * FROM ticket_changes WHERE tenant = ? AND id > ? ORDER BY id LIMIT +?',
    ).all(tenant, afterEventId, limit) as TicketChangeRow[];
    return rows.map(toTicketChange);
  }

  latest(): number {
    return (
      this.sql('SELECT coalesce(max(id), 0) AS id FROM ticket_changes').get() as { id: number }
    ).id;
  }

  /** Removes changes from before `before` (epoch milliseconds); inside the caller's transaction. */
  purge(before: number): void {
    this.sql('DELETE FROM ticket_changes WHERE changed_at < ?').run(before);
  }

  watch(listener: () => void): () => Promise<void> {
    // Read before anything changes here: a busy database throws, and the call is retried.
    const latest = this.listeners.size === 0 ? this.latest() : this.seen;
    const remove = this.listeners.add(listener);
    if (this.listeners.size === 1) {
      this.seen = latest;
      // Unref'd: a watcher never keeps the process alive.
      this.poll = setInterval(() => this.check(), SQLITE_CHANGE_POLL_MS).unref();
    }
    return async () => {
      if (remove()) this.stopPolling();
    };
  }

  /** Another process may have committed: the log's largest id grew. */
  private check(): void {
    let latest: number;
    try {
      latest = this.latest();
    } catch {
      // Busy or closing: the next poll looks again.
      return;
    }
    // Only growth counts: ids are never reused, so a purge can only make the largest id smaller.
    if (latest <= this.seen) return;
    this.seen = latest;
    this.listeners.fire();
  }

  private stopPolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Stops every watcher (the store is closing). */
  stopAll(): void {
    this.listeners.clear();
    this.stopPolling();
  }
}
