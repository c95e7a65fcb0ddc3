import { LIMITS } from '@tickets/contract';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Next } from 'koa';
import { ProblemError, StoreBusyError } from '../errors/appError.js';
import type { AppContext } from '../http/context.js';
import type { InFlight } from '../http/inFlight.js';
import type { Authenticator } from '../service/authenticator.js';
import type { AppRouter } from './router.js';

export interface TrpcMountOptions {
  readonly router: AppRouter;
  readonly authenticator: Authenticator;
  /** Counts the procedures while they run (they may outlive the request's connection). */
  readonly inFlight: InFlight;
  /** Where the router answers, e.g. `/trpc`. */
  readonly prefix: string;
}

/**
 * Serves the tRPC router under its prefix with tRPC's own node-http handler: it reads the body
 * itself (at most the REST limit), and Koa is told not to answer these requests too. Faults of
 * ours are logged where every other is, through `app.on('error')`.
 */
export function trpcMount(options: TrpcMountOptions) {
  const { router, authenticator, inFlight, prefix } = options;
  return async function trpcMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next();
    ctx.respond = false;
    // Koa starts every response as a 404; tRPC's handler sets only statuses other than 200.
    ctx.res.statusCode = 200;
    // The handler settles when the response finishes; a client that goes away first (a closed
    // live stream) leaves it pending for ever, so the request also ends when the response closes.
    // A procedure still running then is counted by the procedures' base middleware (`inFlight`).
    const closed = new Promise<void>((resolve) => ctx.res.once('close', resolve));
    const handled = nodeHTTPRequestHandler({
      router,
      req: ctx.req,
      res: ctx.res,
      path: ctx.path.slice(prefix.length + 1),
      maxBodySize: LIMITS.bodyBytes,
      createContext: () => ({ koa: ctx, authenticator, inFlight }),
      onError({ error }) {
        if (error.code !== 'INTERNAL_SERVER_ERROR') return;
        if (error.cause instanceof ProblemError) return;
        if (error.cause instanceof StoreBusyError) {
          ctx.state.log.warn({ err: error.cause }, error.cause.message);
          return;
        }
        ctx.app.emit('error', error.cause ?? error, ctx);
      },
    });
    await Promise.race([handled, closed]);
  };
}
