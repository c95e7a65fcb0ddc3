import type pg from 'pg';
import type { HistoryEntry, Ticket } from '@tickets/domain';
import { committedChange } from '../changeLog.js';
import { HISTORY_COLUMNS, historyValues, TICKET_COLUMNS, ticketValues } from '../rows.js';
import {
  CHANGE_RETENTION_MS,
  IDEMPOTENCY_TTL_MS,
  LOGIN_FAILURE_TTL_MS,
  type IdempotencyRecord,
  type ProvisionPlan,
  type ProvisionSummary,
  type TicketChange,
} from '../store.js';
import { appendChange, PURGE_CHANGES } from './changeFeed.js';

/**
 * The PostgreSQL store's statement helpers and its writes of tickets, history rows, idempotency
 * records and provisioning, each on the connection (or pool) it is given: the store decides the
 * transaction.
 */

/** A pooled connection or the pool itself: what a statement runs on. */
export type Db = pg.Pool | pg.PoolClient;

/** `$1, $2, …, $n` */
const placeholders = (n: number): string =>
  Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

export const all = async <R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  params: readonly unknown[] = [],
): Promise<R[]> => (await db.query<R>(text, params as unknown[])).rows;

export const one = async <R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  params: readonly unknown[] = [],
): Promise<R | undefined> => (await all<R>(db, text, params))[0];

/** Runs a write; answers how many rows it inserted, changed or removed. */
export const changes = async (
  db: Db,
  text: string,
  params: readonly unknown[] = [],
): Promise<number> => (await db.query(text, params as unknown[])).rowCount ?? 0;

const INSERT_TICKET = `INSERT INTO tickets (${TICKET_COLUMNS.join(', ')})
  VALUES (${placeholders(TICKET_COLUMNS.length)}) ON CONFLICT (id) DO NOTHING`;

const INSERT_HISTORY = `INSERT INTO history (${HISTORY_COLUMNS.join(', ')})
  VALUES (${placeholders(HISTORY_COLUMNS.length)}) RETURNING id`;

/**
 * Inserts an idempotency record unless its key is taken by one that has not expired (an expired
 * one is replaced); one row changed when stored.
 */
const SAVE_IDEMPOTENCY = `INSERT INTO idempotency (user_id, key, request_hash, outcome, created_at)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
    outcome = excluded.outcome, created_at = excluded.created_at
  WHERE idempotency.created_at < excluded.created_at - $6::bigint`;

/** Inserts a ticket row; false when the id is taken. */
export async function insertTicketRow(db: Db, ticket: Ticket): Promise<boolean> {
  return (await changes(db, INSERT_TICKET, ticketValues(ticket))) === 1;
}

/** Appends a history row; answers its id. */
export async function insertHistory(
  db: Db,
  ticketId: string,
  entry: HistoryEntry,
): Promise<number> {
  const row = await one<{ id: number }>(db, INSERT_HISTORY, historyValues(ticketId, entry));
  return row!.id;
}

/** Stores an idempotency record; false when its key is taken by one that has not expired. */
export async function insertIdempotency(db: Db, record: IdempotencyRecord): Promise<boolean> {
  const stored = await changes(db, SAVE_IDEMPOTENCY, [
    record.userId,
    record.key,
    record.requestHash,
    record.outcome,
    record.createdAt.getTime(),
    IDEMPOTENCY_TTL_MS,
  ]);
  return stored === 1;
}

/** Another request stored an outcome under the same idempotency key first. */
export class IdempotencyRace extends Error {}

/**
 * A change with its idempotency record, in the caller's transaction; `conflict` when the version
 * is no longer the expected one. Throws IdempotencyRace when the key was taken meanwhile: the
 * transaction must roll back.
 */
export async function commitChangeIn(
  db: Db,
  change: TicketChange,
): Promise<{ historyId: number; eventId: number } | 'conflict'> {
  const { ticket } = change;
  // Waits for a concurrent change of the row, then checks the version it committed.
  const updated = await changes(
    db,
    `UPDATE tickets SET state = $1, step = $2, updated = $3, version = $4, comment_count = $5
     WHERE id = $6 AND version = $7`,
    [
      ticket.state,
      ticket.step,
      ticket.updated,
      ticket.version,
      ticket.commentCount,
      ticket.id,
      change.expectedVersion,
    ],
  );
  if (updated !== 1) return 'conflict';
  const historyId = await insertHistory(db, ticket.id, change.history);
  if (change.idempotency && !(await insertIdempotency(db, change.idempotency)))
    throw new IdempotencyRace();
  return { historyId, eventId: await appendChange(db, committedChange(change)) };
}

