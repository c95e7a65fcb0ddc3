import type { ListFilters, Ticket, TicketPage, ValidAction } from '@tickets/client';
import type { ResourceRef } from './filters.js';
import { OPEN_STATES } from './format.js';

export interface ResourceApi {
  list(filters: ListFilters): Promise<TicketPage>;
  validActions(id: string): Promise<ValidAction[]>;
}

/** How far the scan for resources reads: pages of 100 tickets, newest first. */
const SCAN_PAGE = 100;
const SCAN_PAGES = 10;

export interface KnownResources {
  /** Every API and app the scanned tickets name. */
  readonly all: readonly ResourceRef[];
  /** Those the user administers. */
  readonly mine: readonly ResourceRef[];
}

const refKey = (ref: ResourceRef): string => `${ref.type}:${ref.id}`;

function refsOf(ticket: Ticket): ResourceRef[] {
  const refs: ResourceRef[] = [];
  if (ticket.apiId) refs.push({ type: 'api', id: ticket.apiId });
  if (ticket.appId) refs.push({ type: 'app', id: ticket.appId });
  return refs;
}

/**
 * Whether the user administers a ticket's resource, judged from the actions the server allows
 * them on it: resolving (the default workflow gives it to admins only), or any action on a
 * ticket someone else wrote (authors may close and reopen their own).
 */
export function administers(
  ticket: Ticket,
  actions: readonly ValidAction[],
  userId: string,
): boolean {
  const allowed = actions.filter((action) => action.allowed);
  if (allowed.some((action) => action.value === 'ticket.action.resolve')) return true;
  return ticket.userId !== userId && allowed.length > 0;
}

/**
 * The APIs and apps of the tenant's recent tickets (up to a thousand, newest first), and which
 * of them the user administers: one ticket of each is asked for its valid actions, one the user
 * did not write when there is one.
 */
export async function discoverResources(api: ResourceApi, userId: string): Promise<KnownResources> {
  const samples = new Map<string, { ref: ResourceRef; ticket: Ticket }>();
  for (let page = 0; page < SCAN_PAGES; page += 1) {
    const { tickets, totalResults } = await api.list({ start: page * SCAN_PAGE, count: SCAN_PAGE });
    for (const ticket of tickets) {
      for (const ref of refsOf(ticket)) {
        const known = samples.get(refKey(ref));
        // Prefer a ticket of someone else, then one not closed: more to judge by.
        const score = (t: Ticket): number =>
          (t.userId !== userId ? 2 : 0) + (t.state !== 'CLOSED' ? 1 : 0);
        const better = !known || score(ticket) > score(known.ticket);
        if (better) samples.set(refKey(ref), { ref, ticket });
      }
    }
    if (tickets.length === 0 || (page + 1) * SCAN_PAGE >= totalResults) break;
  }
  const all = [...samples.values()]
    .map((sample) => sample.ref)
    .sort((a, b) => refKey(a).localeCompare(refKey(b)));
  const verdicts = await Promise.all(
    [...samples.values()].map(async ({ ref, ticket }) => {
      const actions = await api.validActions(ticket.id).catch(() => []);
      return administers(ticket, actions, userId) ? ref : undefined;
    }),
  );
  return { all, mine: verdicts.filter((ref): ref is ResourceRef => ref !== undefined) };
}

/**
 * The open tickets (OPEN or REOPEN) on these resources, as the server counts them. A ticket
 * naming two of them (an API and an app) counts once per resource.
 */
export async function countOpen(
  api: Pick<ResourceApi, 'list'>,
  resources: readonly ResourceRef[],
): Promise<number> {
  const counts = await Promise.all(
    resources.flatMap((ref) =>
      OPEN_STATES.map(async (state) => {
        const filters = ref.type === 'api' ? { state, apiId: ref.id } : { state, appId: ref.id };
        return (await api.list({ ...filters, count: 1 })).totalResults;
      }),
    ),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The status bar's text and tooltip; `stale` while the server cannot be reached. */
export function openCountStatus(open: number, stale: boolean): { text: string; tooltip: string } {
  const what = 'Open tickets (OPEN or REOPEN) on the APIs and apps you administer.';
  return stale
    ? {
        text: `$(warning) ${open} open`,
        tooltip: `${what} The server cannot be reached: this is the last count it gave. Click to show the view.`,
      }
    : { text: `$(issues) ${open} open`, tooltip: `${what} Click to show them.` };
}
