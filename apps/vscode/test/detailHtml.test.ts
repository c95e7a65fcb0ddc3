import { describe, expect, it } from 'vitest';
import { detailCsp, escapeHtml, renderTicketDetail } from '../src/services/detailHtml.js';
import { defaultActions, ticket } from './fixtures.js';

const evil = `<script>alert("x")</script><img src=x onerror='alert(1)'>&amp;\`${'${'}`;

describe('the ticket detail page', () => {
  it('escapes every text from the server', () => {
    const html = renderTicketDetail({
      ticket: ticket({ title: evil, description: evil, userName: evil, tags: [evil], apiId: evil }),
      history: [
        {
          action: evil,
          from: 'OPEN',
          to: 'RESOLVED',
          comments: [evil],
          userId: evil,
          created: evil,
        },
      ],
      actions: [{ value: evil, label: evil, allowed: false, reason: evil }],
      nonce: 'n0nce',
    });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror='/);
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    // The only tags are the page's own.
    const tags = new Set([...html.matchAll(/<([a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(
      [
        'blockquote',
        'div',
        'h1',
        'h2',
        'head',
        'html',
        'li',
        'meta',
        'ol',
        'p',
        'span',
        'strong',
        'style',
        'time',
        'title',
        'ul',
        'body',
      ].sort(),
    );
  });

  it('runs no script and loads nothing: a strict CSP with a nonce for its one style', () => {
    const html = renderTicketDetail({
      ticket: ticket(),
      history: [],
      actions: [],
      nonce: 'abc123',
    });
    expect(detailCsp('abc123')).toMatch(
      /^default-src 'none'; style-src 'nonce-abc123'; img-src 'none'; script-src 'none'/,
    );
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(detailCsp('abc123'))}">`,
    );
    expect(html).toContain('<style nonce="abc123">');
    expect(html).not.toMatch(/<script|\son[a-z]+=|javascript:/i);
  });

  it('shows the description, the actions and the full history, oldest first', () => {
    const html = renderTicketDetail({
      ticket: ticket({
        labels: ['com.soa.ticket.label.priority.high'],
        tags: ['refunds'],
        id: 'ticket1.acme',
        title: 'Refunds fail',
        description: 'Line one\nLine two',
        state: 'RESOLVED',
      }),
      history: [
        {
          action: 'ticket.action.resolve',
          from: 'OPEN',
          to: 'RESOLVED',
          comments: ['Fixed in 2.4.1'],
          userId: 'ada.acme',
          created: '2026-01-02T10:00:00.000Z',
        },
        {
          action: 'comment',
          from: 'RESOLVED',
          to: 'RESOLVED',
          comments: ['Confirmed'],
          userId: 'bob.acme',
          created: '2026-01-03T10:00:00.000Z',
        },
      ],
      actions: defaultActions('RESOLVED', {
        'ticket.action.reopen': 'only the author or an admin',
      }),
      nonce: 'n',
    });
    expect(html).toContain('<h1>Refunds fail</h1>');
    expect(html).toContain('<p class="facts">high priority, refunds</p>');
    expect(html).toContain('Line one\nLine two');
    expect(html).toContain('<h2>History (2)</h2>');
    expect(html.indexOf('Fixed in 2.4.1')).toBeLessThan(html.indexOf('Confirmed'));
    expect(html).toContain('ticket.action.resolve: OPEN → RESOLVED');
    expect(html).toContain('<strong>bob.acme</strong> commented');
    expect(html).toContain('2026-01-02 10:00 UTC');
    expect(html).toContain('<li>Close</li>');
    expect(html).toContain('<li class="blocked">Reopen: only the author or an admin</li>');
  });
});
