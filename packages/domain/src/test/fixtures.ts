// Shared test data: one tenant, one ticket related to both an API and an app, and one actor of
// every kind the rules of CONTRACT §2 tell apart. Excluded from the build and from coverage.
import type { Actor } from '../actor.js';
import type { Ticket, TicketState } from '../ticket.js';
import type { TicketId } from '../ticketId.js';
import { DEFAULT_STEPS } from '../workflow/defaultWorkflow.js';

export const TENANT = 'acme';
export const API_ID = 'payments.acme';
export const APP_ID = 'shop.acme';
export const AUTHOR_ID = 'bob.acme';

export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const CREATED = '2026-01-01T09:00:00.000Z';

/** The default workflow's step for each state. */
export const STEP_OF: Record<TicketState, number> = {
  OPEN: DEFAULT_STEPS.open,
  RESOLVED: DEFAULT_STEPS.resolved,
  CLOSED: DEFAULT_STEPS.closed,
  REOPEN: DEFAULT_STEPS.reopened,
};

/** A ticket of tenant `acme` on both an API and an app, in `state`, at version 7. */
export function ticketIn(state: TicketState, overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: 'ticket1.acme' as TicketId,
    tenant: TENANT,
    title: 'Refunds fail',
    description: 'Every refund over 100 EUR fails with a 502.',
    environment: 'Production',
    apiId: API_ID,
    appId: APP_ID,
    labels: ['com.soa.ticket.label.priority.high'],
    tags: ['refunds'],
    state,
    step: STEP_OF[state],
    authorId: AUTHOR_ID,
    created: CREATED,
    updated: CREATED,
    version: 7,
    commentCount: 2,
    ...overrides,
  };
}

export const ACTOR_KINDS = [
  'apiAdmin',
  'appAdmin',
  'siteAdmin',
  'author',
  'otherUser',
  'foreignUser',
] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const actors: Record<ActorKind, Actor> = {
  /** An admin of the ticket's API (APIID). */
  apiAdmin: { userId: 'ada.acme', tenant: TENANT, siteAdmin: false, adminOf: [API_ID] },
  /** A member of the team of the ticket's app (AppID). */
  appAdmin: { userId: 'cy.acme', tenant: TENANT, siteAdmin: false, adminOf: [APP_ID] },
  /** A site admin of the ticket's tenant, admin of nothing in particular. */
  siteAdmin: { userId: 'root.acme', tenant: TENANT, siteAdmin: true, adminOf: [] },
  /** The ticket's author, admin of another API only. */
  author: { userId: AUTHOR_ID, tenant: TENANT, siteAdmin: false, adminOf: ['other.acme'] },
  /** Someone else of the same tenant. */
  otherUser: { userId: 'eve.acme', tenant: TENANT, siteAdmin: false, adminOf: [] },
  /**
   * A user of another tenant, and the strongest one there could be: site admin of that tenant,
   * with the ticket's resource ids in `adminOf`. None of it counts across tenants.
   */
  foreignUser: {
    userId: 'mallory.globex',
    tenant: 'globex',
    siteAdmin: true,
    adminOf: [API_ID, APP_ID],
  },
};
