import DataLoader from 'dataloader';
import type pg from 'pg';
import { StoreBusyError } from '../../errors/appError.js';
import {
  callerQuery,
  ticketWithAuthorQuery,
  toCaller,
  toIdempotency,
  toTicketWithAuthor,
  type CallerRow,
  type IdempotencyRow,
  type TicketRow,
} from '../rows.js';
import type { CallerRecord, IdempotencyRecord, TicketChange } from '../store.js';
import type { Ticket } from '@tickets/domain';
import { CHANGES_PER_TRANSACTION } from './changeFeed.js';
import { commitChangesInOneStatement, type Committed } from './batchedChanges.js';

/**
 * The PostgreSQL store's hot calls, batched: what concurrent requests ask during one turn of the
 * event loop goes to the database as one statement. Every request of an action reads its caller,
 * reads its ticket (and, with an Idempotency-Key, the record under it) and writes its change;
 * under load many are at the same step at once, and one statement for all of them costs the
 * database (and this process) little more than one of them: one round trip, one plan, and for
 * the writes one transaction, so one flush of the write-ahead log.
 *
 * Nothing is cached: a batch is sent after every request in it asked, so each one reads what was
 * committed before it asked, as an unbatched read would.
 */

/** Runs a statement on the pool, retried while the database is busy (the store's `run`). */
export type Run = <T>(fn: (db: pg.Pool) => Promise<T>) => Promise<T>;

/**
 * Collected until the event loop has handled every request that arrived with them (setImmediate
 * runs after the poll phase), then sent; never cached.
 */
const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

const OPTIONS = {
  cache: false,
  batchScheduleFn: (send: () => void) => setImmediate(send),
} as const;

/**
 * The batches' reads. Not prepared by name, unlike the change statement: they answer `s.*` and
 * `t.*`, and a prepared statement's columns are fixed, so a column added to the table later (by
 * a migration of a newer version, or by hand) would fail them on every connection that had
 * prepared them.
 */
const CALLERS = callerQuery('ANY($1::text[])', 'json_agg(r.resource_id)::text', "'[]'");
const TICKETS = ticketWithAuthorQuery('ANY($1::text[])');

const byIds = async <R extends pg.QueryResultRow>(
  db: pg.Pool,
  text: string,
  ids: readonly string[],
): Promise<R[]> => (await db.query<R>(text, [ids])).rows;

/** The caller (session, user, rights) of each session id, in one query per batch. */
export const callerLoader = (run: Run): DataLoader<string, CallerRecord | undefined> =>
  new DataLoader(
    async (ids) => {
      const rows = await run((db) => byIds<CallerRow>(db, CALLERS, [...new Set(ids)]));
      const found = new Map(rows.map((row) => [row.id, toCaller(row)]));
      return ids.map((id) => found.get(id));
    },
    { ...OPTIONS, maxBatchSize: 256 },
  );

/** Each ticket with its author's name, in one query per batch. */
export const ticketLoader = (
  run: Run,
): DataLoader<string, { ticket: Ticket; authorName: string } | undefined> =>
  new DataLoader(
    async (ids) => {
      const rows = await run((db) =>
        byIds<TicketRow & { author_name: string | null }>(db, TICKETS, [...new Set(ids)]),
      );
      const found = new Map(rows.map((row) => [row.id, toTicketWithAuthor(row)]));
      return ids.map((id) => found.get(id));
    },
    { ...OPTIONS, maxBatchSize: 256 },
  );

/** One string per (user, idempotency key), for sets and maps. */
const keyOf = (userId: string, key: string): string => `${userId}\u0000${key}`;

const IDEMPOTENCY = `SELECT i.* FROM idempotency i
  JOIN unnest($1::text[], $2::text[]) AS k(user_id, key) ON i.user_id = k.user_id AND i.key = k.key`;

/** The record under each (user, key), in one query per batch: a keyed write reads it first. */
export const idempotencyLoader = (
  run: Run,
): DataLoader<readonly [userId: string, key: string], IdempotencyRecord | undefined> =>
  new DataLoader(
    async (pairs) => {
      const rows = await run(
        async (db) =>
          (
            await db.query<IdempotencyRow>(IDEMPOTENCY, [
              pairs.map(([userId]) => userId),
              pairs.map(([, key]) => key),
            ])
          ).rows,
      );
      const found = new Map(rows.map((row) => [keyOf(row.user_id, row.key), row]));
      return pairs.map(([userId, key]) => {
        const row = found.get(keyOf(userId, key));
        return row && toIdempotency(row);
      });
    },
    { ...OPTIONS, maxBatchSize: 256 },
  );

/**
 * Changes, written together: each statement changes a ticket at most once, and writes a caller's
 * idempotency key at most once (a second change of the same ticket, or under the same key, goes
 * in the next statement, so it sees the first), in one transaction. Every change is still
 * conditional on its own version: of a batch some may win and some conflict.
 *
 * Each change is answered for itself, whatever happens to the others: when a statement fails
 * for a reason of its own (a constraint, or an idempotency key already taken), each of its
 * changes is written alone, so that only the change at fault fails; a change with an
 * idempotency record alone by `alone`, in a transaction of its own, where a taken key is a
 * conflict of that change. Written one by one, a batch costs what it did before batching, one
 * transaction per change. When the database is busy or unreachable, the changes of the failed
 * statement and of the later ones fail, and those of the statements before stay written and
 * answered as such.
 */
export const changeLoader = (
  run: Run,
  alone: (change: TicketChange) => Promise<Committed | 'conflict'>,
): DataLoader<TicketChange, Committed | 'conflict'> =>
  new DataLoader(
    async (batch) => {
      const results: (Committed | 'conflict' | Error)[] = [];
      let pending = batch.map((_, i) => i);
      while (pending.length > 0) {
        const tickets = new Set<string>();
        const keys = new Set<string>();
        const round: number[] = [];
        const later: number[] = [];
        for (const i of pending) {
          const { ticket, idempotency } = batch[i]!;
          const key = idempotency && keyOf(idempotency.userId, idempotency.key);
          if (tickets.has(ticket.id) || (key !== undefined && keys.has(key))) {
            later.push(i);
            continue;
          }
          round.push(i);
          tickets.add(ticket.id);
          if (key !== undefined) keys.add(key);
        }
        const changes = round.map((i) => batch[i]!);
        try {
          const written = await run((db) => commitChangesInOneStatement(db, changes));
          round.forEach((i, k) => (results[i] = written[k]!));
        } catch (error) {
          if (error instanceof StoreBusyError) {
            // The database failed them alike: this round, and the later ones, which would meet
            // the same database. The rounds before are written, and answered so.
            for (const i of [...round, ...later]) results[i] = error;
            break;
          }
          for (const i of round) {
            const change = batch[i]!;
            results[i] = change.idempotency
              ? await alone(change).catch(asError)
              : round.length === 1
                ? asError(error)
                : await run((db) => commitChangesInOneStatement(db, [change])).then(
                    ([written]) => written!,
                    asError,
                  );
          }
        }
        pending = later;
      }
      return results;
    },
    { ...OPTIONS, maxBatchSize: CHANGES_PER_TRANSACTION },
  );
