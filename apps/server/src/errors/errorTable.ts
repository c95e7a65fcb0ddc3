import type { AppErrorCode } from './appError.js';

export interface ErrorMapping {
  readonly status: number;
  /** tRPC's error code for the same failure (used by the typed surface). */
  readonly trpc:
    | 'BAD_REQUEST'
    | 'UNAUTHORIZED'
    | 'FORBIDDEN'
    | 'NOT_FOUND'
    | 'METHOD_NOT_SUPPORTED'
    | 'CONFLICT'
    | 'PRECONDITION_FAILED'
    | 'PAYLOAD_TOO_LARGE'
    | 'UNSUPPORTED_MEDIA_TYPE'
    | 'UNPROCESSABLE_CONTENT'
    | 'TOO_MANY_REQUESTS'
    | 'INTERNAL_SERVER_ERROR'
    | 'SERVICE_UNAVAILABLE';
  /** The stable slug of the problem `type`, `urn:tickets:problem:<slug>`. */
  readonly slug: string;
  readonly title: string;
}

/**
 * The one mapping from each error code to HTTP status, tRPC code and problem type. It is a
 * Record over the union, so a new code that nobody mapped fails to compile.
 */
export const ERROR_TABLE: Readonly<Record<AppErrorCode, ErrorMapping>> = {
  INVALID_INPUT: {
    status: 400,
    trpc: 'BAD_REQUEST',
    slug: 'invalid-input',
    title: 'Invalid input',
  },
  MALFORMED_BODY: {
    status: 400,
    trpc: 'BAD_REQUEST',
    slug: 'malformed-body',
    title: 'Malformed body',
  },
  UNKNOWN_ACTION: {
    status: 400,
    trpc: 'BAD_REQUEST',
    slug: 'unknown-action',
    title: 'Unknown action',
  },
  UNAUTHENTICATED: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    slug: 'unauthenticated',
    title: 'Unauthorized',
  },
  NOT_ALLOWED: { status: 403, trpc: 'FORBIDDEN', slug: 'not-allowed', title: 'Forbidden' },
  NOT_FOUND: { status: 404, trpc: 'NOT_FOUND', slug: 'not-found', title: 'Not found' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    trpc: 'METHOD_NOT_SUPPORTED',
    slug: 'method-not-allowed',
    title: 'Method not allowed',
  },
  NOT_ACCEPTABLE: {
    status: 406,
    trpc: 'BAD_REQUEST',
    slug: 'not-acceptable',
    title: 'Not acceptable',
  },
  INVALID_TRANSITION: {
    status: 409,
    trpc: 'CONFLICT',
    slug: 'invalid-transition',
    title: 'Invalid transition',
  },
  CONFLICT: { status: 409, trpc: 'CONFLICT', slug: 'conflict', title: 'Conflict' },
  VERSION_MISMATCH: {
    status: 412,
    trpc: 'PRECONDITION_FAILED',
    slug: 'version-mismatch',
    title: 'Precondition failed',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    trpc: 'PAYLOAD_TOO_LARGE',
    slug: 'payload-too-large',
    title: 'Payload too large',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    trpc: 'UNSUPPORTED_MEDIA_TYPE',
    slug: 'unsupported-media-type',
    title: 'Unsupported media type',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    trpc: 'UNPROCESSABLE_CONTENT',
    slug: 'idempotency-key-reused',
    title: 'Idempotency key reused',
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    trpc: 'TOO_MANY_REQUESTS',
    slug: 'too-many-requests',
    title: 'Too many requests',
  },
  UNAVAILABLE: {
    status: 503,
    trpc: 'SERVICE_UNAVAILABLE',
    slug: 'unavailable',
    title: 'Service unavailable',
  },
  INTERNAL: {
    status: 500,
    trpc: 'INTERNAL_SERVER_ERROR',
    slug: 'internal',
    title: 'Internal server error',
  },
};

export const problemType = (code: AppErrorCode): string =>
  `urn:tickets:problem:${ERROR_TABLE[code].slug}`;
