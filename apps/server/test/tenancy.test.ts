import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, setCookies, type Session } from './support/client.js';
import { fixture, PASSWORD } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * Tenants are isolated (CONTRACT §1, §7 "Visibility" and "Which tenant"): lists never cross,
 * a request for another tenant's ticket is 401 whether it exists or not, and the tenant of a
 * request comes from the TicketID, `?fedmemberid=` or the only session cookie sent.
 */

interface TicketListJson {
  totalResults: number;
  startIndex: number;
  Ticket: { TicketID: string }[];
}
interface ProblemJson {
  type: string;
  status: number;
  detail: string;
  field?: string;
  requestId?: string;
  instance?: string;
}

const ids = (list: TicketListJson): string[] => list.Ticket.map((ticket) => ticket.TicketID);

async function expectProblem(
  response: Response,
  status: number,
  slug: string,
  field?: string,
): Promise<ProblemJson> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as ProblemJson;
  expect(body).toMatchObject({ type: `urn:tickets:problem:${slug}`, status });
  if (field !== undefined) expect(body.field).toBe(field);
  return body;
}

async function list(
  server: TestServer,
  session: Session | undefined,
  query = '',
  headers: Record<string, string> = {},
) {
  return call(server.url, session, `/api/tickets${query}`, {
    headers: { Accept: 'application/json', ...headers },
  });
}

/** One browser holding sessions of two tenants: both cookies in one header. */
function bothCookies(a: Session, b: Session): Record<string, string> {
  return { Cookie: `${a.cookie}; ${b.cookie}` };
}

