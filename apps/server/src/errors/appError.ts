import { fieldPath, type AppError, type AppErrorCode } from '@tickets/contract';
import type { DomainErrorCode } from '@tickets/domain';
import type { z } from 'zod';

export type { AppError, AppErrorCode, Outcome } from '@tickets/contract';

export const appError = <
  C extends Exclude<AppErrorCode, DomainErrorCode | 'TOO_MANY_REQUESTS' | 'UNAVAILABLE'>,
>(
  code: C,
  message: string,
): { code: C; message: string } => ({ code, message });

/**
 * A request that breaks its schema, as REST and tRPC both answer it: the first issue's message,
 * which names the field, and its path (`whole` when the value as a whole is wrong).
 */
export function invalidInput(error: z.ZodError, whole: string): AppError {
  const issue = error.issues[0]!;
  return { code: 'INVALID_INPUT', field: fieldPath(issue.path) || whole, message: issue.message };
}

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
