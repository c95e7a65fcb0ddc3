import type pg from 'pg';
import { committedChange } from '../changeLog.js';
import type { TicketChange } from '../store.js';
import { CHANGES_PER_TRANSACTION } from './changeFeed.js';

/** What a change that won answers: its history row's id and its change-log id. */
export interface Committed {
  readonly historyId: number;
  readonly eventId: number;
}

/**
 * Changes of distinct tickets, in one statement, hence one round trip and one transaction: for
 * each ticket whose version is still the expected one, the update, its history row, its
 * change-log row and its idempotency record if it has one; for the others, nothing. The changes
 * arrive as one JSON array (one parameter, whatever their number).
 *
 * An idempotency record is a plain INSERT: when its key is taken (by a request with the same key
 * that committed first, or by an expired record), the statement fails whole, and the caller
 * writes each of its changes alone, where a taken key makes that change alone a conflict and an
 * expired record gives its key up (writes.ts, commitChangeIn). A key that another transaction
 * has inserted and not yet committed makes the statement wait for that one, as a ticket row
 * would, up to the lock timeout.
 *
 * Under READ COMMITTED an update waits for a concurrent change of its row, then checks the
 * version that one committed, as a single change does. Rows are locked in the array's order, and
 * the array is sorted by ticket id, so that two batches sharing tickets lock them in the same
 * order rather than deadlock. Keys are not in their own order: two statements inserting the same
 * two keys (each asked twice at once, on different tickets) can deadlock. When a deadlock
 * happens anyway, PostgreSQL aborts one statement, whole, and the store runs it again.
 *
 * A change's id in the log is the transaction's id times CHANGES_PER_TRANSACTION plus its place
 * in the array (changeFeed.ts says why).
 */
const CHANGES_IN_ONE_STATEMENT = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
      place int, id text, expected bigint, state text, step bigint, updated text, version bigint,
      comment_count bigint, action text, from_state text, to_state text, comments text,
      user_id text, created text, tenant text, kind text, changed_at bigint,
      key_user text, key text, request_hash text, outcome text, key_created bigint)
  ), changed AS (
    UPDATE tickets t SET state = i.state, step = i.step, updated = i.updated,
      version = i.version, comment_count = i.comment_count
    FROM input i WHERE t.id = i.id COLLATE "C" AND t.version = i.expected
    RETURNING i.place
  ), logged AS (
    INSERT INTO history (ticket_id, action, from_state, to_state, comments, user_id, created)
    SELECT i.id, i.action, i.from_state, i.to_state, i.comments, i.user_id, i.created
    FROM changed JOIN input i USING (place)
    RETURNING id, ticket_id
  ), change AS (
    INSERT INTO ticket_changes (id, tenant, ticket_id, kind, action, from_state, to_state,
      version, user_id, changed_at)
    SELECT pg_current_xact_id()::text::bigint * ${CHANGES_PER_TRANSACTION} + i.place, i.tenant,
      i.id, i.kind, i.action, i.from_state, i.to_state, i.version, i.user_id, i.changed_at
    FROM changed JOIN input i USING (place)
    RETURNING id, ticket_id
  ), kept AS (
    INSERT INTO idempotency (user_id, key, request_hash, outcome, created_at)
    SELECT i.key_user, i.key, i.request_hash, i.outcome, i.key_created
    FROM changed JOIN input i USING (place) WHERE i.key IS NOT NULL
  )
  SELECT logged.ticket_id, logged.id AS history_id, change.id AS event_id
  FROM logged JOIN change USING (ticket_id)`;

/**
 * Runs the changes (of distinct tickets, at most CHANGES_PER_TRANSACTION) on `db` (the pool:
 * autocommit); answers, in their order, each one's ids, or `conflict` where another change won.
 */
export async function commitChangesInOneStatement(
  db: pg.Pool,
  changes: readonly TicketChange[],
): Promise<(Committed | 'conflict')[]> {
  if (changes.length > CHANGES_PER_TRANSACTION) {
    throw new RangeError(`at most ${CHANGES_PER_TRANSACTION} changes in one statement`);
  }
  const input = changes
    .map((change) => {
      const { ticket, history } = change;
      const logged = committedChange(change);
      return {
        id: ticket.id,
        expected: change.expectedVersion,
        state: ticket.state,
        step: ticket.step,
        updated: ticket.updated,
        version: ticket.version,
        comment_count: ticket.commentCount,
        action: history.action,
        from_state: history.from,
        to_state: history.to,
        comments: JSON.stringify(history.comments),
        user_id: history.userId,
        created: history.created,
        tenant: logged.tenant,
        kind: logged.kind,
        changed_at: logged.changed_at,
        ...(change.idempotency && {
          key_user: change.idempotency.userId,
          key: change.idempotency.key,
          request_hash: change.idempotency.requestHash,
          outcome: change.idempotency.outcome,
          key_created: change.idempotency.createdAt.getTime(),
        }),
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((row, place) => ({ place, ...row }));
  const { rows } = await db.query<{
    ticket_id: string;
    history_id: number | string;
    event_id: number | string;
  }>({
    // Prepared once per pooled connection: planned once, not once per batch.
    name: 'tickets.changes',
    text: CHANGES_IN_ONE_STATEMENT,
    values: [JSON.stringify(input)],
  });
  const written = new Map(
    rows.map((row) => [
      row.ticket_id,
      { historyId: Number(row.history_id), eventId: Number(row.event_id) },
    ]),
  );
  return changes.map((change) => written.get(change.ticket.id) ?? 'conflict');
}
