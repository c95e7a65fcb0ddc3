import type { ListFilters, Ticket, TicketPage } from '@tickets/client';
import type { ResourceRef } from './filters.js';
import { OPEN_STATES } from './format.js';

export interface ResourceApi {
  list(filters: ListFilters): Promise<TicketPage>;
}

/** How many of the newest tickets name the resources the filter offers besides the user's. */
const RECENT_TICKETS = 100;

/** Who the user is, as the server says (the session's `siteAdmin` and `adminOf`). */
export interface Rights {
  readonly siteAdmin: boolean;
  readonly adminOf: readonly ResourceRef[];
}

export interface KnownResources {
  /** The APIs and apps the filter offers: the user's and those the newest tickets name. */
  readonly all: readonly ResourceRef[];
  /** Those the user administers, as the server says. */
  readonly mine: readonly ResourceRef[];
  /** A site admin administers every resource of the tenant: "mine" is then every ticket. */
  readonly siteAdmin: boolean;
}

const refKey = (ref: ResourceRef): string => `${ref.type}:${ref.id}`;

function refsOf(ticket: Ticket): ResourceRef[] {
  const refs: ResourceRef[] = [];
  if (ticket.apiId) refs.push({ type: 'api', id: ticket.apiId });
  if (ticket.appId) refs.push({ type: 'app', id: ticket.appId });
  return refs;
}

/** Each resource once, by type then id. */
function distinct(refs: readonly ResourceRef[]): ResourceRef[] {
  const byKey = new Map(refs.map(({ type, id }) => [refKey({ type, id }), { type, id }] as const));
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, ref]) => ref);
}

/**
 * The resources the user administers, as the server says, and those the filter offers: these
 * and the ones the newest hundred tickets name (one query; the server lists no resources).
 */
export async function knownResources(api: ResourceApi, rights: Rights): Promise<KnownResources> {
  const { tickets } = await api.list({ start: 0, count: RECENT_TICKETS });
  return {
    all: distinct([...rights.adminOf, ...tickets.flatMap(refsOf)]),
    mine: distinct(rights.adminOf),
    siteAdmin: rights.siteAdmin,
  };
}

const filterOf = (ref: ResourceRef): NonNullable<ListFilters> =>
  ref.type === 'api' ? { apiId: ref.id } : { appId: ref.id };

/**
 * The open tickets (OPEN or REOPEN) on the user's resources, as the server counts them (the
 * lists' `totalResults`); for a site admin, every open ticket of the tenant. A ticket names at
 * most one API and one app, so one naming two of the user's resources is counted once: the
 * tickets of each API and of each app, less those of each pair (one of the user's APIs and one
 * of their apps) that both name. Only the pairs whose API and app both have some are asked
 * (the calls of one step go in one batched request).
 */
export async function countOpen(
  api: Pick<ResourceApi, 'list'>,
  known: Pick<KnownResources, 'mine' | 'siteAdmin'>,
): Promise<number> {
  const total = async (filters: NonNullable<ListFilters>): Promise<number> =>
    (await api.list({ ...filters, count: 1 })).totalResults;
  if (known.siteAdmin) {
    const counts = await Promise.all(OPEN_STATES.map((state) => total({ state })));
    return counts.reduce((sum, n) => sum + n, 0);
  }
  const perState = await Promise.all(
    OPEN_STATES.map(async (state) => {
      const counted = await Promise.all(
        known.mine.map(async (ref) => ({ ref, n: await total({ state, ...filterOf(ref) }) })),
      );
      const some = counted.filter(({ n }) => n > 0).map(({ ref }) => ref);
      const pairs = some
        .filter((ref) => ref.type === 'api')
        .flatMap((apiRef) =>
          some.filter((ref) => ref.type === 'app').map((appRef) => [apiRef, appRef] as const),
        );
      const both = await Promise.all(
        pairs.map(([apiRef, appRef]) => total({ state, apiId: apiRef.id, appId: appRef.id })),
      );
      const sum = (ns: readonly number[]): number => ns.reduce((a, b) => a + b, 0);
      return sum(counted.map(({ n }) => n)) - sum(both);
    }),
  );
  return perState.reduce((sum, n) => sum + n, 0);
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
