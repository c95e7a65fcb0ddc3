import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, login } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';

describe('the test server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('lets an API admin resolve an open ticket', async () => {
    const ada = await login(server.url, 'ada@acme.test');
    const resolved = await act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve', { comments: 'fixed' });
    expect(resolved).toMatchObject({ status: 200, text: 'RESOLVED' });
  });
});
