/**
 * The benchmark's bookkeeping on the database itself (not through the servers): put the action
 * tickets back in REOPEN before a run and write what is pending to the files, count after it,
 * and check the file or schema.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Counts {
  /** History rows, of every tenant's tickets (only the `bench` tenant's change in a run). */
  readonly history: number;
  /** Sum of their versions: every committed change adds one, with one history row. */
  readonly versions: number;
  /** Change-log rows (the product writes one per change; the baselines none). */
  readonly changes: number;
}

export interface BenchDatabase {
  /** Every action ticket back in REOPEN (versions and history untouched). */
  reset(): Promise<void>;
  /**
   * Writes what earlier runs left pending to the database files, so that no run pays for
   * another's (a PostgreSQL checkpoint falls due by the log's volume, which the action runs
   * fill; its writes and flushes then slow every server on the disk, the SQLite ones too).
   * Answers whether it could (false: a reader kept SQLite's log from being written back whole,
   * or PostgreSQL refused the CHECKPOINT).
   */
  settle(): Promise<boolean>;
  counts(): Promise<Counts>;
  /** Problems found by the database's own check ([] when none). */
  integrity(): Promise<string[]>;
  close(): Promise<void>;
}

const RESET =
  "UPDATE tickets SET state = 'REOPEN', step = 4 WHERE tenant = 'bench' AND state <> 'REOPEN'";
// Every ticket's history rows: only the bench tenant's tickets change in a run, and a count
// without a join to the tickets stays cheap as the history grows (0.17 s with the join at
// 400,000 rows on SQLite, three times a run).
const COUNTS = `SELECT
  (SELECT count(*) FROM history) AS history,
  (SELECT sum(version) FROM tickets WHERE tenant = 'bench') AS versions,
  (SELECT count(*) FROM ticket_changes WHERE tenant = 'bench') AS changes`;

export function sqliteDatabase(path: string): BenchDatabase {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  return {
    async reset() {
      db.prepare(RESET).run();
    },
    async settle() {
      // RESTART, not TRUNCATE: the log is written back whole and the next write starts it over,
      // in the same file, as the servers' own checkpoints leave it (a truncated file would
      // grow again under the product's flushes, each flushing the file's size too).
      const [result] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
      return result?.busy === 0;
    },
    async counts() {
      return db.prepare(COUNTS).get() as Counts;
    },
    async integrity() {
      const rows = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
      return rows.map((row) => row.integrity_check).filter((text) => text !== 'ok');
    },
    async close() {
      db.close();
    },
  };
}

export async function postgresDatabase(url: string, schema: string): Promise<BenchDatabase> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  let checkpoints = true;
  return {
    async reset() {
      await client.query(RESET);
    },
    async settle() {
      if (!checkpoints) return false;
      return client.query('CHECKPOINT').then(
        () => true,
        (error: unknown) => {
          // CHECKPOINT needs a superuser or pg_checkpoint: without, runs share the server's own.
          console.warn(`no CHECKPOINT before the runs (${(error as Error).message})`);
          checkpoints = false;
          return false;
        },
      );
    },
    async counts() {
      const { rows } = await client.query<Record<keyof Counts, string>>(COUNTS);
      const row = rows[0]!;
      return {
        history: Number(row.history),
        versions: Number(row.versions),
        changes: Number(row.changes),
      };
    },
    async integrity() {
      // No page-level check without extensions: what can be counted is counted. Every history
      // row names a ticket, every change-log row a ticket of its tenant, and no ticket has a
      // version below its number of history rows.
      const { rows } = await client.query<{ problem: string }>(`
        SELECT 'history rows of no ticket: ' || count(*) AS problem FROM history h
          WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = h.ticket_id) HAVING count(*) > 0
        UNION ALL
        SELECT 'change-log rows of no ticket: ' || count(*) FROM ticket_changes c
          WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = c.ticket_id AND t.tenant = c.tenant)
          HAVING count(*) > 0
        UNION ALL
        SELECT 'tickets with fewer versions than history rows: ' || count(*) FROM (
          SELECT t.id FROM tickets t JOIN history h ON h.ticket_id = t.id
          WHERE t.tenant = 'bench' GROUP BY t.id, t.version HAVING count(*) > t.version) x
          HAVING count(*) > 0`);
      return rows.map((row) => row.problem);
    },
    async close() {
      await client.end();
    },
  };
}
