import type { Log } from './logger.js';

/** The session the client holds, as the server last described it. */
export interface SessionInfo {
  readonly userId: string;
  readonly userName: string;
  readonly tenant: string;
  /** When the session ends unless it is renewed (the server's `authTokenValidUntil`). */
  readonly validUntil: Date;
  /** A site admin administers every resource of the tenant. */
  readonly siteAdmin: boolean;
  /** The resources of the tenant the user administers, as of the last login, renewal or status. */
  readonly adminOf: readonly AdministeredResource[];
}

/** A resource (an API or an app) the user administers. */
export interface AdministeredResource {
  readonly id: string;
  readonly type: 'api' | 'app';
}

/** What login, renewal and status answer (the server's session answer). */
export interface LoginAnswer {
  readonly userName: string;
  readonly userFDN: string;
  readonly fedmemberid: string;
  readonly authTokenValidUntil: string;
  readonly siteAdmin: boolean;
  readonly adminOf: readonly AdministeredResource[];
}

/** Without a measured session length, renew when less than this remains. */
const DEFAULT_RENEW_BEFORE_MS = 60_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps the session alive: before a call, when less than a third of the session's length
 * remains, it renews first; concurrent calls share that one renewal. It never logs in again (the
 * client keeps no password): once the session is gone, calls fail `unauthenticated`.
 */
export class SessionKeeper {
  private info: SessionInfo | undefined;
  /** The session's length as last granted, to renew when a third of it remains. */
  private lengthMs: number | undefined;
  /** False once a renewal did not move the expiry (the server's maximum session age). */
  private extendable = true;
  private renewing: Promise<void> | undefined;
  private holders = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly renewCall: () => Promise<unknown>,
    private readonly now: () => Date,
    private readonly log: Log,
  ) {}

  get session(): SessionInfo | undefined {
    return this.info;
  }

  /** Takes the session a login or renewal granted (`granted`), or a status described. */
  update(answer: LoginAnswer, how: 'granted' | 'described'): void {
    const validUntil = new Date(answer.authTokenValidUntil);
    const previous = this.info?.validUntil.getTime();
    if (how === 'granted') {
      this.lengthMs = Math.max(validUntil.getTime() - this.now().getTime(), 1000);
      this.extendable = previous === undefined || validUntil.getTime() > previous;
    }
    this.info = {
      userId: answer.userFDN,
      userName: answer.userName,
      tenant: answer.fedmemberid,
      validUntil,
      siteAdmin: answer.siteAdmin,
      adminOf: answer.adminOf.map(({ id, type }) => ({ id, type })),
    };
    this.schedule();
  }

  /** A login starts afresh. */
  reset(): void {
    this.info = undefined;
    this.lengthMs = undefined;
    this.extendable = true;
    this.schedule();
  }

  /** How long before the end the session is renewed. */
  private renewBeforeMs(): number {
    return this.lengthMs === undefined ? DEFAULT_RENEW_BEFORE_MS : this.lengthMs / 3;
  }

  private renewalDue(): boolean {
    if (!this.info || !this.extendable) return false;
    const remaining = this.info.validUntil.getTime() - this.now().getTime();
    // Past its end the session is gone; the call itself will say so.
    return remaining > 0 && remaining < this.renewBeforeMs();
  }

  /** Renews first when the session is about to end; one renewal for all concurrent callers. */
  async ensureFresh(): Promise<void> {
    if (!this.renewalDue()) return;
    this.renewing ??= this.renewCall()
      .then(
        () => this.log.debug('renewed the session', { validUntil: this.info?.validUntil }),
        (error: unknown) => this.log.warn('could not renew the session', { error }),
      )
      .finally(() => {
        this.renewing = undefined;
      });
    await this.renewing;
  }

  /**
   * While something holds the session (a live changes stream), it is renewed in time even when
   * no call is made; answers the release.
   */
  hold(): () => void {
    this.holders += 1;
    this.schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.holders === 0 || !this.info || !this.extendable) return;
    const due = this.info.validUntil.getTime() - this.renewBeforeMs() - this.now().getTime();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.ensureFresh().finally(() => this.schedule());
      },
      // After the due time; at least a few seconds apart when a renewal failed.
      Math.min(Math.max(due + 1000, 5000), MAX_TIMER_MS),
    );
    // Node: a pending renewal alone does not keep the process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }
}
