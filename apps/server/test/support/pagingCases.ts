/**
 * Paging parameters a paged REST read (the ticket list, a ticket's history) refuses with 400,
 * each with the field the problem must name.
 */
export const INVALID_PAGING_QUERIES: readonly (readonly [query: string, field: string])[] = [
  ['count=0', 'count'],
  ['count=-5', 'count'],
  ['count=abc', 'count'],
  ['count=2.5', 'count'],
  ['start=-1', 'start'],
  ['start=first', 'start'],
  ['start=1000001', 'start'],
];
