import type Database from 'better-sqlite3';
import type { HistoryEntry, Ticket } from '@tickets/domain';
import { committedChange, createdChange } from '../changeLog.js';
import { HISTORY_COLUMNS, historyValues, ticketParams } from '../rows.js';
import {
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type ProvisionPlan,
  type ProvisionSummary,
  type TicketChange,
} from '../store.js';
import type { SqliteChangeFeed } from './changeFeed.js';

/** Another request stored an outcome under the same idempotency key first. */
export class IdempotencyRace extends Error {}

const INSERT_HISTORY = `INSERT INTO history (${HISTORY_COLUMNS.join(', ')})
  VALUES (${HISTORY_COLUMNS.map(() => '?').join(', ')})`;

/**
 * The SQLite store's writes of tickets, history, idempotency records and provisioning: plain
 * synchronous statements, run inside a transaction (or a group-commit savepoint) of the caller.
 */
export class SqliteWrites {
  constructor(
    private readonly sql: (text: string) => Database.Statement,
    private readonly changes: SqliteChangeFeed,
  ) {}

  /** Inserts a ticket row; false when the id is taken. */
  insertTicketRow(ticket: Ticket): boolean {
    return (
      this.sql(
        `INSERT INTO tickets (id, tenant, title, description, environment, api_id, app_id, labels, tags, state, step,
           author_id, created, updated, version, comment_count, workflow_id)
         VALUES (@id, @tenant, @title, @description, @environment, @api_id, @app_id, @labels, @tags, @state, @step,
           @author_id, @created, @updated, @version, @comment_count, @workflow_id)
         ON CONFLICT (id) DO NOTHING`,
      ).run(ticketParams(ticket)).changes === 1
    );
  }

  readonly insertHistory = (ticketId: string, entry: HistoryEntry): number =>
    Number(this.sql(INSERT_HISTORY).run(...historyValues(ticketId, entry)).lastInsertRowid);

  readonly insertIdempotency = (record: IdempotencyRecord): boolean =>
    this.sql(
      `INSERT INTO idempotency (user_id, key, request_hash, outcome, created_at)
       VALUES (@userId, @key, @requestHash, @outcome, @createdAt)
       ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
         outcome = excluded.outcome, created_at = excluded.created_at
       WHERE idempotency.created_at < excluded.created_at - @ttl`,
    ).run({ ...record, createdAt: record.createdAt.getTime(), ttl: IDEMPOTENCY_TTL_MS }).changes ===
    1;

  /**
   * A ticket with its first history rows, the idempotency record and its `created` change-log
   * row. Answers the change's eventId, or `id-taken`; throws IdempotencyRace when the key is
   * taken (the caller rolls back).
   */
  insertTicket(
    ticket: Ticket,
    history: readonly HistoryEntry[],
    idempotency?: IdempotencyRecord,
  ): number | 'id-taken' {
    if (!this.insertTicketRow(ticket)) return 'id-taken';
    for (const entry of history) this.insertHistory(ticket.id, entry);
    if (idempotency && !this.insertIdempotency(idempotency)) throw new IdempotencyRace();
    return this.changes.append(createdChange(ticket));
  }

  /**
   * A change of a ticket, only if its version is still the expected one: the ticket, its history
   * row, the idempotency record and the change-log row. `conflict` writes nothing; throws
   * IdempotencyRace when the key is taken (the caller rolls back the rows written before).
   */
  applyChange(change: TicketChange): { historyId: number; eventId: number } | 'conflict' {
    const { ticket } = change;
    const updated = this.sql(
      `UPDATE tickets SET state = @state, step = @step, updated = @updated, version = @version,
         comment_count = @comment_count
       WHERE id = @id AND version = @expected`,
    ).run({
      // Only the columns a change sets (not the whole row, labels and tags serialised).
      id: ticket.id,
      state: ticket.state,
      step: ticket.step,
      updated: ticket.updated,
      version: ticket.version,
      comment_count: ticket.commentCount,
      expected: change.expectedVersion,
    });
    if (updated.changes !== 1) return 'conflict';
    const historyId = this.insertHistory(ticket.id, change.history);
    if (change.idempotency && !this.insertIdempotency(change.idempotency))
      throw new IdempotencyRace();
    return { historyId, eventId: this.changes.append(committedChange(change)) };
  }

