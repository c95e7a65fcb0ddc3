import type { TicketId } from './ticketId.js';

export const TICKET_STATES = ['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

export function isTicketState(value: unknown): value is TicketState {
  return typeof value === 'string' && (TICKET_STATES as readonly string[]).includes(value);
}

export const ENVIRONMENTS = ['Sandbox', 'Production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const PRIORITY_LABELS = [
  'com.soa.ticket.label.priority.high',
  'com.soa.ticket.label.priority.medium',
  'com.soa.ticket.label.priority.low',
] as const;
export type PriorityLabel = (typeof PRIORITY_LABELS)[number];

/** A ticket as the rules see it. Times are ISO-8601 strings; the domain has no clock. */
export interface Ticket {
  readonly id: TicketId;
  readonly tenant: string;
  readonly title: string;
  readonly description: string;
  readonly environment: Environment;
  readonly apiId?: string | undefined;
  readonly appId?: string | undefined;
  readonly labels: readonly string[];
  readonly tags: readonly string[];
  readonly state: TicketState;
  /** The workflow step the ticket sits in. */
  readonly step: number;
  /**
   * Which stored workflow definition the ticket follows; absent for the built-in default. A
   * ticket keeps the definition it was created under when its tenant loads a new one.
   */
  readonly workflowId?: number | undefined;
  readonly authorId: string;
  readonly created: string;
  readonly updated: string;
  /** Changes on every change to the ticket, comments included. */
  readonly version: number;
  /** Comments made, with a transition or without. */
  readonly commentCount: number;
}

/** The resources a ticket relates to; admins of any of them are the ticket's admins. */
export function resourcesOf(ticket: Pick<Ticket, 'apiId' | 'appId'>): string[] {
  return [ticket.apiId, ticket.appId].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
}
