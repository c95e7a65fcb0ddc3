import type { TicketState } from '../ticket.js';

/**
 * A workflow definition as data, in the shape of OSWorkflow descriptors: steps hold actions;
 * an action has `restrict-to` conditions, conditional results (first match wins), exactly one
 * unconditional result, and post-functions (`updateTicketStatus` sets the ticket's state).
 */
export interface WorkflowDefinition {
  readonly name: string;
  /** The action that starts a new ticket (`@Create`). */
  readonly initialAction: WorkflowAction;
  readonly steps: readonly WorkflowStep[];
}

export interface WorkflowStep {
  readonly id: number;
  readonly name: string;
  readonly actions: readonly WorkflowAction[];
}

export interface WorkflowAction {
  readonly id: number;
  /** Case-sensitive name, e.g. `ticket.action.resolve`. */
  readonly name: string;
  /** Human label, e.g. `Resolve`. */
  readonly label: string;
  /** Who may take the action; absent means anyone who may see the ticket. */
  readonly restrictTo?: ConditionGroup | undefined;
  /** Checked in order; the first whose conditions hold is taken. */
  readonly conditionalResults: readonly ConditionalResult[];
  readonly unconditionalResult: WorkflowResult;
  readonly postFunctions: readonly WorkflowFunction[];
}

/** Where an action leads. `step` -1 stays on the current step. */
export interface WorkflowResult {
  readonly step: number;
  /** OSWorkflow's step status (e.g. `Resolved`); informational. */
  readonly status?: string | undefined;
  readonly oldStatus?: string | undefined;
  readonly postFunctions: readonly WorkflowFunction[];
}

export interface ConditionalResult extends WorkflowResult {
  readonly conditions: ConditionGroup;
}

export interface ConditionGroup {
  readonly kind: 'group';
  readonly type: 'AND' | 'OR';
  readonly conditions: readonly ConditionNode[];
}

export type ConditionNode = ConditionGroup | Condition;

/** The questions a condition may ask about the actor and the ticket. */
export const CONDITION_TYPES = [
  'isResourceAdmin',
  'isSiteAdmin',
  'isAuthor',
  'authorizeByAtmosphereRole',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** Roles understood by `authorizeByAtmosphereRole`. `Admin`: resource admin or site admin. */
export const ATMOSPHERE_ROLES = ['Admin', 'SiteAdmin', 'Author'] as const;
export type AtmosphereRole = (typeof ATMOSPHERE_ROLES)[number];

export type Condition =
  | {
      readonly kind: 'condition';
      readonly type: 'isResourceAdmin' | 'isSiteAdmin' | 'isAuthor';
      readonly negate: boolean;
    }
  | {
      readonly kind: 'condition';
      readonly type: 'authorizeByAtmosphereRole';
      readonly role: AtmosphereRole;
      readonly negate: boolean;
    };

export const FUNCTION_TYPES = ['updateTicketStatus'] as const;
export type FunctionType = (typeof FUNCTION_TYPES)[number];

export interface WorkflowFunction {
  readonly type: 'updateTicketStatus';
  readonly status: TicketState;
}

/** Every action of the definition with the step it belongs to. */
export function* allActions(
  definition: WorkflowDefinition,
): Generator<{ step: WorkflowStep; action: WorkflowAction }> {
  for (const step of definition.steps) {
    for (const action of step.actions) yield { step, action };
  }
}

export function findStep(definition: WorkflowDefinition, id: number): WorkflowStep | undefined {
  return definition.steps.find((step) => step.id === id);
}
