import { describe, expect, it } from 'vitest';
import {
  administers,
  countOpen,
  discoverResources,
  openCountStatus,
} from '../src/services/resources.js';
import { defaultActions, FakeServer, ticket } from './fixtures.js';

describe('the resources the user administers', () => {
  it('are judged by the actions the server allows', () => {
    const bobs = ticket({ userId: 'bob.acme', state: 'OPEN' });
    expect(administers(bobs, defaultActions('OPEN'), 'ada.acme')).toBe(true);
    expect(
      administers(
        bobs,
        defaultActions('OPEN', {
          'ticket.action.resolve': 'admins',
          'ticket.action.close': 'admins',
        }),
        'ada.acme',
      ),
    ).toBe(false);
    // Closing one's own ticket says nothing: authors may.
    const own = ticket({ userId: 'ada.acme', state: 'OPEN' });
    expect(
      administers(own, defaultActions('OPEN', { 'ticket.action.resolve': 'admins' }), 'ada.acme'),
    ).toBe(false);
    // Reopening someone else's closed ticket does.
    expect(administers(ticket({ state: 'CLOSED' }), defaultActions('CLOSED'), 'ada.acme')).toBe(
      true,
    );
  });

  it('are found from the tickets, one probe per resource, preferring someone else’s ticket', async () => {
    const adaOwn = ticket({ apiId: 'payments.acme', userId: 'ada.acme' });
    const bobs = ticket({ apiId: 'payments.acme', userId: 'bob.acme' });
    const shop = ticket({ apiId: undefined, appId: 'shop.acme', userId: 'bob.acme' });
    const server = new FakeServer([adaOwn, bobs, shop]);
    server.actionsOf = (t) =>
      t.apiId === 'payments.acme'
        ? defaultActions(t.state)
        : defaultActions(t.state, { 'ticket.action.resolve': 'no', 'ticket.action.close': 'no' });
    const found = await discoverResources(server, 'ada.acme');
    expect(found.all).toEqual([
      { type: 'api', id: 'payments.acme' },
      { type: 'app', id: 'shop.acme' },
    ]);
    expect(found.mine).toEqual([{ type: 'api', id: 'payments.acme' }]);
    expect(server.calls.validActions.sort()).toEqual([bobs.id, shop.id].sort());
  });

  it('pages through the tickets to find them', async () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      ticket({ apiId: i === 0 ? 'old.acme' : 'payments.acme' }),
    );
    const server = new FakeServer(many);
    const found = await discoverResources(server, 'ada.acme');
    expect(found.all.map((r) => r.id)).toEqual(['old.acme', 'payments.acme']);
    expect(server.calls.list.map((f) => f!.start)).toEqual([0, 100]);
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
    expect(
      await countOpen(server, [
        { type: 'api', id: 'payments.acme' },
        { type: 'app', id: 'shop.acme' },
      ]),
    ).toBe(3);
    expect(await countOpen(server, [])).toBe(0);
    expect(openCountStatus(3, false).text).toBe('$(issues) 3 open');
    // While the server cannot be reached: the last count, marked as such.
    expect(openCountStatus(3, true)).toEqual({
      text: '$(warning) 3 open',
      tooltip: expect.stringContaining(
        'The server cannot be reached: this is the last count it gave.',
      ),
    });
  });
});
