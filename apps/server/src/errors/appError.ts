import type { AppError, AppErrorCode } from '@tickets/contract';
import type { DomainErrorCode } from '@tickets/domain';

export type { AppError, AppErrorCode, Outcome } from '@tickets/contract';

export const appError = <
  C extends Exclude<AppErrorCode, DomainErrorCode | 'TOO_MANY_REQUESTS' | 'UNAVAILABLE'>,
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
