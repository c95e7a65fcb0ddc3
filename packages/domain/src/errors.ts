import type { TicketState } from './ticket.js';

/**
 * Every expected failure of the domain, as a closed union keyed by `code`.
 * Adapters map each code exactly once (see the server's error table).
 */
export type DomainError =
  | InvalidInputError
  | UnknownActionError
  | NotAllowedError
  | VersionMismatchError
  | InvalidTransitionError;

/** A field of the caller's input is missing or malformed. `field` names it (`Tag[0]`, `users[0].email`). */
export interface InvalidInputError {
  readonly code: 'INVALID_INPUT';
  readonly field: string;
  readonly message: string;
}

/** The action is not part of the workflow at all (in any step). */
export interface UnknownActionError {
  readonly code: 'UNKNOWN_ACTION';
  readonly action: string;
  readonly message: string;
}

/** The workflow does not let this actor take this action. */
export interface NotAllowedError {
  readonly code: 'NOT_ALLOWED';
  readonly action: string;
  readonly message: string;
}

/** The caller expected another version of the ticket (If-Match). */
export interface VersionMismatchError {
  readonly code: 'VERSION_MISMATCH';
  readonly expected: number;
  readonly actual: number;
  readonly message: string;
}

/** The action exists but is not available in the ticket's current state. */
export interface InvalidTransitionError {
  readonly code: 'INVALID_TRANSITION';
  readonly action: string;
  readonly state: TicketState;
  /** The actions of the current state, by name. */
  readonly validActions: readonly string[];
  readonly message: string;
}

export type DomainErrorCode = DomainError['code'];

export const invalidInput = (field: string, message: string): InvalidInputError => ({
  code: 'INVALID_INPUT',
  field,
  message,
});
