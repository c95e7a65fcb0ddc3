import type { TicketsClientError, ValidAction } from '@tickets/client';

/** One entry of the quick pick of a ticket's actions. */
export interface ActionChoice {
  readonly action: string;
  readonly label: string;
  readonly allowed: boolean;
  /** Why a blocked action is blocked, as the server says it. */
  readonly reason: string | undefined;
}

/**
 * The menu of a ticket's actions, as the server lists them for its state and this user (any
 * workflow's, not only the default one): the allowed ones first, in the server's order, then
 * the blocked ones with the server's reason.
 */
export function actionChoices(actions: readonly ValidAction[]): ActionChoice[] {
  const choice = (action: ValidAction): ActionChoice => ({
    action: action.value,
    label: action.label || action.value,
    allowed: action.allowed,
    reason: action.allowed ? undefined : (action.reason ?? 'the server does not allow it'),
  });
  return [
    ...actions.filter((action) => action.allowed).map(choice),
    ...actions.filter((action) => !action.allowed).map(choice),
  ];
}

/**
 * The label of an action by its name, as the server lists it; `fallback` (else the name) when
 * the ticket's state has no such action.
 */
export function actionLabel(
  actions: readonly ValidAction[],
  name: string,
  fallback: string = name,
): string {
  return actions.find((action) => action.value === name)?.label || fallback;
}

/** Why an action cannot be run, before asking the server to: not in this state, or blocked. */
export function whyNot(
  actions: readonly ValidAction[],
  name: string,
  ticketId: string,
): string | undefined {
  const action = actions.find((candidate) => candidate.value === name);
  if (!action) return `${ticketId} has no action ${name} in its current state.`;
  if (!action.allowed)
    return `${action.label || name} is not allowed on ${ticketId}: ${action.reason ?? 'the server does not allow it'}`;
  return undefined;
}

/** The prompt of the comment's input box: it starts with the action's label. */
export const commentPrompt = (label: string, ticketId: string): string =>
  `${label} ${ticketId}: a comment for the history (optional)`;

/** The message once an action went through. */
export const actionDoneMessage = (ticketId: string, state: string): string =>
  `${ticketId} is now ${state}`;

/** The message of a refused or failed action: the server's reason, verbatim. */
export function actionFailedMessage(
  label: string,
  ticketId: string,
  error: TicketsClientError,
): string {
  switch (error.kind) {
    case 'network':
      return `${label} ${ticketId}: the server did not answer (${error.message}). Running it again is safe: it will not be applied twice.`;
    case 'internal':
      return `${label} ${ticketId} failed on the server: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}. Running it again is safe.`;
    default:
      return `${label} ${ticketId} was refused: ${error.message}`;
  }
}
