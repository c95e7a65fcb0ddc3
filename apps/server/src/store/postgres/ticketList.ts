import type { TicketQuery } from '../store.js';
import type { TicketRow } from '../rows.js';
import { countsOf } from './ticketCounts.js';

/**
 * A row of the list's statement: the total and the deltas seen (every row alike), whether the
 * `after` ticket was found (null without `after`), and a ticket's columns (all null when the
 * page is empty: the one row then carries the total alone).
 */
export type ListRow = { [K in keyof TicketRow]: TicketRow[K] | null } & {
  readonly author_name: string | null;
  readonly list_total: number;
  readonly list_deltas: number;
  readonly after_found: boolean | null;
};

/**
 * The list page in one statement, so one snapshot: the total from the counts (ticketCounts.ts)
 * and the page, a walk of the filter's index in the list's order (created DESC, id ASC; `id` and
 * `created` are COLLATE "C", so ties go bytewise by id as in SQLite). With `after`, the walk
 * starts at that ticket's `created` instead of counting an offset past every ticket before it.
 * `clause` filters the tickets by the parameters in `params`; the paging's are appended to it.
 */
export function listStatement(clause: string, params: unknown[], query: TicketQuery): string {
  params.push(query.count, query.start);
  const [limit, offset] = [params.length - 1, params.length];
  const order = 'ORDER BY t.created DESC, t.id ASC';
  if (query.after === undefined) {
    return `
      SELECT c.list_total, c.list_deltas, NULL::boolean AS after_found, p.*,
      (SELECT name FROM users u WHERE u.id = p.author_id) AS author_name
      FROM ${countsOf(clause)} c
      LEFT JOIN LATERAL (
        SELECT t.* FROM tickets t WHERE ${clause} ${order} LIMIT $${limit} OFFSET $${offset}
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
    SELECT c.list_total, c.list_deltas, EXISTS (SELECT FROM after_row) AS after_found, p.*,
      (SELECT name FROM users u WHERE u.id = p.author_id) AS author_name
    FROM ${countsOf(clause)} c
    LEFT JOIN LATERAL (
      SELECT t.* FROM tickets t
      WHERE ${clause} AND t.created <= ${created} AND (t.created < ${created} OR t.id > ${id})
      ${order} LIMIT $${limit} OFFSET $${offset}
    ) p ON true`;
}
