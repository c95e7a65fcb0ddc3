import { createHmac, hash, randomUUID, timingSafeEqual } from 'node:crypto';
import { isTenantId, type Actor } from '@tickets/domain';
import type { CsrfMode } from '../config.js';
import type { Outcome } from '../errors/appError.js';
import type {
  CallerRecord,
  LoginThrottlePolicy,
  ResourceRecord,
  SessionRecord,
  Store,
  UserRecord,
} from '../store/store.js';
import { passwordChecks, type PasswordChecks } from './passwordChecks.js';
import { decoyHash, verifyPassword } from './passwords.js';

const unauthenticated = (message = 'login required: no valid session'): Outcome<never> => ({
  ok: false,
  error: { code: 'UNAUTHENTICATED', message },
});

/** Failed logins for one account beyond this many are slowed down: 1 s, 2 s, 4 s ... up to a minute. */
export const LOGIN_FAILURES_BEFORE_DELAY = 3;
const LOGIN_THROTTLE: LoginThrottlePolicy = {
  failuresBeforeDelay: LOGIN_FAILURES_BEFORE_DELAY,
  maxDelayMs: 60_000,
};

export const authCookieName = (tenant: string): string => `AtmoAuthToken_${tenant}`;
export const csrfCookieName = (tenant: string): string => `Csrf-Token_${tenant}`;
export const csrfHeaderName = (tenant: string): string => `X-Csrf-Token_${tenant}`;

/** A logged-in caller: the session, the user, and the actor the rules see. */
export interface Caller {
  readonly session: SessionRecord;
  readonly user: UserRecord;
  readonly actor: Actor;
}

/** What a login or renewal hands back: the caller and the cookie values to set. */
export interface IssuedSession {
  readonly caller: Caller;
  /** The signed `AtmoAuthToken_{tenant}` value (already URL-encoded). */
  readonly authCookie: string;
  /** The `Csrf-Token_{tenant}` value (URL-encoded), unless CSRF is off. */
  readonly csrfCookie: string | undefined;
}

export interface SessionServiceOptions {
  readonly store: Store;
  /** The bound on password checks at once (default: the process-wide one). */
  readonly passwordChecks?: PasswordChecks;
  readonly secret: string;
  readonly now: () => Date;
  readonly sessionMinutes: number;
  readonly sessionMaxMinutes: number;
  readonly csrf: CsrfMode;
}

const MINUTE = 60_000;

/** How many verified auth cookie values a session service remembers (see `readAuthCookie`). */
const VERIFIED_COOKIES_KEPT = 1024;

/** What a verified auth cookie says; the session record decides whether it still holds. */
interface AuthCookie {
  readonly tokenId: string;
  readonly userId: string;
  readonly expiresAt: number;
}

const tooManyLogins: Outcome<never> = {
  ok: false,
  error: {
    code: 'UNAVAILABLE',
    message: 'too many logins are being checked; try again in a second',
    retryAfterSeconds: 1,
  },
};

const abandoned: Outcome<never> = {
  ok: false,
  error: {
    code: 'UNAVAILABLE',
    message: 'the client hung up before its password was checked',
    retryAfterSeconds: 1,
  },
};

const toCaller = ({ session, user, adminOf }: CallerRecord): Caller => ({
  session,
  user,
  actor: { userId: user.id, tenant: user.tenant, siteAdmin: user.siteAdmin, adminOf: [...adminOf] },
});

/** One-shot (`crypto.hash`): about half the cost of a Hash object, on every CSRF check. */
function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Equal strings, compared in constant time (over their hashes, so lengths do not leak). */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Sessions: signed cookie values (HMAC-SHA256 with the server secret) naming a server-side
 * session record, so that logout and expiry are real; a CSRF value bound to each session.
 */
export class SessionService {
  private readonly passwordChecks: PasswordChecks;
  /**
   * Cookie values whose signature checked out, as sent: a client sends the same value with
   * every request, and the check (an HMAC and two hashes) is most of what authentication costs
   * besides the session read, which still happens every time. The secret never changes for the
   * life of the service; the oldest entry goes when the map is full.
   */
  private readonly verifiedCookies = new Map<string, AuthCookie>();