describe('tenancy', () => {
  let server: TestServer;
  let ada: Session;
  let gina: Session;

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    gina = await login(server.url, 'gina@globex.test');
  });
  afterAll(() => server.close());

  it('a globex user never sees acme tickets in lists, whatever the filters', async () => {
    const all = await list(server, gina);
    expect(all.status).toBe(200);
    expect(await all.json()).toMatchObject({
      totalResults: 1,
      Ticket: [{ TicketID: 'ticket1.globex' }],
    });
    for (const query of [
      '?APIID=payments.acme',
      '?AppID=shop.acme',
      '?AuthorID=bob.acme',
      '?State=RESOLVED',
      '?APIID=payments.acme&State=OPEN',
      '?count=100',
    ]) {
      const body = (await (await list(server, gina, query)).json()) as TicketListJson;
      expect(
        ids(body).every((id) => id.endsWith('.globex')),
        query,
      ).toBe(true);
    }
    const acme = (await (await list(server, ada, '?count=100')).json()) as TicketListJson;
    expect(acme.totalResults).toBe(6);
    expect(ids(acme).every((id) => id.endsWith('.acme'))).toBe(true);
  });

  it('a ticket created in acme shows up for acme only', async () => {
    const created = await call(server.url, ada, '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Title: 'Acme only', Environment: 'Sandbox', APIID: 'payments.acme' }),
    });
    expect(created.status).toBe(201);
    const { TicketID } = (await created.json()) as { TicketID: string };
    expect(TicketID).toMatch(/\.acme$/);
    const globex = (await (await list(server, gina, '?count=100')).json()) as TicketListJson;
    expect(ids(globex)).toEqual(['ticket1.globex']);
  });

  /** Every ticket-scoped operation for `ticketId`, as `session` sends it. */
  const ticketOperations = (
    session: Session,
    ticketId: string,
  ): [string, () => Promise<Response>][] => [
    ['get', () => call(server.url, session, `/api/tickets/${ticketId}`)],
    ['valid actions', () => call(server.url, session, `/api/tickets/${ticketId}/actions`)],
    [
      'workflow actions',
      () => call(server.url, session, `/api/workflow/objects/${ticketId}/actions`),
    ],
    ['history', () => call(server.url, session, `/api/tickets/${ticketId}/history`)],
    [
      'comment',
      () =>
        call(server.url, session, `/api/tickets/${ticketId}/comments`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ Content: 'peek' }),
        }),
    ],
    [
      'action',
      () =>
        call(server.url, session, `/api/tickets/${ticketId}/actions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ActionName: 'ticket.action.close' }),
        }),
    ],
  ];

  /** A response with what differs per request (its id, the path) left out. */
  async function comparable(response: Response): Promise<unknown> {
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    if (!type.startsWith('application/problem+json'))
      return { status: response.status, type, text };
    const body = JSON.parse(text) as ProblemJson;
    delete body.requestId;
    delete body.instance;
    return { status: response.status, type, body };
  }

  it('an acme user asking for a globex ticket gets 401, the same for one that does not exist', async () => {
    const existing = ticketOperations(ada, 'ticket1.globex');
    const missing = ticketOperations(ada, 'ticket9.globex');
    for (const [index, [name, send]] of existing.entries()) {
      const a = await send();
      expect(a.status, name).toBe(401);
      const b = await missing[index]![1]();
      expect(b.status, name).toBe(401);
      expect(await comparable(a), name).toEqual(await comparable(b));
    }
    // The action endpoint answers its errors in text/plain, the others as problems.
    const action = await existing.at(-1)![1]();
    expect(action.headers.get('content-type')).toMatch(/^text\/plain/);

    // And nothing was written to the globex ticket.
    const history = await call(server.url, gina, '/api/tickets/ticket1.globex/history');
    expect(await history.json()).toEqual({ History: [] });
    const ticket = await call(server.url, gina, '/api/tickets/ticket1.globex');
    expect(await ticket.json()).toMatchObject({ State: 'OPEN', Version: 1, Comments: 0 });
  });

  it('the owner of the ticket sees it; a request without any session gets the same 401 as the acme user', async () => {
    expect((await call(server.url, gina, '/api/tickets/ticket1.globex')).status).toBe(200);
    const anonymous = await call(server.url, undefined, '/api/tickets/ticket1.globex');
    const acme = await call(server.url, ada, '/api/tickets/ticket1.globex');
    expect(await comparable(anonymous)).toEqual(await comparable(acme));
  });

  it('with the cookies of two tenants and no fedmemberid, GET /api/tickets is 400', async () => {
    const response = await list(server, undefined, '', bothCookies(ada, gina));
    const problem = await expectProblem(response, 400, 'invalid-input', 'fedmemberid');
    expect(problem.detail).toContain('fedmemberid');
    await expectProblem(
      await call(server.url, undefined, '/api/login/status', { headers: bothCookies(ada, gina) }),
      400,
      'invalid-input',
      'fedmemberid',
    );
  });

  it('with the cookies of two tenants, ?fedmemberid= picks the tenant', async () => {
    const globex = await list(server, undefined, '?fedmemberid=globex', bothCookies(ada, gina));
    expect(globex.status).toBe(200);
    expect(ids((await globex.json()) as TicketListJson)).toEqual(['ticket1.globex']);
    const acme = await list(
      server,
      undefined,
      '?fedmemberid=acme&count=100',
      bothCookies(ada, gina),
    );
    expect(acme.status).toBe(200);
    const acmeIds = ids((await acme.json()) as TicketListJson);
    expect(acmeIds.length).toBeGreaterThanOrEqual(6);
    expect(acmeIds.every((id) => id.endsWith('.acme'))).toBe(true);
    const status = await call(server.url, undefined, '/api/login/status?fedmemberid=globex', {
      headers: bothCookies(ada, gina),
    });
    expect(await status.json()).toMatchObject({ userFDN: 'gina.globex' });
    // Ticket-scoped operations take the tenant from the TicketID.
    const ticket = await call(server.url, undefined, '/api/tickets/ticket1.globex', {
      headers: bothCookies(ada, gina),
    });
    expect(ticket.status).toBe(200);
    const acmeTicket = await call(server.url, undefined, '/api/tickets/ticket1.acme', {
      headers: bothCookies(ada, gina),
    });
    expect(acmeTicket.status).toBe(200);
  });

  it('?fedmemberid= of a tenant the caller has no session of is 401; a malformed one 400', async () => {
    await expectProblem(await list(server, ada, '?fedmemberid=globex'), 401, 'unauthenticated');
    await expectProblem(
      await list(server, ada, '?fedmemberid=nosuchtenant'),
      401,
      'unauthenticated',
    );
    await expectProblem(
      await list(server, ada, '?fedmemberid=not.a.tenant'),
      400,
      'invalid-input',
      'fedmemberid',
    );
  });

  it('a session cannot be used under another tenant’s cookie name', async () => {
    // ada's acme token sent as if it were a globex session.
    const disguised: Session = {
      tenant: 'globex',
      authCookie: ada.authCookie,
      csrf: ada.csrf,
      cookie: `AtmoAuthToken_globex=${ada.authCookie}`,
    };
    await expectProblem(await list(server, disguised), 401, 'unauthenticated');
    await expectProblem(
      await list(server, disguised, '?fedmemberid=globex'),
      401,
      'unauthenticated',
    );
    await expectProblem(
      await call(server.url, disguised, '/api/tickets/ticket1.globex'),
      401,
      'unauthenticated',
    );
    await expectProblem(
      await call(server.url, disguised, '/api/login/status'),
      401,
      'unauthenticated',
    );
    const comment = await call(server.url, disguised, '/api/tickets/ticket1.globex/comments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Content: 'sneaky' }),
    });
    await expectProblem(comment, 401, 'unauthenticated');
    // The real acme session under its own name still works, and only for acme.
    expect((await call(server.url, ada, '/api/tickets/ticket1.acme')).status).toBe(200);
  });

  it('a CSRF header of one tenant does not pass for another tenant', async () => {
    const response = await call(server.url, undefined, '/api/tickets/ticket1.globex/comments', {
      method: 'POST',
      headers: {
        ...bothCookies(ada, gina),
        'Content-Type': 'application/json',
        'X-Csrf-Token_acme': ada.csrf,
        'X-Csrf-Token_globex': ada.csrf,
      },
      body: JSON.stringify({ Content: 'cross' }),
    });
    await expectProblem(response, 401, 'unauthenticated');
  });

  it.each([
    ['no tenant suffix', 'ticket1'],
    ['an empty tenant', 'ticket1.'],
    ['an empty local part', '.acme'],
    ['a bad tenant', 'ticket1.1acme'],
    ['a space', 'ticket%201.acme'],
    ['a bad character', 'ticket1!.acme'],
  ])('a malformed TicketID (%s) is 400', async (_what, id) => {
    for (const path of [
      `/api/tickets/${id}`,
      `/api/tickets/${id}/history`,
      `/api/tickets/${id}/actions`,
    ]) {
      const problem = await expectProblem(
        await call(server.url, ada, path),
        400,
        'invalid-input',
        'TicketID',
      );
      expect(problem.detail).toContain('TicketID');
    }
    const action = await call(server.url, ada, `/api/tickets/${id}/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ActionName: 'ticket.action.close' }),
    });
    expect(action.status).toBe(400);
    expect(action.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('a malformed TicketID without a session is 401, as the order of checks has it (session first)', async () => {
    for (const path of ['/api/tickets/bad', '/api/tickets/bad/history']) {
      const response = await fetch(`${server.url}${path}`, {
        headers: { Accept: 'application/json' },
      });
      await expectProblem(response, 401, 'unauthenticated');
    }
    const action = await fetch(`${server.url}/api/tickets/bad/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ActionName: 'ticket.action.close' }),
    });
    expect(action.status).toBe(401);
    // With the session but not its CSRF header: 401 too (CSRF comes before the body and the ID).
    const noCsrf = await fetch(`${server.url}/api/tickets/bad/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: ada.cookie },
      body: JSON.stringify({ ActionName: 'ticket.action.close' }),
    });
    expect(noCsrf.status).toBe(401);
  });
});

