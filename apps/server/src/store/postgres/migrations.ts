import { MIGRATION_LOCK_CLASS, MIGRATION_LOCK_TIMEOUT } from './connection.js';
import { one, type Db } from './writes.js';

/**
 * Versioned schema migrations for PostgreSQL, applied in order inside one transaction each, under
 * an advisory lock so that several processes starting at once apply each version exactly once.
 * Never edit a released migration: add a new one.
 *
 * The schema means what SQLite's does (../sqlite/migrations.ts), version for version: the same
 * tables and columns, TEXT where SQLite has TEXT, BIGINT where it has INTEGER (times are epoch
 * milliseconds, flags 0 or 1). Identifiers and the ticket `created` time are `COLLATE "C"`, so that
 * they compare and sort bytewise as SQLite's BINARY collation does, whatever the database's locale.
 */
export const POSTGRES_MIGRATIONS: readonly {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE tenants (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        ticket_seq BIGINT NOT NULL DEFAULT 0
      );

      CREATE TABLE users (
        id TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        site_admin BIGINT NOT NULL DEFAULT 0 CHECK (site_admin IN (0, 1))
      );
      CREATE UNIQUE INDEX users_tenant_email ON users (tenant, email);
      CREATE INDEX users_email ON users (email);

      CREATE TABLE resources (
        id TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
        type TEXT NOT NULL CHECK (type IN ('api', 'app')),
        name TEXT NOT NULL
      );

      CREATE TABLE resource_admins (
        resource_id TEXT COLLATE "C" NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
        user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
        PRIMARY KEY (resource_id, user_id)
      );
      CREATE INDEX resource_admins_user ON resource_admins (user_id);

      CREATE TABLE login_failures (
        key TEXT COLLATE "C" PRIMARY KEY,
        count BIGINT NOT NULL,
        last_failure_at BIGINT NOT NULL
      );

      CREATE TABLE sessions (
        id TEXT COLLATE "C" PRIMARY KEY,
        user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
        tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
        csrf_token TEXT NOT NULL,
        login_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT
      );

      CREATE TABLE tickets (
        id TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        environment TEXT NOT NULL CHECK (environment IN ('Sandbox', 'Production')),
        api_id TEXT COLLATE "C" REFERENCES resources(id),
        app_id TEXT COLLATE "C" REFERENCES resources(id),
        labels TEXT NOT NULL,
        tags TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('OPEN', 'RESOLVED', 'CLOSED', 'REOPEN')),
        step BIGINT NOT NULL,
        author_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
        created TEXT COLLATE "C" NOT NULL,
        updated TEXT NOT NULL,
        version BIGINT NOT NULL,
        comment_count BIGINT NOT NULL
      );
      CREATE INDEX tickets_by_tenant ON tickets (tenant, created DESC, id);

      CREATE TABLE history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ticket_id TEXT COLLATE "C" NOT NULL REFERENCES tickets(id),
        action TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        comments TEXT NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
        created TEXT NOT NULL
      );
      CREATE INDEX history_by_ticket ON history (ticket_id, id);
      CREATE FUNCTION history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'history is append-only' USING ERRCODE = 'restrict_violation';
        END;
      $$;
      CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
        FOR EACH ROW EXECUTE FUNCTION history_is_append_only();
      CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
        FOR EACH ROW EXECUTE FUNCTION history_is_append_only();
      -- SQLite has no TRUNCATE; here it would bypass the row triggers, so it is refused as well.
      CREATE TRIGGER history_is_append_only_truncate BEFORE TRUNCATE ON history
        FOR EACH STATEMENT EXECUTE FUNCTION history_is_append_only();

      CREATE TABLE idempotency (
        user_id TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        request_hash TEXT NOT NULL,
        outcome TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, key)
      );
      CREATE INDEX idempotency_by_age ON idempotency (created_at);
    `,
  },
  {
    version: 2,
    name: 'workflow definitions per tenant',
    sql: `
      CREATE TABLE workflows (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        xml TEXT NOT NULL,
        created TEXT NOT NULL
      );
      -- NULL: the built-in default workflow.
      ALTER TABLE tenants ADD COLUMN workflow_id BIGINT REFERENCES workflows(id);
      ALTER TABLE tickets ADD COLUMN workflow_id BIGINT REFERENCES workflows(id);
    `,
  },
  {
    version: 3,
    name: 'change log of tickets',
    sql: `
      -- One row per committed change of a ticket, written in the change's transaction; read by
      -- the live feed in id order. The id is the writing transaction's own id (xid8, as a
      -- number), not a sequence's: see changeFeed.ts for why only that keeps the order safe for
      -- a reader that resumes after the last id it delivered. So a transaction writes at most
      -- one change (the primary key says so). A log purged after a week: no references to
      -- tickets or users, nothing to check on the way in.
      CREATE TABLE ticket_changes (
        id BIGINT PRIMARY KEY DEFAULT (pg_current_xact_id()::text::bigint),
        tenant TEXT COLLATE "C" NOT NULL,
        ticket_id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('created', 'action', 'comment')),
        action TEXT,
        from_state TEXT,
        to_state TEXT NOT NULL,
        version BIGINT NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        changed_at BIGINT NOT NULL
      );
      CREATE INDEX ticket_changes_by_tenant ON ticket_changes (tenant, id);
      CREATE INDEX ticket_changes_by_age ON ticket_changes (changed_at);
    `,
  },
  {
    version: 4,
    name: 'indexes for the list page',
    sql: `
      -- The list page's filters, each with the page's order: a filtered page (and its offset)
      -- is a walk of one index, and its count an index-only scan, not a scan of the tenant's
      -- tickets.
      CREATE INDEX tickets_by_api ON tickets (tenant, api_id, state, created DESC, id);
      CREATE INDEX tickets_by_app ON tickets (tenant, app_id, state, created DESC, id);
      CREATE INDEX tickets_by_author ON tickets (tenant, author_id, state, created DESC, id);
      CREATE INDEX tickets_by_state ON tickets (tenant, state, created DESC, id);
    `,
  },
  {
    version: 5,
    name: 'several changes per transaction in the change log',
    sql: `
      -- Concurrent changes are written together, several in one transaction (batchedChanges.ts),
      -- so a change's id becomes its transaction's id times 1024 plus its place in the batch
      -- (below 1024). Ordered as before: every id of a transaction that has ended is below
      -- 1024 times the oldest running one's. Ids written before this are smaller than any
      -- written after it, so a reader's last id stays a valid place to resume.
      ALTER TABLE ticket_changes
        ALTER COLUMN id SET DEFAULT (pg_current_xact_id()::text::bigint * 1024);
    `,
  },
  {
    version: 6,
    name: 'ticket counts for the list page',
    sql: `
      -- The list's total without counting its matches (a quarter of a million at 1M tickets):
      -- counts per (tenant, api_id, app_id, author_id, state), as SQLite's ticket_counts, kept
      -- as a base (ticket_counts) plus deltas the triggers append (ticket_count_deltas). A
      -- writer only appends: no row every change of a group updates, so concurrent changes do
      -- not queue on (or deadlock over) a counter. ticketCounts.ts folds the deltas into the
      -- base in one statement (moved rows leave the deltas as they reach the base, atomically);
      -- a reader sums both for the groups its filter matches, from one snapshot.
      CREATE TABLE ticket_counts (
        tenant TEXT COLLATE "C" NOT NULL,
        api_id TEXT COLLATE "C",
        app_id TEXT COLLATE "C",
        author_id TEXT COLLATE "C" NOT NULL,
        state TEXT NOT NULL,
        n BIGINT NOT NULL
      );
      -- A ticket without an API (or app) is a group too: NULLs are one value here.
      CREATE UNIQUE INDEX ticket_counts_by_group ON ticket_counts
        (tenant, api_id, app_id, author_id, state) NULLS NOT DISTINCT;

      -- No index, no key: appended to, summed and emptied whole; the fold keeps it small.
      CREATE TABLE ticket_count_deltas (
        tenant TEXT COLLATE "C" NOT NULL,
        api_id TEXT COLLATE "C",
        app_id TEXT COLLATE "C",
        author_id TEXT COLLATE "C" NOT NULL,
        state TEXT NOT NULL,
        n BIGINT NOT NULL
      );

      -- Inserts and deletes per statement, over its transition table: a statement that writes
      -- many tickets (provisioning, a seed) appends one delta per group, not one per ticket.
      CREATE FUNCTION ticket_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO ticket_count_deltas (tenant, api_id, app_id, author_id, state, n)
            SELECT tenant, api_id, app_id, author_id, state, count(*) FROM inserted
            GROUP BY tenant, api_id, app_id, author_id, state;
          RETURN NULL;
        END;
      $$;
      CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_inserted();
      CREATE FUNCTION ticket_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO ticket_count_deltas (tenant, api_id, app_id, author_id, state, n)
            SELECT tenant, api_id, app_id, author_id, state, -count(*) FROM deleted
            GROUP BY tenant, api_id, app_id, author_id, state;
          RETURN NULL;
        END;
      $$;
      CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
        REFERENCING OLD TABLE AS deleted
        FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_deleted();
      -- Updates per row, and only those that move a ticket to another group: a comment (or any
      -- update that keeps the group) runs no trigger at all; a statement that changes many
      -- tickets' states appends two deltas for each.
      CREATE FUNCTION ticket_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO ticket_count_deltas (tenant, api_id, app_id, author_id, state, n) VALUES
            (OLD.tenant, OLD.api_id, OLD.app_id, OLD.author_id, OLD.state, -1),
            (NEW.tenant, NEW.api_id, NEW.app_id, NEW.author_id, NEW.state, 1);
          RETURN NULL;
        END;
      $$;
      CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets
        FOR EACH ROW
        WHEN ((OLD.tenant, OLD.api_id, OLD.app_id, OLD.author_id, OLD.state)
          IS DISTINCT FROM (NEW.tenant, NEW.api_id, NEW.app_id, NEW.author_id, NEW.state))
        EXECUTE FUNCTION ticket_counts_moved();
      -- (No TRUNCATE: history refers to tickets and refuses to be truncated itself.)

      -- The tickets there are, counted once. The triggers above lock out writers until this
      -- transaction commits, so no ticket is counted twice or missed.
      INSERT INTO ticket_counts (tenant, api_id, app_id, author_id, state, n)
        SELECT tenant, api_id, app_id, author_id, state, count(*) FROM tickets
        GROUP BY tenant, api_id, app_id, author_id, state;
    `,
  },
];

/**
 * Applies `migration` unless it was applied already (then false), in the caller's transaction,
 * after taking an advisory lock of this schema: processes migrating at once take turns, and
 * each version is applied once.
 */
export async function applyMigrationIn(
  db: Db,
  migration: (typeof POSTGRES_MIGRATIONS)[number],
): Promise<boolean> {
  await db.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
  await db.query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))", [
    MIGRATION_LOCK_CLASS,
  ]);
  await db.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  if (await one(db, 'SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]))
    return false;
  await db.query(migration.sql);
  await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
    migration.version,
    migration.name,
    new Date().toISOString(),
  ]);
  return true;
}
