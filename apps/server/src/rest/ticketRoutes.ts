import Router, { type RouterMiddleware } from '@koa/router';
import type { Next } from 'koa';
import { ProblemError } from '../errors/appError.js';
import type { AppContext, AppState } from '../http/context.js';
import { negotiateData, requireTextAccept, sendData, sendText } from '../http/negotiate.js';
import { readBody } from '../http/readBody.js';
import type { TicketService, WriteOptions } from '../service/ticketService.js';
import {
  commentJson,
  historyJson,
  ticketJson,
  ticketListJson,
  validActionsJson,
  XML_ROOTS,
} from './representations.js';

export interface TicketRoutesOptions {
  readonly tickets: TicketService;
  readonly authenticated: (scope: 'ticket' | 'tenant') => RouterMiddleware<AppState>;
}

const etag = (version: number): string => `"${version}"`;

/**
 * Whether `If-None-Match` names this ETag (weak comparison; `*` matches). Evaluated here, not
 * with `ctx.fresh`, which ignores it when the request says `Cache-Control: no-cache`, as fetch()
 * does with every conditional request; RFC 9110 §13.1.2 has the origin evaluate it regardless.
 */
function noneMatch(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}

/** `If-Match: "<version>"` (a bare number and `W/` are accepted too; `*` matches any version). */
export function parseIfMatch(header: string): number | undefined {
  const value = header.trim();
  if (value === '' || value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(value);
  if (!match) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'If-Match',
      message: 'If-Match must be one version, e.g. "3"',
    });
  }
  return Number(match[1]);
}

function writeOptions(ctx: AppContext): WriteOptions {
  const key = ctx.get('Idempotency-Key');
  return {
    idempotencyKey: key === '' ? undefined : key,
    expectedVersion: parseIfMatch(ctx.get('If-Match')),
  };
}

function parseDryRun(ctx: AppContext): boolean {
  const value = ctx.query['dryRun'];
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new ProblemError({
    code: 'INVALID_INPUT',
    field: 'dryRun',
    message: 'dryRun must be true or false',
  });
}

function markReplay(ctx: AppContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}

/** The action endpoint answers errors as short text/plain, like the original platform. */
async function textErrors(ctx: AppContext, next: Next): Promise<void> {
  ctx.state.errorFormat = 'text';
  await next();
}

/** Tickets: create, list, get, actions (run and list), history and comments. */
export function ticketRoutes(options: TicketRoutesOptions): Router<AppState> {
  const router = new Router<AppState>();
  const { tickets, authenticated } = options;

  router.post('/api/tickets', authenticated('tenant'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const body = await readBody(ctx, XML_ROOTS.ticket);
    const created = await tickets.createTicket(ctx.state.caller!, body, writeOptions(ctx));
    markReplay(ctx, created.replayed);
    if (!created.ok) throw new ProblemError(created.error);
    ctx.set('Location', `/api/tickets/${encodeURIComponent(created.value.id)}`);
    ctx.set('ETag', etag(created.value.version));
    sendData(ctx, mediaType, XML_ROOTS.ticket, ticketJson(created.value), 201);
  });

  router.get('/api/tickets', authenticated('tenant'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const page = await tickets.listTickets(ctx.state.caller!, ctx.query);
    if (!page.ok) throw new ProblemError(page.error);
    sendData(ctx, mediaType, XML_ROOTS.ticketList, ticketListJson(page.value));
  });

  router.get('/api/tickets/:id', authenticated('ticket'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const ticket = await tickets.getTicket(ctx.state.caller!, ctx.params['id']!);
    if (!ticket.ok) throw new ProblemError(ticket.error);
    ctx.set('ETag', etag(ticket.value.version));
    sendData(ctx, mediaType, XML_ROOTS.ticket, ticketJson(ticket.value));
    if (noneMatch(ctx.get('If-None-Match'), etag(ticket.value.version))) ctx.status = 304;
  });

  router.post('/api/tickets/:id/actions', textErrors, authenticated('ticket'), async (ctx) => {
    requireTextAccept(ctx);
    const body = await readBody(ctx, 'Action');
    const result = await tickets.executeAction(ctx.state.caller!, ctx.params['id']!, body, {
      ...writeOptions(ctx),
      dryRun: parseDryRun(ctx),
    });
    markReplay(ctx, result.replayed);
    if (!result.ok) throw new ProblemError(result.error);
    ctx.set('ETag', etag(result.value.ticket.version));
    sendText(ctx, result.value.state);
  });

  const validActions = async (ctx: AppContext): Promise<void> => {
    const mediaType = negotiateData(ctx);
    const actions = await tickets.validActions(ctx.state.caller!, ctx.params['id']!);
    if (!actions.ok) throw new ProblemError(actions.error);
    sendData(ctx, mediaType, XML_ROOTS.validActions, validActionsJson(actions.value));
  };
  router.get('/api/tickets/:id/actions', authenticated('ticket'), validActions);
  router.get('/api/workflow/objects/:id/actions', authenticated('ticket'), validActions);

  router.get('/api/tickets/:id/history', authenticated('ticket'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const history = await tickets.history(ctx.state.caller!, ctx.params['id']!);
    if (!history.ok) throw new ProblemError(history.error);
    sendData(ctx, mediaType, XML_ROOTS.history, historyJson(history.value));
  });

  router.post('/api/tickets/:id/comments', authenticated('ticket'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const body = await readBody(ctx, XML_ROOTS.comment);
    const added = await tickets.addComment(
      ctx.state.caller!,
      ctx.params['id']!,
      body,
      writeOptions(ctx),
    );
    markReplay(ctx, added.replayed);
    if (!added.ok) throw new ProblemError(added.error);
    ctx.set('ETag', etag(added.value.ticket.version));
    sendData(ctx, mediaType, XML_ROOTS.comment, commentJson(added.value), 201);
  });

  return router;
}
