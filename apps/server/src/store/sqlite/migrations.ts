import type Database from 'better-sqlite3';
import { assertSchemaKnown } from '../schemaVersion.js';

/**
 * Versioned schema migrations, applied in order inside one transaction each. Never edit a
 * released migration: add a new one.
 */
export const SQLITE_MIGRATIONS: readonly {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        ticket_seq INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants(id),
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        site_admin INTEGER NOT NULL DEFAULT 0 CHECK (site_admin IN (0, 1))
      ) STRICT;
      CREATE UNIQUE INDEX users_tenant_email ON users (tenant, email);
      CREATE INDEX users_email ON users (email);

      CREATE TABLE resources (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants(id),
        type TEXT NOT NULL CHECK (type IN ('api', 'app')),
        name TEXT NOT NULL
      ) STRICT;

      CREATE TABLE resource_admins (
        resource_id TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id),
        PRIMARY KEY (resource_id, user_id)
      ) STRICT;
      CREATE INDEX resource_admins_user ON resource_admins (user_id);

      CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_failure_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        tenant TEXT NOT NULL REFERENCES tenants(id),
        csrf_token TEXT NOT NULL,
        login_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        ended_at INTEGER
      ) STRICT;

      CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants(id),
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        environment TEXT NOT NULL CHECK (environment IN ('Sandbox', 'Production')),
        api_id TEXT REFERENCES resources(id),
        app_id TEXT REFERENCES resources(id),
        labels TEXT NOT NULL,
        tags TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('OPEN', 'RESOLVED', 'CLOSED', 'REOPEN')),
        step INTEGER NOT NULL,
        author_id TEXT NOT NULL REFERENCES users(id),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        version INTEGER NOT NULL,
        comment_count INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX tickets_by_tenant ON tickets (tenant, created DESC, id);

      CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        action TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        comments TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id),
        created TEXT NOT NULL
      ) STRICT;
      CREATE INDEX history_by_ticket ON history (ticket_id, id);
      CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
      CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;

      CREATE TABLE idempotency (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        outcome TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, key)
      ) STRICT;
      CREATE INDEX idempotency_by_age ON idempotency (created_at);
    `,
  },
  {
    version: 2,
    name: 'workflow definitions per tenant',
    sql: `
      CREATE TABLE workflows (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        xml TEXT NOT NULL,
        created TEXT NOT NULL
      ) STRICT;
      -- NULL: the built-in default workflow.
      ALTER TABLE tenants ADD COLUMN workflow_id INTEGER REFERENCES workflows(id);
      ALTER TABLE tickets ADD COLUMN workflow_id INTEGER REFERENCES workflows(id);
    `,
  },
  {
    version: 3,
    name: 'change log of tickets',
    sql: `
      -- One row per committed change of a ticket, written in the change's transaction; read by
      -- the live feed in id order. AUTOINCREMENT: an id is never handed out again, even after
      -- the newest rows are purged, so a client's last eventId never names a later change.
      -- SQLite has one writer at a time, so ids are taken, and committed, in order. A log
      -- purged after a week: no references to tickets or users, nothing to check on the way in.
      CREATE TABLE ticket_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('created', 'action', 'comment')),
        action TEXT,
        from_state TEXT,
        to_state TEXT NOT NULL,
        version INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        changed_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX ticket_changes_by_tenant ON ticket_changes (tenant, id);
      CREATE INDEX ticket_changes_by_age ON ticket_changes (changed_at);
    `,
  },
  {
    version: 4,
    name: 'indexes for the list page',
    sql: `
      -- The list page's filters, each with the page's order: a filtered page (and its offset)
      -- is a walk of one index, not a scan of the tenant's tickets.
      CREATE INDEX tickets_by_api ON tickets (tenant, api_id, state, created DESC, id);
      CREATE INDEX tickets_by_app ON tickets (tenant, app_id, state, created DESC, id);
      CREATE INDEX tickets_by_author ON tickets (tenant, author_id, state, created DESC, id);
      CREATE INDEX tickets_by_state ON tickets (tenant, state, created DESC, id);

      -- How many tickets each (tenant, API, app, author, state) has, kept by triggers in the
      -- writing transaction: the list's total is a sum over a few rows, not a count of up to
      -- millions. '' stands for no API or no app.
      CREATE TABLE ticket_counts (
        tenant TEXT NOT NULL,
        api_id TEXT NOT NULL,
        app_id TEXT NOT NULL,
        author_id TEXT NOT NULL,
        state TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (tenant, api_id, app_id, author_id, state)
      ) STRICT;
      INSERT INTO ticket_counts
        SELECT tenant, coalesce(api_id, ''), coalesce(app_id, ''), author_id, state, count(*)
        FROM tickets GROUP BY 1, 2, 3, 4, 5;
      CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_counts VALUES (NEW.tenant, coalesce(NEW.api_id, ''),
          coalesce(NEW.app_id, ''), NEW.author_id, NEW.state, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER ticket_counts_update AFTER UPDATE OF tenant, api_id, app_id, author_id, state
        ON tickets
        WHEN (OLD.tenant, OLD.api_id, OLD.app_id, OLD.author_id, OLD.state)
          IS NOT (NEW.tenant, NEW.api_id, NEW.app_id, NEW.author_id, NEW.state)
      BEGIN
        UPDATE ticket_counts SET n = n - 1
          WHERE (tenant, api_id, app_id, author_id, state) = (OLD.tenant,
            coalesce(OLD.api_id, ''), coalesce(OLD.app_id, ''), OLD.author_id, OLD.state);
        INSERT INTO ticket_counts VALUES (NEW.tenant, coalesce(NEW.api_id, ''),
          coalesce(NEW.app_id, ''), NEW.author_id, NEW.state, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
        UPDATE ticket_counts SET n = n - 1
          WHERE (tenant, api_id, app_id, author_id, state) = (OLD.tenant,
            coalesce(OLD.api_id, ''), coalesce(OLD.app_id, ''), OLD.author_id, OLD.state);
      END;
      ANALYZE;
    `,
  },
  {
    version: 5,
    name: 'several changes per transaction in the change log',
    // PostgreSQL's change ids come from transaction ids and needed a new scale for this; here
    // they are an autoincrement, and a transaction could always write any number of changes.
    // The version keeps both stores' migrations in step.
    sql: '',
  },
  {
    version: 6,
    name: 'ticket counts for the list page',
    // PostgreSQL gets the list's counts here (a base plus appended deltas, for concurrent
    // writers); SQLite has kept them since version 4, updated in place by its one writer.
    sql: '',
  },
];

/** Applies the migrations not yet applied, on `db`; returns their versions. */
export function applyMigrations(
  db: Database.Database,
  sql: (text: string) => Database.Statement,
): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
  );
  const applied = new Set(
    (sql('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (row) => row.version,
    ),
  );
  assertSchemaKnown(applied, SQLITE_MIGRATIONS);
  const done: number[] = [];
  for (const migration of SQLITE_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      sql('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    }).immediate();
    done.push(migration.version);
  }
  return done;
}
