import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, call, login, type Session } from './support/client.js';
import { fixture } from './support/fixtures.js';
import { INVALID_PAGING_QUERIES } from './support/pagingCases.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * The happy path of every REST operation (CONTRACT §3, §7), in JSON and in XML, through the real
 * HTTP stack over a real SQLite file. What a user notices: statuses, headers, the bodies.
 */

interface TicketJson {
  TicketID: string;
  Title: string;
  Description: string;
  Environment: string;
  APIID?: string;
  AppID?: string;
  Label: string[];
  Tag: string[];
  State: string;
  UserID: string;
  UserName: string;
  Created: string;
  Updated: string;
  Version: number;
  Comments: number;
}
interface TicketListJson {
  totalResults: number;
  startIndex: number;
  Ticket: TicketJson[];
}
interface ActionJson {
  Value: string;
  Label: string;
  Allowed: boolean;
  Reason?: string;
}
interface HistoryJson {
  Action: string;
  From: string;
  To: string;
  Comments: string[];
  UserID: string;
  Created: string;
}
interface CommentJson {
  CommentID: string;
  Content: string;
  UserID: string;
  Created: string;
}
interface ProblemJson {
  type: string;
  status: number;
  detail: string;
  field?: string;
}

const JSON_ONLY = { Accept: 'application/json' };
const HIGH = 'com.soa.ticket.label.priority.high';
const MEDIUM = 'com.soa.ticket.label.priority.medium';

const xmlParser = new XMLParser({ parseTagValue: false, ignoreDeclaration: true });

/** An XML answer as a plain object (repeated elements become arrays, as the parser does). */
function parseXml(text: string): Record<string, unknown> {
  expect(text.startsWith('<?xml')).toBe(true);
  return xmlParser.parse(text, true) as Record<string, unknown>;
}

/**
 * What the XML form of a JSON value reads back as: every leaf a string, one element per array
 * item (so a one-item array reads as the item and an empty one as nothing).
 */
function xmlMirror(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(xmlMirror);
    return items.length === 1 ? items[0] : items;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => !(Array.isArray(item) && item.length === 0))
        .map(([key, item]) => [key, xmlMirror(item)]),
    );
  }
  return String(value);
}

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
  expect(body.detail).toEqual(expect.any(String));
  expect(body.detail.length).toBeGreaterThan(0);
  if (field !== undefined) expect(body.field).toBe(field);
  return body;
}

