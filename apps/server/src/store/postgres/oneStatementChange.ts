import type pg from 'pg';
import { committedChange, TICKET_CHANGE_COLUMNS, ticketChangeValues } from '../changeLog.js';
import type { TicketChange } from '../store.js';

/**
 * A change of a ticket without an idempotency record, in one statement, hence one round trip
 * and its own transaction: the conditional update, the history row and the change-log row all
 * happen, or, when the version is no longer the expected one, none does.
 * Under READ COMMITTED the update waits for a concurrent change of the row and then checks the
 * version that one committed, as the multi-statement transaction does.
 */
const CHANGE_IN_ONE_STATEMENT = `
  WITH changed AS (
    UPDATE tickets SET state = $1, step = $2, updated = $3, version = $4, comment_count = $5
    WHERE id = $6 AND version = $7
    RETURNING id
  ), logged AS (
    INSERT INTO history (ticket_id, action, from_state, to_state, comments, user_id, created)
    SELECT id, $8, $9, $10, $11, $12, $13 FROM changed
    RETURNING id
  ), change AS (
    INSERT INTO ticket_changes (${TICKET_CHANGE_COLUMNS.join(', ')})
    SELECT ${TICKET_CHANGE_COLUMNS.map((_, i) => `$${i + 14}`).join(', ')} FROM changed
    RETURNING id
  )
  SELECT logged.id AS history_id, change.id AS event_id FROM logged, change`;

/** Runs the change on `db` (a pool: autocommit); `conflict` when another change won. */
export async function commitChangeInOneStatement(
  db: pg.Pool,
  change: TicketChange,
): Promise<{ historyId: number; eventId: number } | 'conflict'> {
  const { ticket, history } = change;
  const { rows } = await db.query<{ history_id: number | string; event_id: number | string }>(
    CHANGE_IN_ONE_STATEMENT,
    [
      ticket.state,
      ticket.step,
      ticket.updated,
      ticket.version,
      ticket.commentCount,
      ticket.id,
      change.expectedVersion,
      history.action,
      history.from,
      history.to,
      JSON.stringify(history.comments),
      history.userId,
      history.created,
      ...ticketChangeValues(committedChange(change)),
    ],
  );
  const row = rows[0];
  if (!row) return 'conflict';
  return { historyId: Number(row.history_id), eventId: Number(row.event_id) };
}
