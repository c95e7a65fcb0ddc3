import { OPERATIONS, type AppError } from '@tickets/contract';
import { tracked } from '@trpc/server';
import { credentialsOf } from '../middleware/session.js';
import { clearSessionCookies, setSessionCookies } from '../rest/sessionCookies.js';
import { loginResponseJson } from '../rest/representations.js';
import type { LiveChanges } from '../service/liveChanges.js';
import type { SessionService } from '../service/sessionService.js';
import type { TicketService } from '../service/ticketService.js';
import {
  authedProcedure,
  publicProcedure,
  raise,
  sessionProcedure,
  t,
  ticketProcedure,
} from './init.js';
import {
  changeOutput,
  commentOutput,
  historyOutput,
  ticketOutput,
  validActionsOutput,
} from './outputs.js';

/** How often a live stream checks that its session still holds, while changes flow. */
const SESSION_RECHECK_MS = 15_000;

export interface TrpcRouterOptions {
  readonly sessions: SessionService;
  readonly tickets: TicketService;
  readonly changes: LiveChanges;
}

/** The value of an outcome, or its failure raised as the table's tRPC error. */
function valueOf<T>(outcome: { ok: true; value: T } | { ok: false; error: AppError }): T {
  if (!outcome.ok) raise(outcome.error);
  return outcome.value;
}

/**
 * The typed surface: the operations of `@tickets/contract` as tRPC procedures, each a thin
 * adapter over the same services as REST. Inputs are the declared schemas, so the service
 * receives its commands already decoded.
 */
export function createTrpcRouter(options: TrpcRouterOptions) {
  const { sessions, tickets, changes } = options;
  const op = OPERATIONS;

  return t.router({
    session: t.router({
      login: publicProcedure.input(op.login.input).mutation(async ({ ctx, input }) => {
        const issued = valueOf(await sessions.login(input));
        setSessionCookies(ctx.koa, issued);
        ctx.koa.state.log.info({ userId: issued.caller.user.id }, 'login');
        return loginResponseJson(issued);
      }),
      status: sessionProcedure.query(({ ctx }) => loginResponseJson({ caller: ctx.caller })),
      renew: sessionProcedure.mutation(async ({ ctx }) => {
        const renewed = valueOf(await sessions.renew(ctx.caller));
        setSessionCookies(ctx.koa, renewed);
        return loginResponseJson(renewed);
      }),
      logout: sessionProcedure.mutation(async ({ ctx }) => {
        await sessions.logout(ctx.caller);
        clearSessionCookies(ctx.koa, ctx.caller.session.tenant);
        ctx.koa.state.log.info({ userId: ctx.caller.user.id }, 'logout');
        return { Status: 'Success' as const };
      }),
    }),
    tickets: t.router({
      list: authedProcedure.input(op.listTickets.input).query(async ({ ctx, input }) => {
        const page = await tickets.listTickets(ctx.caller, input);
        return {
          totalResults: page.total,
          startIndex: page.start,
          tickets: page.tickets.map(ticketOutput),
        };
      }),
      get: ticketProcedure
        .input(op.getTicket.input)
        .query(async ({ ctx, input }) =>
          ticketOutput(valueOf(await tickets.getTicket(ctx.caller, input.id))),
        ),
      create: authedProcedure.input(op.createTicket.input).mutation(async ({ ctx, input }) => {
        const { idempotencyKey, ...draft } = input;
        return ticketOutput(
          valueOf(await tickets.createTicket(ctx.caller, draft, { idempotencyKey })),
        );
      }),
      validActions: ticketProcedure
        .input(op.validActions.input)
        .query(async ({ ctx, input }) =>
          validActionsOutput(valueOf(await tickets.validActions(ctx.caller, input.id))),
        ),
      act: ticketProcedure.input(op.act.input).mutation(async ({ ctx, input }) => {
        const { idempotencyKey, ...command } = input;
        const result = await tickets.runAction(ctx.caller, command, { idempotencyKey });
        const outcome = valueOf(result);
        return {
          state: outcome.state,
          version: outcome.ticket.version,
          ticket: ticketOutput(outcome.ticket),
          replayed: result.replayed,
        };
      }),
      history: ticketProcedure
        .input(op.history.input)
        .query(async ({ ctx, input }) =>
          historyOutput(valueOf(await tickets.history(ctx.caller, input.id))),
        ),
      comment: ticketProcedure.input(op.comment.input).mutation(async ({ ctx, input }) => {
        const { idempotencyKey, ...command } = input;
        return commentOutput(
          valueOf(await tickets.addComment(ctx.caller, command, { idempotencyKey })),
        );
      }),
      changes: authedProcedure.input(op.changes.input).subscription(async function* ({
        ctx,
        input,
        signal,
      }) {
        const tenant = ctx.caller.actor.tenant;
        const stop = signal ?? new AbortController().signal;
        let checkedAt = Date.now();
        for await (const change of changes.follow(tenant, input?.lastEventId, stop)) {
          // A stream outlives its first check: a logout or an expiry ends it.
          if (Date.now() - checkedAt > SESSION_RECHECK_MS) {
            checkedAt = Date.now();
            await ctx.authenticator.forRequest({ ...credentialsOf(ctx.koa), write: false });
          }
          yield tracked(String(change.eventId), changeOutput(change));
        }
      }),
    }),
  });
}

export type AppRouter = ReturnType<typeof createTrpcRouter>;
