import { describe, expect, it } from 'vitest';
import { ticketHoverMarkdown, ticketIdAt } from '../src/services/hover.js';
import { defaultActions, ticket } from './fixtures.js';

const at = (line: string, marker: string, tenant = 'acme') =>
  ticketIdAt(line, line.indexOf(marker), tenant)?.id;

describe('ticket ids in text', () => {
  it('finds the id under the cursor, in code and in comments', () => {
    expect(at('// fixes ticket123.acme for good', 'ticket123')).toBe('ticket123.acme');
    expect(at('// fixes ticket123.acme for good', '123.')).toBe('ticket123.acme');
    expect(at('const id = "ticket9.acme";', 'acme')).toBe('ticket9.acme');
    expect(at('See (ticket9.acme).', 'ticket9')).toBe('ticket9.acme');
    expect(at('Done: ticket9.acme.', 'ticket9')).toBe('ticket9.acme');
    expect(at('x ticket_9-b:c.acme y', 'ticket_9')).toBe('ticket_9-b:c.acme');
  });

  it('gives the exact range of the id', () => {
    expect(ticketIdAt('see ticket1.acme.', 6, 'acme')).toEqual({
      id: 'ticket1.acme',
      start: 4,
      end: 16,
    });
  });

  it('ignores other tenants, dotted names that are not ids, and plain words', () => {
    expect(at('// fixes ticket123.other', 'ticket123')).toBeUndefined();
    expect(at('console.log(x)', 'log')).toBeUndefined();
    expect(at('the acme team', 'acme')).toBeUndefined();
    expect(at('.acme', 'acme')).toBeUndefined();
    expect(ticketIdAt('ticket1.acme   ', 14, 'acme')).toBeUndefined();
    expect(ticketIdAt('', 0, 'acme')).toBeUndefined();
  });

  it('follows the domain’s TicketID pattern', () => {
    expect(at('x ticket..1.acme', 'ticket')).toBeUndefined();
    expect(at(`x ${'a'.repeat(200)}.acme`, 'aaa')).toBeUndefined();
  });
});

describe('the hover', () => {
  it('shows title, state and the actions the user may take', () => {
    const t = ticket({
      id: 'ticket5.acme',
      title: 'Refunds fail',
      state: 'OPEN',
      apiId: 'payments.acme',
    });
    const text = ticketHoverMarkdown(
      t,
      defaultActions('OPEN', { 'ticket.action.resolve': 'admins only' }),
      new Date(),
    );
    expect(text).toContain('**Refunds fail**');
    expect(text).toContain('**Open**');
    expect(text).toContain('payments\\.acme');
    expect(text).toContain('You may: Close');
    expect(text).not.toContain('Resolve');
    expect(text).toContain('[Open ticket](command:tickets.openTicket?%5B%22ticket5.acme%22%5D)');
  });

  it('says so when no action is open to the user', () => {
    const t = ticket({ state: 'CLOSED' });
    expect(
      ticketHoverMarkdown(
        t,
        defaultActions('CLOSED', { 'ticket.action.reopen': 'no' }),
        new Date(),
      ),
    ).toContain('No action is open to you in this state.');
  });
});
