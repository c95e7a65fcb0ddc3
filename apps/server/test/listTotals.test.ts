import { TICKET_STATES } from '@tickets/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../src/provision.js';
import { PostgresStore } from '../src/store/postgres/postgresStore.js';
import { act, call, login, type Session } from './support/client.js';
import { TEST_DATABASE_URL } from './support/postgres.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * The list's `totalResults` comes from counts the database keeps as tickets are written
 * (SQLite: ticket_counts by triggers; PostgreSQL: a base plus appended deltas, folded now and
 * then), not from counting the matches. Whatever writes the tickets (REST creates, actions,
 * comments, provisioning, many actions at once) and whether the deltas were folded or not, every
 * filter's total must equal the tickets that match it, as the tickets table itself says.
 */

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };
const CREATED = 30;
const CONCURRENT = 20;

/** Every filter the list has, alone and with each state. */
const FILTERS: readonly { query: string; where: string }[] = [
  { query: '', where: '' },
  { query: 'APIID=payments.acme', where: "api_id = 'payments.acme'" },
  { query: 'AppID=shop.acme', where: "app_id = 'shop.acme'" },
  { query: 'AuthorID=carol.acme', where: "author_id = 'carol.acme'" },
  // Empty: no ticket has an empty API or app (a ticket without one has none, not '').
  { query: 'APIID=', where: "api_id = ''" },
  { query: 'AppID=', where: "app_id = ''" },
  {
    query: 'APIID=payments.acme&AuthorID=ada.acme',
    where: "api_id = 'payments.acme' AND author_id = 'ada.acme'",
  },
].flatMap(({ query, where }) => [
  { query, where },
  ...TICKET_STATES.map((state) => ({
    query: [query, `State=${state}`].filter(Boolean).join('&'),
    where: [where, `state = '${state}'`].filter(Boolean).join(' AND '),
  })),
]);

describe('list totals stay exact', () => {
  let server: TestServer;
  let ada: Session;
  let carol: Session;
  let shay: Session;
  const created: string[] = [];

  /** The list's total for `query` and the tickets that match it in the table, for each filter. */
  async function totals(): Promise<{
    listed: Record<string, number>;
    stored: Record<string, number>;
  }> {
    const listed: Record<string, number> = {};
    const stored: Record<string, number> = {};
    for (const { query, where } of FILTERS) {
      const response = await call(server.url, ada, `/api/tickets?count=1&${query}`, {
        headers: { Accept: 'application/json' },
      });
      expect(response.status).toBe(200);
      listed[query] = ((await response.json()) as { totalResults: number }).totalResults;
      const [row] = await server.sql<{ n: number }>(
        `SELECT count(*) AS n FROM tickets WHERE tenant = 'acme'${where ? ` AND ${where}` : ''}`,
      );
      stored[query] = Number(row!.n);
    }
    return { listed, stored };
  }

  async function expectExact(): Promise<void> {
    const { listed, stored } = await totals();
    expect(listed).toEqual(stored);
  }

  async function createTicket(session: Session, n: number, resource: string): Promise<string> {
    const response = await call(server.url, session, '/api/tickets', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        Title: `Counted ${n}`,
        Environment: 'Sandbox',
        ...JSON.parse(resource),
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { TicketID: string }).TicketID;
  }

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    carol = await login(server.url, 'carol@acme.test');
    shay = await login(server.url, 'shay@acme.test');
  });
  afterAll(() => server.close());

  it('after creates by several authors, on an API, an app and both', async () => {
    for (let n = 0; n < CREATED; n++) {
      const resource = [
        '{"APIID":"payments.acme"}',
        '{"AppID":"shop.acme"}',
        '{"APIID":"payments.acme","AppID":"shop.acme"}',
      ][n % 3]!;
      created.push(await createTicket(n % 2 === 0 ? ada : carol, n, resource));
    }
    await expectExact();
  });

  it(`after ${CONCURRENT} concurrent actions on distinct tickets, each state's total is right`, async () => {
    const { listed: before } = await totals();
    const onApi = created.filter((_, n) => n % 3 !== 1).slice(0, CONCURRENT);
    expect(onApi).toHaveLength(CONCURRENT);
    const answers = await Promise.all(
      onApi.map((id) => act(server.url, ada, id, 'ticket.action.resolve')),
    );
    expect(answers.map((answer) => answer.status)).toEqual(onApi.map(() => 200));
    const { listed, stored } = await totals();
    expect(listed).toEqual(stored);
    expect(listed['State=OPEN']).toBe(before['State=OPEN']! - onApi.length);
    expect(listed['State=RESOLVED']).toBe(before['State=RESOLVED']! + onApi.length);
  });

  it('after comments (no state changes) the totals are unchanged', async () => {
    const { listed: before } = await totals();
    for (const id of created.slice(0, 5)) {
      const response = await call(server.url, carol, `/api/tickets/${id}/comments`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ Content: 'still counted once' }),
      });
      expect(response.status).toBe(201);
    }
    const { listed, stored } = await totals();
    expect(listed).toEqual(stored);
    expect(listed).toEqual(before);
  });

  it('after provisioning tickets in several states (and provisioning them again)', async () => {
    const plan = {
      tickets: TICKET_STATES.flatMap((State, s) =>
        [0, 1, 2].map((i) => ({
          id: `prov${s}x${i}.acme`,
          Title: `Provisioned ${s}/${i}`,
          Environment: 'Production' as const,
          APIID: 'payments.acme',
          author: 'bob.acme',
          State,
        })),
      ),
    };
    await provision(server.store, plan);
    await expectExact();
    await provision(server.store, plan);
    await expectExact();
  });

  it('after the counts are folded, and after more actions on top of the fold', async () => {
    const before = await totals();
    if (server.store instanceof PostgresStore) {
      await server.store.foldTicketCounts();
      const [left] = await server.sql<{ n: number }>(
        'SELECT count(*) AS n FROM ticket_count_deltas',
      );
      expect(Number(left!.n)).toBe(0);
      // Folded, the base alone holds every ticket of the tenant.
      const [base] = await server.sql<{ n: number }>(
        "SELECT sum(n) AS n FROM ticket_counts WHERE tenant = 'acme'",
      );
      expect(Number(base!.n)).toBe(before.stored['']);
    }
    expect(await totals()).toEqual(before);
    const resolved = created.filter((_, n) => n % 3 !== 1).slice(0, 6);
    const answers = await Promise.all(
      resolved.map((id) => act(server.url, ada, id, 'ticket.action.close')),
    );
    expect(answers.map((answer) => answer.status)).toEqual(resolved.map(() => 200));
    await expectExact();
  });

  it('while two processes fold and actions run at once', async () => {
    if (!(server.store instanceof PostgresStore)) return expectExact();
    const [{ schema }] = (await server.sql<{ schema: string }>(
      'SELECT current_schema() AS schema',
    )) as [{ schema: string }];
    // Another server process's store on the same database, folding on its own.
    const other = await PostgresStore.open(TEST_DATABASE_URL, { schema });
    try {
      const onApp = created.filter((_, n) => n % 3 === 1);
      const [statuses] = await Promise.all([
        Promise.all(
          onApp.map(
            async (id) => (await act(server.url, shay, id, 'ticket.action.resolve')).status,
          ),
        ),
        other.foldTicketCounts(),
        server.store.foldTicketCounts(),
        other.foldTicketCounts(),
      ]);
      expect(statuses).toEqual(onApp.map(() => 200));
      await other.foldTicketCounts();
    } finally {
      await other.close();
    }
    await expectExact();
  });
});
