import type { TicketState } from '../ticket.js';
import type { ConditionGroup, WorkflowAction, WorkflowDefinition } from './definition.js';

/** The vocabulary of the default ticket workflow. */
export const TICKET_ACTIONS = {
  resolve: 'ticket.action.resolve',
  close: 'ticket.action.close',
  reopen: 'ticket.action.reopen',
} as const;
export type TicketActionName = (typeof TICKET_ACTIONS)[keyof typeof TICKET_ACTIONS];

export const DEFAULT_STEPS = { open: 1, resolved: 2, closed: 3, reopened: 4 } as const;

const adminOnly: ConditionGroup = {
  kind: 'group',
  type: 'OR',
  conditions: [
    { kind: 'condition', type: 'isResourceAdmin', negate: false },
    { kind: 'condition', type: 'isSiteAdmin', negate: false },
  ],
};

const adminOrAuthor: ConditionGroup = {
  kind: 'group',
  type: 'OR',
  conditions: [...adminOnly.conditions, { kind: 'condition', type: 'isAuthor', negate: false }],
};

const STATUS_WORDS: Record<TicketState, string> = {
  OPEN: 'Open',
  RESOLVED: 'Resolved',
  CLOSED: 'Closed',
  REOPEN: 'Reopened',
};

function action(
  id: number,
  name: TicketActionName,
  label: string,
  restrictTo: ConditionGroup,
  from: TicketState,
  step: number,
  to: TicketState,
): WorkflowAction {
  return {
    id,
    name,
    label,
    restrictTo,
    conditionalResults: [],
    unconditionalResult: {
      step,
      status: STATUS_WORDS[to],
      oldStatus: STATUS_WORDS[from],
      postFunctions: [],
    },
    postFunctions: [{ type: 'updateTicketStatus', status: to }],
  };
}

const { open, resolved, closed, reopened } = DEFAULT_STEPS;
const { resolve, close, reopen } = TICKET_ACTIONS;

/**
 * The default ticket workflow (CONTRACT §2). It also ships as
 * `workflows/default-ticket-workflow.xml`; loading that file gives exactly this definition.
 */
export const defaultTicketWorkflow: WorkflowDefinition = {
  name: 'ticket',
  initialAction: {
    id: 100,
    name: '@Create',
    label: 'Create',
    conditionalResults: [],
    unconditionalResult: { step: open, status: 'Open', postFunctions: [] },
    postFunctions: [{ type: 'updateTicketStatus', status: 'OPEN' }],
  },
  steps: [
    {
      id: open,
      name: 'Open',
      actions: [
        action(11, resolve, 'Resolve', adminOnly, 'OPEN', resolved, 'RESOLVED'),
        action(12, close, 'Close', adminOrAuthor, 'OPEN', closed, 'CLOSED'),
      ],
    },
    {
      id: resolved,
      name: 'Resolved',
      actions: [
        action(21, close, 'Close', adminOrAuthor, 'RESOLVED', closed, 'CLOSED'),
        action(22, reopen, 'Reopen', adminOrAuthor, 'RESOLVED', reopened, 'REOPEN'),
      ],
    },
    {
      id: closed,
      name: 'Closed',
      actions: [action(31, reopen, 'Reopen', adminOrAuthor, 'CLOSED', reopened, 'REOPEN')],
    },
    {
      id: reopened,
      name: 'Reopened',
      actions: [
        action(41, resolve, 'Resolve', adminOnly, 'REOPEN', resolved, 'RESOLVED'),
        action(42, close, 'Close', adminOrAuthor, 'REOPEN', closed, 'CLOSED'),
      ],
    },
  ],
};
