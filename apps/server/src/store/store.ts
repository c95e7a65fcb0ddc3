import type { HistoryEntry, Ticket, TicketId, TicketState } from '@tickets/domain';

/**
 * Persistence behind one interface, implemented for SQLite and for PostgreSQL alike (the same
 * conformance suite runs against both). Every method that changes more than one row does so in
 * one transaction.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Applies pending schema migrations; answers the versions applied (none when up to date). */
  migrate(): Promise<number[]>;

  // Directory
  getTenant(id: string): Promise<TenantRecord | undefined>;
  getWorkflow(id: number): Promise<StoredWorkflow | undefined>;
  countTenants(): Promise<number>;
  getUser(id: string): Promise<UserRecord | undefined>;
  /** Users with this e-mail (case-insensitive), in one tenant or in all. */
  findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]>;
  getResource(id: string): Promise<ResourceRecord | undefined>;
  /** Ids of the resources the user administers. */
  adminResourceIds(userId: string): Promise<string[]>;
  /** The resources of the user's tenant that the user administers, in one read, by id. */
  adminResources(userId: string): Promise<ResourceRecord[]>;

  // Failed logins, keyed by tenant and e-mail so that unknown accounts are slowed down alike
  getLoginFailures(key: string): Promise<LoginFailures | undefined>;
  recordLoginFailure(key: string, now: Date): Promise<void>;
  /**
   * The throttle's check and the count of the attempt as one atomic step (a row lock on
   * PostgreSQL, a write transaction on SQLite): an attempt within the wait `policy` sets after
   * the failures so far is refused and not counted; one admitted counts as a failure at `now`.
   * Concurrent attempts for one key, from any process, are admitted exactly as many as would
   * be one after another.
   */
  admitLoginAttempt(key: string, now: Date, policy: LoginThrottlePolicy): Promise<LoginAdmission>;
  clearLoginFailures(key: string): Promise<void>;

  // Sessions
  /**
   * Creates a session; with `ifPasswordHash`, only while the user's password hash is still that
   * one (false otherwise): a new password ends the user's sessions, so none may start on the old.
   */
  createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * What authenticating a request needs, in one read: the session, its user and the resources
   * the user administers (undefined when either record is gone). Nothing is cached: a logout or
   * a change of rights, by any process, shows in the next call.
   */
  getCaller(sessionId: string): Promise<CallerRecord | undefined>;
  /** Moves the expiry of a live session; false when it is ended or already expired. */
  renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean>;
  endSession(id: string, now: Date): Promise<void>;

  // Tickets
  /** The next free local number for `ticket{n}.{tenant}`. */
  allocateTicketNumber(tenant: string): Promise<number>;
  /**
   * Inserts a ticket with its first history rows, the idempotency record and its `created`
   * change-log row, in one transaction. `id-taken`: the id exists; `conflict`: another request
   * stored the idempotency key first (neither writes anything).
   */
  insertTicket(
    ticket: Ticket,
    history: readonly HistoryEntry[],
    idempotency?: IdempotencyRecord,
  ): Promise<'inserted' | 'id-taken' | 'conflict'>;
  getTicket(id: string): Promise<Ticket | undefined>;
  /** A ticket with its author's name (the id when the author is gone), in one read. */
  getTicketWithAuthor(id: string): Promise<TicketWithAuthor | undefined>;
  /**
   * One page of the tenant's tickets that match the filters, newest first (ties by id), and how
   * many match in all, both from one snapshot. With `after`, the page starts right after that
   * ticket in this order (then `start` more are skipped); when it is not a ticket of the tenant,
   * the page is empty and `unknownAfter` says so.
   */
  listTickets(query: TicketQuery): Promise<TicketList>;
  /**
   * Writes a change (transition or comment): the ticket, its history row, any comments, the
   * idempotency record and the change-log row (`action`, or `comment` for COMMENT_ACTION), in
   * one transaction, only if the stored version is still `expectedVersion`. Returns the new
   * history row id and the change's eventId, or `conflict` when another change won (or another
   * request stored the same idempotency key first); a conflict writes nothing, no change either.
   */
  commitChange(change: TicketChange): Promise<{ historyId: number; eventId: number } | 'conflict'>;
  /** Users by id, for names in responses. */
  getUsers(ids: readonly string[]): Promise<UserRecord[]>;
  /** A ticket's whole history, oldest first. */
  listHistory(ticketId: string): Promise<StoredHistoryEntry[]>;
  /**
   * One page of a ticket's history, oldest first (by the history row's id, through the index on
   * (ticket_id, id)), and how many entries the ticket has in all, both from one snapshot.
   */
  pageHistory(
    ticketId: string,
    page: HistoryPaging,
  ): Promise<{ total: number; entries: StoredHistoryEntry[] }>;

  // Idempotency
  getIdempotency(userId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Stores an outcome unless the key is already taken by a record that has not expired (see
   * IDEMPOTENCY_TTL_MS); returns what is stored now.
   */
  saveIdempotency(record: IdempotencyRecord): Promise<IdempotencyRecord>;

  // The change log: every committed change of a ticket, in order, for the live feed
  /**
   * The tenant's changes with an eventId above `afterEventId`, ascending, at most `limit` (a
   * positive integer). A change is listed only once no change with a smaller eventId can still
   * commit, so a reader that resumes after the last eventId it delivered never misses one.
   */
  listChanges(tenant: string, afterEventId: number, limit: number): Promise<TicketChangeRecord[]>;
  /** The highest eventId that listChanges could return now, of any tenant (0 when none). */
  latestEventId(): Promise<number>;
  /**
   * Calls `listener` soon after any change is committed, by this process or another one sharing
   * the database (also, on PostgreSQL, after the watch connection came back: something may have
   * been missed; and when a change that was held back becomes listable). It may be called when
   * there is nothing new: the listener reads listChanges to see. Returns a function that stops
   * watching; `close` stops every watcher.
   */
  watchChanges(listener: () => void): Promise<() => Promise<void>>;

  // Provisioning (one transaction; nothing applied when it throws). It writes no change-log
  // rows: provisioned tickets are set up, not changed, and nobody watches them being made.
  applyProvision(plan: ProvisionPlan): Promise<ProvisionSummary>;

  /**
   * Removes expired sessions, idempotency records and failure counters, and changes older than
   * CHANGE_RETENTION_MS.
   */
  purgeExpired(now: Date): Promise<void>;
  /**
   * Resolves once every write committed so far survives a power cut. Writes are acknowledged
   * only then anyway; reads answer at once, so an answer that shows what was read (rather than
   * a change it made) waits for this first, and never shows what a crash could take back.
   */
  flushed(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  /** The stored workflow new tickets of the tenant follow; absent for the built-in default. */
  readonly workflowId?: number | undefined;
}

/** A tenant's own workflow definition, kept as the XML it was loaded from. */
export interface StoredWorkflow {
  readonly id: number;
  readonly tenant: string;
  readonly name: string;
  readonly xml: string;
}

export interface UserRecord {
  readonly id: string;
  readonly tenant: string;
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string;
  readonly siteAdmin: boolean;
}

export interface ResourceRecord {
  readonly id: string;
  readonly tenant: string;
  readonly type: 'api' | 'app';
  readonly name: string;
}

export interface LoginFailures {
  readonly count: number;
  readonly lastFailureAt: Date;
}

/** Failures beyond `failuresBeforeDelay` wait 1 s, 2 s, 4 s ... up to `maxDelayMs`. */
export interface LoginThrottlePolicy {
  readonly failuresBeforeDelay: number;
  readonly maxDelayMs: number;
}

/**
 * Admitted (and counted at `at`: `failures` is the count with this attempt), or refused for
 * `waitMs` more.
 */
export type LoginAdmission =
  | { readonly admitted: true; readonly failures: number; readonly at: Date }
  | { readonly admitted: false; readonly waitMs: number };

/**
 * The throttle's decision for an attempt at `now`, after the failures so far (none: undefined).
 * An attempt is taken to be no earlier than the last failure (another process, or a request
 * that waited less for its password check, may have counted one a moment "later"): the count's
 * time never goes back, and no wait is longer than the policy's.
 */
export function decideLoginAttempt(
  previous: LoginFailures | undefined,
  now: Date,
  policy: LoginThrottlePolicy,
): LoginAdmission {
  if (!previous) return { admitted: true, failures: 1, at: now };
  const at = Math.max(now.getTime(), previous.lastFailureAt.getTime());
  if (previous.count >= policy.failuresBeforeDelay) {
    const waitMs = Math.min(
      1000 * 2 ** (previous.count - policy.failuresBeforeDelay),
      policy.maxDelayMs,
    );
    const readyAt = previous.lastFailureAt.getTime() + waitMs;
    if (at < readyAt) return { admitted: false, waitMs: readyAt - at };
  }
  return { admitted: true, failures: previous.count + 1, at: new Date(at) };
}

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly tenant: string;
  readonly csrfToken: string;
  readonly loginAt: Date;
  readonly expiresAt: Date;
  readonly endedAt?: Date | undefined;
}

