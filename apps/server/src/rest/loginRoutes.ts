import Router, { type RouterMiddleware } from '@koa/router';
import contentType from 'content-type';
import { z } from 'zod';
import type { CsrfMode } from '../config.js';
import { ProblemError } from '../errors/appError.js';
import type { AppContext, AppState } from '../http/context.js';
import { negotiateData, sendData } from '../http/negotiate.js';
import { noControlCharacters } from '../service/ticketInput.js';
import { readBody } from '../http/readBody.js';
import {
  authCookieName,
  csrfCookieName,
  type IssuedSession,
  type SessionService,
} from '../service/sessionService.js';
import { loginResponseJson, XML_ROOTS } from './representations.js';

const Credentials = z.object({
  email: z
    .string('email is required')
    .trim()
    .min(1, 'email is required')
    .max(320, 'email is at most 320 characters')
    .refine(...noControlCharacters('email')),
  password: z
    .string('password is required')
    .min(1, 'password is required')
    .max(1024, 'password is at most 1024 characters'),
});

export interface LoginRoutesOptions {
  readonly sessions: SessionService;
  readonly csrf: CsrfMode;
  readonly authenticated: (scope: 'tenant') => RouterMiddleware<AppState>;
}

function setSessionCookies(ctx: AppContext, issued: IssuedSession): void {
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

function clearSessionCookies(ctx: AppContext, tenant: string): void {
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

/** A Content-Type's media type; '' when missing or malformed (a 415 then, not a 500). */
function mediaTypeOf(header: string): string {
  try {
    return header ? contentType.parse(header).type : '';
  } catch {
    return '';
  }
}

/** Login, session status, renewal and logout (`/api/login/...`). */
export function loginRoutes(options: LoginRoutesOptions): Router<AppState> {
  const router = new Router<AppState>();
  const { sessions, authenticated } = options;

  router.post('/api/login', async (ctx) => {
    const mediaType = negotiateData(ctx);
    const type = mediaTypeOf(ctx.get('Content-Type'));
    if (!type.endsWith('json')) {
      throw new ProblemError({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'log in with a JSON body: {"email", "password"}',
      });
    }
    const parsed = Credentials.safeParse(await readBody(ctx, 'Login'));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: issue.path.map(String).join('.') || 'body',
        message: issue.message,
      });
    }
    const tenant = ctx.query['fedmemberid'] ?? ctx.query['fedmemberId'];
    if (Array.isArray(tenant)) {
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: 'fedmemberid',
        message: 'give fedmemberid once',
      });
    }
    const issued = await sessions.login({ ...parsed.data, tenant });
    if (!issued.ok) throw new ProblemError(issued.error);
    setSessionCookies(ctx, issued.value);
    ctx.state.log.info({ userId: issued.value.caller.user.id }, 'login');
    sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson(issued.value));
  });

  router.get('/api/login/status', authenticated('tenant'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson({ caller: ctx.state.caller! }));
  });

  router.post('/api/login/renewToken', authenticated('tenant'), async (ctx) => {
    const mediaType = negotiateData(ctx);
    const renewed = await sessions.renew(ctx.state.caller!);
    if (!renewed.ok) throw new ProblemError(renewed.error);
    setSessionCookies(ctx, renewed.value);
    sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson(renewed.value));
  });

  const logout = async (ctx: AppContext): Promise<void> => {
    const mediaType = negotiateData(ctx);
    const caller = ctx.state.caller!;
    await sessions.logout(caller);
    clearSessionCookies(ctx, caller.session.tenant);
    ctx.state.log.info({ userId: caller.user.id }, 'logout');
    sendData(ctx, mediaType, XML_ROOTS.status, { Status: 'Success' });
  };
  router.get('/api/login/endsession', authenticated('tenant'), logout);
  router.post('/api/login/logout', authenticated('tenant'), logout);

  return router;
}
