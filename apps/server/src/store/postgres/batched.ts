import DataLoader from 'dataloader';
import type pg from 'pg';
import { StoreBusyError } from '../../errors/appError.js';
import {
  callerQuery,
  ticketWithAuthorQuery,
  toCaller,
  toTicketWithAuthor,
  type CallerRow,
  type TicketRow,
} from '../rows.js';
import type { CallerRecord, TicketChange } from '../store.js';
import type { Ticket } from '@tickets/domain';
import { CHANGES_PER_TRANSACTION } from './changeFeed.js';
import { commitChangesInOneStatement, type Committed } from './batchedChanges.js';

/**
 * The PostgreSQL store's hot calls, batched: what concurrent requests ask during one turn of the
 * event loop goes to the database as one statement. Every request of an action reads its caller,
 * reads its ticket and writes its change; under load many are at the same step at once, and one
 * statement for all of them costs the database (and this process) little more than one of them:
 * one round trip, one plan, and for the writes one transaction, so one flush of the write-ahead
 * log.
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
const OPTIONS = {
  cache: false,
  batchScheduleFn: (send: () => void) => setImmediate(send),
} as const;

/**
 * The batches' reads, prepared on each pooled connection once (by name), so that the database
 * parses and plans them once per connection rather than once per batch.
 */
const CALLERS = {
  name: 'tickets.callers',
  text: callerQuery('ANY($1::text[])', 'json_agg(r.resource_id)::text', "'[]'"),
};
const TICKETS = { name: 'tickets.tickets', text: ticketWithAuthorQuery('ANY($1::text[])') };

const prepared = async <R extends pg.QueryResultRow>(
  db: pg.Pool,
  statement: { readonly name: string; readonly text: string },
  ids: readonly string[],
): Promise<R[]> => (await db.query<R>({ ...statement, values: [ids] })).rows;

/** The caller (session, user, rights) of each session id, in one query per batch. */
export const callerLoader = (run: Run): DataLoader<string, CallerRecord | undefined> =>
  new DataLoader(
    async (ids) => {
      const rows = await run((db) => prepared<CallerRow>(db, CALLERS, [...new Set(ids)]));
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
        prepared<TicketRow & { author_name: string | null }>(db, TICKETS, [...new Set(ids)]),
      );
      const found = new Map(rows.map((row) => [row.id, toTicketWithAuthor(row)]));
      return ids.map((id) => found.get(id));
    },
    { ...OPTIONS, maxBatchSize: 256 },
  );

/**
 * Changes without an idempotency record, written together: each statement changes a ticket at
 * most once (a second change of the same ticket goes in the next statement, so it sees the
 * first), in one transaction. Every change is still conditional on its own version: of a batch
 * some may win and some conflict.
 *
 * When a statement fails for a reason of its own (a constraint, say; not a busy or unreachable
 * database, which fails them all alike), each of its changes is tried alone, so that only the
 * change at fault fails.
 */
export const changeLoader = (run: Run): DataLoader<TicketChange, Committed | 'conflict'> =>
  new DataLoader(
    async (batch) => {
      const results: (Committed | 'conflict' | Error)[] = [];
      let pending = batch.map((_, i) => i);
      while (pending.length > 0) {
        const seen = new Set<string>();
        const round: number[] = [];
        const later: number[] = [];
        for (const i of pending) {
          const { id } = batch[i]!.ticket;
          (seen.has(id) ? later : round).push(i);
          seen.add(id);
        }
        const changes = round.map((i) => batch[i]!);
        try {
          const written = await run((db) => commitChangesInOneStatement(db, changes));
          round.forEach((i, k) => (results[i] = written[k]!));
        } catch (error) {
          if (round.length === 1 || error instanceof StoreBusyError) throw error;
          for (const i of round) {
            results[i] = await run((db) => commitChangesInOneStatement(db, [batch[i]!])).then(
              ([written]) => written!,
              (alone: unknown) => (alone instanceof Error ? alone : new Error(String(alone))),
            );
          }
        }
        pending = later;
      }
      return results;
    },
    { ...OPTIONS, maxBatchSize: CHANGES_PER_TRANSACTION },
  );
