import Router from '@koa/router';
import { OPERATIONS, wire, XML_ROOTS } from '@tickets/contract';
import contentType from 'content-type';
import { ProblemError } from '../errors/appError.js';
import type { AppContext, AppState } from '../http/context.js';
import { hangUpSignal } from '../http/hangUp.js';
import { negotiateData, sendData } from '../http/negotiate.js';
import { readBody } from '../http/readBody.js';
import type { SessionGuard } from '../middleware/session.js';
import type { Caller, SessionService } from '../service/sessionService.js';
import { clearSessionCookies, setSessionCookies } from './sessionCookies.js';
import { decode } from './codec.js';
import { loginResponseJson } from './representations.js';

export interface LoginRoutesOptions {
  readonly sessions: SessionService;
  readonly guard: SessionGuard;
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
  const { sessions, guard } = options;
  const op = OPERATIONS;

  router.post(op.login.rest.path, async (ctx) => {
    const mediaType = negotiateData(ctx);
    const type = mediaTypeOf(ctx.get('Content-Type'));
    if (!type.endsWith('json')) {
      throw new ProblemError({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'log in with a JSON body: {"email", "password"}',
      });
    }
    const credentials = decode(wire.LoginBody, await readBody(ctx, 'Login'));
    const tenant = ctx.query['fedmemberid'] ?? ctx.query['fedmemberId'];
    if (Array.isArray(tenant)) {
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: 'fedmemberid',
        message: 'give fedmemberid once',
      });
    }
    const issued = await sessions.login({ ...credentials, tenant }, hangUpSignal(ctx.res));
    if (!issued.ok) throw new ProblemError(issued.error);
    setSessionCookies(ctx, issued.value);
    ctx.state.log.info({ userId: issued.value.caller.user.id }, 'login');
    sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson(issued.value));
  });

  router.get(
    op.sessionStatus.rest.path,
    guard.request(async (ctx, caller) => {
      const mediaType = negotiateData(ctx);
      sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson({ caller }));
    }),
  );

  router.post(
    op.renew.rest.path,
    guard.request(async (ctx, caller) => {
      const mediaType = negotiateData(ctx);
      const renewed = await sessions.renew(caller);
      if (!renewed.ok) throw new ProblemError(renewed.error);
      setSessionCookies(ctx, renewed.value);
      sendData(ctx, mediaType, XML_ROOTS.login, loginResponseJson(renewed.value));
    }),
  );

  const logout = async (ctx: AppContext, caller: Caller): Promise<void> => {
    const mediaType = negotiateData(ctx);
    await sessions.logout(caller);
    clearSessionCookies(ctx, caller.session.tenant);
    ctx.state.log.info({ userId: caller.user.id }, 'logout');
    sendData(ctx, mediaType, XML_ROOTS.status, { Status: 'Success' });
  };
  router.get(op.endSession.rest.path, guard.request(logout));
  router.post(op.logout.rest.path, guard.request(logout));

  return router;
}