describe('login with ?fedmemberid=', () => {
  let server: TestServer;

  beforeAll(async () => {
    // dana has the same e-mail in both tenants, with different passwords; sam with the same one.
    server = await startTestServer({
      data: {
        ...fixture,
        users: [
          ...fixture.users!,
          { id: 'dana.acme', email: 'dana@example.test', password: PASSWORD, name: 'Dana of Acme' },
          {
            id: 'dana.globex',
            email: 'dana@example.test',
            password: 'globex-horse-2',
            name: 'Dana of Globex',
          },
          { id: 'sam.acme', email: 'sam@example.test', password: PASSWORD, name: 'Sam of Acme' },
          {
            id: 'sam.globex',
            email: 'sam@example.test',
            password: PASSWORD,
            name: 'Sam of Globex',
          },
        ],
      },
    });
  });
  afterAll(() => server.close());

  const postLogin = (email: string, password: string, query = '') =>
    fetch(`${server.url}/api/login${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });

  it('logs in to the named tenant: its cookie names and its login domain', async () => {
    const response = await postLogin('gina@globex.test', PASSWORD, '?fedmemberid=globex');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      userFDN: 'gina.globex',
      loginDomainID: 'siteusers.globex',
    });
    const cookies = setCookies(response);
    expect([...cookies.keys()].sort()).toEqual(['AtmoAuthToken_globex', 'Csrf-Token_globex']);
    const gina = await login(server.url, 'gina@globex.test', PASSWORD, 'globex');
    expect(gina.tenant).toBe('globex');
    expect((await call(server.url, gina, '/api/tickets/ticket1.globex')).status).toBe(200);
  });

  it('a user named in the wrong tenant gets the ordinary 401', async () => {
    const wrongTenant = await postLogin('gina@globex.test', PASSWORD, '?fedmemberid=acme');
    const wrongPassword = await postLogin('bob@acme.test', 'nope-nope-nope');
    expect(wrongTenant.status).toBe(401);
    expect(wrongPassword.status).toBe(401);
    const strip = (body: ProblemJson) => ({ ...body, requestId: undefined });
    expect(strip((await wrongTenant.json()) as ProblemJson)).toEqual(
      strip((await wrongPassword.json()) as ProblemJson),
    );
  });

  it('an e-mail in several tenants: the password decides, and only a password that fits both needs fedmemberid', async () => {
    // Without fedmemberid, the password finds the one account it belongs to.
    const withoutTenant = await postLogin('dana@example.test', 'globex-horse-2');
    expect(withoutTenant.status).toBe(200);
    expect(((await withoutTenant.json()) as { fedmemberid: string }).fedmemberid).toBe('globex');
    // A wrong password says nothing about how many tenants know the e-mail: the plain 401.
    const wrong = await postLogin('dana@example.test', 'not-her-password');
    const unknown = await postLogin('nobody@example.test', 'not-her-password');
    expect(wrong.status).toBe(401);
    const strip = (body: ProblemJson) => ({ ...body, requestId: undefined });
    expect(strip((await wrong.json()) as ProblemJson)).toEqual(
      strip((await unknown.json()) as ProblemJson),
    );

    const ambiguous = await postLogin('sam@example.test', PASSWORD);
    await expectProblem(ambiguous, 400, 'invalid-input', 'fedmemberid');
    expect(ambiguous.headers.getSetCookie()).toEqual([]);
    expect((await login(server.url, 'sam@example.test', PASSWORD, 'globex')).tenant).toBe('globex');

    const acme = await login(server.url, 'dana@example.test', PASSWORD, 'acme');
    expect(acme.tenant).toBe('acme');
    const globex = await login(server.url, 'dana@example.test', 'globex-horse-2', 'globex');
    expect(globex.tenant).toBe('globex');
    // Each tenant's password is its own.
    expect((await postLogin('dana@example.test', PASSWORD, '?fedmemberid=globex')).status).toBe(
      401,
    );

    const acmeList = (await (
      await call(server.url, acme, '/api/tickets?count=100')
    ).json()) as TicketListJson;
    expect(ids(acmeList).every((id) => id.endsWith('.acme'))).toBe(true);
    const globexList = (await (
      await call(server.url, globex, '/api/tickets')
    ).json()) as TicketListJson;
    expect(ids(globexList)).toEqual(['ticket1.globex']);
  });

  it('a malformed fedmemberid is 400', async () => {
    await expectProblem(
      await postLogin('ada@acme.test', PASSWORD, '?fedmemberid=acme.corp'),
      400,
      'invalid-input',
      'fedmemberid',
    );
  });
});
