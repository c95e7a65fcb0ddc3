/** A small tenant, its tickets and their changes, for the stores' own tests. */
import { defaultTicketWorkflow, formatTicketId, startTicket, type Ticket } from '@tickets/domain';
import type { ProvisionPlan, TicketChange } from '../../src/store/store.js';

export const NOW = new Date('2026-03-01T12:00:00.000Z');

export const PLAN: ProvisionPlan = {
  tenants: [{ id: 'acme', name: 'Acme' }],
  users: [
    {
      id: 'ada.acme',
      tenant: 'acme',
      email: 'ada@acme.test',
      name: 'Ada',
      passwordHash: 'h',
      siteAdmin: false,
    },
  ],
  resources: [
    { id: 'payments.acme', tenant: 'acme', type: 'api', name: 'Payments', admins: ['ada.acme'] },
  ],
  tickets: [],
};

export const ticket = (n: number): Ticket =>
  startTicket(
    defaultTicketWorkflow,
    {
      id: formatTicketId(`ticket${n}`, 'acme'),
      tenant: 'acme',
      title: `Ticket ${n}`,
      description: '',
      environment: 'Production',
      apiId: 'payments.acme',
      labels: [],
      tags: [],
      authorId: 'ada.acme',
    },
    NOW,
  );

/** A comment on `read`, computed from that read (so two of them race for one version). */
export const commentOn = (read: Ticket, text: string): TicketChange => ({
  ticket: { ...read, version: read.version + 1, commentCount: read.commentCount + 1 },
  expectedVersion: read.version,
  history: {
    action: 'comment',
    from: read.state,
    to: read.state,
    comments: [text],
    userId: 'ada.acme',
    created: NOW.toISOString(),
  },
});
