/**
 * Two small defects found by hostile requests, through real HTTP: methods the router does not
 * know (TRACE, PROPFIND, ...) are refused as the error table says (405 on a route, 404
 * elsewhere), never with a 5xx; and no answer of the API may be cached, whatever the case of its
 * path (the router ignores case, so `/API/LOGIN` logs in and sets cookies like `/api/login`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { raw, type RawResponse } from './support/rawHttp.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/** One request with any method (fetch() refuses to send TRACE at all). */
const send = (
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> => raw(url, { method, path, headers, ...(body !== undefined && { body }) });

const UNKNOWN_METHODS = ['TRACE', 'PROPFIND', 'MKCOL', 'SEARCH', 'LOCK', 'COPY', 'PURGE'];

describe('methods the router does not know', () => {
  let server: TestServer;
  let ada: Session;
  let cookies: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    cookies = { Cookie: ada.cookie, [`X-Csrf-Token_${ada.tenant}`]: ada.csrf };
  });
  afterAll(() => server.close());

  it.each(UNKNOWN_METHODS)(
    '%s on a JSON route is the 405 problem, with Allow naming what the route has',
    async (method) => {
      for (const [path, allow] of [
        ['/api/tickets', ['GET', 'HEAD', 'POST']],
        ['/api/tickets/ticket1.acme', ['GET', 'HEAD']],
        ['/api/login', ['POST']],
        ['/healthz', ['GET', 'HEAD']],
      ] as const) {
        const response = await send(server.url, method, path, cookies);
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(response.text)).toMatchObject({
          type: 'urn:tickets:problem:method-not-allowed',
          status: 405,
          code: 'METHOD_NOT_ALLOWED',
        });
        expect(
          response.headers['allow']
            ?.split(',')
            .map((m) => m.trim())
            .sort(),
        ).toEqual([...allow].sort());
      }
    },
  );

  it.each(UNKNOWN_METHODS)(
    '%s on the action endpoint is a 405 in text, as its errors are',
    async (method) => {
      for (const path of [
        '/api/tickets/ticket1.acme/actions',
        '/API/TICKETS/ticket1.acme/ACTIONS',
      ]) {
        const response = await send(server.url, method, path, cookies);
        expect({ path, status: response.status }).toEqual({ path, status: 405 });
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.text).toContain(method);
      }
    },
  );

  it.each([...UNKNOWN_METHODS, 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])(
    '%s on a tRPC procedure is the 405 problem, with Allow: GET, POST',
    async (method) => {
      for (const path of ['/trpc/tickets.list', '/trpc/tickets.create', '/trpc']) {
        const response = await send(server.url, method, path, cookies);
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
        expect(response.headers['allow']).toBe('GET, POST');
        if (method !== 'HEAD') {
          expect(JSON.parse(response.text)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
        }
      }
    },
  );

  it.each(UNKNOWN_METHODS)('%s on a path that is no route is the 404 problem', async (method) => {
    const response = await send(server.url, method, '/api/no-such-thing', cookies);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('changes nothing: the ticket is as it was', async () => {
    const read = () =>
      send(server.url, 'GET', '/api/tickets/ticket1.acme', {
        ...cookies,
        Accept: 'application/json',
      });
    const before = await read();
    for (const method of UNKNOWN_METHODS) {
      await send(
        server.url,
        method,
        '/api/tickets/ticket1.acme/actions',
        { ...cookies, 'Content-Type': 'application/json' },
        JSON.stringify({ ActionName: 'ticket.action.resolve' }),
      );
    }
    expect((await read()).text).toBe(before.text);
  });
});

describe('Cache-Control: no-store on every answer of the API, whatever the case of its path', () => {
  let server: TestServer;
  let ada: Session;

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
  });
  afterAll(() => server.close());

  it.each(['/api/tickets/ticket1.acme', '/API/TICKETS/ticket1.acme', '/Api/Tickets/ticket1.acme'])(
    'GET %s',
    async (path) => {
      const response = await send(server.url, 'GET', path, {
        Cookie: ada.cookie,
        Accept: 'application/json',
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text)).toMatchObject({ TicketID: 'ticket1.acme' });
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it.each(['/api/login', '/API/LOGIN', '/api/Login'])(
    'POST %s, which sets the session cookies',
    async (path) => {
      const response = await send(
        server.url,
        'POST',
        path,
        { 'Content-Type': 'application/json', Accept: 'application/json' },
        JSON.stringify({ email: 'ada@acme.test', password: PASSWORD }),
      );
      expect(response.status).toBe(200);
      expect(response.headers['set-cookie']?.length).toBe(2);
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it.each([
    ['/API/NOTHING', 404],
    ['/api/tickets/ticket99.acme', 404],
    // tRPC's prefix is matched as written: another case is no route.
    ['/TRPC/tickets.list', 404],
    ['/trpc/tickets.list?input=%7B%7D', 200],
  ])('errors and tRPC answers too: %s (%i)', async (path, status) => {
    const response = await send(server.url, 'GET', path, { Cookie: ada.cookie });
    expect(response.status).toBe(status);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
