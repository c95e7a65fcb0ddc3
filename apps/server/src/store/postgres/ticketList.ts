import type pg from 'pg';
import { TICKET_COLUMNS, ticketColumnsOf } from '../rows.js';
import type { TicketQuery } from '../store.js';
import { countsOf } from './ticketCounts.js';

/**
 * A row of the list's statement, read as an array (`rowMode: 'array'`): a ticket's values in
 * TICKET_COLUMNS' order and its author's name (all null when the page is empty: the one row
 * then carries the rest alone), then the total and the deltas seen (every row alike), and
 * whether the `after` ticket was found (null without `after`).
 */
export type ListRow = unknown[];
/** Where ListRow's values after the ticket's are. */
export const LIST_TOTAL = TICKET_COLUMNS.length + 1;
export const LIST_DELTAS = LIST_TOTAL + 1;
export const AFTER_FOUND = LIST_TOTAL + 2;

/**
 * The filters whose page is a walk of one index in the list's order, whatever their values
 * (migrations 1 and 4: `tickets_by_tenant`, `tickets_by_state`, and `tickets_by_api`, `_app`
 * and `_author`, each ending in `state`). Their statement is prepared by name and planned once
 * per connection, on connections that keep generic plans and never sort (LIST_SESSION in
 * connection.ts): planning it took longer than running it. Other filters (an API without a
 * state, say) have a best plan that depends on how many tickets their values match, so they are
 * planned for their values each time, on the main pool.
 */
const ONE_INDEX_FILTERS: ReadonlySet<string> = new Set([
  '',
  'state',
  'api_id,state',
  'app_id,state',
  'author_id,state',
]);

/**
 * The list page's statement for `query`, and whether it is one to prepare and plan once. Its
 * columns are named, not `t.*`: a prepared statement's columns are fixed, and a column added
 * to the table later (by a newer version's migration) must not fail it.
 */
export function listQuery(query: TicketQuery): {
  config: pg.QueryArrayConfig;
  planOnce: boolean;
} {
  const values: unknown[] = [query.tenant];
  const filters: string[] = [];
  const where = ['tenant = $1'];
  for (const [column, value] of [
    ['api_id', query.apiId],
    ['app_id', query.appId],
    ['author_id', query.authorId],
    ['state', query.state],
  ] as const) {
    if (value === undefined) continue;
    values.push(value);
    filters.push(column);
    where.push(`${column} = $${values.length}`);
  }
  const text = listStatement(where.join(' AND '), values, query);
  const shape = filters.join(',');
  if (!ONE_INDEX_FILTERS.has(shape)) {
    return { config: { text, values, rowMode: 'array' }, planOnce: false };
  }
  const name = `tickets.list(${shape})${query.after === undefined ? '' : '.after'}`;
  return { config: { name, text, values, rowMode: 'array' }, planOnce: true };
}

const PAGE_COLUMNS = ticketColumnsOf('t');
const ROW_COLUMNS = ticketColumnsOf('p');

/**
 * The list page in one statement, so one snapshot: the total from the counts (ticketCounts.ts)
 * and the page, a walk of the filter's index in the list's order (created DESC, id ASC; `id` and
 * `created` are COLLATE "C", so ties go bytewise by id as in SQLite). With `after`, the walk
 * starts at that ticket's `created` instead of counting an offset past every ticket before it.
 * `clause` filters the tickets by the parameters in `params`; the paging's are appended to it.
 */
function listStatement(clause: string, params: unknown[], query: TicketQuery): string {
  params.push(query.count, query.start);
  const [limit, offset] = [params.length - 1, params.length];
  const order = 'ORDER BY t.created DESC, t.id ASC';
  if (query.after === undefined) {
    return `
      SELECT ${ROW_COLUMNS}, (SELECT name FROM users u WHERE u.id = p.author_id) AS author_name,
        c.list_total, c.list_deltas, NULL::boolean AS after_found
      FROM ${countsOf(clause)} c
      LEFT JOIN LATERAL (
        SELECT ${PAGE_COLUMNS} FROM tickets t WHERE ${clause} ${order}
        LIMIT $${limit} OFFSET $${offset}
      ) p ON true`;
  }
  params.push(query.after);
  const after = params.length;
  // The ticket must be the tenant's ($1): another tenant's ticket is as unknown as none. Its
  // place as subqueries run once (not a join, which the planner may turn inside out, walking
  // the index from the top and filtering): the index scan starts at `created <= …`.
  const [created, id] = ['(SELECT created FROM after_row)', '(SELECT id FROM after_row)'];
  return `
    WITH after_row AS (SELECT created, id FROM tickets WHERE id = $${after} AND tenant = $1)
    SELECT ${ROW_COLUMNS}, (SELECT name FROM users u WHERE u.id = p.author_id) AS author_name,
      c.list_total, c.list_deltas, EXISTS (SELECT FROM after_row) AS after_found
    FROM ${countsOf(clause)} c
    LEFT JOIN LATERAL (
      SELECT ${PAGE_COLUMNS} FROM tickets t
      WHERE ${clause} AND t.created <= ${created} AND (t.created < ${created} OR t.id > ${id})
      ${order} LIMIT $${limit} OFFSET $${offset}
    ) p ON true`;
}
