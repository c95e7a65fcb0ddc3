import type { ProvisionInput } from './provision.js';

/** The password of every demo user; printed at start-up. Demo data is for trying the product. */
export const DEMO_PASSWORD = 'demo-pass-1';

/** The demo tenant provisioned on an empty database: users, an API, an app, tickets in every state. */
export const demoData: ProvisionInput = {
  tenants: [{ id: 'demo', name: 'Demo Payments' }],
  users: [
    {
      id: 'admin.demo',
      email: 'admin@demo.test',
      password: DEMO_PASSWORD,
      name: 'Sam Site-Admin',
      siteAdmin: true,
    },
    {
      id: 'ada.demo',
      email: 'ada@demo.test',
      password: DEMO_PASSWORD,
      name: 'Ada (Payments API admin)',
    },
    {
      id: 'bob.demo',
      email: 'bob@demo.test',
      password: DEMO_PASSWORD,
      name: 'Bob (Checkout app team)',
    },
    {
      id: 'carol.demo',
      email: 'carol@demo.test',
      password: DEMO_PASSWORD,
      name: 'Carol (developer)',
    },
  ],
  resources: [
    { id: 'payments.demo', type: 'api', name: 'Payments API', admins: ['ada.demo'] },
    { id: 'checkout.demo', type: 'app', name: 'Checkout App', admins: ['bob.demo'] },
  ],
  tickets: [
    {
      id: 'ticket1.demo',
      Title: 'Refunds fail with a 500 for amounts over 1000',
      Description: 'POST /refunds answers 500 when the amount is over 1000.00.',
      Environment: 'Production',
      APIID: 'payments.demo',
      Label: ['com.soa.ticket.label.priority.high'],
      Tag: ['refunds'],
      author: 'carol.demo',
      State: 'OPEN',
    },
    {
      id: 'ticket2.demo',
      Title: 'Sandbox keys expire after one hour',
      Description: 'Sandbox API keys stop working an hour after they are issued.',
      Environment: 'Sandbox',
      APIID: 'payments.demo',
      author: 'bob.demo',
      State: 'RESOLVED',
    },
    {
      id: 'ticket3.demo',
      Title: 'Typo in the currency list',
      Description: '"Euor" should read "Euro".',
      Environment: 'Production',
      APIID: 'payments.demo',
      Label: ['com.soa.ticket.label.priority.low'],
      author: 'carol.demo',
      State: 'CLOSED',
    },
    {
      id: 'ticket4.demo',
      Title: 'Checkout times out on slow networks',
      Description: 'The checkout app gives up after 5 seconds waiting for the payments API.',
      Environment: 'Production',
      APIID: 'payments.demo',
      AppID: 'checkout.demo',
      author: 'carol.demo',
      State: 'REOPEN',
    },
    {
      id: 'ticket5.demo',
      Title: 'Checkout button is hidden on small screens',
      Description: 'Below 360 px the pay button is off screen.',
      Environment: 'Sandbox',
      AppID: 'checkout.demo',
      author: 'carol.demo',
      State: 'OPEN',
    },
  ],
};
