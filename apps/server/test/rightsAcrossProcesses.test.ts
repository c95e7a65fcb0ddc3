// A change of rights or a logout made by one process (or by provisioning, in a third) counts at
// the very next request on every process sharing the database, though each keeps the callers it
// read (the SQLite store, while the file's data_version and its own writes say nothing changed).
import { describe, expect, it } from 'vitest';
import { act, call, login } from './support/client.js';
import {
  provisionFile,
  sqliteProvisioned,
  twoServersOnOneDatabase,
} from './support/childServer.js';
import { fixture } from './support/fixtures.js';

/** The fixture with the Payments API administered by `admins`. */
const withPaymentsAdmins = (admins: string[]) => ({
  ...fixture,
  resources: fixture.resources!.map((resource) =>
    resource.id === 'payments.acme' ? { ...resource, admins } : resource,
  ),
});

describe('rights and sessions across two server processes over one SQLite file', () => {
  const shared = twoServersOnOneDatabase({ prepare: sqliteProvisioned(fixture) });

  it('rights taken away by provisioning are gone at the next request of either process, and back when given back', async () => {
    const [a, b] = shared.servers;
    const ada = await login(a.url, 'ada@acme.test');
    // Resolving is for admins of the ticket's API: Ada may, on both processes.
    expect(
      await act(a.url, ada, 'ticket1.acme', 'ticket.action.resolve', { query: '?dryRun=true' }),
    ).toMatchObject({ status: 200, text: 'RESOLVED' });
    expect(
      await act(b.url, ada, 'ticket1.acme', 'ticket.action.resolve', { query: '?dryRun=true' }),
    ).toMatchObject({ status: 200, text: 'RESOLVED' });

    await provisionFile(shared.dir.dbPath, withPaymentsAdmins([]));
    for (const server of [a, b]) {
      const refused = await act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve');
      expect(refused.status).toBe(403);
    }

    await provisionFile(shared.dir.dbPath, withPaymentsAdmins(['ada.acme']));
    expect(await act(b.url, ada, 'ticket1.acme', 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
  });

  it('a logout on one process ends the session on the other at its next request', async () => {
    const [a, b] = shared.servers;
    const ada = await login(a.url, 'ada@acme.test');
    expect((await call(b.url, ada, '/api/tickets/ticket2.acme')).status).toBe(200);
    expect((await call(a.url, ada, '/api/login/logout', { method: 'POST' })).status).toBeLessThan(
      300,
    );
    expect((await call(b.url, ada, '/api/tickets/ticket2.acme')).status).toBe(401);
    expect((await call(a.url, ada, '/api/tickets/ticket2.acme')).status).toBe(401);
  });
});
