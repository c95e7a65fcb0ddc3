/**
 * The sample of the original Akana page for the action endpoint, sent exactly as printed against
 * a tenant `acmepaymentscorp` holding `ticket25687.acmepaymentscorp`, after a real login.
 */
import { describe, expect, it } from 'vitest';
import type { ProvisionInput } from '../src/provision.js';
import { call, login, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { raw } from './support/rawHttp.js';
import { startTestServer } from './support/testServer.js';

const TENANT = 'acmepaymentscorp';
const TICKET = `ticket25687.${TENANT}`;
const COMMENT = 'Bug is fixed. Resolving this ticket.';

/** The sample request body, byte for byte as the page prints it. */
const SAMPLE_BODY =
  '{ "ActionName":"ticket.action.resolve", "Comments":"Bug is fixed. Resolving this ticket." }';
/** The same Action as XML: the wrapper as root element, one element per field. */
const SAMPLE_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Action><ActionName>ticket.action.resolve</ActionName><Comments>Bug is fixed. Resolving this ticket.</Comments></Action>';

const data: ProvisionInput = {
  tenants: [{ id: TENANT, name: 'Acme Payments Corp' }],
  users: [
    { id: `ada.${TENANT}`, email: 'ada@acmepayments.test', password: PASSWORD, name: 'Ada' },
    { id: `bob.${TENANT}`, email: 'bob@acmepayments.test', password: PASSWORD, name: 'Bob' },
  ],
  resources: [
    { id: `payments.${TENANT}`, type: 'api', name: 'Payments API', admins: [`ada.${TENANT}`] },
  ],
  tickets: [
    {
      id: TICKET,
      Title: 'Refunds fail with a timeout',
      Description: 'POST /refunds times out after 30 s.',
      Environment: 'Production',
      APIID: `payments.${TENANT}`,
      author: `bob.${TENANT}`,
    },
  ],
};

async function readTicket(url: string, session: Session) {
  const ticket = await call(url, session, `/api/tickets/${TICKET}`, {
    headers: { Accept: 'application/json' },
  });
  expect(ticket.status).toBe(200);
  const history = await call(url, session, `/api/tickets/${TICKET}/history`, {
    headers: { Accept: 'application/json' },
  });
  expect(history.status).toBe(200);
  return {
    ticket: (await ticket.json()) as { State: string; Version: number; Comments: number },
    history: ((await history.json()) as { History: Record<string, unknown>[] }).History,
  };
}

/** The sample's headers, as printed: Host, Accept, Content-Type, the CSRF header; plus the cookie. */
function sampleHeaders(url: string, session: Session, contentType: string): Record<string, string> {
  return {
    Host: new URL(url).host,
    Accept: '*/*',
    'Content-Type': contentType,
    [`X-Csrf-Token_${TENANT}`]: session.csrf,
    Cookie: `AtmoAuthToken_${TENANT}=${session.authCookie}`,
  };
}

describe('the seed page’s sample request', () => {
  it.each([
    ['as printed (JSON)', 'application/json; charset=UTF-8', SAMPLE_BODY],
    ['its XML equivalent', 'application/xml; charset=UTF-8', SAMPLE_XML],
  ])('resolves ticket25687.acmepaymentscorp, %s', async (_name, contentType, body) => {
    await using server = await startTestServer({ data });
    const ada = await login(server.url, 'ada@acmepayments.test');
    expect(ada.tenant).toBe(TENANT);
    // The CSRF value is what the login left in the Csrf-Token cookie, URL-encoded, like the page's
    // `TokenID%3D…%2C…`.
    expect(ada.csrf).toMatch(/^TokenID%3D[^,]+%2C/);
    const before = await readTicket(server.url, ada);
    expect(before.ticket.State).toBe('OPEN');

    const response = await raw(server.url, {
      path: `/api/tickets/${TICKET}/actions`,
      headers: sampleHeaders(server.url, ada, contentType),
      body,
    });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']?.split(';')[0]).toBe('text/plain');
    expect(response.text).toBe('RESOLVED');
    expect(response.headers['date']).toBeTruthy();
    expect(response.headers['x-request-id']).toBeTruthy();

    const after = await readTicket(server.url, ada);
    expect(after.ticket).toMatchObject({
      State: 'RESOLVED',
      Version: before.ticket.Version + 1,
      Comments: before.ticket.Comments + 1,
    });
    expect(after.history).toHaveLength(before.history.length + 1);
    expect(after.history.at(-1)).toMatchObject({
      Action: 'ticket.action.resolve',
      From: 'OPEN',
      To: 'RESOLVED',
      Comments: [COMMENT],
      UserID: `ada.${TENANT}`,
    });
  });

  it('answers the sample 401 when the CSRF header is left out, and nothing changes', async () => {
    await using server = await startTestServer({ data });
    const ada = await login(server.url, 'ada@acmepayments.test');
    const before = await readTicket(server.url, ada);
    const headers = sampleHeaders(server.url, ada, 'application/json; charset=UTF-8');
    delete headers[`X-Csrf-Token_${TENANT}`];
    const response = await raw(server.url, {
      path: `/api/tickets/${TICKET}/actions`,
      headers,
      body: SAMPLE_BODY,
    });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']?.split(';')[0]).toBe('text/plain');
    expect(await readTicket(server.url, ada)).toEqual(before);
  });
});
