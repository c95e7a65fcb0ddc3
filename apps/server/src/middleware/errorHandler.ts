import type { Next } from 'koa';
import {
  INTERNAL_MESSAGE,
  ProblemError,
  StoreBusyError,
  type AppError,
} from '../errors/appError.js';
import { ERROR_TABLE, problemType } from '../errors/errorTable.js';
import type { AppContext } from '../http/context.js';
import { sendJson } from '../http/negotiate.js';
import { PROBLEM_JSON, TEXT_PLAIN } from '../http/mediaTypes.js';

const ACTION_PATH = /^\/api\/tickets\/[^/]+\/actions\/?$/i;

/** Writes an expected failure as the route wants it: plain text or RFC 9457 problem+json. */
export function renderProblem(ctx: AppContext, problem: AppError): void {
  const { status, title } = ERROR_TABLE[problem.code];
  ctx.status = status;
  if (problem.code === 'TOO_MANY_REQUESTS' || problem.code === 'UNAVAILABLE') {
    ctx.set('Retry-After', String(problem.retryAfterSeconds));
  }
  if (ctx.state.errorFormat === 'text') {
    // The Akana body is the message alone; the problem type, which a status such as 400 or 409
    // does not settle, travels beside it.
    ctx.set('Problem-Type', problemType(problem.code));
    ctx.type = TEXT_PLAIN;
    ctx.body = problem.message;
    return;
  }
  const { code, message, ...extensions } = problem;
  sendJson(
    ctx,
    {
      type: problemType(code),
      title,
      status,
      detail: message,
      instance: ctx.path,
      code,
      requestId: ctx.state.requestId,
      ...extensions,
    },
    PROBLEM_JSON,
  );
}

/** A 4xx raised by Koa or a library (an `http-errors` error meant for the client), as our own. */
function clientError(error: unknown): AppError | undefined {
  const { status, expose, message } = (error ?? {}) as {
    status?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true)
    return undefined;
  const text = typeof message === 'string' ? message : 'bad request';
  const byStatus: Partial<Record<number, AppError>> = {
    404: { code: 'NOT_FOUND', message: text },
    405: { code: 'METHOD_NOT_ALLOWED', message: text },
    413: { code: 'PAYLOAD_TOO_LARGE', message: text },
    415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: text },
  };
  return byStatus[status] ?? { code: 'MALFORMED_BODY', message: text };
}

/**
 * The one error middleware, first in the chain. Expected failures (ProblemError) become 4xx
 * answers; anything else is a fault of ours: a generic 500 and the detail in the log, which
 * happens in one place, `app.on('error')`.
 */
export function errorHandler() {
  return async function errorHandlerMiddleware(ctx: AppContext, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        // The action endpoint answers in text even for a method it does not have.
        if (ACTION_PATH.test(ctx.path) && ctx.method !== 'GET' && ctx.method !== 'HEAD') {
          ctx.state.errorFormat = 'text';
        }
        // A method the router does not know at all (TRACE, PROPFIND, ...) gets 501 from Koa's
        // router, a 5xx for bad input: it is refused like any method a route does not have
        // (405, with the route's Allow), or, where no route has the path, as no route (404).
        const unknownMethod = ctx.status === 501;
        if (ctx.status === 404 || (unknownMethod && !ctx.response.get('Allow'))) {
          ctx.remove('Allow');
          renderProblem(ctx, {
            code: 'NOT_FOUND',
            message: `no route for ${ctx.method} ${ctx.path}`,
          });
        } else if (ctx.status === 405 || unknownMethod) {
          renderProblem(ctx, {
            code: 'METHOD_NOT_ALLOWED',
            message: `${ctx.method} is not allowed on ${ctx.path}`,
          });
        }
      }
    } catch (error) {
      if (error instanceof ProblemError) {
        renderProblem(ctx, error.problem);
        return;
      }
      const client = clientError(error);
      if (client) {
        renderProblem(ctx, client);
        return;
      }
      if (error instanceof StoreBusyError) {
        ctx.state.log.warn({ err: error }, error.message);
        renderProblem(ctx, {
          code: 'UNAVAILABLE',
          message: `${error.message}; try again shortly`,
          retryAfterSeconds: error.reason === 'busy' ? 1 : 5,
        });
        return;
      }
      ctx.app.emit('error', error, ctx);
      renderProblem(ctx, { code: 'INTERNAL', message: INTERNAL_MESSAGE });
    }
  };
}
