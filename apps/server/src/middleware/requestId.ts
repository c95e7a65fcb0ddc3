import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from '../http/context.js';
import type { Logger } from '../logger.js';

/** An incoming X-Request-Id is kept when it looks sane. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (kept from `X-Request-Id` when sane), a child logger, and a log line. */
export function requestId(options: { logger: Logger }) {
  return async function requestIdMiddleware(ctx: AppContext, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const id = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.errorFormat = 'problem';
    ctx.state.log = options.logger.child({ requestId: id });
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.state.log.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  };
}
