// Group commit on SQLite: the writes that arrive together share one durable transaction, each in
// a savepoint of its own; a write that fails is rolled back alone; nothing is acknowledged before
// the COMMIT, so a process killed mid-batch loses no acknowledged write.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { applyAction, defaultTicketWorkflow, type Actor } from '@tickets/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/sqlite/groupCommit.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import type { ProvisionPlan, TicketChange } from '../src/store/store.js';
import { childEnv, SERVER_DIR } from './support/childServer.js';
import { NOW, PLAN, ticket } from './support/storeFixtures.js';

const ADA: Actor = {
  userId: 'ada.acme',
  tenant: 'acme',
  siteAdmin: false,
  adminOf: ['payments.acme'],
};

/** The stores' fixture tenant with `tickets` of its tickets provisioned. */
const plan = (tickets: number): ProvisionPlan => ({
  ...PLAN,
  tickets: Array.from({ length: tickets }, (_, i) => ({ ticket: ticket(i), history: [] })),
});

/** Resolving ticket `n` as read at version 1 (or at `expectedVersion`). */
function resolveChange(n: number, expectedVersion = 1, key?: string): TicketChange {
  const result = applyAction(
    defaultTicketWorkflow,
    ticket(n),
    { actionName: 'ticket.action.resolve', comments: [] },
    ADA,
    NOW,
  );
  if (!result.ok) throw new Error('the seed ticket cannot be resolved');
  return {
    ticket: result.value.ticket,
    history: result.value.history,
    expectedVersion,
    idempotency:
      key === undefined
        ? undefined
        : {
            userId: 'ada.acme',
            key,
            requestHash: `resolve ${n}`,
            outcome: '{}',
            createdAt: NOW,
          },
  };
}

