import { OPERATIONS, type AppError } from '@tickets/contract';
import { tracked } from '@trpc/server';
import { hangUpSignal } from '../http/hangUp.js';
import type { InFlight } from '../http/inFlight.js';
import type { Logger } from '../logger.js';
import { clearSessionCookies, setSessionCookies } from '../rest/sessionCookies.js';
import { STREAMS_PER_SESSION, type LiveChanges } from '../service/liveChanges.js';
import type { Caller, IssuedSession, SessionService } from '../service/sessionService.js';
import type { TicketService } from '../service/ticketService.js';
import {
  authedProcedure,
  publicProcedure,
  raise,
  rethrow,
  sessionProcedure,
  t,
  ticketProcedure,
} from './init.js';
import {
  changeOutput,
  commentOutput,
  historyOutput,
  sessionOutput,
  ticketOutput,
  validActionsOutput,
} from './outputs.js';

/** How often a live stream checks that its session still holds, by default. */
const SESSION_RECHECK_MS = 15_000;

export interface TrpcRouterOptions {
  readonly sessions: SessionService;
  readonly tickets: TicketService;
  readonly changes: LiveChanges;
  /** How often a live stream checks that its session still holds (15 s by default). */
  readonly sessionRecheckMs?: number | undefined;
}

/**
 * Watches the session of a long-lived request: every `everyMs` it is read again (so a renewal
 * extends it), and `ended` aborts once it no longer holds, with the reason in `endedBy`. A store
 * that cannot answer for a moment does not end the stream; the next check decides. Each check is
 * counted in `inFlight` while it reads.
 */
function followSession(
  sessions: SessionService,
  caller: Caller,
  everyMs: number,
  log: Logger,
  inFlight: InFlight,
) {
  const ended = new AbortController();
  let endedBy: AppError | undefined;
  const timer = setInterval(() => {
    inFlight.track(sessions.recheck(caller)).then(
      (outcome) => {
        if (outcome.ok || ended.signal.aborted) return;
        endedBy = outcome.error;
        ended.abort();
      },
      (error: unknown) => log.warn({ err: error }, "cannot recheck a live stream's session"),
    );
  }, everyMs);
  timer.unref();
  return {
    ended: ended.signal,
    get endedBy() {
      return endedBy;
    },
    stop: () => clearInterval(timer),
  };
}

/** The value of an outcome, or its failure raised as the table's tRPC error. */
function valueOf<T>(outcome: { ok: true; value: T } | { ok: false; error: AppError }): T {
  if (!outcome.ok) raise(outcome.error);
  return outcome.value;
}

/** What a refused stream is told to wait before it tries again. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * The typed surface: the operations of `@tickets/contract` as tRPC procedures, each a thin
 * adapter over the same services as REST. Inputs are the declared schemas, so the service
 * receives its commands already decoded.
 */
export function createTrpcRouter(options: TrpcRouterOptions) {
  const { sessions, tickets, changes } = options;
  const recheckMs = options.sessionRecheckMs ?? SESSION_RECHECK_MS;
  const op = OPERATIONS;
  /** The session answer: one more read, for the types of the resources the caller administers. */
  const sessionAnswer = async (issued: Pick<IssuedSession, 'caller'>) =>
    sessionOutput(issued, await sessions.administered(issued.caller));

  return t.router({
    session: t.router({
      login: publicProcedure.input(op.login.input).mutation(async ({ ctx, input }) => {
        const issued = valueOf(await sessions.login(input, hangUpSignal(ctx.koa.res)));
        setSessionCookies(ctx.koa, issued);
        ctx.koa.state.log.info({ userId: issued.caller.user.id }, 'login');
        return sessionAnswer(issued);
      }),
      status: sessionProcedure.query(({ ctx }) => sessionAnswer({ caller: ctx.caller })),
      renew: sessionProcedure.mutation(async ({ ctx }) => {
        const renewed = valueOf(await sessions.renew(ctx.caller));
        setSessionCookies(ctx.koa, renewed);
        return sessionAnswer(renewed);
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
        const page = valueOf(await tickets.listTickets(ctx.caller, input));
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
      history: ticketProcedure.input(op.history.input).query(async ({ ctx, input }) =>
        historyOutput(
          valueOf(
            await tickets.history(ctx.caller, input.id, {
              start: input.start,
              count: input.count,
            }),
          ),
        ),
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
        const leave = changes.admitStream(ctx.caller.session.id);
        if (!leave) {
          raise({
            code: 'TOO_MANY_REQUESTS',
            message: `at most ${STREAMS_PER_SESSION} live streams per session; close one first`,
            retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS,
          });
        }
        let session: ReturnType<typeof followSession> | undefined;
        try {
          session = followSession(sessions, ctx.caller, recheckMs, ctx.koa.state.log, ctx.inFlight);
          const stop = signal ? AbortSignal.any([signal, session.ended]) : session.ended;
          const tenant = ctx.caller.actor.tenant;
          for await (const change of changes.follow(tenant, input?.lastEventId, stop)) {
            yield tracked(String(change.eventId), changeOutput(change));
          }
        } catch (error) {
          rethrow(error);
        } finally {
          session?.stop();
          leave();
        }
        // A logout, an expiry or a removed user ends the stream with the table's 401.
        if (session.endedBy) raise(session.endedBy);
      }),
    }),
  });
}

export type AppRouter = ReturnType<typeof createTrpcRouter>;
