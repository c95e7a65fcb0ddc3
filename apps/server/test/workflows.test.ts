import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, ProvisionError } from '../src/provision.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import { act, call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const run = promisify(execFile);

/** A stricter workflow than the default: no closing before resolving, and only admins close. */
const STRICT = `<?xml version="1.0" encoding="UTF-8"?>
<workflow name="strict">
  <initial-actions>
    <action id="1" name="@Create">
      <results><unconditional-result step="10" status="Open"/></results>
      <post-functions><function type="updateTicketStatus"><arg name="status">OPEN</arg></function></post-functions>
    </action>
  </initial-actions>
  <steps>
    <step id="10" name="Open">
      <actions>
        <action id="11" name="ticket.action.resolve">
          <meta name="label">Resolve</meta>
          <restrict-to><conditions type="OR">
            <condition type="isResourceAdmin"/><condition type="isSiteAdmin"/>
          </conditions></restrict-to>
          <results><unconditional-result step="20" status="Resolved"/></results>
          <post-functions><function type="updateTicketStatus"><arg name="status">RESOLVED</arg></function></post-functions>
        </action>
      </actions>
    </step>
    <step id="20" name="Resolved">
      <actions>
        <action id="21" name="ticket.action.close">
          <meta name="label">Close for good</meta>
          <restrict-to><conditions type="AND">
            <condition type="authorizeByAtmosphereRole"><arg name="role">Admin</arg></condition>
          </conditions></restrict-to>
          <results><unconditional-result step="30" status="Closed"/></results>
          <post-functions><function type="updateTicketStatus"><arg name="status">CLOSED</arg></function></post-functions>
        </action>
      </actions>
    </step>
    <step id="30" name="Closed">
      <actions/>
    </step>
  </steps>
</workflow>
`;

interface ValidActions {
  Action: { Value: string; Label: string; Allowed: boolean; Reason?: string }[];
}

