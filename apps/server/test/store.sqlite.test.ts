import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/logger.js';
import { SQLITE_CHANGE_POLL_MS } from '../src/store/sqlite/changeFeed.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { CHECKPOINT_PAGES, SqliteStore, WAL_LIMIT_BYTES } from '../src/store/sqlite/sqliteStore.js';
import { dropValueSamples } from '../src/store/sqlite/valueSamples.js';
import { runScript, SERVER_DIR } from './support/childServer.js';
import { describeStoreContract } from './support/storeContract.js';
import { NOW, PLAN, ticket } from './support/storeFixtures.js';

/** Each contract test gets a store over its own file in a fresh directory, removed after. */
describeStoreContract('SqliteStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickets-store-contract-'));
  const stores = [SqliteStore.open(join(dir, 'tickets.db'))];
  return {
    store: stores[0]!,
    openAnother: async () => {
      const another = SqliteStore.open(join(dir, 'tickets.db'));
      stores.push(another);
      return another;
    },
    close: async () => {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** The store's own connection: per-connection settings can only be read there. */
const connectionOf = (store: SqliteStore): Database.Database =>
  (store as unknown as { db: Database.Database }).db;

describe('SqliteStore: SQLite specifics', () => {
  let dir: string;
  let path: string;
  const toClose: { close(): unknown }[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-store-sqlite-'));
    path = join(dir, 'tickets.db');
  });
  afterEach(async () => {
    for (const handle of toClose.splice(0).reverse()) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (options?: Parameters<typeof SqliteStore.open>[1]): SqliteStore => {
    const store = SqliteStore.open(path, options);
    toClose.push(store);
    return store;
  };
  /** A second, raw connection to the same file, as another process would have. */
  const raw = (): Database.Database => {
    const db = new Database(path);
    toClose.push(db);
    return db;
  };

  it('opens in WAL mode, with foreign keys on; SQLite at synchronous = NORMAL, the store flushing the log itself', () => {
    const db = connectionOf(open());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    // FULL durability is the store's own flush of the log before it acknowledges (WalSync).
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    // Temporary files (the group commit's statement journals) in memory; a 4 MiB page cache.
    expect(db.pragma('temp_store', { simple: true })).toBe(2);
    expect(db.pragma('cache_size', { simple: true })).toBe(-4 * 1024);
    // The log copied back at 10,000 pages, its file cut back to 64 MiB when reused.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(CHECKPOINT_PAGES);
    expect(db.pragma('journal_size_limit', { simple: true })).toBe(WAL_LIMIT_BYTES);
    // WAL is a property of the file: another connection sees it too.
    expect(raw().pragma('journal_mode', { simple: true })).toBe('wal');
    expect(existsSync(`${path}-wal`)).toBe(true);
  });

  it('every write answers only once the log is flushed: sessions, login failures, provisioning, tickets', async () => {
    // The flush is held until released: a write that answers before it would be lost by a
    // power cut after its answer.
    let release: () => void = () => {};
    let held = false;
    const store = open({
      datasync: async (file) => {
        if (held) await new Promise<void>((resolve) => (release = resolve));
        await file.datasync();
      },
    });
    await store.applyProvision(PLAN);
    const session = {
      id: 's1',
      userId: 'ada.acme',
      tenant: 'acme',
      csrfToken: 'c',
      loginAt: NOW,
      expiresAt: new Date(NOW.getTime() + 3_600_000),
    };
    const writes: [string, () => Promise<unknown>][] = [
      ['createSession', () => store.createSession(session)],
      ['renewSession', () => store.renewSession('s1', new Date(NOW.getTime() + 7_200_000), NOW)],
      ['endSession', () => store.endSession('s1', NOW)],
      ['recordLoginFailure', () => store.recordLoginFailure('k', NOW)],
      [
        'admitLoginAttempt',
        () => store.admitLoginAttempt('k2', NOW, { failuresBeforeDelay: 5, maxDelayMs: 2 }),
      ],
      ['clearLoginFailures', () => store.clearLoginFailures('k')],
      [
        'applyProvision',
        () => store.applyProvision({ ...PLAN, tenants: [{ id: 'acme', name: 'A' }] }),
      ],
      ['insertTicket', () => store.insertTicket(ticket(1), [])],
    ];
    for (const [name, write] of writes) {
      held = true;
      let answered = false;
      const done = write().then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(answered, `${name} answered before its flush`).toBe(false);
      held = false;
      release();
      await done;
      expect(answered).toBe(true);
    }
  });

  it('the page cache is as large as asked (TICKETS_SQLITE_CACHE_MIB)', async () => {
    expect(connectionOf(open({ cacheMiB: 64 })).pragma('cache_size', { simple: true })).toBe(
      -64 * 1024,
    );
    // Through the configuration, as the server opens it.
    const { openStore } = await import('../src/store/openStore.js');
    const store = await openStore({ kind: 'sqlite', path, cacheMiB: 2 });
    toClose.push(store);
    expect(connectionOf(store as SqliteStore).pragma('cache_size', { simple: true })).toBe(-2048);
  });

  it('an ANALYZE by hand keeps its row counts, not its per-value samples, from the next open', async () => {
    const first = open();
    await first.applyProvision(PLAN);
    for (let n = 1; n <= 40; n += 1)
      expect(await first.insertTicket(ticket(n), [])).toBe('inserted');
    await first.close();
    const count = (table: string) =>
      raw().prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    // As an operator's ANALYZE (or PRAGMA optimize) leaves the file.
    raw().exec('ANALYZE');
    const rowCounts = count('sqlite_stat1');
    expect(rowCounts).toBeGreaterThan(0);
    expect(count('sqlite_stat4')).toBeGreaterThan(0);

    const info = vi.fn();
    const store = open({ logger: { info } as unknown as Logger });
    expect(count('sqlite_stat4')).toBe(0);
    expect(count('sqlite_stat1')).toBe(rowCounts);
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]![0]).toMatch(/sqlite_stat4/);
    const page = await store.listTickets({ tenant: 'acme', start: 0, count: 5 });
    expect(page.total).toBe(40);
    expect(page.tickets.map((t) => t.id)).toHaveLength(5);
    await store.close();
    // Nothing to drop the next time.
    open({ logger: { info } as unknown as Logger });
    expect(info).toHaveBeenCalledTimes(1);
  });

  it("the store's own connection plans without the samples from the moment it opens", async () => {
    const first = open();
    await first.applyProvision(PLAN);
    await first.close();
    // A table whose values are skewed: 5 rows of 10,000 have a = 'rare'; b has 100 values.
    const db = raw();
    db.exec('CREATE TABLE skew (a TEXT, b INTEGER); CREATE INDEX skew_a ON skew (a);');
    db.exec('CREATE INDEX skew_b ON skew (b)');
    const insert = db.prepare('INSERT INTO skew VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 10_000; i += 1) insert.run(i < 5 ? 'rare' : 'common', i % 100);
    })();
    db.exec('ANALYZE');
    const plan = (connection: Database.Database) =>
      connection
        .prepare("EXPLAIN QUERY PLAN SELECT * FROM skew WHERE a = 'rare' AND b = 7")
        .all()
        .map((row) => (row as { detail: string }).detail)
        .join('; ');
    // With samples, SQLite sees how few rows 'rare' has; the row counts alone say half the table.
    expect(plan(db)).toMatch(/INDEX skew_a\b/);
    const store = open();
    expect(plan(connectionOf(store))).toMatch(/INDEX skew_b\b/);
    // And so does a connection opened after it.
    expect(plan(new Database(path))).toMatch(/INDEX skew_b\b/);
  });

  it('a file another process is writing keeps its samples until the next open, and the store opens and serves', async () => {
    const first = open();
    await first.applyProvision(PLAN);
    expect(await first.insertTicket(ticket(1), [])).toBe('inserted');
    await first.close();
    const writer = raw();
    writer.exec('ANALYZE');
    writer.exec('BEGIN IMMEDIATE');
    const warn = vi.fn();
    const info = vi.fn();
    const store = open({ logger: { info, warn } as unknown as Logger });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/sqlite_stat4/);
    expect(info).not.toHaveBeenCalled();
    expect((await store.listTickets({ tenant: 'acme', start: 0, count: 5 })).total).toBe(1);
    writer.exec('COMMIT');
    expect(writer.prepare('SELECT count(*) FROM sqlite_stat4').pluck().get()).toBeGreaterThan(0);
    await store.close();
    open({ logger: { info, warn } as unknown as Logger });
    expect(info).toHaveBeenCalledTimes(1);
    expect(writer.prepare('SELECT count(*) FROM sqlite_stat4').pluck().get()).toBe(0);
  });

  it('a file without a sample table is left as it is', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a INTEGER); CREATE INDEX t_a ON t (a);');
    expect(dropValueSamples(db)).toBe(false);
    const tables = () =>
      db.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_stat%'").pluck().all();
    expect(tables()).toEqual([]);
    // Statistics with no samples in them: nothing to drop either.
    db.exec('ANALYZE');
    expect(tables()).toContain('sqlite_stat1');
    expect(dropValueSamples(db)).toBe(false);
    db.close();
  });

  it('the log is copied back into the database once it holds 10,000 pages, then reused', async () => {
    const store = open();
    await store.applyProvision(PLAN);
    // About 12,000 pages: tickets of a page each, written 500 at a time (a commit each).
    const description = 'd'.repeat(3500);
    for (let batch = 0; batch < 24; batch += 1) {
      const inserted = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          store.insertTicket({ ...ticket(batch * 500 + i + 1), description }, []),
        ),
      );
      expect(inserted.every((outcome) => outcome === 'inserted')).toBe(true);
    }
    const mib = (file: string) => statSync(file).size / 2 ** 20;
    // Past SQLite's own 1,000 pages (4 MiB) without a copy back, and not past 10,000 pages.
    expect(mib(`${path}-wal`)).toBeGreaterThan(8);
    expect(mib(`${path}-wal`)).toBeLessThan(41);
    // The pages are in the database file itself.
    expect(mib(path)).toBeGreaterThan(30);
    expect((await store.listTickets({ tenant: 'acme', start: 0, count: 1 })).total).toBe(12_000);
  });

  it('synchronous = NORMAL when asked for', () => {
    const db = connectionOf(open({ synchronous: 'NORMAL' }));
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('foreign keys are enforced: a ticket by an unknown author is refused', async () => {
    const store = open();
    await store.applyProvision(PLAN);
    await expect(store.insertTicket({ ...ticket(1), authorId: 'nobody.acme' }, [])).rejects.toThrow(
      /FOREIGN KEY/,
    );
    expect(await store.getTicket('ticket1.acme')).toBeUndefined();
  });

  it('history is append-only: triggers refuse UPDATE and DELETE, also from another connection', async () => {
    const store = open();
    await store.applyProvision(PLAN);
    await store.insertTicket(ticket(1), [
      {
        action: 'import',
        from: 'OPEN',
        to: 'OPEN',
        comments: ['kept'],
        userId: 'ada.acme',
        created: NOW.toISOString(),
      },
    ]);
    const before = await store.listHistory('ticket1.acme');

    const triggers = raw()
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'history'")
      .pluck()
      .all();
    expect(triggers.sort()).toEqual([
      'history_is_append_only_delete',
      'history_is_append_only_update',
    ]);

    for (const db of [connectionOf(store), raw()]) {
      expect(() => db.prepare("UPDATE history SET comments = '[]'").run()).toThrow(
        /history is append-only/,
      );
      expect(() => db.prepare('DELETE FROM history').run()).toThrow(/history is append-only/);
      // Nor can the ticket go, taking its history with it.
      expect(() => db.prepare('DELETE FROM tickets').run()).toThrow(/FOREIGN KEY/);
    }
    expect(await store.listHistory('ticket1.acme')).toEqual(before);
  });

  it('records every migration in schema_migrations', () => {
    open();
    const rows = raw()
      .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
      .all() as { version: number; name: string; applied_at: string }[];
    expect(rows.map(({ version, name }) => ({ version, name }))).toEqual(
      SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
    for (const row of rows) expect(Number.isNaN(Date.parse(row.applied_at))).toBe(false);
    expect(SQLITE_MIGRATIONS.map((m) => m.version)).toEqual([
      ...new Set(SQLITE_MIGRATIONS.map((m) => m.version)),
    ]);
  });

  it('migrate: opened without migrating, applies every version once, then none', async () => {
    const store = open({ migrate: false });
    const tables = () =>
      raw().prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables()).not.toContain('tickets');
    const pragmas = vi.spyOn(connectionOf(store), 'pragma');
    expect(await store.migrate()).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    // Migrations sort (index builds) in temporary files, not in memory; serving goes back to memory.
    const set = pragmas.mock.calls.map(([text]) => text).filter((text) => text.startsWith('temp'));
    expect(set).toEqual(['temp_store = DEFAULT', 'temp_store = MEMORY']);
    expect(connectionOf(store).pragma('temp_store', { simple: true })).toBe(2);
    pragmas.mockRestore();
    expect(tables()).toEqual(expect.arrayContaining(['tickets', 'history', 'workflows']));
    expect(await store.migrate()).toEqual([]);
    await store.close();
    // Opening again (migrating by default) finds nothing to do.
    expect(await open().migrate()).toEqual([]);
    expect(raw().prepare('SELECT count(*) FROM schema_migrations').pluck().get() as number).toBe(
      SQLITE_MIGRATIONS.length,
    );
  });

  it('reopening the file keeps everything', async () => {
    const first = open();
    await first.applyProvision({
      ...PLAN,
      tenants: [{ id: 'acme', name: 'Acme', workflow: { name: 'w', xml: '<workflow/>' } }],
    });
    expect(await first.allocateTicketNumber('acme')).toBe(1);
    expect(await first.insertTicket(ticket(1), [])).toBe('inserted');
    await first.createSession({
      id: 's1',
      userId: 'ada.acme',
      tenant: 'acme',
      csrfToken: 'csrf',
      loginAt: NOW,
      expiresAt: new Date(NOW.getTime() + 60_000),
    });
    await first.recordLoginFailure('ada@acme.test', NOW);
    const record = {
      userId: 'ada.acme',
      key: 'k',
      requestHash: 'h',
      outcome: '{}',
      createdAt: NOW,
    };
    await first.saveIdempotency(record);
    const snapshot = {
      tenant: await first.getTenant('acme'),
      user: await first.getUser('ada.acme'),
      admin: await first.adminResourceIds('ada.acme'),
      ticket: await first.getTicket('ticket1.acme'),
      session: await first.getSession('s1'),
      failures: await first.getLoginFailures('ada@acme.test'),
      idempotency: await first.getIdempotency('ada.acme', 'k'),
    };
    await first.close();

    const second = open();
    expect(await second.migrate()).toEqual([]);
    expect({
      tenant: await second.getTenant('acme'),
      user: await second.getUser('ada.acme'),
      admin: await second.adminResourceIds('ada.acme'),
      ticket: await second.getTicket('ticket1.acme'),
      session: await second.getSession('s1'),
      failures: await second.getLoginFailures('ada@acme.test'),
      idempotency: await second.getIdempotency('ada.acme', 'k'),
    }).toEqual(snapshot);
    expect(snapshot.tenant?.workflowId).toEqual(expect.any(Number));
    expect((await second.getWorkflow(snapshot.tenant!.workflowId!))?.xml).toBe('<workflow/>');
    // The ticket sequence carries on: 1 was handed out before the file was closed.
    expect(await second.allocateTicketNumber('acme')).toBe(2);
  });

  it('two stores on one file: a change committed by one is a conflict for the other', async () => {
    const a = open();
    await a.applyProvision(PLAN);
    await a.insertTicket(ticket(1), []);
    const b = open();
    const read = (await b.getTicket('ticket1.acme'))!;
    const change = (comment: string) => ({
      ticket: { ...read, version: read.version + 1, commentCount: 1 },
      expectedVersion: read.version,
      history: {
        action: 'comment',
        from: read.state,
        to: read.state,
        comments: [comment],
        userId: 'ada.acme',
        created: NOW.toISOString(),
      },
    });
    expect(await a.commitChange(change('a'))).not.toBe('conflict');
    expect(await b.commitChange(change('b'))).toBe('conflict');
    expect((await b.listHistory('ticket1.acme')).map((row) => row.comments)).toEqual([['a']]);
  });

  it('close is idempotent', async () => {
    const store = open();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('SqliteStore: the change log on SQLite', () => {
  let dir: string;
  let path: string;
  const toClose: { close(): unknown }[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-store-changes-'));
    path = join(dir, 'tickets.db');
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const handle of toClose.splice(0).reverse()) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (options?: Parameters<typeof SqliteStore.open>[1]): SqliteStore => {
    const store = SqliteStore.open(path, options);
    toClose.push(store);
    return store;
  };

  it('a watched store looks at the file every 250 ms for changes of other processes, and only while watched', async () => {
    // Fake intervals: the poll runs exactly when the test says.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const store = open();
    await store.applyProvision(PLAN);
    const other = open();
    const listener = vi.fn();
    const stop = await store.watchChanges(listener);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(SQLITE_CHANGE_POLL_MS);
    expect(listener).not.toHaveBeenCalled();

    // Another connection to the file commits: told at the next poll, once.
    expect(await other.insertTicket(ticket(1), [])).toBe('inserted');
    expect(listener).not.toHaveBeenCalled();
    vi.advanceTimersByTime(SQLITE_CHANGE_POLL_MS);
    expect(listener).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5 * SQLITE_CHANGE_POLL_MS);
    expect(listener).toHaveBeenCalledTimes(1);

    // This store commits: told at once, and not again by the poll.
    expect(await store.insertTicket(ticket(2), [])).toBe('inserted');
    expect(listener).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(SQLITE_CHANGE_POLL_MS);
    expect(listener).toHaveBeenCalledTimes(2);

    // The last stop ends the poll; close ends every watcher.
    await stop();
    expect(vi.getTimerCount()).toBe(0);
    await store.watchChanges(listener);
    await store.watchChanges(() => {});
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    await expect(store.watchChanges(listener)).rejects.toThrow(/closed/);
  });

  it('a listener that throws is logged at warn and does not keep the others from being called', async () => {
    const warn = vi.fn();
    const store = open({ logger: { warn } as unknown as Logger });
    await store.applyProvision(PLAN);
    const after = vi.fn();
    await store.watchChanges(() => {
      throw new Error('listener failed');
    });
    await store.watchChanges(after);
    expect(await store.insertTicket(ticket(1), [])).toBe('inserted');
    expect(after).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { err: expect.objectContaining({ message: 'listener failed' }) },
      'a change listener threw',
    );
    expect(await store.getTicket('ticket1.acme')).toBeDefined();
  });

  it('a watcher keeps no process alive', async () => {
    await open().close();
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(pathToFileURL(join(SERVER_DIR, 'src/store/sqlite/sqliteStore.ts')).href)});
      const store = SqliteStore.open(process.env.DB);
      await store.watchChanges(() => {});
      console.log('watching');
    `;
    expect(await runScript(script, { DB: path })).toEqual({ code: 0, stdout: 'watching\n' });
  });
});
