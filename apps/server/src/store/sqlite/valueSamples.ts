import type Database from 'better-sqlite3';

/**
 * Drops the planner's per-value samples (`sqlite_stat4`, written by every ANALYZE in this build
 * of SQLite: migration 4's, an operator's, `PRAGMA optimize`), keeping its per-index row counts
 * (`sqlite_stat1`), and has the connection reload the statistics that remain, in one write
 * transaction. Returns whether there were any.
 *
 * With samples, a statement whose plan could depend on a bound value (an equality or a range
 * on an indexed column) is planned again each time that value is bound, which is at every call
 * here: a list page over a million tickets spent 60–80 µs of its 150–230 µs in SQLite on that,
 * a lookup by TicketID a quarter of its time. The list filters each walk an index made for them
 * and the other statements look rows up by key, so the row counts alone choose the same plans;
 * only a page filtered on two columns at once (an API and an author, say) could pick better
 * with samples, between two indexes that each narrow it.
 *
 * Throws what SQLite throws (SQLITE_BUSY, when another process holds the write lock longer
 * than the connection waits): the caller decides whether that matters.
 */
export function dropValueSamples(db: Database.Database): boolean {
  const present = () =>
    db
      .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'")
      .get() !== undefined && db.prepare('SELECT 1 FROM sqlite_stat4 LIMIT 1').get() !== undefined;
  if (!present()) return false;
  return db
    .transaction(() => {
      // Another process may have dropped them between the look and the lock.
      if (!present()) return false;
      db.exec('DELETE FROM sqlite_stat4');
      // ANALYZE of the schema table itself analyzes nothing: it reloads the statistics.
      db.exec('ANALYZE sqlite_schema');
      return true;
    })
    .immediate();
}
