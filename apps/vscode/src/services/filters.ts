import type { ListFilters } from '@tickets/client';
import { STATES, stateLabel, type State } from './format.js';

/** An API or an app, as a ticket names it. */
export interface ResourceRef {
  readonly type: 'api' | 'app';
  readonly id: string;
}

/**
 * What the tree shows. `scope` `mine` keeps the tickets of the resources the user administers;
 * `resource` keeps one API or app; `authoredByMe` the tickets the user wrote; `states` the groups
 * shown (none means all). Saved per workspace.
 */
export interface TicketFilters {
  readonly scope: 'all' | 'mine';
  readonly resource: ResourceRef | undefined;
  readonly authoredByMe: boolean;
  readonly states: readonly State[];
}

export const NO_FILTERS: TicketFilters = {
  scope: 'all',
  resource: undefined,
  authoredByMe: false,
  states: [],
};

const isState = (value: unknown): value is State =>
  typeof value === 'string' && (STATES as readonly string[]).includes(value);

function parseResource(value: unknown): ResourceRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, id } = value as Record<string, unknown>;
  if ((type !== 'api' && type !== 'app') || typeof id !== 'string' || id.trim() === '') {
    return undefined;
  }
  return { type, id: id.trim() };
}

/**
 * Filters as saved in workspaceState, read back whatever was stored: unknown fields and values
 * of an older (or hand-edited) version fall back to "no filter" one by one.
 */
export function parseFilters(stored: unknown): TicketFilters {
  if (typeof stored !== 'object' || stored === null) return NO_FILTERS;
  const value = stored as Record<string, unknown>;
  const states = Array.isArray(value.states) ? value.states.filter(isState) : [];
  return {
    scope: value.scope === 'mine' ? 'mine' : 'all',
    resource: parseResource(value.resource),
    authoredByMe: value.authoredByMe === true,
    // In the tree's order, each once.
    states: STATES.filter((state) => states.includes(state)),
  };
}

export const isFiltered = (filters: TicketFilters): boolean =>
  filters.scope === 'mine' ||
  filters.resource !== undefined ||
  filters.authoredByMe ||
  filters.states.length > 0;

/** A short line for the view's description, e.g. `my resources · by me · Open, Resolved`. */
export function describeFilters(filters: TicketFilters): string {
  const parts: string[] = [];
  if (filters.scope === 'mine') parts.push('my resources');
  if (filters.resource)
    parts.push(`${filters.resource.type === 'api' ? 'API' : 'app'} ${filters.resource.id}`);
  if (filters.authoredByMe) parts.push('by me');
  if (filters.states.length > 0) parts.push(filters.states.map(stateLabel).join(', '));
  return parts.join(' · ');
}

/** The state groups the tree shows under these filters. */
export const visibleStates = (filters: TicketFilters): readonly State[] =>
  filters.states.length > 0 ? filters.states : STATES;

const sameResource = (a: ResourceRef, b: ResourceRef): boolean =>
  a.type === b.type && a.id === b.id;

/**
 * The `tickets.list` queries whose results together are one state's tickets under the filters:
 * one query, or one per administered resource for `mine` (the server filters by one API or app
 * at a time; a site admin administers them all, so `mine` filters nothing for them). No query at
 * all when nothing can match (`mine` and no resource administered).
 */
export function queriesFor(
  filters: TicketFilters,
  state: State,
  who: {
    readonly userId: string;
    readonly myResources: readonly ResourceRef[];
    readonly siteAdmin: boolean;
  },
): ListFilters[] {
  const base: NonNullable<ListFilters> = {
    state,
    ...(filters.authoredByMe && { authorId: who.userId }),
  };
  let resources: readonly (ResourceRef | undefined)[] = [filters.resource];
  if (filters.scope === 'mine' && !who.siteAdmin) {
    resources = filters.resource
      ? who.myResources.filter((mine) => sameResource(mine, filters.resource!))
      : who.myResources;
  }
  return resources.map((resource) => {
    if (!resource) return base;
    return resource.type === 'api'
      ? { ...base, apiId: resource.id }
      : { ...base, appId: resource.id };
  });
}
