import type { DomainError, Result } from '@tickets/domain';

/**
 * Every expected failure the application service and the HTTP adapters can answer, as a closed
 * union keyed by `code`: the domain's own, plus those of sessions, storage and HTTP.
 */
export type AppError =
  | DomainError
  | { readonly code: 'UNAUTHENTICATED'; readonly message: string }
  | { readonly code: 'NOT_FOUND'; readonly message: string }
  | { readonly code: 'CONFLICT'; readonly message: string }
  | { readonly code: 'IDEMPOTENCY_KEY_REUSED'; readonly message: string }
  | {
      readonly code: 'TOO_MANY_REQUESTS';
      readonly message: string;
      readonly retryAfterSeconds: number;
    }
  | { readonly code: 'MALFORMED_BODY'; readonly message: string }
  | { readonly code: 'NOT_ACCEPTABLE'; readonly message: string }
  | { readonly code: 'UNSUPPORTED_MEDIA_TYPE'; readonly message: string }
  | { readonly code: 'PAYLOAD_TOO_LARGE'; readonly message: string }
  | { readonly code: 'METHOD_NOT_ALLOWED'; readonly message: string }
  | { readonly code: 'UNAVAILABLE'; readonly message: string; readonly retryAfterSeconds: number }
  | { readonly code: 'INTERNAL'; readonly message: string };

export type AppErrorCode = AppError['code'];

/** What an application-service call answers: a value, or an expected failure. */
export type Outcome<T> = Result<T, AppError>;

export const appError = <
  C extends Exclude<AppErrorCode, DomainError['code'] | 'TOO_MANY_REQUESTS' | 'UNAVAILABLE'>,
>(
  code: C,
  message: string,
): { code: C; message: string } => ({ code, message });

/** Carries an expected failure from an HTTP adapter to the error middleware. */
export class ProblemError extends Error {
  constructor(
    readonly problem: AppError,
    options?: { cause?: unknown },
  ) {
    super(problem.message, options);
    this.name = 'ProblemError';
  }
}

/**
 * Thrown by a store whose database stays busy (locked by another process) past its patience, or
 * cannot be reached: a passing condition, answered 503 with `Retry-After`, not a fault of ours.
 */
export class StoreBusyError extends Error {
  constructor(
    readonly reason: 'busy' | 'unreachable' = 'busy',
    options?: { cause?: unknown },
  ) {
    super(reason === 'busy' ? 'the database is busy' : 'the database cannot be reached', options);
    this.name = 'StoreBusyError';
  }
}

/** The message every fault of ours answers with; details go only to the log. */
export const INTERNAL_MESSAGE = 'An error occurred processing the call.';
