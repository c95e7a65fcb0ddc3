import type Database from 'better-sqlite3';
import { ticketColumnsOf, ticketViewOfValues } from '../rows.js';
import type { TicketList, TicketQuery } from '../store.js';
import type { Transactions } from './transactions.js';

const PAGE_COLUMNS = ticketColumnsOf('t');

/**
 * The SQLite store's list page, in one read transaction: the total from the counts the
 * triggers keep, and the page, a walk of the filter's index in the list's order (from the
 * `after` ticket's place, with keyset paging).
 */
export function listTickets(
  transactions: Transactions,
  sql: (text: string) => Database.Statement,
  query: TicketQuery,
): TicketList {
  const where = ['tenant = @tenant'];
  if (query.apiId !== undefined) where.push('api_id = @apiId');
  if (query.appId !== undefined) where.push('app_id = @appId');
  if (query.authorId !== undefined) where.push('author_id = @authorId');
  if (query.state !== undefined) where.push('state = @state');
  const params = {
    tenant: query.tenant,
    apiId: query.apiId ?? null,
    appId: query.appId ?? null,
    authorId: query.authorId ?? null,
    state: query.state ?? null,
    start: query.start,
    count: query.count,
  };
  const clause = where.join(' AND ');
  // The counts file a ticket without an API (or app) under '': an empty filter matches no
  // ticket, so it must match no count either.
  const countClause = [clause, ...(query.apiId === '' || query.appId === '' ? ['0'] : [])].join(
    ' AND ',
  );
  return transactions.read((): TicketList => {
    // From the counts the triggers keep (migration 4): a few rows, whatever the matches.
    const total = (
      sql(`SELECT coalesce(sum(n), 0) AS n FROM ticket_counts WHERE ${countClause}`).get(
        params,
      ) as { n: number }
    ).n;
    let page = clause;
    let cursor = {};
    if (query.after !== undefined) {
      // Keyset paging: the index walk starts at the `after` ticket's place in the order.
      const after = sql('SELECT created, id FROM tickets WHERE id = @id AND tenant = @tenant').get({
        id: query.after,
        tenant: query.tenant,
      }) as { created: string; id: string } | undefined;
      if (!after) return { total, tickets: [], unknownAfter: true };
      page += ` AND created <= @afterCreated AND (created < @afterCreated OR id > @afterId)`;
      cursor = { afterCreated: after.created, afterId: after.id };
    }
    // `+@count`: a bare parameter in LIMIT has SQLite plan the statement again at every call, to
    // fold the value in (see SqliteStore.pageHistory). As arrays (ticketViewOfValues): `raw` is set on the statement that `sql` caches by its
    // text, which only this page prepares.
    const rows = sql(
      `SELECT ${PAGE_COLUMNS}, (SELECT name FROM users u WHERE u.id = t.author_id) AS author_name
         FROM tickets t WHERE ${page} ORDER BY t.created DESC, t.id ASC
         LIMIT +@count OFFSET +@start`,
    )
      .raw(true)
      .all({ ...params, ...cursor }) as unknown[][];
    return { total, tickets: rows.map(ticketViewOfValues) };
  });
}
