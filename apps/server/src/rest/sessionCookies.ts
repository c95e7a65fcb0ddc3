import type { AppContext } from '../http/context.js';
import { authCookieName, csrfCookieName, type IssuedSession } from '../service/sessionService.js';

/** Sets a session's two cookies: the signed, HttpOnly auth token and the CSRF value scripts read. */
export function setSessionCookies(ctx: AppContext, issued: IssuedSession): void {
  const { tenant, expiresAt } = issued.caller.session;
  const common = {
    path: '/',
    sameSite: 'lax' as const,
    secure: ctx.secure,
    expires: expiresAt,
    overwrite: true,
  };
  ctx.cookies.set(authCookieName(tenant), issued.authCookie, { ...common, httpOnly: true });
  if (issued.csrfCookie !== undefined) {
    ctx.cookies.set(csrfCookieName(tenant), issued.csrfCookie, { ...common, httpOnly: false });
  }
}

/** Expires both cookies of a tenant. */
export function clearSessionCookies(ctx: AppContext, tenant: string): void {
  const expired = {
    path: '/',
    sameSite: 'lax' as const,
    secure: ctx.secure,
    expires: new Date(0),
    overwrite: true,
  };
  ctx.cookies.set(authCookieName(tenant), 'none', { ...expired, httpOnly: true });
  ctx.cookies.set(csrfCookieName(tenant), 'none', { ...expired, httpOnly: false });
}