/** The next free ticket number of a tenant; in the caller's transaction. */
export async function allocateTicketNumberIn(db: Db, tenant: string): Promise<number> {
  for (;;) {
    const row = await one<{ ticket_seq: number }>(
      db,
      'UPDATE tenants SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq',
      [tenant],
    );
    if (!row) throw new Error(`allocateTicketNumber: no tenant ${tenant}`);
    const taken = await one(db, 'SELECT 1 FROM tickets WHERE id = $1', [
      `ticket${row.ticket_seq}.${tenant}`,
    ]);
    if (!taken) return row.ticket_seq;
  }
}

/** Removes what has expired by `now`; in the caller's transaction. */
export async function purgeExpiredIn(db: Db, now: Date): Promise<void> {
  const t = now.getTime();
  await db.query('DELETE FROM idempotency WHERE created_at < $1', [t - IDEMPOTENCY_TTL_MS]);
  await db.query('DELETE FROM login_failures WHERE last_failure_at < $1', [
    t - LOGIN_FAILURE_TTL_MS,
  ]);
  await db.query('DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $2', [t, t - 60_000]);
  await db.query(PURGE_CHANGES, [t - CHANGE_RETENTION_MS]);
}

/** Provisioning's writes; inside the caller's transaction. */
export async function applyProvisionIn(db: Db, plan: ProvisionPlan): Promise<ProvisionSummary> {
  let tenants = 0;
  let workflows = 0;
  let users = 0;
  let resources = 0;
  let tickets = 0;
  for (const tenant of plan.tenants) {
    tenants += await changes(
      db,
      `INSERT INTO tenants (id, name) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name
       WHERE tenants.name IS DISTINCT FROM excluded.name`,
      [tenant.id, tenant.name],
    );
    if (tenant.workflow) {
      const current = await one<{ xml: string }>(
        db,
        'SELECT w.xml FROM tenants t JOIN workflows w ON w.id = t.workflow_id WHERE t.id = $1',
        [tenant.id],
      );
      if (current?.xml !== tenant.workflow.xml) {
        const { id } = (await one<{ id: number }>(
          db,
          'INSERT INTO workflows (tenant, name, xml, created) VALUES ($1, $2, $3, $4) RETURNING id',
          [tenant.id, tenant.workflow.name, tenant.workflow.xml, new Date().toISOString()],
        ))!;
        await db.query('UPDATE tenants SET workflow_id = $1 WHERE id = $2', [id, tenant.id]);
        workflows += 1;
      }
    }
  }
  for (const user of plan.users) {
    const before = await one<{ password_hash: string }>(
      db,
      'SELECT password_hash FROM users WHERE id = $1',
      [user.id],
    );
    // A new password ends the user's sessions: whoever held the old one is logged out.
    if (before && before.password_hash !== user.passwordHash) {
      await db.query('UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL', [
        Date.now(),
        user.id,
      ]);
    }
    users += await changes(
      db,
      `INSERT INTO users (id, tenant, email, name, password_hash, site_admin)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name,
         password_hash = excluded.password_hash, site_admin = excluded.site_admin
       WHERE (users.email, users.name, users.password_hash, users.site_admin) IS DISTINCT FROM
             (excluded.email, excluded.name, excluded.password_hash, excluded.site_admin)`,
      [
        user.id,
        user.tenant,
        user.email.toLowerCase(),
        user.name,
        user.passwordHash,
        user.siteAdmin ? 1 : 0,
      ],
    );
  }
  for (const resource of plan.resources) {
    let changed = await changes(
      db,
      `INSERT INTO resources (id, tenant, type, name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name
       WHERE (resources.type, resources.name) IS DISTINCT FROM (excluded.type, excluded.name)`,
      [resource.id, resource.tenant, resource.type, resource.name],
    );
    const wanted = [...new Set(resource.admins)];
    changed += await changes(
      db,
      'DELETE FROM resource_admins WHERE resource_id = $1 AND NOT (user_id = ANY($2::text[]))',
      [resource.id, wanted],
    );
    for (const userId of wanted) {
      changed += await changes(
        db,
        'INSERT INTO resource_admins (resource_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [resource.id, userId],
      );
    }
    resources += changed > 0 ? 1 : 0;
  }
  for (const { ticket, history } of plan.tickets) {
    // A provisioned ticket follows its tenant's workflow as it is after this plan.
    const tenant = await one<{ workflow_id: number | null }>(
      db,
      'SELECT workflow_id FROM tenants WHERE id = $1',
      [ticket.tenant],
    );
    const workflowId = tenant?.workflow_id ?? undefined;
    if (await insertTicketRow(db, { ...ticket, workflowId })) {
      for (const entry of history) await insertHistory(db, ticket.id, entry);
      tickets += 1;
    }
  }
  return { tenants, workflows, users, resources, tickets };
}
