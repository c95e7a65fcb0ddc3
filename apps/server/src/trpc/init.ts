import {
  ERROR_TABLE,
  field,
  LIMITS,
  problemType,
  SessionInput,
  type AppError,
} from '@tickets/contract';
import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  INTERNAL_MESSAGE,
  invalidInput,
  ProblemError,
  StoreBusyError,
} from '../errors/appError.js';
import type { AppContext } from '../http/context.js';
import type { InFlight } from '../http/inFlight.js';
import { credentialsOf } from '../middleware/session.js';
import type { Authenticator } from '../service/authenticator.js';

/** What every procedure sees: the Koa context of the request (cookies, logger, request id). */
export interface TrpcContext {
  readonly koa: AppContext;
  readonly authenticator: Authenticator;
  /** The work still running (procedures, live streams' rechecks) that a shutdown waits for. */
  readonly inFlight: InFlight;
}

/** The AppError a tRPC error carries: ours, or a rejected input described as REST describes it. */
function problemOf(error: TRPCError): AppError | undefined {
  if (error.cause instanceof ProblemError) return error.cause.problem;
  if (error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError) {
    return invalidInput(error.cause, 'input');
  }
  return undefined;
}

/** tRPC's own failures (a malformed request, an unknown procedure), by their tRPC code. */
const PROBLEM_OF_TRPC_CODE: Partial<Record<TRPCError['code'], AppError['code']>> = {
  BAD_REQUEST: 'MALFORMED_BODY',
  PARSE_ERROR: 'MALFORMED_BODY',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_SUPPORTED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** What tRPC's own failures say instead of their bare code. */
const TRPC_MESSAGES: Partial<Record<TRPCError['code'], string>> = {
  PAYLOAD_TOO_LARGE: `the body is larger than ${LIMITS.bodyBytes / 1024} KiB`,
};

/** Raises an expected failure as the tRPC error of the one error table. */
export function raise(problem: AppError): never {
  throw new TRPCError({
    code: ERROR_TABLE[problem.code].trpc,
    message: problem.message,
    cause: new ProblemError(problem),
  });
}

export const t = initTRPC.context<TrpcContext>().create({
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
  },
  /**
   * Errors carry the REST problem type beside the tRPC code (`data.problemType`), the field of an
   * invalid input, and never a stack or the message of a fault of ours. The message is the
   * problem's: for an input, the plain one REST gives, not tRPC's dump of every zod issue.
   */
  errorFormatter({ shape, error }) {
    const problem = problemOf(error);
    const code = problem?.code ?? PROBLEM_OF_TRPC_CODE[error.code] ?? 'INTERNAL';
    const internal = code === 'INTERNAL';
    return {
      ...shape,
      message: internal
        ? INTERNAL_MESSAGE
        : (problem?.message ?? TRPC_MESSAGES[error.code] ?? shape.message),
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        problemType: problemType(code),
        ...(problem?.code === 'INVALID_INPUT' && { field: problem.field }),
        ...((problem?.code === 'TOO_MANY_REQUESTS' || problem?.code === 'UNAVAILABLE') && {
          retryAfterSeconds: problem.retryAfterSeconds,
        }),
      },
    };
  },
});

/**
 * The expected failure a thrown error stands for (ours, or the store being busy or unreachable),
 * or undefined for a fault.
 */
function expectedFailureOf(error: unknown): AppError | undefined {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof StoreBusyError) {
    return {
      code: 'UNAVAILABLE',
      message: `${error.message}; try again shortly`,
      retryAfterSeconds: error.reason === 'busy' ? 1 : 5,
    };
  }
  return undefined;
}

/**
 * Raises what `error` stands for as the table's tRPC error; a fault is rethrown as it is. For the
 * code that runs after the middleware has returned: a subscription's generator.
 */
export function rethrow(error: unknown): never {
  const expected = expectedFailureOf(error);
  if (expected) raise(expected);
  throw error;
}

/**
 * Every procedure: expected failures become the table's tRPC errors; faults stay faults. A query
 * or mutation is counted while it runs: it can outlive its connection (a login whose client hung
 * up while it waited for a password check), and the Koa handler around it ends with the
 * connection, so a shutdown waits for the procedure itself. A subscription is counted only while
 * it starts: its stream is ended by the live feed, which a shutdown closes first, and the feed
 * counts the stream's store reads itself.
 */
const base = t.procedure.use(async function mapErrors({ ctx, next }) {
  const result = await ctx.inFlight.track(next());
  if (result.ok) return result;
  const expected = expectedFailureOf(result.error.cause);
  if (expected) raise(expected);
  return result;
});

export const publicProcedure = base;

/** Narrows the context to the caller of a request that names no ticket (CSRF on mutations). */
export const authedProcedure = base.use(async function authed({ ctx, type, next }) {
  const credentials = { ...credentialsOf(ctx.koa), write: type === 'mutation' };
  const caller = await ctx.authenticator.forRequest(credentials);
  return next({ ctx: { caller } });
});

const TicketInput = z.object({ id: field.ticketId('id') });

/**
 * Narrows the context to the caller of a ticket-scoped call: like REST, the TicketID picks the
 * tenant whose session and CSRF header count, so the id is read before the session.
 */
export const ticketProcedure = base.use(async function ticketAuthed({
  ctx,
  type,
  getRawInput,
  next,
}) {
  const parsed = TicketInput.safeParse(await getRawInput());
  if (!parsed.success) throw new TRPCError({ code: 'BAD_REQUEST', cause: parsed.error });
  const credentials = { ...credentialsOf(ctx.koa), write: type === 'mutation' };
  const caller = await ctx.authenticator.forTicket(credentials, parsed.data.id);
  return next({ ctx: { caller } });
});

/** Session procedures may name their tenant in the input, as `?fedmemberid=` does in REST. */
export const sessionProcedure = base.input(SessionInput).use(async function sessionAuthed({
  ctx,
  input,
  type,
  next,
}) {
  const credentials = credentialsOf(ctx.koa);
  const caller = await ctx.authenticator.forRequest({
    ...credentials,
    fedmemberid: input?.tenant ?? credentials.fedmemberid,
    write: type === 'mutation',
  });
  return next({ ctx: { caller } });
});
