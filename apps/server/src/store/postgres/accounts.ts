import {
  decideLoginAttempt,
  type LoginAdmission,
  type LoginFailures,
  type LoginThrottlePolicy,
  type ResourceRecord,
  type SessionRecord,
  type UserRecord,
} from '../store.js';
import { toSession, toUser, type SessionRow, type UserRow } from '../rows.js';
import { all, changes, one, type Db } from './writes.js';

/**
 * The PostgreSQL store's accounts: users, resources and their admins, the login throttle and
 * sessions, as statements on the connection (or pool) they are given; the store decides the
 * transaction and the retries.
 */

export async function getUser(db: Db, id: string): Promise<UserRecord | undefined> {
  const row = await one<UserRow>(db, 'SELECT * FROM users WHERE id = $1', [id]);
  return row && toUser(row);
}

export async function getUsers(db: Db, ids: readonly string[]): Promise<UserRecord[]> {
  if (ids.length === 0) return [];
  const rows = await all<UserRow>(db, 'SELECT * FROM users WHERE id = ANY($1::text[])', [
    [...new Set(ids)],
  ]);
  return rows.map(toUser);
}

export async function findUsersByEmail(
  db: Db,
  email: string,
  tenant?: string,
): Promise<UserRecord[]> {
  // Stored lower-cased (by JavaScript, as SQLite's store does), so compared as such.
  const rows =
    tenant === undefined
      ? await all<UserRow>(db, 'SELECT * FROM users WHERE email = $1 ORDER BY id', [
          email.toLowerCase(),
        ])
      : await all<UserRow>(db, 'SELECT * FROM users WHERE email = $1 AND tenant = $2', [
          email.toLowerCase(),
          tenant,
        ]);
  return rows.map(toUser);
}

export const getResource = (db: Db, id: string): Promise<ResourceRecord | undefined> =>
  one<ResourceRecord>(db, 'SELECT id, tenant, type, name FROM resources WHERE id = $1', [id]);

export async function adminResourceIds(db: Db, userId: string): Promise<string[]> {
  const rows = await all<{ resource_id: string }>(
    db,
    'SELECT resource_id FROM resource_admins WHERE user_id = $1 ORDER BY resource_id',
    [userId],
  );
  return rows.map((row) => row.resource_id);
}

export const adminResources = (db: Db, userId: string): Promise<ResourceRecord[]> =>
  all<ResourceRecord>(
    db,
    `SELECT r.id, r.tenant, r.type, r.name FROM resource_admins a
     JOIN resources r ON r.id = a.resource_id
     JOIN users u ON u.id = a.user_id AND u.tenant = r.tenant
     WHERE a.user_id = $1 ORDER BY r.id`,
    [userId],
  );

export async function getLoginFailures(db: Db, key: string): Promise<LoginFailures | undefined> {
  const row = await one<{ count: number; last_failure_at: number }>(
    db,
    'SELECT count, last_failure_at FROM login_failures WHERE key = $1',
    [key],
  );
  return row && { count: row.count, lastFailureAt: new Date(row.last_failure_at) };
}

export async function recordLoginFailure(db: Db, key: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO login_failures (key, count, last_failure_at) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET count = login_failures.count + 1,
       last_failure_at = excluded.last_failure_at`,
    [key, now.getTime()],
  );
}

/** Decides and counts a login attempt; in the caller's transaction. */
export async function admitLoginAttemptIn(
  db: Db,
  key: string,
  now: Date,
  policy: LoginThrottlePolicy,
): Promise<LoginAdmission> {
  // The upsert leaves the count as it was but locks the row (creating it, at 0, when there is
  // none): a concurrent attempt for this key, from any process, waits here until this
  // transaction has decided and counted, and then reads what it counted.
  const row = await one<{ count: number; last_failure_at: number }>(
    db,
    `INSERT INTO login_failures (key, count, last_failure_at) VALUES ($1, 0, $2)
     ON CONFLICT (key) DO UPDATE SET count = login_failures.count
     RETURNING count, last_failure_at`,
    [key, now.getTime()],
  );
  const previous =
    row && row.count > 0
      ? { count: row.count, lastFailureAt: new Date(Number(row.last_failure_at)) }
      : undefined;
  const admission = decideLoginAttempt(previous, now, policy);
  if (admission.admitted) {
    await db.query(
      'UPDATE login_failures SET count = count + 1, last_failure_at = $2 WHERE key = $1',
      [key, admission.at.getTime()],
    );
  }
  return admission;
}

export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db.query('DELETE FROM login_failures WHERE key = $1', [key]);
}

/** Stores a session (unless the password changed meanwhile); in the caller's transaction. */
export async function createSessionIn(
  db: Db,
  session: SessionRecord,
  ifPasswordHash?: string,
): Promise<boolean> {
  // FOR SHARE waits for a password change in flight; a change that comes later waits for this
  // transaction, and then ends the session made here.
  if (ifPasswordHash !== undefined) {
    const user = await one(
      db,
      'SELECT 1 FROM users WHERE id = $1 AND password_hash = $2 FOR SHARE',
      [session.userId, ifPasswordHash],
    );
    if (!user) return false;
  }
  await db.query(
    `INSERT INTO sessions (id, user_id, tenant, csrf_token, login_at, expires_at, ended_at)
     VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
    [
      session.id,
      session.userId,
      session.tenant,
      session.csrfToken,
      session.loginAt.getTime(),
      session.expiresAt.getTime(),
    ],
  );
  return true;
}

export async function getSession(db: Db, id: string): Promise<SessionRecord | undefined> {
  const row = await one<SessionRow>(db, 'SELECT * FROM sessions WHERE id = $1', [id]);
  return row && toSession(row);
}

export async function renewSession(
  db: Db,
  id: string,
  expiresAt: Date,
  now: Date,
): Promise<boolean> {
  const changed = await changes(
    db,
    'UPDATE sessions SET expires_at = $1 WHERE id = $2 AND ended_at IS NULL AND expires_at > $3',
    [expiresAt.getTime(), id, now.getTime()],
  );
  return changed === 1;
}

export async function endSession(db: Db, id: string, now: Date): Promise<void> {
  await db.query('UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL', [
    now.getTime(),
    id,
  ]);
}
