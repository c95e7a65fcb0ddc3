import { parse as parseCookies } from 'cookie';
import { isTenantId, parseTicketId } from '@tickets/domain';
import type { Next } from 'koa';
import type { CsrfMode } from '../config.js';
import { ProblemError } from '../errors/appError.js';
import type { AppContext } from '../http/context.js';
import { authCookieName, csrfHeaderName, type SessionService } from '../service/sessionService.js';

const AUTH_COOKIE_PREFIX = 'AtmoAuthToken_';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Which tenant a request is for. Ticket-scoped routes take it from the TicketID suffix; others
 * from `?fedmemberid=`, else from the only `AtmoAuthToken_*` cookie sent.
 */
export function tenantOfRequest(ctx: AppContext, scope: 'ticket' | 'tenant'): string {
  if (scope === 'ticket') {
    const parsed = parseTicketId(ctx.params['id']);
    if (!parsed.ok) throw new ProblemError(parsed.error);
    return parsed.value.tenant;
  }
  const fedmemberid = ctx.query['fedmemberid'] ?? ctx.query['fedmemberId'];
  if (fedmemberid !== undefined) {
    if (typeof fedmemberid !== 'string' || !isTenantId(fedmemberid)) {
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: 'fedmemberid',
        message: 'fedmemberid is not a valid tenant id',
      });
    }
    return fedmemberid;
  }
  const tenants = Object.keys(parseCookies(ctx.get('Cookie')))
    .filter((name) => name.startsWith(AUTH_COOKIE_PREFIX))
    .map((name) => name.slice(AUTH_COOKIE_PREFIX.length));
  if (tenants.length > 1) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'fedmemberid',
      message: 'sessions of several tenants were sent; say which with ?fedmemberid=',
    });
  }
  if (tenants.length === 0 || !isTenantId(tenants[0]!)) {
    throw new ProblemError({
      code: 'UNAUTHENTICATED',
      message: 'login required: no session cookie',
    });
  }
  return tenants[0]!;
}

export interface RequireSessionOptions {
  readonly sessions: SessionService;
  readonly csrf: CsrfMode;
}

/**
 * Authentication for every operation but login: the tenant's `AtmoAuthToken_{tenant}` cookie,
 * then the `X-Csrf-Token_{tenant}` header on writes (or on every request with CSRF `all`).
 * Both failures are 401. Sets `ctx.state.caller`.
 */
export function requireSession(options: RequireSessionOptions) {
  return (scope: 'ticket' | 'tenant') =>
    async function requireSessionMiddleware(ctx: AppContext, next: Next): Promise<void> {
      const tenant = tenantOfRequest(ctx, scope);
      const caller = await options.sessions.authenticate(
        tenant,
        ctx.cookies.get(authCookieName(tenant)),
      );
      if (!caller.ok) throw new ProblemError(caller.error);
      const csrfNeeded =
        options.csrf === 'all' || (options.csrf === 'write' && !SAFE_METHODS.has(ctx.method));
      if (
        csrfNeeded &&
        !options.sessions.checkCsrf(caller.value, ctx.get(csrfHeaderName(tenant)) || undefined)
      ) {
        throw new ProblemError({
          code: 'UNAUTHENTICATED',
          message: `the ${csrfHeaderName(tenant)} header is missing or does not match the session`,
        });
      }
      ctx.state.caller = caller.value;
      await next();
    };
}
