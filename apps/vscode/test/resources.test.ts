import { describe, expect, it } from 'vitest';
import { countOpen, knownResources, openCountStatus } from '../src/services/resources.js';
import { FakeServer, ticket } from './fixtures.js';

const PAYMENTS = { type: 'api' as const, id: 'payments.acme' };
const SHOP = { type: 'app' as const, id: 'shop.acme' };

describe('the resources the user administers', () => {
  it('are the server’s answer; the filter also offers those the newest tickets name, in one query', async () => {
    const server = new FakeServer([
      ticket({ apiId: 'payments.acme' }),
      ticket({ apiId: 'ledger.acme', appId: 'shop.acme' }),
    ]);
    // A workflow that gives resolve to everyone says nothing any more: the server says whose.
    server.actionsOf = () => {
      throw new Error('no action is asked');
    };
    const found = await knownResources(server, { siteAdmin: false, adminOf: [SHOP, PAYMENTS] });
    expect(found).toEqual({
      all: [{ type: 'api', id: 'ledger.acme' }, PAYMENTS, SHOP],
      mine: [PAYMENTS, SHOP],
      siteAdmin: false,
    });
    expect(server.calls.list).toEqual([{ start: 0, count: 100 }]);
    expect(server.calls.validActions).toEqual([]);
  });

  it('offer the user’s own even when no recent ticket names them; none for a developer', async () => {
    const quiet = { type: 'app' as const, id: 'quiet.acme' };
    const server = new FakeServer([ticket({ apiId: 'payments.acme' })]);
    expect(await knownResources(server, { siteAdmin: false, adminOf: [quiet] })).toEqual({
      all: [PAYMENTS, quiet],
      mine: [quiet],
      siteAdmin: false,
    });
    expect((await knownResources(server, { siteAdmin: false, adminOf: [] })).mine).toEqual([]);
    expect((await knownResources(server, { siteAdmin: true, adminOf: [] })).siteAdmin).toBe(true);
  });
});

describe('the open count', () => {
  it('counts OPEN and REOPEN tickets on the given resources, as the server counts them', async () => {
    const server = new FakeServer([
      ticket({ state: 'OPEN', apiId: 'payments.acme' }),
      ticket({ state: 'REOPEN', apiId: 'payments.acme' }),
      ticket({ state: 'RESOLVED', apiId: 'payments.acme' }),
      ticket({ state: 'OPEN', apiId: 'other.acme' }),
      ticket({ state: 'OPEN', apiId: undefined, appId: 'shop.acme' }),
    ]);
    expect(await countOpen(server, { mine: [PAYMENTS, SHOP], siteAdmin: false })).toBe(3);
    expect(await countOpen(server, { mine: [], siteAdmin: false })).toBe(0);
    expect(openCountStatus(3, false).text).toBe('$(issues) 3 open');
    // While the server cannot be reached: the last count, marked as such.
    expect(openCountStatus(3, true)).toEqual({
      text: '$(warning) 3 open',
      tooltip: expect.stringContaining(
        'The server cannot be reached: this is the last count it gave.',
      ),
    });
  });

  it('counts a ticket that names two of the user’s resources once', async () => {
    const server = new FakeServer([
      ticket({ state: 'OPEN', apiId: 'payments.acme', appId: 'shop.acme' }),
      ticket({ state: 'REOPEN', apiId: 'payments.acme', appId: 'shop.acme' }),
      ticket({ state: 'OPEN', apiId: 'payments.acme', appId: 'elsewhere.acme' }),
      ticket({ state: 'OPEN', apiId: 'ledger.acme', appId: 'shop.acme' }),
      ticket({ state: 'OPEN', apiId: 'ledger.acme', appId: 'other.acme' }),
    ]);
    expect(await countOpen(server, { mine: [PAYMENTS, SHOP], siteAdmin: false })).toBe(4);
    // One pair per state (the user's API and app), asked only where both sides have some.
    const pairs = server.calls.list.filter((f) => f.apiId && f.appId);
    expect(pairs).toHaveLength(2);
    expect(pairs).toEqual(
      expect.arrayContaining([
        { state: 'OPEN', apiId: 'payments.acme', appId: 'shop.acme', count: 1 },
        { state: 'REOPEN', apiId: 'payments.acme', appId: 'shop.acme', count: 1 },
      ]),
    );
    const none = new FakeServer([ticket({ state: 'OPEN', apiId: 'payments.acme' })]);
    expect(await countOpen(none, { mine: [PAYMENTS, SHOP], siteAdmin: false })).toBe(1);
    expect(none.calls.list.filter((f) => f.apiId && f.appId)).toEqual([]);
  });

  it('counts every open ticket of the tenant for a site admin, without a resource filter', async () => {
    const server = new FakeServer([
      ticket({ state: 'OPEN', apiId: 'payments.acme', appId: 'shop.acme' }),
      ticket({ state: 'REOPEN', apiId: 'ledger.acme' }),
      ticket({ state: 'OPEN', apiId: undefined, appId: 'shop.acme' }),
      ticket({ state: 'CLOSED', apiId: 'ledger.acme' }),
    ]);
    expect(await countOpen(server, { mine: [], siteAdmin: true })).toBe(3);
    expect(server.calls.list).toEqual(
      expect.arrayContaining([
        { state: 'OPEN', count: 1 },
        { state: 'REOPEN', count: 1 },
      ]),
    );
    expect(server.calls.list).toHaveLength(2);
  });
});
