import { describe, expect, it } from 'vitest';
import type { ListFilters } from '@tickets/client';
import type { State } from '../src/services/format.js';
import { TicketTreeModel } from '../src/services/ticketTree.js';
import { childrenOf, treeItemSpec } from '../src/views/treeNodes.js';
import { defaultActions, FakeServer, ticket } from './fixtures.js';

const allStates = (): Map<State, ListFilters[]> =>
  new Map((['OPEN', 'REOPEN', 'RESOLVED', 'CLOSED'] as const).map((s) => [s, [{ state: s }]]));

function setUp(pageSize = 2) {
  const open = Array.from({ length: 5 }, () => ticket({ state: 'OPEN' }));
  const resolved = [ticket({ state: 'RESOLVED' })];
  const server = new FakeServer([...open, ...resolved]);
  const errors: string[] = [];
  const model = new TicketTreeModel(server, pageSize, (_e, id) => errors.push(id));
  return { open, resolved, server, model, errors };
}

const now = new Date('2026-06-01T00:00:00Z');

describe('the tree model', () => {
  it('groups by state with the server counts, a page of each, with their actions', async () => {
    const { model, open, resolved } = setUp();
    await model.load(allStates());
    const groups = model.groups();
    expect(groups.map((g) => [g.state, g.total, g.rows.length, g.hasMore])).toEqual([
      ['OPEN', 5, 2, true],
      ['REOPEN', 0, 0, false],
      ['RESOLVED', 1, 1, false],
      ['CLOSED', 0, 0, false],
    ]);
    expect(groups[0]!.rows.map((r) => r.ticket.id)).toEqual([open[4]!.id, open[3]!.id]);
    expect(groups[2]!.rows[0]!.actions).toEqual(defaultActions('RESOLVED'));
    expect(model.findRow(resolved[0]!.id)?.ticket.state).toBe('RESOLVED');
  });

  it('shows the groups as rows labelled by state with the count, then tickets and "Load more"', async () => {
    const { model, open } = setUp();
    await model.load(allStates());
    const roots = childrenOf(undefined, model.groups());
    expect(
      roots
        .map((node) => treeItemSpec(node, now))
        .map((s) => [s.label, s.description, s.collapsible, s.id]),
    ).toEqual([
      ['Open', '5', 'expanded', 'group:OPEN'],
      // An empty group's id is its own: once tickets arrive it is a new item, shown expanded.
      ['Reopened', '0', 'collapsed', 'group:REOPEN:empty'],
      ['Resolved', '1', 'expanded', 'group:RESOLVED'],
      ['Closed', '0', 'collapsed', 'group:CLOSED:empty'],
    ]);
    const openChildren = childrenOf(roots[0], model.groups()).map((node) =>
      treeItemSpec(node, now),
    );
    expect(openChildren.map((s) => s.label)).toEqual([open[4]!.title, open[3]!.title, 'Load more']);
    const row = openChildren[0]!;
    expect(row.id).toBe(open[4]!.id);
    expect(row.description).toMatch(
      new RegExp(`^${open[4]!.id.replace('.', '\\.')} · payments\\.acme · \\d+mo$`),
    );
    expect(row.contextValue).toBe('ticket action:ticket.action.resolve action:ticket.action.close');
    expect(row.command).toEqual({
      command: 'tickets.openTicket',
      title: 'Open Ticket',
      arguments: [open[4]!.id],
    });
    expect(openChildren[2]!.command).toEqual({
      command: 'tickets.loadMore',
      title: 'Load more',
      arguments: ['OPEN'],
    });
  });

  it('loads more a page at a time until the server has no more', async () => {
    const { model, open } = setUp();
    await model.load(allStates());
    expect(await model.loadMore('OPEN')).toBe(true);
    expect(await model.loadMore('OPEN')).toBe(true);
    const group = model.groups()[0]!;
    expect(group.rows.map((r) => r.ticket.id)).toEqual([...open].reverse().map((t) => t.id));
    expect(group.hasMore).toBe(false);
    expect(await model.loadMore('OPEN')).toBe(false);
  });

  it('loads one page for two quick clicks on "Load more"', async () => {
    const { model, server, open } = setUp();
    await model.load(allStates());
    const before = server.calls.list.length;
    await Promise.all([model.loadMore('OPEN'), model.loadMore('OPEN')]);
    expect(server.calls.list.length - before).toBe(1);
    expect(model.groups()[0]!.rows.map((r) => r.ticket.id)).toEqual(
      [...open]
        .reverse()
        .slice(0, 4)
        .map((t) => t.id),
    );
  });

  it('keeps what was loaded on a reload (a live update does not fold the list back)', async () => {
    const { model, server } = setUp();
    await model.load(allStates());
    await model.loadMore('OPEN');
    server.tickets.push(ticket({ state: 'OPEN' }));
    await model.load(allStates());
    const group = model.groups()[0]!;
    expect(group.total).toBe(6);
    expect(group.rows).toHaveLength(4);
  });

  it('moves a ticket to its new state at once, counts included', async () => {
    const { model, open, server } = setUp();
    await model.load(allStates());
    const moved = { ...open[4]!, state: 'RESOLVED' as const, version: 2 };
    server.tickets = server.tickets.map((t) => (t.id === moved.id ? moved : t));
    await model.moveTicket(moved, 'OPEN');
    const [openGroup, , resolvedGroup] = model.groups();
    expect(openGroup!.total).toBe(4);
    expect(openGroup!.rows.map((r) => r.ticket.id)).not.toContain(moved.id);
    expect(resolvedGroup!.total).toBe(2);
    // In the server's order: newest first.
    expect(resolvedGroup!.rows.map((r) => r.ticket)).toEqual([
      model.findRow(resolvedGroup!.rows[0]!.ticket.id)!.ticket,
      moved,
    ]);
    expect(model.findRow(moved.id)?.actions).toEqual(defaultActions('RESOLVED'));
  });

  it('leaves a row without actions when its actions cannot be read, and says which', async () => {
    const { model, server, open, errors } = setUp();
    server.actionsOf = (t) => {
      if (t.id === open[4]!.id) throw new Error('boom');
      return defaultActions(t.state);
    };
    await model.load(allStates());
    expect(model.findRow(open[4]!.id)?.actions).toEqual([]);
    expect(errors).toEqual([open[4]!.id]);
  });

  it('forgets everything on clear (sign-out)', async () => {
    const { model } = setUp();
    await model.load(allStates());
    model.clear();
    expect(model.groups()).toEqual([]);
    expect(model.rows()).toEqual([]);
  });
});

describe('asking for the actions of many tickets', () => {
  it('asks a chunk at a time, so one batched request stays small', async () => {
    const tickets = Array.from({ length: 60 }, () => ticket({ state: 'OPEN' }));
    const server = new FakeServer(tickets);
    let inFlight = 0;
    let most = 0;
    const api = {
      list: server.list,
      validActions: async (id: string) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        return server.validActions(id);
      },
    };
    const model = new TicketTreeModel(api, 100, () => undefined);
    await model.load(new Map([['OPEN', [{ state: 'OPEN' }]]]));
    expect(model.groups()[0]!.rows).toHaveLength(60);
    expect(most).toBe(25);
  });
});