export interface CallerRecord {
  readonly session: SessionRecord;
  readonly user: UserRecord;
  /** Ids of the resources the user administers, sorted. */
  readonly adminOf: readonly string[];
}

export interface TicketQuery {
  readonly tenant: string;
  readonly apiId?: string | undefined;
  readonly appId?: string | undefined;
  readonly authorId?: string | undefined;
  readonly state?: TicketState | undefined;
  /** A ticket of the tenant: the page starts right after it (keyset paging). */
  readonly after?: string | undefined;
  readonly start: number;
  readonly count: number;
}

/** A ticket and its author's name (the author's id if the user is gone), read together. */
export interface TicketWithAuthor {
  readonly ticket: Ticket;
  readonly authorName: string;
}

/** A ticket as callers see it: the stored ticket plus its author's name, in one object. */
export interface TicketView extends Ticket {
  readonly authorName: string;
}

export interface TicketList {
  /** How many tickets match the filters (whatever `after` and `start`). */
  readonly total: number;
  /**
   * The page, each ticket with its author's name (one read, not one more per page), as the
   * service answers it: a page is built once, not copied on its way out.
   */
  readonly tickets: TicketView[];
  /** The `after` ticket is not one of the tenant's (nothing was listed). */
  readonly unknownAfter?: true;
}