function postJson(
  server: TestServer,
  session: Session,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(server.url, session, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function getJson<T>(server: TestServer, session: Session, path: string): Promise<T> {
  const response = await call(server.url, session, path, { headers: JSON_ONLY });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as T;
}

const ids = (list: TicketListJson): string[] => list.Ticket.map((ticket) => ticket.TicketID);

/** A clock the tests move; every server here reads it. */
function movableClock(start: string): { now: () => Date; advance: (ms: number) => Date } {
  let current = new Date(start);
  return {
    now: () => current,
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
      return current;
    },
  };
}

describe('reading: list, get, valid actions, history (fixture data, nothing written)', () => {
  let server: TestServer;
  const users: Record<string, Session> = {};

  beforeAll(async () => {
    server = await startTestServer();
    for (const name of ['ada', 'bob', 'carol', 'shay', 'root']) {
      users[name] = await login(server.url, `${name}@acme.test`);
    }
    users['gina'] = await login(server.url, 'gina@globex.test');
  });
  afterAll(() => server.close());

  it('GET /healthz answers 200 while the database is reachable', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('lists the tenant’s tickets newest first, with totalResults and startIndex', async () => {
    const list = await getJson<TicketListJson>(server, users['carol']!, '/api/tickets');
    expect(list.totalResults).toBe(6);
    expect(list.startIndex).toBe(0);
    expect(ids(list)).toEqual([
      'ticket6.acme',
      'ticket5.acme',
      'ticket4.acme',
      'ticket3.acme',
      'ticket2.acme',
      'ticket1.acme',
    ]);
    expect(list.Ticket[1]).toEqual({
      TicketID: 'ticket5.acme',
      Title: 'API and app',
      Description: '',
      Environment: 'Production',
      APIID: 'payments.acme',
      AppID: 'shop.acme',
      Label: [MEDIUM],
      Tag: [],
      State: 'OPEN',
      UserID: 'carol.acme',
      UserName: 'Carol',
      Created: '2026-01-01T00:00:05.000Z',
      Updated: '2026-01-01T00:00:05.000Z',
      Version: 1,
      Comments: 0,
    });
  });

  it.each([
    [
      'APIID=payments.acme',
      ['ticket5.acme', 'ticket4.acme', 'ticket3.acme', 'ticket2.acme', 'ticket1.acme'],
    ],
    ['AppID=shop.acme', ['ticket6.acme', 'ticket5.acme']],
    ['AuthorID=carol.acme', ['ticket6.acme', 'ticket5.acme']],
    ['AuthorID=bob.acme', ['ticket4.acme', 'ticket3.acme', 'ticket2.acme', 'ticket1.acme']],
    ['State=OPEN', ['ticket6.acme', 'ticket5.acme', 'ticket1.acme']],
    ['State=RESOLVED', ['ticket2.acme']],
    ['State=CLOSED', ['ticket3.acme']],
    ['State=REOPEN', ['ticket4.acme']],
    ['APIID=payments.acme&State=OPEN', ['ticket5.acme', 'ticket1.acme']],
    ['AppID=shop.acme&AuthorID=bob.acme', []],
    ['APIID=ledger.globex', []],
  ])('filters the list by %s', async (query, expected) => {
    const list = await getJson<TicketListJson>(server, users['ada']!, `/api/tickets?${query}`);
    expect(ids(list)).toEqual(expected);
    expect(list.totalResults).toBe(expected.length);
  });

  it('leaves alone parameters that are not look-alikes of its own (a cache buster, fedmemberid)', async () => {
    const list = await getJson<TicketListJson>(
      server,
      users['ada']!,
      '/api/tickets?State=OPEN&_=1733300000&fedmemberid=acme',
    );
    expect(ids(list)).toEqual(['ticket6.acme', 'ticket5.acme', 'ticket1.acme']);
  });

  it('pages with start and count; totalResults counts every match', async () => {
    const page = await getJson<TicketListJson>(
      server,
      users['ada']!,
      '/api/tickets?start=2&count=2',
    );
    expect(page).toMatchObject({ totalResults: 6, startIndex: 2 });
    expect(ids(page)).toEqual(['ticket4.acme', 'ticket3.acme']);
    const beyond = await getJson<TicketListJson>(server, users['ada']!, '/api/tickets?start=10');
    expect(beyond).toEqual({ totalResults: 6, startIndex: 10, Ticket: [] });
  });

  it.each([
    ...INVALID_PAGING_QUERIES,
    ['State=open', 'State'] as const,
    ['State=DONE', 'State'] as const,
    // A filter under another spelling would be no filter at all: every ticket answered.
    ['state=OPEN', 'State'] as const,
    ['APIID[]=payments.acme', 'APIID'] as const,
    ['appid=shop.acme', 'AppID'] as const,
    ['COUNT=5', 'count'] as const,
  ])('refuses the list query %s with 400 naming %s', async (query, field) => {
    const response = await call(server.url, users['ada'], `/api/tickets?${query}`, {
      headers: JSON_ONLY,
    });
    const problem = await expectProblem(response, 400, 'invalid-input', field);
    expect(problem.detail).toContain(field);
  });

  it('lists in XML: a TicketList root mirroring the JSON, in the negotiated type', async () => {
    const json = await getJson<TicketListJson>(server, users['ada']!, '/api/tickets?State=OPEN');
    for (const type of [
      'application/xml',
      'application/vnd.soa.v81+xml',
      'application/vnd.soa.v71+xml',
    ]) {
      const response = await call(server.url, users['ada'], '/api/tickets?State=OPEN', {
        headers: { Accept: type },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(parseXml(await response.text())).toEqual({ TicketList: xmlMirror(json) });
    }
    const empty = await call(server.url, users['ada'], '/api/tickets?APIID=nothing.acme', {
      headers: { Accept: 'application/xml' },
    });
    expect(parseXml(await empty.text())).toEqual({
      TicketList: { totalResults: '0', startIndex: '0' },
    });
  });

  it('answers in a vnd.soa JSON type when asked, and JSON when Accept is missing', async () => {
    const vnd = await call(server.url, users['ada'], '/api/tickets?count=1', {
      headers: { Accept: 'application/vnd.soa.v80+json' },
    });
    expect(vnd.status).toBe(200);
    expect(vnd.headers.get('content-type')).toMatch(/^application\/vnd\.soa\.v80\+json/);
    expect(ids((await vnd.json()) as TicketListJson)).toEqual(['ticket6.acme']);
    const bare = await fetch(`${server.url}/api/tickets?count=1`, {
      headers: { Cookie: users['ada']!.cookie },
    });
    expect(bare.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('GET one ticket: the ticket, with its version as ETag, in JSON and XML', async () => {
    const response = await call(server.url, users['carol'], '/api/tickets/ticket2.acme', {
      headers: JSON_ONLY,
    });
    expect(response.status).toBe(200);
    const ticket = (await response.json()) as TicketJson;
    expect(ticket).toMatchObject({
      TicketID: 'ticket2.acme',
      Title: 'Resolved one',
      Environment: 'Sandbox',
      APIID: 'payments.acme',
      State: 'RESOLVED',
      UserID: 'bob.acme',
      UserName: 'Bob',
    });
    expect(ticket).not.toHaveProperty('AppID');
    expect(response.headers.get('etag')).toBe(`"${ticket.Version}"`);

    const xml = await call(server.url, users['carol'], '/api/tickets/ticket2.acme', {
      headers: { Accept: 'application/vnd.soa.v72+xml' },
    });
    expect(xml.status).toBe(200);
    expect(xml.headers.get('content-type')).toContain('application/vnd.soa.v72+xml');
    expect(xml.headers.get('etag')).toBe(`"${ticket.Version}"`);
    expect(parseXml(await xml.text())).toEqual({ Ticket: xmlMirror(ticket) });
  });

  it('GET one ticket that does not exist in the tenant: 404 problem', async () => {
    const response = await call(server.url, users['ada'], '/api/tickets/ticket99.acme');
    await expectProblem(response, 404, 'not-found');
  });

  const RESOLVE = 'ticket.action.resolve';
  const CLOSE = 'ticket.action.close';
  const REOPEN = 'ticket.action.reopen';
  it.each([
    // ticket1: OPEN, API payments.acme, author bob
    ['ada', 'ticket1.acme', 'the API admin', { [RESOLVE]: true, [CLOSE]: true }],
    ['root', 'ticket1.acme', 'a site admin', { [RESOLVE]: true, [CLOSE]: true }],
    ['bob', 'ticket1.acme', 'the author', { [RESOLVE]: false, [CLOSE]: true }],
    ['carol', 'ticket1.acme', 'a plain user', { [RESOLVE]: false, [CLOSE]: false }],
    ['shay', 'ticket1.acme', 'an admin of another resource', { [RESOLVE]: false, [CLOSE]: false }],
    // ticket5: OPEN, API payments.acme and App shop.acme, author carol
    ['shay', 'ticket5.acme', 'the admin of its AppID', { [RESOLVE]: true, [CLOSE]: true }],
    ['ada', 'ticket5.acme', 'the admin of its APIID', { [RESOLVE]: true, [CLOSE]: true }],
    ['carol', 'ticket5.acme', 'its author', { [RESOLVE]: false, [CLOSE]: true }],
    // ticket2: RESOLVED; ticket3: CLOSED; ticket4: REOPEN (all bob's)
    ['bob', 'ticket2.acme', 'the author', { [CLOSE]: true, [REOPEN]: true }],
    ['carol', 'ticket2.acme', 'a plain user', { [CLOSE]: false, [REOPEN]: false }],
    ['bob', 'ticket3.acme', 'the author', { [REOPEN]: true }],
    ['carol', 'ticket3.acme', 'a plain user', { [REOPEN]: false }],
    ['bob', 'ticket4.acme', 'the author', { [RESOLVE]: false, [CLOSE]: true }],
    ['ada', 'ticket4.acme', 'the API admin', { [RESOLVE]: true, [CLOSE]: true }],
  ])('valid actions for %s on %s (%s)', async (user, ticketId, _who, expected) => {
    const body = await getJson<{ Action: ActionJson[] }>(
      server,
      users[user]!,
      `/api/tickets/${ticketId}/actions`,
    );
    expect(body.Action.map((action) => action.Value)).toEqual(Object.keys(expected));
    for (const action of body.Action) {
      expect(action.Allowed).toBe((expected as Record<string, boolean>)[action.Value]);
      expect(action.Label).toMatch(/^(Resolve|Close|Reopen)$/);
      if (action.Allowed) expect(action).not.toHaveProperty('Reason');
      else expect(action.Reason).toMatch(/\w+/);
    }
    const alias = await getJson<{ Action: ActionJson[] }>(
      server,
      users[user]!,
      `/api/workflow/objects/${ticketId}/actions`,
    );
    expect(alias).toEqual(body);
  });

  it('valid actions in XML: an ActionList root mirroring the JSON', async () => {
    const json = await getJson<{ Action: ActionJson[] }>(
      server,
      users['bob']!,
      '/api/tickets/ticket1.acme/actions',
    );
    expect(json.Action).toEqual([
      {
        Value: RESOLVE,
        Label: 'Resolve',
        Allowed: false,
        Reason: expect.stringContaining('admin'),
      },
      { Value: CLOSE, Label: 'Close', Allowed: true },
    ]);
    for (const path of [
      '/api/tickets/ticket1.acme/actions',
      '/api/workflow/objects/ticket1.acme/actions',
    ]) {
      const response = await call(server.url, users['bob'], path, {
        headers: { Accept: 'application/vnd.soa.v81+xml' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/vnd.soa.v81+xml');
      expect(parseXml(await response.text())).toEqual({ ActionList: xmlMirror(json) });
    }
  });

  it('valid actions of a ticket that does not exist: 404 problem', async () => {
    await expectProblem(
      await call(server.url, users['ada'], '/api/tickets/ticket99.acme/actions'),
      404,
      'not-found',
    );
    await expectProblem(
      await call(server.url, users['ada'], '/api/workflow/objects/ticket99.acme/actions'),
      404,
      'not-found',
    );
  });

  it('history of a provisioned ticket, in JSON and in XML (HistoryList root)', async () => {
    const json = await getJson<{ History: HistoryJson[] }>(
      server,
      users['carol']!,
      '/api/tickets/ticket2.acme/history',
    );
    expect(json).toEqual({
      History: [
        {
          Action: 'provision',
          From: 'OPEN',
          To: 'RESOLVED',
          Comments: ['Provisioned in state RESOLVED'],
          UserID: 'bob.acme',
          Created: '2026-01-01T00:00:02.000Z',
        },
      ],
    });
    const xml = await call(server.url, users['carol'], '/api/tickets/ticket2.acme/history', {
      headers: { Accept: 'application/xml' },
    });
    expect(xml.status).toBe(200);
    expect(xml.headers.get('content-type')).toContain('application/xml');
    expect(parseXml(await xml.text())).toEqual({ HistoryList: xmlMirror(json) });
    // The ticket counts that comment, as it counts a transition's (CONTRACT §7, Versions).
    const ticket = await getJson<{ Comments: number }>(
      server,
      users['carol']!,
      '/api/tickets/ticket2.acme',
    );
    expect(ticket.Comments).toBe(1);
    expect(await getJson(server, users['carol']!, '/api/tickets/ticket1.acme/history')).toEqual({
      History: [],
    });
    await expectProblem(
      await call(server.url, users['ada'], '/api/tickets/ticket99.acme/history'),
      404,
      'not-found',
    );
  });

  it('an unknown route is a 404 problem; a known route with the wrong method is 405', async () => {
    await expectProblem(
      await call(server.url, users['ada'], '/api/nothing-here'),
      404,
      'not-found',
    );
    await expectProblem(await fetch(`${server.url}/no/such/page`), 404, 'not-found');
    for (const [method, path] of [
      ['DELETE', '/api/tickets'],
      ['PUT', '/api/tickets/ticket1.acme'],
      ['DELETE', '/api/tickets/ticket1.acme/comments'],
      ['PATCH', '/api/tickets/ticket1.acme/history'],
      ['GET', '/api/login/logout'],
    ] as const) {
      const response = await call(server.url, users['ada'], path, { method });
      await expectProblem(response, 405, 'method-not-allowed');
      expect(response.headers.get('allow')).toBeTruthy();
    }
  });

  it('every answer carries an X-Request-Id; a sane incoming one is kept', async () => {
    const response = await call(server.url, users['ada'], '/api/tickets', {
      headers: { 'X-Request-Id': 'trace-123.abc' },
    });
    expect(response.headers.get('x-request-id')).toBe('trace-123.abc');
    const problem = await fetch(`${server.url}/api/tickets`);
    expect(problem.status).toBe(401);
    expect(problem.headers.get('x-request-id')).toMatch(/\S+/);
  });
});

describe('paging over many tickets', () => {
  let server: TestServer;
  let ada: Session;
  // 110 extra tickets, two at each instant, so that order by TicketID decides ties.
  const bulk = Array.from({ length: 110 }, (_, i) => ({
    id: `bulk${String(i).padStart(3, '0')}.acme`,
    Title: `Bulk ${i}`,
    Environment: 'Sandbox' as const,
    APIID: 'payments.acme',
    author: 'bob.acme',
    Created: new Date(Date.UTC(2026, 1, 1, 0, 0, Math.floor(i / 2))).toISOString(),
  }));
  const acmeTickets = [...fixture.tickets!, ...bulk].filter((ticket) =>
    ticket.id.endsWith('.acme'),
  );
  const expectedOrder = [...acmeTickets]
    .sort((a, b) =>
      a.Created! === b.Created! ? (a.id < b.id ? -1 : 1) : a.Created! < b.Created! ? 1 : -1,
    )
    .map((ticket) => ticket.id);

  beforeAll(async () => {
    // Reverse the bulk order on the way in, so that insertion order cannot pass for the sort.
    server = await startTestServer({
      data: { ...fixture, tickets: [...fixture.tickets!, ...bulk.reverse()] },
    });
    ada = await login(server.url, 'ada@acme.test');
  });
  afterAll(() => server.close());

  it('counts default to 20; more than 100 is clamped to 100', async () => {
    const first = await getJson<TicketListJson>(server, ada, '/api/tickets');
    expect(first.totalResults).toBe(116);
    expect(ids(first)).toEqual(expectedOrder.slice(0, 20));
    const clamped = await getJson<TicketListJson>(server, ada, '/api/tickets?count=500');
    expect(clamped.Ticket).toHaveLength(100);
    expect(ids(clamped)).toEqual(expectedOrder.slice(0, 100));
    const exactly = await getJson<TicketListJson>(server, ada, '/api/tickets?count=100&start=100');
    expect(exactly).toMatchObject({ totalResults: 116, startIndex: 100 });
    expect(ids(exactly)).toEqual(expectedOrder.slice(100));
  });

  it('a count of any number of digits over 100 is clamped too', async () => {
    const huge = await getJson<TicketListJson>(
      server,
      ada,
      '/api/tickets?count=100000000000000000000',
    );
    expect(ids(huge)).toEqual(expectedOrder.slice(0, 100));
  });

  it.each([
    ['start=0x10', 'start', 'start must be a whole number'],
    ['start=1e2', 'start', 'start must be a whole number'],
    ['start=%205', 'start', 'start must be a whole number'],
    ['start=-1', 'start', 'start may not be negative'],
    ['start=100000000000000000000', 'start', 'start is at most'],
    ['count=0x10', 'count', 'count must be a whole number'],
    ['count=2.5', 'count', 'count must be a whole number'],
    ['count=0', 'count', 'count must be at least 1'],
  ])(
    'refuses %s, written as no whole number in decimal digits is (400)',
    async (query, field, detail) => {
      const response = await call(server.url, ada, `/api/tickets?${query}`, { headers: JSON_ONLY });
      const problem = await expectProblem(response, 400, 'invalid-input', field);
      expect(problem.detail).toContain(detail);
    },
  );

  it('walking the pages gives every ticket once, newest first, ties by TicketID', async () => {
    const seen: string[] = [];
    for (let start = 0; start < 116; start += 25) {
      const page = await getJson<TicketListJson>(
        server,
        ada,
        `/api/tickets?start=${start}&count=25`,
      );
      expect(page.startIndex).toBe(start);
      seen.push(...ids(page));
    }
    expect(seen).toEqual(expectedOrder);
    expect(seen[0]).toBe('bulk108.acme');
    expect(seen[1]).toBe('bulk109.acme');
  });
});

describe('writing: create, comment, act', () => {
  const clock = movableClock('2030-03-01T09:00:00.000Z');
  let server: TestServer;
  const users: Record<string, Session> = {};

  beforeAll(async () => {
    server = await startTestServer({ now: clock.now });
    for (const name of ['ada', 'bob', 'carol', 'shay', 'root']) {
      users[name] = await login(server.url, `${name}@acme.test`);
    }
  });
  afterAll(() => server.close());

  const total = async (): Promise<number> =>
    (await getJson<TicketListJson>(server, users['ada']!, '/api/tickets?count=1')).totalResults;

  it('POST /api/tickets in JSON: 201, Location, ETag and the ticket', async () => {
    const at = clock.advance(1000).toISOString();
    const response = await postJson(server, users['bob']!, '/api/tickets', {
      Title: 'Card payments declined',
      Description: 'Since 09:00 every card payment is declined.',
      Environment: 'Production',
      APIID: 'payments.acme',
      Label: [HIGH],
      Tag: ['cards', 'eu'],
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const ticket = (await response.json()) as TicketJson;
    expect(ticket).toEqual({
      TicketID: expect.stringMatching(/^ticket\d+\.acme$/),
      Title: 'Card payments declined',
      Description: 'Since 09:00 every card payment is declined.',
      Environment: 'Production',
      APIID: 'payments.acme',
      Label: [HIGH],
      Tag: ['cards', 'eu'],
      State: 'OPEN',
      UserID: 'bob.acme',
      UserName: 'Bob',
      Created: at,
      Updated: at,
      Version: 1,
      Comments: 0,
    });
    expect(response.headers.get('location')).toBe(`/api/tickets/${ticket.TicketID}`);
    expect(response.headers.get('etag')).toBe('"1"');

    const again = await call(server.url, users['carol'], response.headers.get('location')!, {
      headers: JSON_ONLY,
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe('"1"');
    expect(await again.json()).toEqual(ticket);
    const list = await getJson<TicketListJson>(server, users['carol']!, '/api/tickets?count=1');
    expect(ids(list)).toEqual([ticket.TicketID]);
  });

  it('text beyond ASCII comes back as sent, in UTF-8 bytes: JSON and XML, and HEAD counts the same bytes', async () => {
    clock.advance(1000);
    const [title, description] = ['Café ☕ — 支払い <&> "quoted"', 'Ünïcödé\nsecond line'];
    const created = await postJson(server, users['bob']!, '/api/tickets', {
      Title: title,
      Description: description,
      Environment: 'Production',
      APIID: 'payments.acme',
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;

    const json = await call(server.url, users['carol'], location, { headers: JSON_ONLY });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const bytes = Buffer.from(await json.arrayBuffer());
    expect(json.headers.get('content-length')).toBe(String(bytes.length));
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({
      Title: title,
      Description: description,
    });
    const head = await call(server.url, users['carol'], location, {
      method: 'HEAD',
      headers: JSON_ONLY,
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));

    const xml = await call(server.url, users['carol'], location, {
      headers: { Accept: 'application/xml' },
    });
    expect(xml.headers.get('content-type')).toBe('application/xml');
    const xmlBytes = Buffer.from(await xml.arrayBuffer());
    expect(xml.headers.get('content-length')).toBe(String(xmlBytes.length));
    expect(parseXml(xmlBytes.toString('utf8'))).toMatchObject({
      Ticket: { Title: title, Description: description },
    });
  });

  it('POST /api/tickets in XML (vnd.soa.v81+xml both ways): a Ticket root mirroring the JSON', async () => {
    clock.advance(1000);
    const response = await call(server.url, users['carol'], '/api/tickets', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/vnd.soa.v81+xml',
        Accept: 'application/vnd.soa.v81+xml',
      },
      body:
        '<?xml version="1.0" encoding="UTF-8"?><Ticket><Title>Refunds &amp; chargebacks</Title>' +
        '<Description>Two lines</Description><Environment>Sandbox</Environment>' +
        '<APIID>payments.acme</APIID><Label>com.soa.ticket.label.priority.low</Label>' +
        '<Tag>refunds</Tag><Tag>chargebacks</Tag></Ticket>',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toContain('application/vnd.soa.v81+xml');
    const xml = parseXml(await response.text()) as { Ticket: Record<string, string> };
    expect(xml.Ticket).toMatchObject({
      Title: 'Refunds & chargebacks',
      Environment: 'Sandbox',
      APIID: 'payments.acme',
      Label: 'com.soa.ticket.label.priority.low',
      Tag: ['refunds', 'chargebacks'],
      State: 'OPEN',
      UserID: 'carol.acme',
      Version: '1',
      Comments: '0',
    });
    const id = xml.Ticket['TicketID']!;
    expect(response.headers.get('location')).toBe(`/api/tickets/${id}`);
    expect(response.headers.get('etag')).toBe('"1"');
    const json = await getJson<TicketJson>(server, users['carol']!, `/api/tickets/${id}`);
    expect(xml).toEqual({ Ticket: xmlMirror(json) });
  });

  it('POST /api/tickets: an application/xml body answered in JSON, a JSON body answered as vnd.soa JSON', async () => {
    const xmlIn = await call(server.url, users['ada'], '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml; charset=utf-8', Accept: 'application/json' },
      body: '<Ticket><Title>XML in</Title><Environment>Production</Environment><AppID>shop.acme</AppID></Ticket>',
    });
    expect(xmlIn.status).toBe(201);
    expect(xmlIn.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await xmlIn.json()).toMatchObject({
      Title: 'XML in',
      AppID: 'shop.acme',
      Label: [MEDIUM],
      Tag: [],
    });

    const vnd = await postJson(
      server,
      users['ada']!,
      '/api/tickets',
      { Title: 'vnd out', Environment: 'Sandbox', APIID: 'payments.acme' },
      { 'Content-Type': 'application/vnd.soa.v72+json', Accept: 'application/vnd.soa.v72+json' },
    );
    expect(vnd.status).toBe(201);
    expect(vnd.headers.get('content-type')).toMatch(/^application\/vnd\.soa\.v72\+json/);
    expect(await vnd.json()).toMatchObject({ Title: 'vnd out', State: 'OPEN' });
  });

  it('an app ticket names its AppID and no APIID; a ticket may name both', async () => {
    const app = await postJson(server, users['carol']!, '/api/tickets', {
      Title: 'Checkout button missing',
      Environment: 'Sandbox',
      AppID: 'shop.acme',
    });
    expect(app.status).toBe(201);
    const appTicket = (await app.json()) as TicketJson;
    expect(appTicket).toMatchObject({ AppID: 'shop.acme', Label: [MEDIUM], Description: '' });
    expect(appTicket).not.toHaveProperty('APIID');

    const both = await postJson(server, users['carol']!, '/api/tickets', {
      Title: 'Shop cannot pay',
      Environment: 'Production',
      APIID: 'payments.acme',
      AppID: 'shop.acme',
    });
    expect(both.status).toBe(201);
    expect(await both.json()).toMatchObject({ APIID: 'payments.acme', AppID: 'shop.acme' });
    const filtered = await getJson<TicketListJson>(
      server,
      users['carol']!,
      '/api/tickets?AppID=shop.acme&count=2',
    );
    expect(ids(filtered)).toEqual(expect.arrayContaining([appTicket.TicketID]));
  });

  it.each([
    ['no Title', { Environment: 'Production', APIID: 'payments.acme' }, 'Title'],
    ['a blank Title', { Title: '   ', Environment: 'Production', APIID: 'payments.acme' }, 'Title'],
    [
      'a Title over 200 characters',
      { Title: 'x'.repeat(201), Environment: 'Production', APIID: 'payments.acme' },
      'Title',
    ],
    ['no Environment', { Title: 'T', APIID: 'payments.acme' }, 'Environment'],
    [
      'an unknown Environment',
      { Title: 'T', Environment: 'Staging', APIID: 'payments.acme' },
      'Environment',
    ],
    ['neither APIID nor AppID', { Title: 'T', Environment: 'Production' }, 'APIID'],
    [
      'a Title that is a number',
      { Title: 42, Environment: 'Production', APIID: 'payments.acme' },
      'Title',
    ],
  ])('POST /api/tickets with %s: 400 naming %s, nothing created', async (_what, body, field) => {
    const before = await total();
    const response = await postJson(server, users['ada']!, '/api/tickets', body);
    await expectProblem(response, 400, 'invalid-input', field);
    expect(await total()).toBe(before);
  });

  it('POST /api/tickets with an unknown priority Label: 400 naming Label', async () => {
    const response = await postJson(server, users['ada']!, '/api/tickets', {
      Title: 'T',
      Environment: 'Production',
      APIID: 'payments.acme',
      Label: ['urgent'],
    });
    const problem = await expectProblem(response, 400, 'invalid-input');
    expect(problem.field).toMatch(/^Label/);
  });

  it('POST /api/tickets in XML with a missing field: 400 naming it', async () => {
    const response = await call(server.url, users['ada'], '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml', Accept: 'application/xml' },
      body: '<Ticket><Title>No resource</Title><Environment>Production</Environment></Ticket>',
    });
    await expectProblem(response, 400, 'invalid-input', 'APIID');
  });

  it('POST /api/tickets for an unknown API or app of the tenant: 404; of another tenant: 403', async () => {
    const before = await total();
    const base = { Title: 'T', Environment: 'Production' };
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets', { ...base, APIID: 'nothing.acme' }),
      404,
      'not-found',
    );
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets', { ...base, AppID: 'nothing.acme' }),
      404,
      'not-found',
    );
    // An app named as an API is no API of the tenant.
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets', { ...base, APIID: 'shop.acme' }),
      404,
      'not-found',
    );
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets', { ...base, APIID: 'ledger.globex' }),
      403,
      'not-allowed',
    );
    await expectProblem(
      await postJson(server, users['root']!, '/api/tickets', {
        ...base,
        APIID: 'payments.acme',
        AppID: 'ledger.globex',
      }),
      403,
      'not-allowed',
    );
    expect(await total()).toBe(before);
  });

  it('POST comments: 201 with the comment, the version and the comment count go up, history shows it', async () => {
    const ticketId = 'ticket1.acme';
    const before = await getJson<TicketJson>(server, users['carol']!, `/api/tickets/${ticketId}`);
    const at = clock.advance(1000).toISOString();
    const response = await postJson(server, users['carol']!, `/api/tickets/${ticketId}/comments`, {
      Content: '  Still failing for me.  ',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const comment = (await response.json()) as CommentJson;
    expect(comment).toEqual({
      CommentID: expect.stringMatching(/\.acme$/),
      Content: 'Still failing for me.',
      UserID: 'carol.acme',
      Created: at,
    });
    expect(response.headers.get('etag')).toBe(`"${before.Version + 1}"`);

    const after = await call(server.url, users['carol'], `/api/tickets/${ticketId}`, {
      headers: JSON_ONLY,
    });
    const ticket = (await after.json()) as TicketJson;
    expect(ticket).toMatchObject({
      Version: before.Version + 1,
      Comments: before.Comments + 1,
      Updated: at,
      State: before.State,
    });
    expect(after.headers.get('etag')).toBe(`"${before.Version + 1}"`);

    const history = await getJson<{ History: HistoryJson[] }>(
      server,
      users['ada']!,
      `/api/tickets/${ticketId}/history`,
    );
    expect(history.History.at(-1)).toEqual({
      Action: 'comment',
      From: before.State,
      To: before.State,
      Comments: ['Still failing for me.'],
      UserID: 'carol.acme',
      Created: at,
    });
  });

  it('POST comments in XML (Comment root both ways) and as vnd.soa JSON', async () => {
    const ticketId = 'ticket6.acme';
    const at = clock.advance(1000).toISOString();
    const xml = await call(server.url, users['shay'], `/api/tickets/${ticketId}/comments`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/vnd.soa.v80+xml',
        Accept: 'application/vnd.soa.v80+xml',
      },
      body: '<Comment><Content>Looking &lt;now&gt;</Content></Comment>',
    });
    expect(xml.status).toBe(201);
    expect(xml.headers.get('content-type')).toContain('application/vnd.soa.v80+xml');
    const parsed = parseXml(await xml.text()) as { Comment: Record<string, string> };
    expect(parsed).toEqual({
      Comment: {
        CommentID: expect.stringMatching(/\.acme$/),
        Content: 'Looking <now>',
        UserID: 'shay.acme',
        Created: at,
      },
    });

    const vnd = await postJson(
      server,
      users['shay']!,
      `/api/tickets/${ticketId}/comments`,
      { Content: 'Second' },
      { 'Content-Type': 'application/vnd.soa.v71+json', Accept: 'application/vnd.soa.v71+json' },
    );
    expect(vnd.status).toBe(201);
    expect(vnd.headers.get('content-type')).toMatch(/^application\/vnd\.soa\.v71\+json/);
    const second = (await vnd.json()) as CommentJson;
    expect(second.Content).toBe('Second');
    expect(second.CommentID).not.toBe(parsed.Comment['CommentID']);
    expect(
      await getJson<TicketJson>(server, users['shay']!, `/api/tickets/${ticketId}`),
    ).toMatchObject({
      Comments: 2,
      Version: 3,
    });
  });

  it('POST comments without Content: 400 naming Content; on a ticket that does not exist: 404', async () => {
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets/ticket1.acme/comments', {
        Content: '   ',
      }),
      400,
      'invalid-input',
      'Content',
    );
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets/ticket1.acme/comments', {}),
      400,
      'invalid-input',
      'Content',
    );
    await expectProblem(
      await postJson(server, users['ada']!, '/api/tickets/ticket99.acme/comments', {
        Content: 'x',
      }),
      404,
      'not-found',
    );
  });

  it('the whole lifecycle OPEN → RESOLVED → CLOSED → REOPEN → RESOLVED, with the right actors', async () => {
    // carol (a plain user) opens a ticket on both the Payments API (ada) and the Shop app (shay).
    const created = await postJson(server, users['carol']!, '/api/tickets', {
      Title: 'Shop checkout fails on payment',
      Environment: 'Production',
      APIID: 'payments.acme',
      AppID: 'shop.acme',
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as TicketJson).TicketID;
    const { url } = server;
    const times: string[] = [];
    const step = async (user: string, action: string, comments?: string | string[]) => {
      const at = clock.advance(1000).toISOString();
      const result = await act(
        url,
        users[user]!,
        id,
        action,
        comments === undefined ? {} : { comments },
      );
      if (result.status === 200) times.push(at);
      return result;
    };

    // The author may not resolve; 403 in text/plain, nothing changes.
    const refused = await step('carol', 'ticket.action.resolve');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(refused.text.length).toBeGreaterThan(0);

    // The admin of the AppID resolves, with one comment as a string.
    const resolved = await step('shay', 'ticket.action.resolve', 'Fixed the checkout call');
    expect(resolved).toMatchObject({ status: 200, text: 'RESOLVED' });
    expect(resolved.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(resolved.headers.get('etag')).toBe('"2"');

    // The author closes, with comments as an array.
    expect(await step('carol', 'ticket.action.close', ['Works now', 'Thanks'])).toMatchObject({
      status: 200,
      text: 'CLOSED',
    });

    // Someone who is neither author nor admin may not reopen.
    expect((await step('bob', 'ticket.action.reopen')).status).toBe(403);

    // The author reopens, in XML with two Comments elements.
    const reopenAt = clock.advance(1000).toISOString();
    const reopened = await call(url, users['carol'], `/api/tickets/${id}/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.soa.v81+xml', Accept: 'text/plain' },
      body: '<Action><ActionName>ticket.action.reopen</ActionName><Comments>Broken again</Comments><Comments>Since 10:00</Comments></Action>',
    });
    expect(reopened.status).toBe(200);
    expect(await reopened.text()).toBe('REOPEN');
    times.push(reopenAt);

    // The admin of the APIID resolves again, without a comment.
    expect(await step('ada', 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });

    const ticket = await getJson<TicketJson>(server, users['bob']!, `/api/tickets/${id}`);
    expect(ticket).toMatchObject({
      State: 'RESOLVED',
      Version: 5,
      Comments: 5,
      Updated: times.at(-1),
    });

    const history = await getJson<{ History: HistoryJson[] }>(
      server,
      users['bob']!,
      `/api/tickets/${id}/history`,
    );
    expect(history.History).toEqual([
      {
        Action: 'ticket.action.resolve',
        From: 'OPEN',
        To: 'RESOLVED',
        Comments: ['Fixed the checkout call'],
        UserID: 'shay.acme',
        Created: times[0],
      },
      {
        Action: 'ticket.action.close',
        From: 'RESOLVED',
        To: 'CLOSED',
        Comments: ['Works now', 'Thanks'],
        UserID: 'carol.acme',
        Created: times[1],
      },
      {
        Action: 'ticket.action.reopen',
        From: 'CLOSED',
        To: 'REOPEN',
        Comments: ['Broken again', 'Since 10:00'],
        UserID: 'carol.acme',
        Created: times[2],
      },
      {
        Action: 'ticket.action.resolve',
        From: 'REOPEN',
        To: 'RESOLVED',
        Comments: [],
        UserID: 'ada.acme',
        Created: times[3],
      },
    ]);

    // History in XML mirrors it: one Comments element per comment, none when there are none.
    const xml = await call(url, users['bob'], `/api/tickets/${id}/history`, {
      headers: { Accept: 'application/vnd.soa.v81+xml' },
    });
    expect(xml.headers.get('content-type')).toContain('application/vnd.soa.v81+xml');
    expect(parseXml(await xml.text())).toEqual({ HistoryList: xmlMirror(history) });

    // What the next actions are for the author now.
    const actions = await getJson<{ Action: ActionJson[] }>(
      server,
      users['carol']!,
      `/api/tickets/${id}/actions`,
    );
    expect(actions.Action.map(({ Value, Allowed }) => [Value, Allowed])).toEqual([
      ['ticket.action.close', true],
      ['ticket.action.reopen', true],
    ]);
  });

  it('a comment and an action interleave in the history, oldest first; both count as comments', async () => {
    const created = await postJson(server, users['bob']!, '/api/tickets', {
      Title: 'Interleaved',
      Environment: 'Sandbox',
      APIID: 'payments.acme',
    });
    const id = ((await created.json()) as TicketJson).TicketID;
    const t1 = clock.advance(1000).toISOString();
    expect(
      (await postJson(server, users['bob']!, `/api/tickets/${id}/comments`, { Content: 'First' }))
        .status,
    ).toBe(201);
    const t2 = clock.advance(1000).toISOString();
    expect(
      await act(server.url, users['root']!, id, 'ticket.action.resolve', { comments: 'Done' }),
    ).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
    const t3 = clock.advance(1000).toISOString();
    expect(
      (
        await postJson(server, users['ada']!, `/api/tickets/${id}/comments`, {
          Content: 'Confirmed',
        })
      ).status,
    ).toBe(201);

    const history = await getJson<{ History: HistoryJson[] }>(
      server,
      users['carol']!,
      `/api/tickets/${id}/history`,
    );
    expect(
      history.History.map(({ Action, From, To, UserID, Created }) => [
        Action,
        From,
        To,
        UserID,
        Created,
      ]),
    ).toEqual([
      ['comment', 'OPEN', 'OPEN', 'bob.acme', t1],
      ['ticket.action.resolve', 'OPEN', 'RESOLVED', 'root.acme', t2],
      ['comment', 'RESOLVED', 'RESOLVED', 'ada.acme', t3],
    ]);
    const ticket = await getJson<TicketJson>(server, users['carol']!, `/api/tickets/${id}`);
    expect(ticket).toMatchObject({ Version: 4, Comments: 3, State: 'RESOLVED' });
  });

  it('an action the state does not offer is 409 naming the state; the ticket is unchanged', async () => {
    const before = await getJson<TicketJson>(server, users['bob']!, '/api/tickets/ticket3.acme');
    const result = await act(server.url, users['bob']!, 'ticket3.acme', 'ticket.action.close');
    expect(result.status).toBe(409);
    expect(result.text).toContain('CLOSED');
    expect(result.text).toContain('ticket.action.reopen');
    expect(await getJson<TicketJson>(server, users['bob']!, '/api/tickets/ticket3.acme')).toEqual(
      before,
    );
  });
});
