import type { ActionInput } from '../actionInput.js';
import type { Actor } from '../actor.js';
import type { DomainError, UnknownActionError, VersionMismatchError } from '../errors.js';
import { err, ok, type Result } from '../result.js';
import { resourcesOf, type Ticket, type TicketState } from '../ticket.js';
import { evaluate, notAllowedReason } from '../workflow/conditions.js';
import {
  allActions,
  findStep,
  type WorkflowAction,
  type WorkflowDefinition,
  type WorkflowResult,
} from '../workflow/definition.js';

/** One action of the ticket's current step, as a given actor sees it. */
export interface AvailableAction {
  /** The action name, e.g. `ticket.action.resolve`. */
  readonly name: string;
  readonly label: string;
  readonly allowed: boolean;
  /** Why not, when not allowed. */
  readonly reason?: string;
}

/** An audit entry: every transition and every comment. Never rewritten. */
export interface HistoryEntry {
  readonly action: string;
  readonly from: TicketState;
  readonly to: TicketState;
  readonly comments: readonly string[];
  readonly userId: string;
  readonly created: string;
}

/** What applying an action did, as data. */
export interface Transition {
  readonly action: string;
  readonly from: TicketState;
  readonly to: TicketState;
  readonly fromStep: number;
  readonly toStep: number;
  /** The ticket after the transition: new step and state, `version` + 1, `updated` = now. */
  readonly ticket: Ticket;
  readonly history: HistoryEntry;
}

export interface ApplyOptions {
  /** The version the caller last saw (`If-Match`); a different current version fails. */
  readonly expectedVersion?: number | undefined;
}

/** An UNKNOWN_ACTION error when no step of the workflow has an action of this name. */
export function checkActionKnown(
  definition: WorkflowDefinition,
  actionName: string,
): UnknownActionError | undefined {
  const known = [...allActions(definition)].some(({ action }) => action.name === actionName);
  return known ? undefined : unknownAction(definition, actionName);
}

function unknownAction(definition: WorkflowDefinition, actionName: string): UnknownActionError {
  const names = [...new Set([...allActions(definition)].map(({ action }) => action.name))];
  return {
    code: 'UNKNOWN_ACTION',
    action: actionName,
    message: `unknown action "${actionName}"; the workflow "${definition.name}" has ${names.join(', ')}`,
  };
}

function isPermitted(action: WorkflowAction, actor: Actor, ticket: Ticket): boolean {
  if (actor.tenant !== ticket.tenant) return false;
  return action.restrictTo === undefined || evaluate(action.restrictTo, actor, ticket);
}

function whyNot(action: WorkflowAction, actor: Actor, ticket: Ticket): string {
  if (actor.tenant !== ticket.tenant) return "only users of the ticket's tenant may do this";
  return action.restrictTo ? notAllowedReason(action.restrictTo) : 'not allowed';
}

/** Every action of the ticket's current step, each with whether this actor may take it and why not. */
export function availableActions(
  definition: WorkflowDefinition,
  ticket: Ticket,
  actor: Actor,
): AvailableAction[] {
  const step = findStep(definition, ticket.step);
  if (!step) return [];
  return step.actions.map((action) =>
    isPermitted(action, actor, ticket)
      ? { name: action.name, label: action.label, allowed: true }
      : {
          name: action.name,
          label: action.label,
          allowed: false,
          reason: whyNot(action, actor, ticket),
        },
  );
}

function chooseResult(action: WorkflowAction, actor: Actor, ticket: Ticket): WorkflowResult {
  return (
    action.conditionalResults.find((result) => evaluate(result.conditions, actor, ticket)) ??
    action.unconditionalResult
  );
}

/** The state set by the last `updateTicketStatus` of the result, then of the action; else unchanged. */
function resultingState(
  action: WorkflowAction,
  result: WorkflowResult,
  current: TicketState,
): TicketState {
  let state = current;
  for (const fn of [...result.postFunctions, ...action.postFunctions]) {
    if (fn.type === 'updateTicketStatus') state = fn.status;
  }
  return state;
}

/** Where taking `action` with `result` leaves a ticket that was on step `from` in `state`. */
function destination(
  from: number,
  action: WorkflowAction,
  result: WorkflowResult,
  state: TicketState,
): { step: number; state: TicketState } {
  return {
    step: result.step === -1 ? from : result.step,
    state: resultingState(action, result, state),
  };
}

/**
 * One user of the ticket's tenant for each mix of what conditions ask: whether they administer
 * the ticket's API or app, are a site admin, wrote the ticket. Between them they meet every
 * `restrict-to` and every conditional result that any user of the tenant can.
 */
function everyKindOfUser(ticket: Ticket): Actor[] {
  return [false, true].flatMap((resourceAdmin) =>
    [false, true].flatMap((siteAdmin) =>
      [false, true].map((author) => ({
        userId: author ? ticket.authorId : `not ${ticket.authorId}`,
        tenant: ticket.tenant,
        siteAdmin,
        adminOf: resourceAdmin ? resourcesOf(ticket) : [],
      })),
    ),
  );
}

