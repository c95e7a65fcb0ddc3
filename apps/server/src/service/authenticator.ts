import { parse as parseCookies } from 'cookie';
import { isTenantId, tenantOfTicket, type TicketId } from '@tickets/domain';
import type { CsrfMode } from '../config.js';
import { ProblemError } from '../errors/appError.js';
import {
  authCookieName,
  csrfHeaderName,
  type Caller,
  type SessionService,
} from './sessionService.js';

const AUTH_COOKIE_PREFIX = 'AtmoAuthToken_';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What authentication reads of a request, whichever adapter (REST or tRPC) received it. */
export interface RequestCredentials {
  /** The `Cookie` header ('' when none). */
  readonly cookieHeader: string;
  /** A request header by (case-insensitive) name; '' when absent. */
  header(name: string): string;
  /** `?fedmemberid=` as the query string had it. */
  readonly fedmemberid: string | readonly string[] | undefined;
  /** Whether the request changes state (a non-GET, or a tRPC mutation): CSRF applies. */
  readonly write: boolean;
}

export interface AuthenticatorOptions {
  readonly sessions: SessionService;
  readonly csrf: CsrfMode;
}

/**
 * Authentication for every operation but login, for REST and tRPC alike: the tenant's
 * `AtmoAuthToken_{tenant}` cookie, then the `X-Csrf-Token_{tenant}` header on writes (or on every
 * request with CSRF `all`). Both failures are 401.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * Which tenant a request that names no ticket is for: `?fedmemberid=`, else the only
   * `AtmoAuthToken_*` cookie sent.
   */
  tenantOfRequest(request: RequestCredentials): string {
    const { fedmemberid } = request;
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
    const tenants = Object.keys(parseCookies(request.cookieHeader))
      .filter((name) => name.startsWith(AUTH_COOKIE_PREFIX))
      .map((name) => name.slice(AUTH_COOKIE_PREFIX.length));
    if (tenants.length > 1) {
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: 'fedmemberid',
        message: 'sessions of several tenants were sent; say which with ?fedmemberid=',
      });
    }
    const [tenant] = tenants;
    if (tenant === undefined || !isTenantId(tenant)) {
      throw new ProblemError({
        code: 'UNAUTHENTICATED',
        message: 'login required: no session cookie',
      });
    }
    return tenant;
  }

  /** The caller of a request that names no ticket. */
  forRequest(request: RequestCredentials): Promise<Caller> {
    return this.authenticate(request, this.tenantOfRequest(request));
  }

  /** The caller of a ticket-scoped request: the session of the ticket's tenant. */
  forTicket(request: RequestCredentials, id: TicketId): Promise<Caller> {
    return this.authenticate(request, tenantOfTicket(id));
  }

  private async authenticate(request: RequestCredentials, tenant: string): Promise<Caller> {
    const { sessions, csrf } = this.options;
    // Raw, as sent: the session service decodes and checks the signed value itself.
    const cookie = parseCookies(request.cookieHeader, { decode: (value) => value })[
      authCookieName(tenant)
    ];
    const caller = await sessions.authenticate(tenant, cookie);
    if (!caller.ok) throw new ProblemError(caller.error);
    const csrfNeeded = csrf === 'all' || (csrf === 'write' && request.write);
    if (
      csrfNeeded &&
      !sessions.checkCsrf(caller.value, request.header(csrfHeaderName(tenant)) || undefined)
    ) {
      throw new ProblemError({
        code: 'UNAUTHENTICATED',
        message: `the ${csrfHeaderName(tenant)} header is missing or does not match the session`,
      });
    }
    return caller.value;
  }
}

/** Whether a request method changes state. */
export const isWriteMethod = (method: string): boolean => !SAFE_METHODS.has(method);