  constructor(private readonly options: SessionServiceOptions) {
    this.passwordChecks = options.passwordChecks ?? passwordChecks;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.options.secret).update(payload).digest('base64url');
  }

  /** `TokenID=…,claimed_id=…,issueTime=…,expirationTime=…,UserName=…,UserFDN=…,sig=…`, URL-encoded. */
  private authCookieValue(session: SessionRecord, user: UserRecord, issuedAt: Date): string {
    const payload = [
      `TokenID=${session.id}`,
      `claimed_id=urn:atmosphere:user:${session.tenant}:${user.id}`,
      `issueTime=${issuedAt.getTime()}`,
      `expirationTime=${session.expiresAt.getTime()}`,
      `UserName=${encodeURIComponent(user.name)}`,
      `UserFDN=${user.id}`,
    ].join(',');
    return encodeURIComponent(`${payload},sig=${this.sign(payload)}`);
  }

  /** Reads and checks the signature of a cookie value; undefined when forged or malformed. */
  private readAuthCookie(value: string): AuthCookie | undefined {
    const known = this.verifiedCookies.get(value);
    if (known) return known;
    const cookie = this.verifyAuthCookie(value);
    if (cookie) {
      if (this.verifiedCookies.size >= VERIFIED_COOKIES_KEPT) {
        this.verifiedCookies.delete(this.verifiedCookies.keys().next().value!);
      }
      this.verifiedCookies.set(value, cookie);
    }
    return cookie;
  }

  private verifyAuthCookie(value: string): AuthCookie | undefined {
    const decoded = safeDecode(value);
    if (!decoded || decoded.length > 2048) return undefined;
    const at = decoded.lastIndexOf(',sig=');
    if (at < 0) return undefined;
    const payload = decoded.slice(0, at);
    if (!constantTimeEquals(decoded.slice(at + 5), this.sign(payload))) return undefined;
    const fields = new Map(
      payload.split(',').map((pair) => {
        const eq = pair.indexOf('=');
        return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
      }),
    );
    const tokenId = fields.get('TokenID');
    const userId = fields.get('UserFDN');
    const expiresAt = Number(fields.get('expirationTime'));
    if (!tokenId || !userId || !Number.isFinite(expiresAt)) return undefined;
    return { tokenId, userId, expiresAt };
  }

  private async callerFor(session: SessionRecord, user: UserRecord): Promise<Caller> {
    const adminOf = await this.options.store.adminResourceIds(user.id);
    return toCaller({ session, user, adminOf });
  }

  private issue(caller: Caller, issuedAt: Date): IssuedSession {
    return {
      caller,
      authCookie: this.authCookieValue(caller.session, caller.user, issuedAt),
      csrfCookie:
        this.options.csrf === 'off' ? undefined : encodeURIComponent(caller.session.csrfToken),
    };
  }

  /**
   * The throttle, then the accounts with this e-mail (in `tenant`, when named). The store checks
   * and counts the attempt in one atomic step, so that of a burst of concurrent guesses, in this
   * process or in several on one database, exactly as many pass as would one after another; the
   * attempt counts as a failure before the slow password check (a success clears the count).
   */
  private async admitAttempt(
    throttleKey: string,
    email: string,
    tenant: string | undefined,
    now: Date,
  ): Promise<Outcome<UserRecord[]>> {
    const { store } = this.options;
    if (tenant !== undefined && !isTenantId(tenant)) {
      return {
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          field: 'fedmemberid',
          message: 'fedmemberid is not a valid tenant id',
        },
      };
    }
    const admission = await store.admitLoginAttempt(throttleKey, now, LOGIN_THROTTLE);
    if (!admission.admitted) {
      const retryAfterSeconds = Math.ceil(admission.waitMs / 1000);
      return {
        ok: false,
        error: {
          code: 'TOO_MANY_REQUESTS',
          message: `too many failed logins for this account; try again in ${retryAfterSeconds} s`,
          retryAfterSeconds,
        },
      };
    }
    return { ok: true, value: await store.findUsersByEmail(email, tenant) };
  }

  /**
   * Logs a user in by e-mail and password. Unknown e-mail and wrong password give the same
   * answer; repeated failures for one account are slowed down (429 with a wait). A login whose
   * `hungUp` signal aborts while it waits for a password check (its client went away) leaves
   * the queue unchecked and uncounted.
   */
  async login(
    input: { email: string; password: string; tenant?: string | undefined },
    hungUp?: AbortSignal,
  ): Promise<Outcome<IssuedSession>> {
    const { store } = this.options;
    const now = this.options.now();
    const email = input.email.trim().toLowerCase();
    // Counted per e-mail, whichever tenant is named: a key that included `?fedmemberid=` would
    // let each spelling of the request start a fresh count (and, for accounts, tell them apart).
    const throttleKey = email;

    // A place among the password checks is taken first: when too many wait, the login is
    // refused (503) before anything is counted or read. The throttle counts the attempt before
    // the slow check (a success clears the count).
    const attempt = this.passwordChecks.run(
      async (): Promise<Outcome<(UserRecord | undefined)[]>> => {
        const admitted = await this.admitAttempt(throttleKey, email, input.tenant, now);
        if (!admitted.ok) return admitted;
        const candidates = admitted.value;
        // The password is checked before anything is said about the e-mail: an unknown e-mail
        // (checked against a decoy hash, for the same timing) and a wrong password answer alike.
        const verified = await Promise.all(
          (candidates.length > 0 ? candidates : [undefined]).map(async (candidate) =>
            (await verifyPassword(input.password, candidate?.passwordHash ?? (await decoyHash())))
              ? candidate
              : undefined,
          ),
        );
        return { ok: true, value: verified };
      },
      hungUp,
    );
    if (attempt === 'busy') return tooManyLogins;
    const checked = await attempt;
    if (checked === 'abandoned') return abandoned;
    if (!checked.ok) return checked;
    const verified = checked.value;
    const matching = verified.filter(
      (candidate): candidate is UserRecord => candidate !== undefined,
    );
    if (matching.length === 0) return unauthenticated('wrong e-mail or password');
    await store.clearLoginFailures(throttleKey);
    if (matching.length > 1) {
      return {
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          field: 'fedmemberid',
          message:
            'this e-mail and password belong to users of several tenants; say which with ?fedmemberid=',
        },
      };
    }
    const user = matching[0]!;

    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      tenant: user.tenant,
      csrfToken: `TokenID=${randomUUID()},issueTime=${now.getTime()}`,
      loginAt: now,
      expiresAt: new Date(
        Math.min(now.getTime() + this.options.sessionMinutes * MINUTE, this.maxExpiry(now)),
      ),
    };
    // Refused if the password changed while it was being checked (the change ends sessions).
    if (!(await store.createSession(session, user.passwordHash))) {
      return unauthenticated('wrong e-mail or password');
    }
    return { ok: true, value: this.issue(await this.callerFor(session, user), now) };
  }

  private maxExpiry(loginAt: Date): number {
    return loginAt.getTime() + this.options.sessionMaxMinutes * MINUTE;
  }

  /** The caller behind a tenant's auth cookie value, or 401 when it is missing, forged, ended or expired. */
  async authenticate(tenant: string, cookieValue: string | undefined): Promise<Outcome<Caller>> {
    if (!cookieValue) return unauthenticated();
    const cookie = this.readAuthCookie(cookieValue);
    const now = this.options.now().getTime();
    if (!cookie || cookie.expiresAt <= now)
      return unauthenticated('the session is invalid or has expired');
    // One read: the session, its user and their rights, as they stand now (a store may keep
    // them, only while nothing they were read from has changed).
    const found = await this.options.store.getCaller(cookie.tokenId);
    if (!found || found.session.tenant !== tenant || found.session.userId !== cookie.userId) {
      return unauthenticated('the session is invalid or has expired');
    }
    if (found.session.endedAt !== undefined || found.session.expiresAt.getTime() <= now) {
      return unauthenticated('the session has ended or expired; log in again');
    }
    return { ok: true, value: toCaller(found) };
  }

  /**
   * The caller of a session authenticated earlier, as it stands now: a long-lived request (a live
   * stream) follows its session record, so a renewal extends it and a logout, an expiry or a
   * removed user ends it. Rights are read again.
   */
  async recheck(caller: Caller): Promise<Outcome<Caller>> {
    const now = this.options.now().getTime();
    const found = await this.options.store.getCaller(caller.session.id);
    if (!found) return unauthenticated('the session has ended or expired; log in again');
    const { session } = found;
    if (session.endedAt !== undefined || session.expiresAt.getTime() <= now) {
      return unauthenticated('the session has ended or expired; log in again');
    }
    return { ok: true, value: toCaller(found) };
  }

  /** Whether a request's CSRF header carries this session's value (URL-encoded or not). */
  checkCsrf(caller: Caller, header: string | undefined): boolean {
    if (header === undefined || header === '') return false;
    const value = safeDecode(header) ?? header;
    return constantTimeEquals(value, caller.session.csrfToken);
  }

  /** A new expiry: now + the session length, never past the maximum after login. */
  async renew(caller: Caller): Promise<Outcome<IssuedSession>> {
    const now = this.options.now();
    const expiresAt = new Date(
      Math.min(
        now.getTime() + this.options.sessionMinutes * MINUTE,
        this.maxExpiry(caller.session.loginAt),
      ),
    );
    const renewed = await this.options.store.renewSession(caller.session.id, expiresAt, now);
    if (!renewed) return unauthenticated('the session has ended or expired; log in again');
    return {
      ok: true,
      value: this.issue({ ...caller, session: { ...caller.session, expiresAt } }, now),
    };
  }

  /** The resources of the caller's tenant that the caller administers, with their types, in one read. */
  administered(caller: Caller): Promise<ResourceRecord[]> {
    return this.options.store.adminResources(caller.user.id);
  }

  /** Ends the session on the server; its cookies no longer work. */
  async logout(caller: Caller): Promise<void> {
    await this.options.store.endSession(caller.session.id, this.options.now());
  }
}