export interface HistoryPaging {
  readonly start: number;
  readonly count: number;
}

export interface StoredHistoryEntry extends HistoryEntry {
  readonly id: number;
}

export interface TicketChange {
  readonly ticket: Ticket;
  readonly expectedVersion: number;
  readonly history: HistoryEntry;
  /**
   * The outcome kept under the caller's idempotency key, written in the change's transaction:
   * both or neither. A key already taken (and not expired) makes the change a conflict.
   */
  readonly idempotency?: IdempotencyRecord | undefined;
}

/**
 * How long an idempotency record holds its key. An older record is expired: callers ignore it,
 * and storing a new record under its key replaces it.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** How long a failed-login counter is kept after its last failure (purgeExpired removes it). */
export const LOGIN_FAILURE_TTL_MS = 60 * 60 * 1000;

/** One committed change of a ticket, as the live feed sends it. */
export interface TicketChangeRecord {
  /**
   * Increases with commit order, as far as a reader can tell: listChanges lists a change only
   * once every change with a smaller eventId has committed or failed. Global across tenants;
   * not dense (expect gaps).
   */
  readonly eventId: number;
  readonly tenant: string;
  readonly ticketId: TicketId;
  readonly kind: 'created' | 'action' | 'comment';
  /** The workflow action, or `comment`; absent for `created`. */
  readonly action?: string | undefined;
  /** The state before the change; absent for `created`. */
  readonly from?: TicketState | undefined;
  /** The state after the change. */
  readonly to: TicketState;
  /** The ticket's version after the change. */
  readonly version: number;
  readonly userId: string;
  /** ISO time of the change. */
  readonly at: string;
}

/**
 * How long changes stay replayable (purgeExpired removes older ones): a client that reconnects
 * within a week resumes where it was; one away longer must reload.
 */
export const CHANGE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** A stored outcome of a state-changing call, replayed for a retry with the same key. */
export interface IdempotencyRecord {
  readonly userId: string;
  readonly key: string;
  /** Hash of the operation, its target and its normalised input. */
  readonly requestHash: string;
  /** The outcome as JSON (`{ok, value}` or `{ok, error}`), rendered again by the adapter. */
  readonly outcome: string;
  readonly createdAt: Date;
}

export interface ProvisionPlan {
  /**
   * Tenants; one with a `workflow` gets it as the definition of its new tickets, unless its
   * current one has the same XML (existing tickets keep theirs).
   */
  readonly tenants: readonly (Omit<TenantRecord, 'workflowId'> & {
    readonly workflow?: { readonly name: string; readonly xml: string } | undefined;
  })[];
  /** Password hashes are computed by the caller, which keeps a stored hash whose password is unchanged. */
  readonly users: readonly UserRecord[];
  readonly resources: readonly (ResourceRecord & { readonly admins: readonly string[] })[];
  readonly tickets: readonly {
    readonly ticket: Ticket;
    readonly history: readonly HistoryEntry[];
  }[];
}

/** How many records provisioning created or changed (zero everywhere on a second run). */
export interface ProvisionSummary {
  readonly tenants: number;
  readonly workflows: number;
  readonly users: number;
  readonly resources: number;
  readonly tickets: number;
}
