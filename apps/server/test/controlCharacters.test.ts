import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * Text no ticket may hold (NUL and other C0 controls) is refused with a 400 naming the field,
 * wherever it enters: PostgreSQL would refuse a NUL with an error of its own (a 500), and XML
 * answers could not carry it.
 */
describe('control characters in input', () => {
  let server: TestServer;
  let ada: Session;
  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
  });
  afterAll(() => server.close());

  const problemOf = async (response: Response) => {
    expect(response.status).toBe(400);
    return (await response.json()) as { type: string; field: string };
  };

  it('in the e-mail of a login', async () => {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'ada@acme.test\u0000', password: PASSWORD }),
    });
    expect(await problemOf(response)).toMatchObject({
      type: 'urn:tickets:problem:invalid-input',
      field: 'email',
    });
  });

  it.each(['APIID', 'AppID', 'AuthorID'])('in the %s filter of a list', async (field) => {
    const response = await call(server.url, ada, `/api/tickets?${field}=ada%00.acme`);
    expect(await problemOf(response)).toMatchObject({ field });
  });

  it.each([
    ['Title', { Title: 'bad\u0000title' }],
    ['Description', { Description: 'bad\u0001text' }],
    ['Tag[0]', { Tag: ['ok\u001f'] }],
  ])('in the %s of a new ticket', async (field, extra) => {
    const response = await call(server.url, ada, '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        Title: 'fine',
        Environment: 'Sandbox',
        APIID: 'payments.acme',
        ...extra,
      }),
    });
    expect(await problemOf(response)).toMatchObject({ field });
  });

  it('in a comment', async () => {
    const response = await call(server.url, ada, '/api/tickets/ticket1.acme/comments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Content: 'nul\u0000byte' }),
    });
    expect(await problemOf(response)).toMatchObject({ field: 'Content' });
    expect((await server.store.getTicket('ticket1.acme'))?.commentCount).toBe(0);
  });

  it('in the ActionName of an action (text/plain, never echoed with the line break)', async () => {
    const before = await server.store.getTicket('ticket1.acme');
    const response = await call(server.url, ada, '/api/tickets/ticket1.acme/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ActionName: 'ticket.action.resolve\nInjected: yes' }),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toBe('ActionName contains control characters');
    expect(await server.store.getTicket('ticket1.acme')).toEqual(before);
  });
});
