import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * Another process (here: another connection) holding the SQLite write lock, as a second server
 * or `tickets-server provision` against a live database would.
 */
describe('a database locked by another writer', () => {
  let server: TestServer;
  let ada: Session;
  let other: Database.Database;
  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    other = new Database(server.dbPath);
  });
  afterAll(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await server.close();
  });

  it('keeps serving reads, and a write waits for the lock without failing', async () => {
    other.exec('BEGIN IMMEDIATE');
    const write = act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve');
    // Reads go on meanwhile (WAL): the event loop is not blocked by the waiting write.
    const read = await call(server.url, ada, '/api/tickets/ticket2.acme');
    expect(read.status).toBe(200);
    other.exec('COMMIT');
    expect(await write).toMatchObject({ status: 200, text: 'RESOLVED' });
  });

  it('answers 503 with Retry-After when the lock is held too long, and changes nothing', async () => {
    const before = await server.store.getTicket('ticket4.acme');
    other.exec('BEGIN IMMEDIATE');
    try {
      const refused = await act(server.url, ada, 'ticket4.acme', 'ticket.action.resolve');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.text).toBe('the database is busy; try again shortly');
    } finally {
      other.exec('ROLLBACK');
    }
    expect(await server.store.getTicket('ticket4.acme')).toEqual(before);
    expect(await act(server.url, ada, 'ticket4.acme', 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
  });
});
