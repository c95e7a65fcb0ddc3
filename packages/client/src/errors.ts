import {
  codeOfProblemType,
  ERROR_TABLE,
  problemType as problemTypeOf,
  type AppErrorCode,
  type ErrorKind,
} from '@tickets/contract';
import { TRPCClientError } from '@trpc/client';

export type { ErrorKind } from '@tickets/contract';

export interface TicketsClientErrorInit {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly status?: number | undefined;
  readonly problemType?: string | undefined;
  readonly requestId?: string | undefined;
  readonly field?: string | undefined;
  readonly retryAfterSeconds?: number | undefined;
  readonly cause?: unknown;
}

/**
 * Every failure of the client: `kind` says what to do about it, `status` is the HTTP status
 * (undefined when no answer came), `problemType` the server's `urn:tickets:problem:*`, and
 * `requestId` the answer's `X-Request-Id`, to find the request in the server's log.
 */
export class TicketsClientError extends Error {
  override readonly name = 'TicketsClientError';
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly problemType: string | undefined;
  readonly requestId: string | undefined;
  /** The input field an `invalid-input` failure is about, when the server named it. */
  readonly field: string | undefined;
  /** How long the server asks to wait (`rate-limited`, `unavailable`), in seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: TicketsClientErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status;
    this.problemType = init.problemType;
    this.requestId = init.requestId;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

const CONFLICT_MESSAGE = 'another change to the ticket won';

/** The error codes that answer with a status, from the one error table. */
const codesOfStatus = (status: number): AppErrorCode[] =>
  (Object.keys(ERROR_TABLE) as AppErrorCode[]).filter(
    (code) => ERROR_TABLE[code].status === status,
  );

/**
 * The code a bare status (and, for a 409, the message) stands for: 409 is an invalid transition
 * unless another change won the race; a status of several codes (400) stays undecided.
 */
function codeOfStatus(status: number, message: string): AppErrorCode | undefined {
  if (status === 409) return message.includes(CONFLICT_MESSAGE) ? 'CONFLICT' : 'INVALID_TRANSITION';
  const codes = codesOfStatus(status);
  return codes.length === 1 ? codes[0] : undefined;
}

/** What a client makes of an HTTP error status. */
export function kindOfStatus(status: number, message = ''): ErrorKind {
  const code = codeOfStatus(status, message);
  if (code !== undefined) return ERROR_TABLE[code].kind;
  const kinds = new Set(codesOfStatus(status).map((c) => ERROR_TABLE[c].kind));
  if (kinds.size === 1) return [...kinds][0]!;
  if (status >= 500) return status === 503 ? 'unavailable' : 'internal';
  return 'invalid-input';
}

const retryAfterOf = (headers: { get(name: string): string | null }): number | undefined => {
  const value = Number(headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(value) ? value : undefined;
};

/**
 * An error answer of a REST endpoint (the action endpoint answers errors as plain text). Its
 * `Problem-Type` header names the problem; an answer without one (not our server's: a proxy's
 * error page) is read by its status.
 */
export function httpError(
  response: { status: number; headers: { get(name: string): string | null } },
  text: string,
): TicketsClientError {
  const message = text.trim().slice(0, 1000) || `HTTP ${response.status}`;
  const code =
    codeOfProblemType(response.headers.get('problem-type') ?? '') ??
    codeOfStatus(response.status, message);
  return new TicketsClientError({
    kind: code === undefined ? kindOfStatus(response.status, message) : ERROR_TABLE[code].kind,
    message,
    status: response.status,
    problemType: code === undefined ? undefined : problemTypeOf(code),
    requestId: response.headers.get('x-request-id') ?? undefined,
    retryAfterSeconds: retryAfterOf(response.headers),
  });
}

/** A request that got no answer: the connection was refused, cut or timed out. */
export function networkError(cause: unknown, what: string): TicketsClientError {
  const detail =
    cause instanceof Error ? (cause.cause instanceof Error ? cause.cause : cause) : undefined;
  return new TicketsClientError({
    kind: 'network',
    message: `${what}: no answer from the server${detail ? ` (${detail.message})` : ''}`,
    cause,
  });
}

interface TrpcErrorData {
  readonly httpStatus?: number;
  readonly problemType?: string;
  readonly field?: string;
  readonly retryAfterSeconds?: number;
}

/**
 * A failure of a tRPC call as a TicketsClientError: the kind from `data.problemType` through the
 * contract's error table; the request id from the answer's headers (or as the caller saw it).
 */
export function fromTrpcError(error: unknown, requestId?: string): TicketsClientError {
  if (error instanceof TicketsClientError) return error;
  if (!(error instanceof TRPCClientError)) {
    return new TicketsClientError({
      kind: 'internal',
      message: error instanceof Error ? error.message : String(error),
      cause: error,
    });
  }
  if (error.cause instanceof TicketsClientError) return error.cause;
  const data = (error.data ?? undefined) as TrpcErrorData | undefined;
  const response = (
    error.meta as { response?: { headers?: Headers; status?: unknown } } | undefined
  )?.response;
  const answeredId = response?.headers?.get('x-request-id') ?? requestId;
  if (data?.problemType === undefined) {
    // No tRPC error envelope: no answer came (the stream's connection failed, or it answered an
    // HTTP error, see `eventCode`), or the answer was not tRPC's JSON (a proxy's own JSON error,
    // say): its status tells what it was; an answer that is no error yet not understood is ours.
    const answered = typeof response?.status === 'number' ? response.status : undefined;
    const status = eventCode(error.cause) ?? answered;
    const garbled = error.cause instanceof SyntaxError;
    const kind: ErrorKind =
      status !== undefined && status >= 400
        ? kindOfStatus(status)
        : status !== undefined || garbled
          ? 'internal'
          : 'network';
    return new TicketsClientError({
      kind,
      message: error.message,
      status,
      requestId: answeredId,
      cause: error,
    });
  }
  const code = codeOfProblemType(data.problemType);
  const status = data.httpStatus;
  return new TicketsClientError({
    kind: code ? ERROR_TABLE[code].kind : kindOfStatus(status ?? 500),
    message: error.message,
    status,
    problemType: data.problemType,
    requestId: answeredId,
    field: data.field,
    retryAfterSeconds: data.retryAfterSeconds,
    cause: error,
  });
}

/** The HTTP status of an EventSource error event, when it was an HTTP error. */
function eventCode(cause: unknown): number | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 100 ? code : undefined;
}

/** Failures worth waiting out and trying again: no answer, or the server could not serve now. */
export const isTransient = (error: TicketsClientError): boolean =>
  error.kind === 'network' ||
  error.kind === 'unavailable' ||
  error.kind === 'internal' ||
  error.kind === 'rate-limited';