  /** Provisioning's writes; inside the caller's transaction. */
  applyProvision(plan: ProvisionPlan): ProvisionSummary {
    let tenants = 0;
    let workflows = 0;
    let users = 0;
    let resources = 0;
    let tickets = 0;
    for (const tenant of plan.tenants) {
      tenants += this.sql(
        `INSERT INTO tenants (id, name) VALUES (@id, @name)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name`,
      ).run({ id: tenant.id, name: tenant.name }).changes;
      if (tenant.workflow) {
        const current = this.sql(
          'SELECT w.xml FROM tenants t JOIN workflows w ON w.id = t.workflow_id WHERE t.id = ?',
        ).get(tenant.id) as { xml: string } | undefined;
        if (current?.xml !== tenant.workflow.xml) {
          const id = this.sql(
            'INSERT INTO workflows (tenant, name, xml, created) VALUES (?, ?, ?, ?)',
          ).run(
            tenant.id,
            tenant.workflow.name,
            tenant.workflow.xml,
            new Date().toISOString(),
          ).lastInsertRowid;
          this.sql('UPDATE tenants SET workflow_id = ? WHERE id = ?').run(id, tenant.id);
          workflows += 1;
        }
      }
    }
    for (const user of plan.users) {
      const before = this.sql('SELECT password_hash FROM users WHERE id = ?').get(user.id) as
        { password_hash: string } | undefined;
      // A new password ends the user's sessions: whoever held the old one is logged out.
      if (before && before.password_hash !== user.passwordHash) {
        this.sql('UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL').run(
          Date.now(),
          user.id,
        );
      }
      users += this.sql(
        `INSERT INTO users (id, tenant, email, name, password_hash, site_admin)
         VALUES (@id, @tenant, @email, @name, @password_hash, @site_admin)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name,
           password_hash = excluded.password_hash, site_admin = excluded.site_admin
         WHERE (email, name, password_hash, site_admin) IS NOT
               (excluded.email, excluded.name, excluded.password_hash, excluded.site_admin)`,
      ).run({
        id: user.id,
        tenant: user.tenant,
        email: user.email.toLowerCase(),
        name: user.name,
        password_hash: user.passwordHash,
        site_admin: user.siteAdmin ? 1 : 0,
      }).changes;
    }
    for (const resource of plan.resources) {
      let changed = this.sql(
        `INSERT INTO resources (id, tenant, type, name) VALUES (@id, @tenant, @type, @name)
         ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name
         WHERE (type, name) IS NOT (excluded.type, excluded.name)`,
      ).run({
        id: resource.id,
        tenant: resource.tenant,
        type: resource.type,
        name: resource.name,
      }).changes;
      const current = (
        this.sql('SELECT user_id FROM resource_admins WHERE resource_id = ?').all(resource.id) as {
          user_id: string;
        }[]
      ).map((row) => row.user_id);
      const wanted = new Set(resource.admins);
      for (const userId of current) {
        if (!wanted.has(userId)) {
          changed += this.sql(
            'DELETE FROM resource_admins WHERE resource_id = ? AND user_id = ?',
          ).run(resource.id, userId).changes;
        }
      }
      for (const userId of wanted) {
        changed += this.sql(
          'INSERT INTO resource_admins (resource_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
        ).run(resource.id, userId).changes;
      }
      resources += changed > 0 ? 1 : 0;
    }
    for (const { ticket, history } of plan.tickets) {
      // A provisioned ticket follows its tenant's workflow as it is after this file.
      const tenant = this.sql('SELECT workflow_id FROM tenants WHERE id = ?').get(ticket.tenant) as
        { workflow_id: number | null } | undefined;
      const workflowId = tenant?.workflow_id ?? undefined;
      if (this.insertTicketRow({ ...ticket, workflowId })) {
        for (const entry of history) this.insertHistory(ticket.id, entry);
        tickets += 1;
      }
    }
    return { tenants, workflows, users, resources, tickets };
  }
}
