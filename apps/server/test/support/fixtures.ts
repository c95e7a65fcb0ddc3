import type { ProvisionInput } from '../../src/provision.js';

export const PASSWORD = 'correct-horse-1';

/**
 * Two tenants. In acme: ada administers the Payments API, shay the Shop app, root is a site
 * admin, bob wrote most tickets, carol is a plain user. globex has its own admin and ticket.
 */
export const fixture: ProvisionInput = {
  tenants: [
    { id: 'acme', name: 'Acme Payments' },
    { id: 'globex', name: 'Globex' },
  ],
  users: [
    { id: 'ada.acme', email: 'ada@acme.test', password: PASSWORD, name: 'Ada' },
    { id: 'shay.acme', email: 'shay@acme.test', password: PASSWORD, name: 'Shay' },
    { id: 'root.acme', email: 'root@acme.test', password: PASSWORD, name: 'Root', siteAdmin: true },
    { id: 'bob.acme', email: 'bob@acme.test', password: PASSWORD, name: 'Bob' },
    { id: 'carol.acme', email: 'carol@acme.test', password: PASSWORD, name: 'Carol' },
    {
      id: 'gina.globex',
      email: 'gina@globex.test',
      password: PASSWORD,
      name: 'Gina',
      siteAdmin: true,
    },
  ],
  resources: [
    { id: 'payments.acme', type: 'api', name: 'Payments API', admins: ['ada.acme'] },
    { id: 'shop.acme', type: 'app', name: 'Shop App', admins: ['shay.acme'] },
    { id: 'ledger.globex', type: 'api', name: 'Ledger API', admins: ['gina.globex'] },
  ],
  tickets: [
    {
      id: 'ticket1.acme',
      Title: 'Open one',
      Environment: 'Production',
      APIID: 'payments.acme',
      author: 'bob.acme',
      Created: '2026-01-01T00:00:01.000Z',
    },
    {
      id: 'ticket2.acme',
      Title: 'Resolved one',
      Environment: 'Sandbox',
      APIID: 'payments.acme',
      author: 'bob.acme',
      State: 'RESOLVED',
      Created: '2026-01-01T00:00:02.000Z',
    },
    {
      id: 'ticket3.acme',
      Title: 'Closed one',
      Environment: 'Production',
      APIID: 'payments.acme',
      author: 'bob.acme',
      State: 'CLOSED',
      Created: '2026-01-01T00:00:03.000Z',
    },
    {
      id: 'ticket4.acme',
      Title: 'Reopened one',
      Environment: 'Production',
      APIID: 'payments.acme',
      author: 'bob.acme',
      State: 'REOPEN',
      Created: '2026-01-01T00:00:04.000Z',
    },
    {
      id: 'ticket5.acme',
      Title: 'API and app',
      Environment: 'Production',
      APIID: 'payments.acme',
      AppID: 'shop.acme',
      author: 'carol.acme',
      Created: '2026-01-01T00:00:05.000Z',
    },
    {
      id: 'ticket6.acme',
      Title: 'App only',
      Environment: 'Sandbox',
      AppID: 'shop.acme',
      author: 'carol.acme',
      Created: '2026-01-01T00:00:06.000Z',
    },
    {
      id: 'ticket1.globex',
      Title: 'Globex secret',
      Environment: 'Production',
      APIID: 'ledger.globex',
      author: 'gina.globex',
      Created: '2026-01-01T00:00:07.000Z',
    },
  ],
};
