// CSRF: the client sends the X-Csrf-Token_{tenant} header on every request once it holds a CSRF
// value, so a server with CSRF `all` (the header asked for on reads and the live stream too) works
// exactly like one with the default `write`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fetch } from '../src/transport.js';
import {
  call,
  connected,
  eventually,
  failure,
  loggedIn,
  restAct,
  restLogin,
  startTestServer,
  TENANT,
  watch,
  type TestServer,
} from './support.js';

const CSRF_HEADER = `x-csrf-token_${TENANT}`;

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly csrf: string | null;
}

/** A fetch that notes, for each request, its method, path and CSRF header. */
function recordingFetch(): { fetch: Fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: Fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    sent.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      csrf: headers.get(CSRF_HEADER),
    });
    return globalThis.fetch(input, init);
  };
  return { fetch, sent };
}

describe.each(['all', 'write'] as const)('the client against a server with CSRF %s', (csrf) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ csrf });
  });
  afterAll(async () => {
    await server.close();
  });

  it('lists, gets, acts and follows changes, with the CSRF header on every request', async () => {
    const { fetch, sent } = recordingFetch();
    const { client, lines } = await loggedIn(server.url, 'ada@acme.test', { fetch });
    const page = await client.tickets.list({ count: 5 });
    expect(page.tickets.length).toBeGreaterThan(0);
    const ticket = await client.tickets.get('ticket2.acme');
    expect(ticket.id).toBe('ticket2.acme');
    expect((await client.tickets.validActions('ticket2.acme')).map((a) => a.value)).toContain(
      'ticket.action.reopen',
    );

    const stream = watch(client, { lastEventId: 0 });
    await connected(lines);
    const done = await client.tickets.act('ticket2.acme', {
      action: 'ticket.action.reopen',
      comments: ['Reopened under CSRF'],
      ifMatch: ticket.version,
    });
    expect(done).toMatchObject({ state: 'REOPEN', version: ticket.version + 1 });
    await eventually(() =>
      stream.received.some((c) => c.ticketId === 'ticket2.acme' && c.to === 'REOPEN'),
    );
    expect(await stream.stop()).toEqual({});
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);

    // Everything after the login carried the header (the login itself has no value to send yet).
    const afterLogin = sent.slice(1);
    expect(afterLogin.map((s) => s.path)).toEqual(
      expect.arrayContaining(['/trpc/tickets.list', '/trpc/tickets.changes']),
    );
    expect(afterLogin.some((s) => s.path.startsWith('/api/tickets/'))).toBe(true);
    const csrfValue = afterLogin[0]!.csrf;
    expect(csrfValue).toEqual(expect.any(String));
    expect(afterLogin.filter((s) => s.csrf !== csrfValue)).toEqual([]);
  });

  it('a request without the header is still refused where the mode asks for it', async () => {
    // The server's own check, as a program without the header sees it: the header matters.
    const session = await restLogin(server.url, 'ada@acme.test');
    const read = await call(server.url, session, '/api/tickets/ticket1.acme', { noCsrf: true });
    expect(read.status).toBe(csrf === 'all' ? 401 : 200);
    const write = await call(server.url, session, '/api/tickets/ticket1.acme/comments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Content: 'no header' }),
      noCsrf: true,
    });
    expect(write.status).toBe(401);
    expect(
      await restAct(server.url, session, 'ticket1.acme', 'ticket.action.close', {
        query: '?dryRun=true',
      }),
    ).toMatchObject({ status: 200 });
  });

  it('after logout it holds no CSRF value and sends none; a read fails unauthenticated', async () => {
    const { fetch, sent } = recordingFetch();
    const { client } = await loggedIn(server.url, 'ada@acme.test', { fetch });
    await client.logout();
    const before = sent.length;
    expect((await failure(client.tickets.get('ticket1.acme'))).kind).toBe('unauthenticated');
    expect(sent.slice(before)).toEqual([{ method: 'GET', path: '/trpc/tickets.get', csrf: null }]);
  });
});