describe("a tenant's own workflow, loaded from OSWorkflow-style XML", () => {
  let server: TestServer;
  let dir: string;
  let ada: Session;
  let bob: Session;

  const validActions = async (session: Session, id: string): Promise<ValidActions> =>
    (await (await call(server.url, session, `/api/tickets/${id}/actions`)).json()) as ValidActions;

  const createTicket = async (session: Session): Promise<string> => {
    const response = await call(server.url, session, '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        Title: 'Under the strict workflow',
        Environment: 'Production',
        APIID: 'payments.acme',
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { TicketID: string }).TicketID;
  };

  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'tickets-workflows-'));
    writeFileSync(join(dir, 'strict.xml'), STRICT);
    const summary = await provision(
      server.store,
      { tenants: [{ id: 'acme', name: 'Acme Payments', workflow: 'strict.xml' }] },
      { readFile: (path) => STRICT.slice(0, path === 'strict.xml' ? undefined : 0) },
    );
    expect(summary.workflows).toBe(1);
    ada = await login(server.url, 'ada@acme.test');
    bob = await login(server.url, 'bob@acme.test');
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("governs the tenant's new tickets: only the strict workflow's actions are offered", async () => {
    const id = await createTicket(bob);
    expect(await validActions(bob, id)).toEqual({
      Action: [
        {
          Value: 'ticket.action.resolve',
          Label: 'Resolve',
          Allowed: false,
          Reason: "only an admin of the ticket's API or app or a site admin may do this",
        },
      ],
    });
    // Closing an open ticket is not in this workflow's Open step: for an admin, a 409 naming
    // the state; for the author, who may close nowhere in it, a 403.
    const adminClose = await act(server.url, ada, id, 'ticket.action.close');
    expect(adminClose.status).toBe(409);
    expect(adminClose.text).toContain('OPEN');
    expect(adminClose.text).toContain('ticket.action.resolve');
    expect((await act(server.url, bob, id, 'ticket.action.close')).status).toBe(403);

    expect(await act(server.url, ada, id, 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
    expect((await validActions(ada, id)).Action).toEqual([
      { Value: 'ticket.action.close', Label: 'Close for good', Allowed: true },
    ]);
    expect((await act(server.url, bob, id, 'ticket.action.close')).status).toBe(403);
    expect(await act(server.url, ada, id, 'ticket.action.close')).toMatchObject({
      status: 200,
      text: 'CLOSED',
    });
    // The strict workflow has no way back from Closed; reopen is unknown to it.
    expect((await act(server.url, ada, id, 'ticket.action.reopen')).status).toBe(400);
    expect((await validActions(ada, id)).Action).toEqual([]);
  });

  it('leaves tickets created before it on the workflow they were created under', async () => {
    // ticket1.acme was provisioned under the default workflow: its author may still close it.
    expect((await validActions(bob, 'ticket1.acme')).Action.map((action) => action.Value)).toEqual([
      'ticket.action.resolve',
      'ticket.action.close',
    ]);
    expect(await act(server.url, bob, 'ticket1.acme', 'ticket.action.close')).toMatchObject({
      status: 200,
      text: 'CLOSED',
    });
    expect(await act(server.url, bob, 'ticket1.acme', 'ticket.action.reopen')).toMatchObject({
      status: 200,
      text: 'REOPEN',
    });
  });

  it('is provisioned idempotently: the same file again stores nothing new', async () => {
    const again = await provision(
      server.store,
      { tenants: [{ id: 'acme', name: 'Acme Payments', workflow: 'strict.xml' }] },
      { readFile: () => STRICT },
    );
    expect(again).toEqual({ tenants: 0, workflows: 0, users: 0, resources: 0, tickets: 0 });
  });

  it('provisions tickets in a later state along the tenant workflow', async () => {
    await provision(server.store, {
      tickets: [
        {
          id: 'strict1.acme',
          Title: 'Born resolved',
          Environment: 'Sandbox',
          APIID: 'payments.acme',
          author: 'bob.acme',
          State: 'RESOLVED',
        },
      ],
    });
    expect((await validActions(ada, 'strict1.acme')).Action.map((action) => action.Value)).toEqual([
      'ticket.action.close',
    ]);
  });

  it('refuses a workflow file with errors, saying where, and applies nothing', async () => {
    const broken = STRICT.replace('isSiteAdmin', 'isBoss').replace('step="30"', 'step="99"');
    const attempt = provision(
      server.store,
      {
        tenants: [{ id: 'acme', name: 'Renamed', workflow: 'broken.xml' }],
      },
      { readFile: () => broken },
    );
    await expect(attempt).rejects.toBeInstanceOf(ProvisionError);
    const issues = ((await attempt.catch((error: unknown) => error)) as ProvisionError).issues;
    expect(issues.map((issue) => issue.path)).toEqual([
      'tenants[0].workflow',
      'tenants[0].workflow',
    ]);
    expect(issues[0]!.message).toMatch(/^broken\.xml line 15, column \d+: .*isBoss/);
    expect(issues[1]!.message).toMatch(/^broken\.xml line \d+, column \d+: .*99/);
    expect((await server.store.getTenant('acme'))?.name).toBe('Acme Payments');
  });

  it('reads the workflow file relative to the provisioning file on the command line', async () => {
    const dbPath = join(dir, 'cli.db');
    writeFileSync(
      join(dir, 'provision.json'),
      JSON.stringify({
        tenants: [{ id: 'acme', name: 'Acme', workflow: './strict.xml' }],
        users: [
          { id: 'ada.acme', email: 'ada@acme.test', password: 'correct-horse-1', name: 'Ada' },
        ],
      }),
    );
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'provision', join(dir, 'provision.json')],
      {
        cwd: process.cwd(),
        env: { ...process.env, DATABASE_URL: `sqlite:${dbPath}`, TICKETS_DEMO: 'off' },
        timeout: 60_000,
      },
    );
    expect(stdout).toContain('1 workflow(s)');
    const store = SqliteStore.open(dbPath);
    try {
      const tenant = await store.getTenant('acme');
      expect(tenant?.workflowId).toBeDefined();
      expect((await store.getWorkflow(tenant!.workflowId!))?.name).toBe('strict');
    } finally {
      await store.close();
    }
  });
});
