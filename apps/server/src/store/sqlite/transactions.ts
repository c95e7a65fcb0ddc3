import type Database from 'better-sqlite3';

/**
 * A connection's transactions, each given the work to run in it. `db.transaction(fn)` builds a
 * transaction function (five wrappers) on every call; a list page built one per request, a
 * few percent of its CPU and 3 KB of garbage. This builds one per connection, once.
 * Inside another transaction, either runs its work in a savepoint, as better-sqlite3 does.
 */
export interface Transactions {
  /** BEGIN DEFERRED: reads that must all see one snapshot. */
  read<T>(work: () => T): T;
  /** BEGIN IMMEDIATE: writes (the write lock is taken at once, not on the first write). */
  write<T>(work: () => T): T;
}

export function transactionsOf(db: Database.Database): Transactions {
  const run = db.transaction((work: () => unknown) => work());
  return {
    read: <T>(work: () => T) => run.deferred(work) as T,
    write: <T>(work: () => T) => run.immediate(work) as T,
  };
}
