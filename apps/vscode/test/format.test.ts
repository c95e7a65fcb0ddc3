import { describe, expect, it } from 'vitest';
import {
  escapeMarkdown,
  formatAge,
  formatAgo,
  ticketContextValue,
  ticketDescription,
  ticketTooltip,
} from '../src/services/format.js';
import { ticket } from './fixtures.js';

const now = new Date('2026-06-15T12:00:00Z');
const ago = (ms: number): string => new Date(now.getTime() - ms).toISOString();
const MIN = 60_000;

describe('ages', () => {
  it.each([
    [10_000, 'just now'],
    [5 * MIN, '5m'],
    [3 * 60 * MIN, '3h'],
    [12 * 24 * 60 * MIN, '12d'],
    [120 * 24 * 60 * MIN, '4mo'],
    [800 * 24 * 60 * MIN, '2y'],
  ])('%i ms ago is %s', (ms, text) => {
    expect(formatAge(ago(ms), now)).toBe(text);
  });

  it('says "ago" except for just now, and nothing for a malformed time', () => {
    expect(formatAgo(ago(5 * MIN), now)).toBe('5m ago');
    expect(formatAgo(ago(1000), now)).toBe('just now');
    expect(formatAge('not a time', now)).toBe('');
  });
});

describe('ticket rows', () => {
  it('describe a ticket as id · resource · age', () => {
    const t = ticket({ id: 'ticket7.acme', apiId: 'payments.acme', created: ago(3 * 60 * MIN) });
    expect(ticketDescription(t, now)).toBe('ticket7.acme · payments.acme · 3h');
    const both = ticket({
      id: 'ticket8.acme',
      apiId: 'payments.acme',
      appId: 'shop.acme',
      created: ago(MIN),
    });
    expect(ticketDescription(both, now)).toBe('ticket8.acme · payments.acme + shop.acme · 1m');
  });

  it('list the allowed actions in the contextValue', () => {
    expect(ticketContextValue(['ticket.action.resolve', 'ticket.action.close'])).toBe(
      'ticket action:ticket.action.resolve action:ticket.action.close',
    );
    expect(ticketContextValue([])).toBe('ticket');
  });

  it('show the description in the tooltip, literally (no Markdown, links or HTML of its own)', () => {
    const t = ticket({
      title: 'Refunds *fail*',
      description:
        '[click](command:workbench.action.quit) <img src=x onerror=alert(1)> # not a heading',
    });
    const tooltip = ticketTooltip(t, now);
    expect(tooltip).toContain('**Refunds \\*fail\\***');
    expect(tooltip).toContain('\\[click\\]\\(command:workbench\\.action\\.quit\\)');
    expect(tooltip).toContain('\\<img src=x onerror=alert\\(1\\)\\>');
    expect(tooltip).not.toMatch(/[^\\][<[]/);
  });

  it('escape every Markdown metacharacter', () => {
    expect(escapeMarkdown('a_b*c`d#e|f')).toBe('a\\_b\\*c\\`d\\#e\\|f');
  });
});
