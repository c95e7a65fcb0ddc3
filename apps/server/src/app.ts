import Router from '@koa/router';
import { defaultTicketWorkflow, type WorkflowDefinition } from '@tickets/domain';
import Koa from 'koa';
import type { CsrfMode } from './config.js';
import type { AppState } from './http/context.js';
import { InFlight } from './http/inFlight.js';
import { sendJson } from './http/negotiate.js';
import type { Logger } from './logger.js';
import { errorHandler } from './middleware/errorHandler.js';
import { methodsOnly } from './middleware/methodsOnly.js';
import { requestId } from './middleware/requestId.js';
import { sessionGuard } from './middleware/session.js';
import { docsRoutes } from './rest/docsRoutes.js';
import { loginRoutes } from './rest/loginRoutes.js';
import type { OpenApiDocument } from './rest/openapiSchemas.js';
import { ticketRoutes } from './rest/ticketRoutes.js';
import { Authenticator } from './service/authenticator.js';
import type { PasswordChecks } from './service/passwordChecks.js';
import { SessionService } from './service/sessionService.js';
import { LiveChanges } from './service/liveChanges.js';
import { TicketService, type TicketChangeEvent } from './service/ticketService.js';
import type { Store } from './store/store.js';
import { trpcMount } from './trpc/koaMount.js';
import { createTrpcRouter } from './trpc/router.js';

/**
 * The paths whose answers no cache may keep (they depend on the session, and login sets its
 * cookies), whatever their case: the router matches paths without regard to case.
 */
const API_PATH = /^\/(?:api|trpc)(?:\/|$)/i;

/**
 * The OpenAPI document, built on its first request and kept: most servers are never asked for it,
 * and building it at start costs every process about 2 MiB of heap and its start-up time.
 */
let openApiDocument: Promise<OpenApiDocument> | undefined;
const loadOpenApiDocument = (): Promise<OpenApiDocument> =>
  (openApiDocument ??= import('./rest/openapi.js').then((module) => module.openApiDocument));

export interface AppDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** Cookie signing key. */
  readonly secret: string;
  readonly sessionMinutes?: number;
  readonly sessionMaxMinutes?: number;
  readonly csrf?: CsrfMode;
  /** Trust `X-Forwarded-Proto` and friends from a reverse proxy (Secure cookies behind TLS). */
  readonly trustProxy?: boolean;
  readonly workflow?: WorkflowDefinition;
  /** The clock; tests move it. */
  readonly now?: () => Date;
  readonly onTicketChange?: (event: TicketChangeEvent) => void;
  /** How often a live stream checks that its session still holds (15 s by default). */
  readonly sessionRecheckMs?: number;
  /** The bound on password checks at once (default: the process-wide one). */
  readonly passwordChecks?: PasswordChecks;
}

export interface App {
  readonly koa: Koa<AppState>;
  /** Every route the app serves, e.g. `{ method: 'POST', path: '/api/tickets/:id/actions' }`. */
  readonly routes: readonly { readonly method: string; readonly path: string }[];
  readonly sessions: SessionService;
  readonly tickets: TicketService;
  /** The live feed of changes; `close()` ends every stream (on shutdown, before the drain). */
  readonly liveChanges: LiveChanges;
  /**
   * The work still running that a shutdown waits for before it closes the store: the tRPC
   * procedures and live streams' reads, counted here, and the Koa handlers, counted by the HTTP
   * server when it is given this (`createHttpServer(app.koa, logger, app.inFlight)`).
   */
  readonly inFlight: InFlight;
}

/**
 * Builds the application: the services over the store, and the Koa app with its middleware in
 * this order, here and nowhere else: request id and logging, error handler, headers, the methods
 * `/trpc` takes, the tRPC router there (which answers its requests itself), the REST routes.
 * The request id comes first so that its log line records the status the error handler set.
 * It does not listen; `main.ts` does.
 */
export function createApp(deps: AppDeps): App {
  const now = deps.now ?? (() => new Date());
  const csrf = deps.csrf ?? 'write';
  const sessions = new SessionService({
    store: deps.store,
    secret: deps.secret,
    now,
    sessionMinutes: deps.sessionMinutes ?? 30,
    sessionMaxMinutes: deps.sessionMaxMinutes ?? 480,
    csrf,
    ...(deps.passwordChecks && { passwordChecks: deps.passwordChecks }),
  });
  const tickets = new TicketService({
    store: deps.store,
    workflow: deps.workflow ?? defaultTicketWorkflow,
    now,
    ...(deps.onTicketChange && { onChange: deps.onTicketChange }),
  });
  const authenticator = new Authenticator({ sessions, csrf });
  const guard = sessionGuard(authenticator);
  const inFlight = new InFlight();
  const liveChanges = new LiveChanges(deps.store, deps.logger, inFlight);
  const trpcRouter = createTrpcRouter({
    sessions,
    tickets,
    changes: liveChanges,
    sessionRecheckMs: deps.sessionRecheckMs,
  });

  const koa = new Koa<AppState>();
  koa.silent = true;
  koa.proxy = deps.trustProxy ?? false;
  koa.on('error', (error: unknown, ctx?: Koa.ParameterizedContext<AppState>) => {
    const log = ctx?.state.log ?? deps.logger;
    // A client that leaves while its answer is being written (a live stream closed in the
    // middle of a replay, say) is not a fault of ours.
    if (ctx !== undefined && clientWentAway(error, ctx)) {
      log.info(
        { code: (error as NodeJS.ErrnoException).code },
        'the client left before its answer was written',
      );
      return;
    }
    log.error({ err: error }, 'request failed');
  });

  const system = new Router<AppState>();
  system.get('/healthz', async (ctx) => {
    try {
      await deps.store.ping();
      sendJson(ctx, { status: 'ok' });
    } catch (error) {
      ctx.state.log.error({ err: error }, 'health check failed');
      ctx.status = 503;
      sendJson(ctx, { status: 'unavailable' });
    }
  });
  system.get('/api/openapi.json', async (ctx) => {
    sendJson(ctx, await loadOpenApiDocument());
  });

  const routers = [
    system,
    docsRoutes(),
    loginRoutes({ sessions, guard }),
    ticketRoutes({ tickets, guard }),
  ];

  koa.use(requestId({ logger: deps.logger }));
  koa.use(errorHandler());
  koa.use(async function responseHeaders(ctx, next) {
    if (API_PATH.test(ctx.path)) ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  // tRPC's HTTP protocol: queries and subscriptions are GETs, mutations POSTs.
  koa.use(methodsOnly({ prefix: '/trpc', methods: ['GET', 'POST'] }));
  koa.use(trpcMount({ router: trpcRouter, authenticator, inFlight, prefix: '/trpc' }));
  for (const router of routers) {
    koa.use(router.routes());
    koa.use(router.allowedMethods());
  }
  const routes = routers.flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => ({ method, path: String(layer.path) })),
    ),
  );
  return { koa, routes, sessions, tickets, liveChanges, inFlight };
}

/** What writing to a connection the client closed fails with. */
const CLIENT_GONE: ReadonlySet<string> = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/** The error is a write to the request's own connection, which the client has closed. */
function clientWentAway(error: unknown, ctx: Koa.ParameterizedContext<AppState>): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return (
    typeof code === 'string' &&
    CLIENT_GONE.has(code) &&
    (ctx.req.socket.destroyed || ctx.res.destroyed || ctx.req.destroyed)
  );
}
