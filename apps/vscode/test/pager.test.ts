import { describe, expect, it } from 'vitest';
import { TicketPager } from '../src/services/pager.js';
import { FakeServer, ticket } from './fixtures.js';

describe('TicketPager', () => {
  it('pages through one query a page at a time, only as far as asked', async () => {
    const tickets = Array.from({ length: 7 }, () => ticket());
    const server = new FakeServer(tickets);
    const pager = new TicketPager([{ state: 'OPEN' }], server.list, 3);
    expect(pager.total).toBeUndefined();
    const first = await pager.nextPage();
    expect(first.map((t) => t.id)).toEqual([tickets[6]!.id, tickets[5]!.id, tickets[4]!.id]);
    expect(pager.total).toBe(7);
    expect(pager.hasMore).toBe(true);
    expect(server.calls.list).toEqual([{ state: 'OPEN', start: 0, count: 3 }]);
    await pager.nextPage();
    const last = await pager.nextPage();
    expect(last.map((t) => t.id)).toEqual([tickets[0]!.id]);
    expect(pager.hasMore).toBe(false);
    expect(await pager.nextPage()).toEqual([]);
  });

  it('merges several queries newest first, a ticket two of them answer once', async () => {
    const a1 = ticket({ apiId: 'payments.acme' });
    const both = ticket({ apiId: 'payments.acme', appId: 'shop.acme' });
    const b1 = ticket({ apiId: undefined, appId: 'shop.acme' });
    const a2 = ticket({ apiId: 'payments.acme' });
    const server = new FakeServer([a1, both, b1, a2, ticket({ apiId: 'other.acme' })]);
    const pager = new TicketPager(
      [{ apiId: 'payments.acme' }, { appId: 'shop.acme' }],
      server.list,
      2,
    );
    const seen = [
      ...(await pager.nextPage()),
      ...(await pager.nextPage()),
      ...(await pager.nextPage()),
    ];
    expect(seen.map((t) => t.id)).toEqual([a2.id, b1.id, both.id, a1.id]);
    expect(pager.hasMore).toBe(false);
    // The server's counts, summed: the ticket of both resources is in both.
    expect(pager.total).toBe(5);
  });

  it('has nothing, and a total of 0, with no query', async () => {
    const pager = new TicketPager([], new FakeServer([]).list, 10);
    expect(pager.total).toBe(0);
    expect(pager.hasMore).toBe(false);
    expect(await pager.nextPage()).toEqual([]);
  });
});
