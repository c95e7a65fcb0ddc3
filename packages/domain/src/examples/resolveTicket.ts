import {
  applyAction,
  availableActions,
  defaultTicketWorkflow,
  formatTicketId,
  startTicket,
  type ActionInput,
  type Actor,
  type DomainError,
  type Result,
  type Transition,
} from '../index.js';

const bob: Actor = { userId: 'bob.acme', tenant: 'acme', siteAdmin: false, adminOf: [] };
const ada: Actor = {
  userId: 'ada.acme',
  tenant: 'acme',
  siteAdmin: false,
  adminOf: ['payments.acme'],
};

/** One line for any domain error; the switch covers the closed union, so no default is needed. */
export function explain(error: DomainError): string {
  switch (error.code) {
    case 'INVALID_INPUT':
      return `bad ${error.field}: ${error.message}`;
    case 'UNKNOWN_ACTION':
      return `no such action: ${error.action}`;
    case 'NOT_ALLOWED':
      return `not allowed: ${error.message}`;
    case 'VERSION_MISMATCH':
      return `changed meanwhile: now at version ${error.actual}`;
    case 'INVALID_TRANSITION':
      return `${error.state}: try ${error.validActions.join(' or ')}`;
  }
}

/**
 * Bob opens a ticket on the Payments API and asks to resolve it himself, which only an admin of
 * the API may do; Ada, an admin of the API, resolves it. `now` is the caller's clock.
 */
export function resolveTicket(now: Date): {
  readonly refusal: string;
  readonly offeredToBob: string[];
  readonly resolved: Result<Transition, DomainError>;
} {
  const ticket = startTicket(
    defaultTicketWorkflow,
    {
      id: formatTicketId('ticket1', 'acme'),
      tenant: 'acme',
      title: 'Refunds fail',
      description: 'Every refund over 100 EUR fails with a 502.',
      environment: 'Production',
      apiId: 'payments.acme',
      labels: ['com.soa.ticket.label.priority.high'],
      tags: [],
      authorId: bob.userId,
    },
    now,
  ); // OPEN, step 1, version 1

  // An action as an adapter hands it over, decoded from an Action body or a typed call.
  const input: ActionInput = { actionName: 'ticket.action.resolve', comments: ['Fixed in 2.4.1'] };

  const byBob = applyAction(defaultTicketWorkflow, ticket, input, bob, now);
  const byAda = applyAction(defaultTicketWorkflow, ticket, input, ada, now, {
    expectedVersion: ticket.version, // what an If-Match header would carry
  });

  return {
    refusal: byBob.ok ? 'none' : explain(byBob.error),
    offeredToBob: availableActions(defaultTicketWorkflow, ticket, bob)
      .filter((action) => action.allowed)
      .map((action) => action.label),
    resolved: byAda,
  };
}
