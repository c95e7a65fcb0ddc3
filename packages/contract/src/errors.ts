import type { DomainError, Result } from '@tickets/domain';

/**
 * Every expected failure of the API, as a closed union keyed by `code`: the domain's own, plus
 * those of sessions, storage and HTTP.
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

/** What a client makes of a failure (`TicketsClientError.kind`); `network` is the client's own. */
export type ErrorKind =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'invalid-input'
  | 'invalid-transition'
  | 'conflict'
  | 'version-mismatch'
  | 'rate-limited'
  | 'unavailable'
  | 'network'
  | 'internal';

export type TrpcErrorCode =
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

export interface ErrorMapping {
  readonly status: number;
  /** tRPC's error code for the same failure. */
  readonly trpc: TrpcErrorCode;
  /** The stable slug of the problem `type`, `urn:tickets:problem:<slug>`. */
  readonly slug: string;
  readonly title: string;
  /** What the client reports it as. */
  readonly kind: ErrorKind;
}

const row = (
  status: number,
  trpc: TrpcErrorCode,
  slug: string,
  title: string,
  kind: ErrorKind,
): ErrorMapping => ({ status, trpc, slug, title, kind });

/**
 * The one mapping from each error code to HTTP status, tRPC code, problem type and client kind.
 * It is a Record over the union, so a new code that nobody mapped fails to compile.
 */
export const ERROR_TABLE: Readonly<Record<AppErrorCode, ErrorMapping>> = {
  INVALID_INPUT: row(400, 'BAD_REQUEST', 'invalid-input', 'Invalid input', 'invalid-input'),
  MALFORMED_BODY: row(400, 'BAD_REQUEST', 'malformed-body', 'Malformed body', 'invalid-input'),
  UNKNOWN_ACTION: row(400, 'BAD_REQUEST', 'unknown-action', 'Unknown action', 'invalid-input'),
  UNAUTHENTICATED: row(401, 'UNAUTHORIZED', 'unauthenticated', 'Unauthorized', 'unauthenticated'),
  NOT_ALLOWED: row(403, 'FORBIDDEN', 'not-allowed', 'Forbidden', 'forbidden'),
  NOT_FOUND: row(404, 'NOT_FOUND', 'not-found', 'Not found', 'not-found'),
  METHOD_NOT_ALLOWED: row(
    405,
    'METHOD_NOT_SUPPORTED',
    'method-not-allowed',
    'Method not allowed',
    'invalid-input',
  ),
  NOT_ACCEPTABLE: row(406, 'BAD_REQUEST', 'not-acceptable', 'Not acceptable', 'invalid-input'),
  INVALID_TRANSITION: row(
    409,
    'CONFLICT',
    'invalid-transition',
    'Invalid transition',
    'invalid-transition',
  ),
  CONFLICT: row(409, 'CONFLICT', 'conflict', 'Conflict', 'conflict'),
  VERSION_MISMATCH: row(
    412,
    'PRECONDITION_FAILED',
    'version-mismatch',
    'Precondition failed',
    'version-mismatch',
  ),
  PAYLOAD_TOO_LARGE: row(
    413,
    'PAYLOAD_TOO_LARGE',
    'payload-too-large',
    'Payload too large',
    'invalid-input',
  ),
  UNSUPPORTED_MEDIA_TYPE: row(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'unsupported-media-type',
    'Unsupported media type',
    'invalid-input',
  ),
  IDEMPOTENCY_KEY_REUSED: row(
    422,
    'UNPROCESSABLE_CONTENT',
    'idempotency-key-reused',
    'Idempotency key reused',
    'conflict',
  ),
  TOO_MANY_REQUESTS: row(
    429,
    'TOO_MANY_REQUESTS',
    'too-many-requests',
    'Too many requests',
    'rate-limited',
  ),
  UNAVAILABLE: row(503, 'SERVICE_UNAVAILABLE', 'unavailable', 'Service unavailable', 'unavailable'),
  INTERNAL: row(500, 'INTERNAL_SERVER_ERROR', 'internal', 'Internal server error', 'internal'),
};

export const PROBLEM_TYPE_PREFIX = 'urn:tickets:problem:';

export const problemType = (code: AppErrorCode): string =>
  `${PROBLEM_TYPE_PREFIX}${ERROR_TABLE[code].slug}`;

/** The error code of a problem type URN, when it is one of ours. */
export function codeOfProblemType(type: string): AppErrorCode | undefined {
  return (Object.keys(ERROR_TABLE) as AppErrorCode[]).find((code) => problemType(code) === type);
}

/** A key that can follow a dot in a path: a JavaScript identifier. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The one style of field path in errors (`field` of a REST problem, `data.field` of a tRPC error,
 * the path of a provisioning issue): the path as a JavaScript or TypeScript client writes it to
 * reach the value, `Tag[0]`, `users[0].email`, `Comments[1]`; a key that is not an identifier
 * is bracketed and quoted (`headers["If-Match"]`). The empty path is ''.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = typeof key === 'symbol' ? (key.description ?? '') : key;
    if (!IDENTIFIER.test(name)) return `${out}[${JSON.stringify(name)}]`;
    return out === '' ? name : `${out}.${name}`;
  }, '');
}
