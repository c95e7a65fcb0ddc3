import Router from '@koa/router';
import { OPERATIONS, wire, XML_ROOTS, type RestBinding } from '@tickets/contract';
import type { Next } from 'koa';
import { ProblemError } from '../errors/appError.js';
import type { AppContext, AppState } from '../http/context.js';
import { negotiateData, requireTextAccept, sendData, sendText } from '../http/negotiate.js';
import { readBody } from '../http/readBody.js';
import type { SessionGuard } from '../middleware/session.js';
import type { TicketService } from '../service/ticketService.js';
import {
  decode,
  decodeQuery,
  etag,
  idempotencyKeyOf,
  markReplay,
  parseDryRun,
  parseIfMatch,
  explainWeakTag,
  pathsOf,
  refuseDryRun,
} from './codec.js';
import {
  commentJson,
  historyJson,
  ticketJson,
  ticketListJson,
  validActionsJson,
} from './representations.js';

export interface TicketRoutesOptions {
  readonly tickets: TicketService;
  readonly guard: SessionGuard;
}

/**
 * Whether `If-None-Match` names this ETag (weak comparison; `*` matches). Evaluated here, not
 * with `ctx.fresh`, which ignores it when the request says `Cache-Control: no-cache`, as fetch()
 * does with every conditional request; RFC 9110 §13.1.2 has the origin evaluate it regardless.
 */
function noneMatch(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}

/** The action endpoint answers errors as short text/plain, like the original platform. */
async function textErrors(ctx: AppContext, next: Next): Promise<void> {
  ctx.state.errorFormat = 'text';
  await next();
}

/** Registers a handler at the method and paths its operation declares. */
function serve(
  router: Router<AppState>,
  binding: RestBinding,
  handler: (ctx: AppContext) => Promise<void>,
): void {
  const register = binding.method === 'GET' ? router.get.bind(router) : router.post.bind(router);
  for (const path of pathsOf(binding)) {
    if (binding.answer === 'text') register(path, textErrors, handler);
    else register(path, handler);
  }
}

/** Tickets: create, list, get, actions (run and list), history and comments. */
export function ticketRoutes(options: TicketRoutesOptions): Router<AppState> {
  const router = new Router<AppState>();
  const { tickets, guard } = options;
  const op = OPERATIONS;

  serve(
    router,
    op.createTicket.rest,
    guard.request(async (ctx, caller) => {
      const mediaType = negotiateData(ctx);
      const body = decode(wire.TicketBody, await readBody(ctx, XML_ROOTS.ticket));
      refuseDryRun(ctx);
      const created = await tickets.createTicket(
        caller,
        {
          title: body.Title,
          description: body.Description,
          environment: body.Environment,
          apiId: body.APIID,
          appId: body.AppID,
          labels: body.Label,
          tags: body.Tag,
        },
        { idempotencyKey: idempotencyKeyOf(ctx) },
      );
      markReplay(ctx, created.replayed);
      if (!created.ok) throw new ProblemError(created.error);
      ctx.set('Location', `/api/tickets/${encodeURIComponent(created.value.id)}`);
      ctx.set('ETag', etag(created.value.version));
      sendData(ctx, mediaType, XML_ROOTS.ticket, ticketJson(created.value), 201);
    }),
  );

  serve(
    router,
    op.listTickets.rest,
    guard.request(async (ctx, caller) => {
      const mediaType = negotiateData(ctx);
      const query = decodeQuery(wire.ListQuery, ctx.query);
      const page = await tickets.listTickets(caller, {
        apiId: query.APIID,
        appId: query.AppID,
        authorId: query.AuthorID,
        state: query.State,
        after: query.after,
        start: query.start,
        count: query.count,
      });
      if (!page.ok) throw new ProblemError(page.error);
      sendData(ctx, mediaType, XML_ROOTS.ticketList, ticketListJson(page.value));
    }),
  );

  serve(
    router,
    op.getTicket.rest,
    guard.ticket(async (ctx, caller, id) => {
      const mediaType = negotiateData(ctx);
      const ticket = await tickets.getTicket(caller, id);
      if (!ticket.ok) throw new ProblemError(ticket.error);
      ctx.set('ETag', etag(ticket.value.version));
      sendData(ctx, mediaType, XML_ROOTS.ticket, ticketJson(ticket.value));
      if (noneMatch(ctx.get('If-None-Match'), etag(ticket.value.version))) ctx.status = 304;
    }),
  );

  serve(
    router,
    op.act.rest,
    guard.ticket(async (ctx, caller, id) => {
      requireTextAccept(ctx);
      const body = decode(wire.ActionBody, await readBody(ctx, XML_ROOTS.action));
      const result = await tickets.runAction(
        caller,
        {
          id,
          action: body.ActionName,
          comments: body.Comments,
          ifMatch: parseIfMatch(ctx.get('If-Match')),
          dryRun: parseDryRun(ctx),
        },
        { idempotencyKey: idempotencyKeyOf(ctx) },
      );
      markReplay(ctx, result.replayed);
      if (!result.ok) throw new ProblemError(explainWeakTag(result.error, ctx.get('If-Match')));
      ctx.set('ETag', etag(result.value.ticket.version));
      sendText(ctx, result.value.state);
    }),
  );

  serve(
    router,
    op.validActions.rest,
    guard.ticket(async (ctx, caller, id) => {
      const mediaType = negotiateData(ctx);
      const actions = await tickets.validActions(caller, id);
      if (!actions.ok) throw new ProblemError(actions.error);
      sendData(ctx, mediaType, XML_ROOTS.validActions, validActionsJson(actions.value));
    }),
  );

  serve(
    router,
    op.history.rest,
    guard.ticket(async (ctx, caller, id) => {
      const mediaType = negotiateData(ctx);
      const paging = decodeQuery(wire.HistoryQuery, ctx.query);
      const history = await tickets.history(caller, id, paging);
      if (!history.ok) throw new ProblemError(history.error);
      sendData(ctx, mediaType, XML_ROOTS.history, historyJson(history.value));
    }),
  );

  serve(
    router,
    op.comment.rest,
    guard.ticket(async (ctx, caller, id) => {
      const mediaType = negotiateData(ctx);
      const body = decode(wire.CommentBody, await readBody(ctx, XML_ROOTS.comment));
      refuseDryRun(ctx);
      const added = await tickets.addComment(
        caller,
        { id, content: body.Content, ifMatch: parseIfMatch(ctx.get('If-Match')) },
        { idempotencyKey: idempotencyKeyOf(ctx) },
      );
      markReplay(ctx, added.replayed);
      if (!added.ok) throw new ProblemError(explainWeakTag(added.error, ctx.get('If-Match')));
      ctx.set('ETag', etag(added.value.ticket.version));
      sendData(ctx, mediaType, XML_ROOTS.comment, commentJson(added.value), 201);
    }),
  );

  return router;
}
