import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../src/provision.js';
import { call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';
import { trpcQuery } from './support/trpc.js';

/**
 * Keyset paging of the ticket list (`after`, REST and tRPC): a walk from page to page, each
 * starting right after the last ticket of the one before, lists exactly what the offset pages
 * list, in the same order (newest first, ties by TicketID bytewise), whatever the filter; the
 * total stays the filter's. A bad `after` is a 400 on `after`.
 */

interface ListJson {
  totalResults: number;
  startIndex: number;
  Ticket: { TicketID: string }[];
}

/** Tickets with few distinct `Created` times, so that ties (ticket10 before ticket9) abound. */
const TIED = Array.from({ length: 23 }, (_, n) => ({
  id: `kp${n}.acme`,
  Title: `Keyset ${n}`,
  Environment: 'Sandbox' as const,
  APIID: 'payments.acme',
  author: n % 2 === 0 ? 'bob.acme' : 'carol.acme',
  State: n % 3 === 0 ? ('RESOLVED' as const) : ('OPEN' as const),
  Created: `2026-02-0${1 + (n % 4)}T00:00:00.000Z`,
}));

describe('list keyset paging (after)', () => {
  let server: TestServer;
  let carol: Session;

  async function list(query: string): Promise<ListJson> {
    const response = await call(server.url, carol, `/api/tickets?${query}`, {
      headers: { Accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ListJson;
  }

  const ids = (page: ListJson): string[] => page.Ticket.map((ticket) => ticket.TicketID);

  /** Every page of `filter` by `after`, `count` at a time, checking each page's paging fields. */
  async function walk(filter: string, count: number, total: number): Promise<string[]> {
    const seen: string[] = [];
    for (let after = ''; ;) {
      const page = await list(`${filter}&count=${count}${after && `&after=${after}`}`);
      expect(page.totalResults).toBe(total);
      expect(page.startIndex).toBe(0);
      seen.push(...ids(page));
      if (page.Ticket.length < count) return seen;
      after = seen.at(-1)!;
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
    await provision(server.store, { tickets: TIED });
    carol = await login(server.url, 'carol@acme.test');
  });
  afterAll(() => server.close());

  it.each(['', 'APIID=payments.acme', 'APIID=payments.acme&State=OPEN', 'AuthorID=carol.acme'])(
    'pages by after walk the list %s without gaps or repeats, as the offset pages do',
    async (filter) => {
      const whole = await list(`${filter}&count=100`);
      expect(whole.totalResults).toBe(whole.Ticket.length);
      expect(whole.totalResults).toBeGreaterThan(5);
      for (const count of [1, 4, 7]) {
        const walked = await walk(filter, count, whole.totalResults);
        expect(walked).toEqual(ids(whole));
        const offsets: string[] = [];
        for (let start = 0; start < whole.totalResults; start += count)
          offsets.push(...ids(await list(`${filter}&count=${count}&start=${start}`)));
        expect(walked).toEqual(offsets);
      }
    },
  );

  it('ties on Created go bytewise by TicketID across page boundaries', async () => {
    const tied = ids(await list('count=100')).filter((id) => id.startsWith('kp'));
    const byPlace = [...TIED]
      .sort((a, b) =>
        a.Created === b.Created ? (a.id < b.id ? -1 : 1) : a.Created > b.Created ? -1 : 1,
      )
      .map((ticket) => ticket.id);
    expect(tied).toEqual(byPlace);
    expect(tied.indexOf('kp10.acme')).toBeLessThan(tied.indexOf('kp2.acme'));
  });

  it('start counts from after the cursor, and is the answered startIndex', async () => {
    const whole = ids(await list('count=100'));
    const page = await list(`after=${whole[3]}&start=2&count=5`);
    expect(page.startIndex).toBe(2);
    expect(page.totalResults).toBe(whole.length);
    expect(ids(page)).toEqual(whole.slice(6, 11));
    expect(ids(await list(`after=${whole.at(-1)}`))).toEqual([]);
  });

  it('tRPC tickets.list takes after too, with the same pages', async () => {
    const whole = ids(await list('count=100'));
    const answer = await trpcQuery(server.url, carol, 'tickets.list', {
      after: whole[4],
      count: 6,
    });
    expect(answer.status).toBe(200);
    const data = answer.body.result!.data as {
      totalResults: number;
      startIndex: number;
      tickets: { id: string }[];
    };
    expect(data.totalResults).toBe(whole.length);
    expect(data.startIndex).toBe(0);
    expect(data.tickets.map((ticket) => ticket.id)).toEqual(whole.slice(5, 11));
  });

  it.each([
    ['another tenant’s ticket', 'after=ticket1.globex'],
    ['a ticket that does not exist', 'after=ticket999.acme'],
    ['no TicketID at all', 'after=nope'],
    ['an empty one', 'after='],
    ['two of them', 'after=ticket1.acme&after=ticket2.acme'],
  ])('REST refuses %s with a 400 on after', async (_, query) => {
    const before = await list('count=100');
    const response = await call(server.url, carol, `/api/tickets?${query}`, {
      headers: { Accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { type: string; field: string };
    expect(problem.type).toBe('urn:tickets:problem:invalid-input');
    expect(problem.field).toBe('after');
    expect(await list('count=100')).toEqual(before);
  });

  it.each(['ticket1.globex', 'ticket999.acme', 'nope'])(
    'tRPC refuses after %s with BAD_REQUEST on after',
    async (after) => {
      const answer = await trpcQuery(server.url, carol, 'tickets.list', { after });
      expect(answer.status).toBe(400);
      expect(answer.body.error!.data).toMatchObject({ code: 'BAD_REQUEST', field: 'after' });
    },
  );
});