/**
 * Every state the users of its tenant can bring a ticket to from where it is, by taking actions
 * as `applyAction` does, each with the step the ticket is then on (the first found, fewest
 * actions away; its own state on its own step). A state missing from the map is one this
 * workflow never gives the ticket.
 */
export function reachableStates(
  definition: WorkflowDefinition,
  ticket: Ticket,
): ReadonlyMap<TicketState, number> {
  const users = everyKindOfUser(ticket);
  const reached = new Map<TicketState, number>([[ticket.state, ticket.step]]);
  // A state can be reached on several steps, each offering other actions: the search runs over
  // (step, state) pairs, nearest first.
  const seen = new Set([`${ticket.step} ${ticket.state}`]);
  const queue = [{ step: ticket.step, state: ticket.state }];
  for (const position of queue) {
    const step = findStep(definition, position.step);
    for (const action of step?.actions ?? []) {
      for (const user of users) {
        if (!isPermitted(action, user, ticket)) continue;
        const next = destination(
          position.step,
          action,
          chooseResult(action, user, ticket),
          position.state,
        );
        const key = `${next.step} ${next.state}`;
        if (seen.has(key)) continue;
        seen.add(key);
        queue.push(next);
        if (!reached.has(next.state)) reached.set(next.state, next.step);
      }
    }
  }
  return reached;
}

function toIso(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('applyAction: `now` is not a valid date');
  return now.toISOString();
}

/** A VERSION_MISMATCH error when the caller expected another version (`If-Match`). */
export function checkVersion(
  ticket: Pick<Ticket, 'version'>,
  expectedVersion: number | undefined,
): VersionMismatchError | undefined {
  if (expectedVersion === undefined || expectedVersion === ticket.version) return undefined;
  return {
    code: 'VERSION_MISMATCH',
    expected: expectedVersion,
    actual: ticket.version,
    message: `the ticket is at version ${ticket.version}, not ${expectedVersion}`,
  };
}

/**
 * Applies an action to a ticket. The input was decoded at the edge (its limits are the
 * adapters'); the checks here run in the contract's order: whether the workflow knows the
 * action, whether the actor may take it, the expected version, and last whether the action is
 * available in the ticket's current step.
 */
export function applyAction(
  definition: WorkflowDefinition,
  ticket: Ticket,
  input: ActionInput,
  actor: Actor,
  now: Date,
  options: ApplyOptions = {},
): Result<Transition, DomainError> {
  const { actionName, comments } = input;
  const everywhere = [...allActions(definition)].filter(({ action }) => action.name === actionName);
  if (everywhere.length === 0) return err(unknownAction(definition, actionName));

  const step = findStep(definition, ticket.step);
  const here = step?.actions.find((action) => action.name === actionName);
  const permitted = here
    ? isPermitted(here, actor, ticket)
    : everywhere.some(({ action }) => isPermitted(action, actor, ticket));
  if (!permitted) {
    const sample = here ?? everywhere[0]!.action;
    return err({
      code: 'NOT_ALLOWED',
      action: actionName,
      message: `${actionName}: ${whyNot(sample, actor, ticket)}`,
    });
  }

  const stale = checkVersion(ticket, options.expectedVersion);
  if (stale) return err(stale);

  if (!here || !step) {
    const validActions = step ? step.actions.map((action) => action.name) : [];
    return err({
      code: 'INVALID_TRANSITION',
      action: actionName,
      state: ticket.state,
      validActions,
      message: `${actionName} is not available while the ticket is ${ticket.state}; valid actions: ${validActions.join(', ') || 'none'}`,
    });
  }

  const { step: toStep, state: to } = destination(
    step.id,
    here,
    chooseResult(here, actor, ticket),
    ticket.state,
  );
  const created = toIso(now);
  return ok({
    action: actionName,
    from: ticket.state,
    to,
    fromStep: step.id,
    toStep,
    ticket: {
      ...ticket,
      state: to,
      step: toStep,
      updated: created,
      version: ticket.version + 1,
      commentCount: ticket.commentCount + comments.length,
    },
    history: {
      action: actionName,
      from: ticket.state,
      to,
      comments,
      userId: actor.userId,
      created,
    },
  });
}

/** What a new ticket is made of before the workflow starts it: everything but what the workflow and time decide. */
export type TicketDraft = Omit<
  Ticket,
  'state' | 'step' | 'created' | 'updated' | 'version' | 'commentCount'
>;

/** Starts a ticket with the workflow's initial action (`@Create`): its step and state, version 1. */
export function startTicket(definition: WorkflowDefinition, draft: TicketDraft, now: Date): Ticket {
  const initial = definition.initialAction;
  const result = initial.unconditionalResult;
  const created = toIso(now);
  return {
    ...draft,
    state: resultingState(initial, result, 'OPEN'),
    step: result.step,
    created,
    updated: created,
    version: 1,
    commentCount: 0,
  };
}
