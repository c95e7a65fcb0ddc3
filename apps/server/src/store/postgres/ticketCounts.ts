import type pg from 'pg';
import type { Logger } from '../../logger.js';

/**
 * The list page's total from the counts migration 6 keeps: ticket_counts (the base, one row
 * per group) plus ticket_count_deltas (what the triggers appended since the last fold). Both are
 * read by the list's one statement, so the total is exact and from the page's own snapshot: a
 * fold commits its deletion of deltas and their addition to the base together, and a snapshot
 * sees either both or neither.
 */

/** Delta rows the list saw that make it ask for a fold at once, rather than at the next tick. */
export const FOLD_AT_DELTAS = 1000;
/** How often each process folds anyway (a no-op when there is nothing to fold). */
export const FOLD_EVERY_MS = 2000;

/** The folds' advisory lock: a class of its own ('tcnt'; the migrations' is 'tick'), per schema. */
const LOCK_KEYS = `${0x74636e74}, hashtext(coalesce(current_schema(), ''))`;

/**
 * One statement: moves every delta into the base. Folds of one schema take turns (an advisory
 * lock): two at once could delete each other's delta rows and upsert the base's rows in other
 * orders, and deadlock. The background fold only tries the lock (another process folding
 * already does its work); an asked-for fold waits for its turn. Writers never take the lock:
 * they only append deltas, which the fold's snapshot leaves for the next fold.
 */
const fold = (wait: boolean) => `
  WITH turn AS (
    SELECT ${wait ? `(SELECT true FROM pg_advisory_xact_lock(${LOCK_KEYS}))` : `pg_try_advisory_xact_lock(${LOCK_KEYS})`} AS mine
  ),
  moved AS (
    DELETE FROM ticket_count_deltas WHERE (SELECT mine FROM turn)
    RETURNING tenant, api_id, app_id, author_id, state, n
  )
  INSERT INTO ticket_counts (tenant, api_id, app_id, author_id, state, n)
    SELECT tenant, api_id, app_id, author_id, state, sum(n) FROM moved
    GROUP BY tenant, api_id, app_id, author_id, state
  ON CONFLICT (tenant, api_id, app_id, author_id, state)
    DO UPDATE SET n = ticket_counts.n + excluded.n`;
const FOLD_IF_FREE = fold(false);
const FOLD_NOW = fold(true);

/**
 * After a fold that moved deltas: their rows are dead, and every list reads the whole table
 * until they are gone. Autovacuum comes by once a minute at most; under a steady stream of
 * actions (two deltas each) that is a table of hundreds of thousands of dead rows, and a list
 * page forty times slower. This keeps it to what two seconds of writes leave. SKIP_LOCKED: when
 * another process (or autovacuum) is at it already, there is nothing to add.
 */
const VACUUM_DELTAS = 'VACUUM (SKIP_LOCKED) ticket_count_deltas';

/**
 * The total of the tickets a list filter matches (`clause` over the columns the counts share
 * with tickets, `$n` parameters as the list's) and how many delta rows there were in all, as
 * columns `list_total` and `list_deltas` of one row: a FROM item for the list's statement.
 */
export const countsOf = (clause: string): string => `
  (SELECT
     ((SELECT coalesce(sum(n), 0) FROM ticket_counts WHERE ${clause})
       + coalesce(sum(n) FILTER (WHERE ${clause}), 0))::bigint AS list_total,
     count(*) AS list_deltas
   FROM ticket_count_deltas)`;

/**
 * Folds the deltas of this process's store: every FOLD_EVERY_MS once told the schema is current
 * (`startTicking`), and at once when a list saw FOLD_AT_DELTAS or more (a burst of writes). One
 * fold at a time per process; several processes take turns (see `fold`).
 */
export class TicketCountFolder {
  private folding: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger?: Logger,
  ) {}

  /**
   * Starts the background folds. The store calls it once its migrations are applied: before,
   * the counts' tables may not exist yet, and every tick would fail and warn. Calling it again,
   * or after `close`, does nothing.
   */
  startTicking(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => this.start(), FOLD_EVERY_MS);
    this.timer.unref();
  }

  /** What a list saw: asks for a fold when the deltas have piled up. */
  sawDeltas(rows: number): void {
    if (rows >= FOLD_AT_DELTAS) this.start();
  }

  /** Folds now (after the fold on its way, if any); for tests and maintenance. */
  async fold(): Promise<void> {
    await this.folding;
    await this.pool.query(FOLD_NOW);
  }

  /** Stops the timer and waits for the fold on its way (before the pool closes). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.folding;
  }

  private start(): void {
    this.folding ??= this.pool
      .query(FOLD_IF_FREE)
      .then(async (folded) => {
        if ((folded.rowCount ?? 0) > 0) await this.pool.query(VACUUM_DELTAS);
      })
      .then(
        () => undefined,
        (error: unknown) => {
          // The deltas stay and still count; the next tick tries again.
          this.logger?.warn(
            { err: error },
            'ticket counts could not be folded, or their deltas vacuumed',
          );
        },
      )
      .finally(() => {
        this.folding = undefined;
      });
  }
}
