import { parseTicketId, type TicketId } from '@tickets/domain';
import { ProblemError } from '../errors/appError.js';
import type { AppContext } from '../http/context.js';
import {
  isWriteMethod,
  type Authenticator,
  type RequestCredentials,
} from '../service/authenticator.js';
import type { Caller } from '../service/sessionService.js';

/** What authentication reads of a Koa request. */
export function credentialsOf(ctx: AppContext): RequestCredentials {
  return {
    cookieHeader: ctx.get('Cookie'),
    header: (name) => ctx.get(name),
    fedmemberid: ctx.query['fedmemberid'] ?? ctx.query['fedmemberId'],
    write: isWriteMethod(ctx.method),
  };
}

/** A REST handler of a request that names no ticket, given its authenticated caller. */
export type RequestHandler = (ctx: AppContext, caller: Caller) => Promise<void>;
/** A REST handler of a ticket-scoped request, given its caller and the parsed TicketID. */
export type TicketHandler = (ctx: AppContext, caller: Caller, id: TicketId) => Promise<void>;

/**
 * Wraps handlers so that they run only for an authenticated caller, which they receive typed
 * (never `ctx.state.caller!`): the session of the tenant the request is for, and its CSRF header
 * on writes. Every failure is a 401 thrown to the error middleware.
 */
export function sessionGuard(authenticator: Authenticator) {
  return {
    request:
      (handler: RequestHandler) =>
      async (ctx: AppContext): Promise<void> =>
        handler(ctx, await authenticator.forRequest(credentialsOf(ctx))),
    ticket:
      (handler: TicketHandler) =>
      async (ctx: AppContext): Promise<void> => {
        const parsed = parseTicketId(ctx.params['id']);
        if (!parsed.ok) {
          // No tenant to take the session from: the session comes first all the same (§7's
          // order), taken as a request naming no ticket takes it; only a caller who has one
          // learns that the TicketID is malformed.
          await authenticator.forRequest(credentialsOf(ctx));
          throw new ProblemError(parsed.error);
        }
        const id = parsed.value.id;
        await handler(ctx, await authenticator.forTicket(credentialsOf(ctx), id), id);
      },
  };
}

export type SessionGuard = ReturnType<typeof sessionGuard>;
