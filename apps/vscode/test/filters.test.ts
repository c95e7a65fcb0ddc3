import { describe, expect, it } from 'vitest';
import {
  describeFilters,
  isFiltered,
  NO_FILTERS,
  parseFilters,
  queriesFor,
  visibleStates,
  type TicketFilters,
} from '../src/services/filters.js';

const who = {
  userId: 'ada.acme',
  myResources: [
    { type: 'api' as const, id: 'payments.acme' },
    { type: 'app' as const, id: 'shop.acme' },
  ],
  siteAdmin: false,
};

describe('filters as saved per workspace', () => {
  it('read back what was saved', () => {
    const saved: TicketFilters = {
      scope: 'mine',
      resource: { type: 'app', id: 'shop.acme' },
      authoredByMe: true,
      states: ['OPEN', 'RESOLVED'],
    };
    expect(parseFilters(JSON.parse(JSON.stringify(saved)))).toEqual(saved);
  });

  it('fall back to no filter, value by value, for anything else', () => {
    expect(parseFilters(undefined)).toEqual(NO_FILTERS);
    expect(parseFilters('garbage')).toEqual(NO_FILTERS);
    expect(
      parseFilters({
        scope: 'everyone',
        resource: { type: 'db', id: 'x' },
        authoredByMe: 'yes',
        states: ['OPEN', 'open', 7, 'CLOSED', 'OPEN'],
      }),
    ).toEqual({ ...NO_FILTERS, states: ['OPEN', 'CLOSED'] });
    expect(parseFilters({ resource: { type: 'api', id: '   ' } }).resource).toBeUndefined();
  });

  it('say what they filter', () => {
    expect(isFiltered(NO_FILTERS)).toBe(false);
    expect(describeFilters(NO_FILTERS)).toBe('');
    const filters: TicketFilters = {
      scope: 'mine',
      resource: { type: 'api', id: 'payments.acme' },
      authoredByMe: true,
      states: ['OPEN', 'CLOSED'],
    };
    expect(isFiltered(filters)).toBe(true);
    expect(describeFilters(filters)).toBe(
      'my resources · API payments.acme · by me · Open, Closed',
    );
  });
});

describe('the queries behind a state group', () => {
  it('show every state without a state filter, only the chosen ones with one', () => {
    expect(visibleStates(NO_FILTERS)).toEqual(['OPEN', 'REOPEN', 'RESOLVED', 'CLOSED']);
    expect(visibleStates({ ...NO_FILTERS, states: ['RESOLVED'] })).toEqual(['RESOLVED']);
  });

  it('is one query for all tickets, one API or app, or the tickets by me', () => {
    expect(queriesFor(NO_FILTERS, 'OPEN', who)).toEqual([{ state: 'OPEN' }]);
    expect(
      queriesFor({ ...NO_FILTERS, resource: { type: 'app', id: 'shop.acme' } }, 'CLOSED', who),
    ).toEqual([{ state: 'CLOSED', appId: 'shop.acme' }]);
    expect(queriesFor({ ...NO_FILTERS, authoredByMe: true }, 'OPEN', who)).toEqual([
      { state: 'OPEN', authorId: 'ada.acme' },
    ]);
  });

  it('is one query per administered resource for "my resources", none when there are none', () => {
    expect(queriesFor({ ...NO_FILTERS, scope: 'mine', authoredByMe: true }, 'OPEN', who)).toEqual([
      { state: 'OPEN', authorId: 'ada.acme', apiId: 'payments.acme' },
      { state: 'OPEN', authorId: 'ada.acme', appId: 'shop.acme' },
    ]);
    expect(
      queriesFor({ ...NO_FILTERS, scope: 'mine' }, 'OPEN', { ...who, myResources: [] }),
    ).toEqual([]);
    // One API and "mine": that API if it is the user's, else nothing.
    const one = {
      ...NO_FILTERS,
      scope: 'mine' as const,
      resource: { type: 'api' as const, id: 'payments.acme' },
    };
    expect(queriesFor(one, 'OPEN', who)).toEqual([{ state: 'OPEN', apiId: 'payments.acme' }]);
    expect(
      queriesFor({ ...one, resource: { type: 'api', id: 'other.acme' } }, 'OPEN', who),
    ).toEqual([]);
  });

  it('filters nothing for a site admin: they administer every API and app', () => {
    const root = { userId: 'root.acme', myResources: [], siteAdmin: true };
    expect(queriesFor({ ...NO_FILTERS, scope: 'mine' }, 'OPEN', root)).toEqual([{ state: 'OPEN' }]);
    const other = { type: 'api' as const, id: 'other.acme' };
    expect(queriesFor({ ...NO_FILTERS, scope: 'mine', resource: other }, 'REOPEN', root)).toEqual([
      { state: 'REOPEN', apiId: 'other.acme' },
    ]);
  });
});
