import type Database from 'better-sqlite3';

/**
 * Drops the planner's per-value samples (`sqlite_stat4`, written by every ANALYZE in this build
 * of SQLite: migration 4's, an operator's, `PRAGMA optimize`), keeping its per-index row counts
 * (`sqlite_stat1`), and has the connection reload the statistics that remain. Returns whether
 * there were any.
 *
 * With samples, a statement whose plan could depend on a bound value (an equality or a range
 * on an indexed column) is planned again each time that value is bound, which is at every call
 * here: a list page over a million tickets spent 60–80 µs of its 150–230 µs in SQLite on that,
 * a lookup by TicketID a quarter of its time. Every query here has an index made for it, so the
 * row counts alone choose as well.
 */
export function dropValueSamples(db: Database.Database): boolean {
  const kept = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'")
    .get();
  if (kept === undefined || db.prepare('SELECT 1 FROM sqlite_stat4 LIMIT 1').get() === undefined)
    return false;
  db.transaction(() => db.exec('DELETE FROM sqlite_stat4')).immediate();
  // ANALYZE of the schema table itself analyzes nothing: it reloads the statistics.
  db.exec('ANALYZE sqlite_schema');
  return true;
}
