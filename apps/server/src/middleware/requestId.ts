import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext, AppState } from '../http/context.js';
import type { Logger } from '../logger.js';

/** An incoming X-Request-Id is kept when it looks sane. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request's state. Its child logger is made on first use: most requests log nothing at the
 * default level, and making a pino child (its bindings serialised) costs more than the rest of
 * the request's bookkeeping.
 */
class RequestState implements AppState {
  errorFormat: AppState['errorFormat'] = 'problem';
  #log: Logger | undefined;

  constructor(
    readonly requestId: string,
    private readonly logger: Logger,
  ) {}

  get log(): Logger {
    return (this.#log ??= this.logger.child({ requestId: this.requestId }));
  }
}

/** Gives every request an id (kept from `X-Request-Id` when sane), a child logger, and a log line. */
export function requestId(options: { logger: Logger }) {
  const { logger } = options;
  return async function requestIdMiddleware(ctx: AppContext, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const id = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state = new RequestState(id, logger);
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      if (logger.isLevelEnabled('info')) {
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
    }
  };
}
