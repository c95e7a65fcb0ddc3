export { type Result, ok, err } from './result.js';
export {
  type DomainError,
  type DomainErrorCode,
  type InvalidInputError,
  type UnknownActionError,
  type NotAllowedError,
  type VersionMismatchError,
  type InvalidTransitionError,
  invalidInput,
} from './errors.js';
export {
  type TicketId,
  type ParsedId,
  TENANT_ID_PATTERN,
  TICKET_ID_PATTERN,
  isTenantId,
  parseId,
  parseTicketId,
  formatTicketId,
  tenantOf,
  tenantOfTicket,
} from './ticketId.js';
export {
  type Ticket,
  type TicketState,
  type Environment,
  type PriorityLabel,
  TICKET_STATES,
  ENVIRONMENTS,
  PRIORITY_LABELS,
  isTicketState,
  resourcesOf,
} from './ticket.js';
export type { Actor } from './actor.js';
export { type ActionInput, ACTION_INPUT_LIMITS, hasForbiddenCharacters } from './actionInput.js';
export * from './workflow/definition.js';
export { guards, evaluate, describe as describeConditions } from './workflow/conditions.js';
export {
  defaultTicketWorkflow,
  TICKET_ACTIONS,
  DEFAULT_STEPS,
  type TicketActionName,
} from './workflow/defaultWorkflow.js';
export { loadWorkflowXml, type WorkflowXmlError } from './workflow/loadWorkflowXml.js';
export {
  type AvailableAction,
  type HistoryEntry,
  type Transition,
  type ApplyOptions,
  type TicketDraft,
  availableActions,
  applyAction,
  checkActionKnown,
  checkVersion,
  reachableStates,
  startTicket,
} from './engine/transitions.js';
export { type CommentAdded, COMMENT_ACTION, addComment, canSee } from './engine/comments.js';
