import type Database from 'better-sqlite3';
import {
  callerQuery,
  toCaller,
  toSession,
  toUser,
  type CallerRow,
  type SessionRow,
  type UserRow,
} from '../rows.js';
import {
  decideLoginAttempt,
  type CallerRecord,
  type LoginAdmission,
  type LoginFailures,
  type LoginThrottlePolicy,
  type ResourceRecord,
  type SessionRecord,
  type UserRecord,
} from '../store.js';
import type { Transactions } from './transactions.js';

/** How many callers the cache keeps at most (about 1 KiB each): the oldest read goes first. */
const MAX_CACHED_CALLERS = 1_000;

const deepFreeze = (caller: CallerRecord): CallerRecord => {
  Object.freeze(caller.session);
  Object.freeze(caller.user);
  Object.freeze(caller.adminOf);
  return Object.freeze(caller);
};

/**
 * The SQLite store's accounts: users, resources and their admins, the login throttle and
 * sessions, over the store's connection and its cache of prepared statements.
 */
export class SqliteAccounts {
  /**
   * Callers read so far, by session id, while nothing they were read from can have changed:
   * SQLite's `data_version` (which moves when another connection, of this process or another,
   * commits) is as it was, and this connection has written nothing a caller is read from since
   * (`forgetCallers`).
   */
  private readonly callers = new Map<string, CallerRecord | undefined>();
  private callersVersion: unknown;

  constructor(
    private readonly transactions: Transactions,
    private readonly sql: (text: string) => Database.Statement,
  ) {}

  /**
   * Drops the callers read so far; called right after every write of this connection that can
   * change one (sessions, users, rights, provisioning: see storeCalls.ts), before any other call
   * can run.
   */
  forgetCallers(): void {
    this.callers.clear();
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.sql('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  async getUsers(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.sql(`SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))`).all(
      JSON.stringify([...new Set(ids)]),
    ) as UserRow[];
    return rows.map(toUser);
  }

  async findUsersByEmail(email: string, tenant?: string): Promise<UserRecord[]> {
    const rows = (
      tenant === undefined
        ? this.sql('SELECT * FROM users WHERE email = ? ORDER BY id').all(email.toLowerCase())
        : this.sql('SELECT * FROM users WHERE email = ? AND tenant = ?').all(
            email.toLowerCase(),
            tenant,
          )
    ) as UserRow[];
    return rows.map(toUser);
  }

  async getResource(id: string): Promise<ResourceRecord | undefined> {
    return this.sql('SELECT id, tenant, type, name FROM resources WHERE id = ?').get(id) as
      ResourceRecord | undefined;
  }

  async adminResourceIds(userId: string): Promise<string[]> {
    return (
      this.sql(
        'SELECT resource_id FROM resource_admins WHERE user_id = ? ORDER BY resource_id',
      ).all(userId) as {
        resource_id: string;
      }[]
    ).map((row) => row.resource_id);
  }

  async adminResources(userId: string): Promise<ResourceRecord[]> {
    return this.sql(
      `SELECT r.id, r.tenant, r.type, r.name FROM resource_admins a
       JOIN resources r ON r.id = a.resource_id
       JOIN users u ON u.id = a.user_id AND u.tenant = r.tenant
       WHERE a.user_id = ? ORDER BY r.id`,
    ).all(userId) as ResourceRecord[];
  }

  async getLoginFailures(key: string): Promise<LoginFailures | undefined> {
    const row = this.sql('SELECT count, last_failure_at FROM login_failures WHERE key = ?').get(
      key,
    ) as { count: number; last_failure_at: number } | undefined;
    return row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
  }

  async recordLoginFailure(key: string, now: Date): Promise<void> {
    this.countLoginFailure(key, now);
  }

  private countLoginFailure(key: string, now: Date): void {
    this.sql(
      `INSERT INTO login_failures (key, count, last_failure_at) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET count = count + 1, last_failure_at = excluded.last_failure_at`,
    ).run(key, now.getTime());
  }

  async admitLoginAttempt(
    key: string,
    now: Date,
    policy: LoginThrottlePolicy,
  ): Promise<LoginAdmission> {
    // One write transaction (synchronous, so no other call of this process runs inside it; BEGIN
    // IMMEDIATE keeps other processes out): the read, the decision and the count.
    return this.transactions.write(() => {
      const row = this.sql('SELECT count, last_failure_at FROM login_failures WHERE key = ?').get(
        key,
      ) as { count: number; last_failure_at: number } | undefined;
      const previous = row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
      const admission = decideLoginAttempt(previous, now, policy);
      if (admission.admitted) this.countLoginFailure(key, admission.at);
      return admission;
    });
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.sql('DELETE FROM login_failures WHERE key = ?').run(key);
  }

  async createSession(session: SessionRecord, ifPasswordHash?: string): Promise<boolean> {
    // One statement: the check and the insert cannot be split by a change of the password.
    return (
      this.sql(
        `INSERT INTO sessions (id, user_id, tenant, csrf_token, login_at, expires_at, ended_at)
         SELECT @id, @userId, @tenant, @csrfToken, @loginAt, @expiresAt, NULL
         WHERE @hash IS NULL
            OR EXISTS (SELECT 1 FROM users WHERE id = @userId AND password_hash = @hash)`,
      ).run({
        id: session.id,
        userId: session.userId,
        tenant: session.tenant,
        csrfToken: session.csrfToken,
        loginAt: session.loginAt.getTime(),
        expiresAt: session.expiresAt.getTime(),
        hash: ifPasswordHash ?? null,
      }).changes === 1
    );
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.sql('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async getCaller(sessionId: string): Promise<CallerRecord | undefined> {
    // Read before the caller: a commit landing between the two moves it again, and the next
    // call reads afresh.
    const version = this.sql('PRAGMA data_version').pluck().get();
    if (version !== this.callersVersion) {
      this.callers.clear();
      this.callersVersion = version;
    }
    if (this.callers.has(sessionId)) return this.callers.get(sessionId);
    const row = this.sql(callerQuery('?', 'json_group_array(r.resource_id)', "'[]'")).get(
      sessionId,
    ) as CallerRow | undefined;
    // Shared by every request of the session until forgotten: frozen, so none can change it.
    const caller = row && deepFreeze(toCaller(row));
    // Bounded: past the limit, the oldest entry goes (the live sessions of a busy server fit).
    if (this.callers.size >= MAX_CACHED_CALLERS) {
      this.callers.delete(this.callers.keys().next().value!);
    }
    this.callers.set(sessionId, caller);
    return caller;
  }

  async renewSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    const result = this.sql(
      'UPDATE sessions SET expires_at = ? WHERE id = ? AND ended_at IS NULL AND expires_at > ?',
    ).run(expiresAt.getTime(), id, now.getTime());
    return result.changes === 1;
  }

  async endSession(id: string, now: Date): Promise<void> {
    this.sql('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL').run(
      now.getTime(),
      id,
    );
  }
}
