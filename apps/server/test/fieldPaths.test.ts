/**
 * One style of field path in every error that names a field: the path as a TypeScript client
 * reaches the value (`Tag[0]`, `users[0].email`), in REST problems (`field`), tRPC errors
 * (`data.field`) and provisioning issues alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionError, provision } from '../src/provision.js';
import { call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';
import { trpcMutation } from './support/trpc.js';

describe('error field paths', () => {
  let server: TestServer;
  let ada: Session;

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
  });
  afterAll(() => server.close());

  const base = { Title: 'Paths', Environment: 'Sandbox', APIID: 'payments.acme' };

  it.each([
    [{ ...base, Tag: ['ok', 'x'.repeat(65)] }, 'Tag[1]'],
    [{ ...base, Label: ['com.soa.ticket.label.priority.none'] }, 'Label[0]'],
    [{ ...base, Title: '' }, 'Title'],
    [{ ...base, APIID: `${'x'.repeat(300)}.acme` }, 'APIID'],
    [{ ...base, APIID: undefined, AppID: 'sh\u0000op.acme' }, 'AppID'],
    [{ ...base, APIID: 'pay\ud800ments.acme' }, 'APIID'],
  ])('REST problem: %j names %s', async (body, field) => {
    const response = await call(server.url, ada, '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'INVALID_INPUT', field });
  });

  it.each([
    [
      {
        title: 'Paths',
        environment: 'Sandbox',
        apiId: 'payments.acme',
        tags: ['ok', 'x'.repeat(65)],
      },
      'tags[1]',
    ],
    [{ title: '', environment: 'Sandbox', apiId: 'payments.acme' }, 'title'],
    [{ title: 'Paths', environment: 'Sandbox', apiId: `${'x'.repeat(300)}.acme` }, 'apiId'],
    [{ title: 'Paths', environment: 'Sandbox', appId: 'sh\u0007op.acme' }, 'appId'],
  ])('tRPC data.field: %j names %s', async (input, field) => {
    const answer = await trpcMutation(server.url, ada, 'tickets.create', input);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.data.field).toBe(field);
  });

  it('tRPC data.field: a comment among several names its index', async () => {
    const answer = await trpcMutation(server.url, ada, 'tickets.act', {
      id: 'ticket1.acme',
      action: 'ticket.action.resolve',
      comments: ['ok', 'x'.repeat(4001)],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.data.field).toBe('comments[1]');
  });

  it('provisioning issues: users[0].email', async () => {
    const error = await provision(server.store, {
      tenants: [{ id: 'acme', name: 'Acme Payments' }],
      users: [{ id: 'x.acme', email: 'not an e-mail', password: 'long-enough-1', name: 'X' }],
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ProvisionError);
    expect((error as ProvisionError).issues.map((issue) => issue.path)).toContain('users[0].email');
  });
});