describe('GroupCommit', () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-group-commit-'));
    db = new Database(join(dir, 'x.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 0');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits writes queued together in one transaction, and rolls back only the one that threw', async () => {
    const group = new GroupCommit(db, { isBusy: () => false, patienceMs: 0 });
    const insert = db.prepare('INSERT INTO rows (id, value) VALUES (?, ?)');
    const results = await Promise.allSettled([
      group.run(() => insert.run(1, 'one').changes),
      group.run(() => {
        insert.run(2, 'two');
        throw new Error('refused after writing');
      }),
      group.run(() => insert.run(3, 'three').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(
      new Error('refused after writing'),
    );
    expect(group.committedBatches).toBe(1);
    expect(db.prepare('SELECT id, value FROM rows ORDER BY id').all()).toEqual([
      { id: 1, value: 'one' },
      { id: 3, value: 'three' },
    ]);
    expect(db.inTransaction).toBe(false);

    // A later write is a batch of its own.
    await group.run(() => insert.run(4, 'four'));
    expect(group.committedBatches).toBe(2);
  });

  it('a batch that cannot commit fails every write in it, and leaves nothing behind', async () => {
    const group = new GroupCommit(db, { isBusy: () => false, patienceMs: 0 });
    const other = new Database(join(dir, 'x.db'));
    try {
      other.exec('BEGIN IMMEDIATE'); // another connection holds the write lock
      const results = await Promise.allSettled([
        group.run(() => db.prepare("INSERT INTO rows VALUES (1, 'a')").run()),
        group.run(() => db.prepare("INSERT INTO rows VALUES (2, 'b')").run()),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 0 });
    expect(db.inTransaction).toBe(false);
  });
});

describe('SqliteStore: group commit', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-group-commit-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('of changes arriving together, a stale one and a reused key change nothing and the rest commit', async () => {
    const store = SqliteStore.open(join(dir, 'tickets.db'));
    try {
      await store.applyProvision(plan(4));
      const [first, stale, raced, last] = await Promise.all([
        store.commitChange(resolveChange(0, 1, 'key-1')),
        store.commitChange(resolveChange(1, 7)), // read at a version the ticket never had
        store.commitChange(resolveChange(2, 1, 'key-1')), // the key first stored just above
        store.commitChange(resolveChange(3)),
      ]);
      expect(first).toMatchObject({ historyId: expect.any(Number) });
      expect(stale).toBe('conflict');
      expect(raced).toBe('conflict');
      expect(last).toMatchObject({ historyId: expect.any(Number) });

      const states = await Promise.all([0, 1, 2, 3].map((n) => store.getTicket(`ticket${n}.acme`)));
      expect(states.map((t) => [t?.state, t?.version])).toEqual([
        ['RESOLVED', 2],
        ['OPEN', 1],
        ['OPEN', 1],
        ['RESOLVED', 2],
      ]);
      expect((await store.listHistory('ticket2.acme')).length).toBe(0);
      expect((await store.listChanges('acme', 0, 10)).map((c) => c.ticketId)).toEqual([
        'ticket0.acme',
        'ticket3.acme',
      ]);
      expect(await store.getIdempotency('ada.acme', 'key-1')).toMatchObject({
        requestHash: 'resolve 0',
      });
    } finally {
      await store.close();
    }
  });

  it('of two changes of one ticket read at the same version, exactly one wins', async () => {
    const store = SqliteStore.open(join(dir, 'tickets.db'));
    try {
      await store.applyProvision(plan(1));
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.commitChange(resolveChange(0))),
      );
      expect(results.filter((r) => r !== 'conflict')).toHaveLength(1);
      expect(await store.listHistory('ticket0.acme')).toHaveLength(1);
      expect((await store.getTicket('ticket0.acme'))?.version).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('a process killed while batches are in flight loses no acknowledged change', async () => {
    const path = join(dir, 'tickets.db');
    const tickets = 2000;
    const seeded = SqliteStore.open(path);
    await seeded.applyProvision(plan(tickets));
    await seeded.close();
    // The child resolves tickets 32 at a time (one batch each) and prints each acknowledged one.
    const script = `
      import { applyAction, defaultTicketWorkflow } from '@tickets/domain';
      import { SqliteStore } from './src/store/sqlite/sqliteStore.ts';
      const store = SqliteStore.open(process.env.DB_PATH);
      const actor = { userId: 'ada.acme', tenant: 'acme', siteAdmin: false, adminOf: ['payments.acme'] };
      for (let start = 0; start < ${tickets}; start += 32) {
        await Promise.all(Array.from({ length: 32 }, async (_, i) => {
          const id = 'ticket' + (start + i) + '.acme';
          const read = await store.getTicket(id);
          const next = applyAction(defaultTicketWorkflow, read,
            { actionName: 'ticket.action.resolve', comments: [] }, actor, new Date());
          const done = await store.commitChange({
            ticket: next.value.ticket, history: next.value.history, expectedVersion: read.version });
          if (done !== 'conflict') process.stdout.write('ack ' + id + '\\n');
        }));
      }
      process.stdout.write('finished\\n');`;
    const acknowledged: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: SERVER_DIR, env: childEnv({ DB_PATH: path }), stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acknowledged.push(line.slice(4));
        // Killed with writes in flight: after the first hundred acknowledgements.
        if (acknowledged.length >= 100 && child.exitCode === null) child.kill('SIGKILL');
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('exit', () => {
        clearTimeout(guard);
        resolve();
      });
    });
    expect(acknowledged.length).toBeGreaterThanOrEqual(100);

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const resolved = new Set(
        (
          db.prepare("SELECT id FROM tickets WHERE state = 'RESOLVED'").all() as { id: string }[]
        ).map((row) => row.id),
      );
      for (const id of acknowledged) expect(resolved.has(id), id).toBe(true);
      // Every resolved ticket, acknowledged or not, has its one history row: nothing half-written.
      const history = db
        .prepare('SELECT ticket_id, count(*) AS n FROM history GROUP BY ticket_id')
        .all() as { ticket_id: string; n: number }[];
      expect(new Set(history.map((row) => row.ticket_id))).toEqual(resolved);
      expect(history.every((row) => row.n === 1)).toBe(true);
    } finally {
      db.close();
    }
  });
});
