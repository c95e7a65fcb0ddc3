/**
 * CSRF on every write (CONTRACT §3, §7 "CSRF"): each operation declared `session+csrf`, through
 * REST and through its tRPC mutation, is refused with 401 when its CSRF header is missing or
 * wrong, and nothing changes (tickets, history, the session and its expiry). The same request
 * with the right header then succeeds, so the refusal was the CSRF header's and nothing else.
 * The operations come from the contract's declarations: a new write is tested here, or this
 * file does not compile.
 */
import { OPERATIONS, type OperationName } from '@tickets/contract';
import { describe, expect, it } from 'vitest';
import { call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/** The operations that need the CSRF header. */
type CsrfOperation = {
  [K in OperationName]: (typeof OPERATIONS)[K]['auth'] extends 'session+csrf' ? K : never;
}[OperationName];

const TICKET = 'ticket1.acme';

/** One valid request of each such operation, as the REST body and as the tRPC input. */
const REQUESTS: Record<CsrfOperation, { readonly rest?: unknown; readonly trpc: unknown }> = {
  renew: { trpc: {} },
  logout: { trpc: {} },
  createTicket: {
    rest: { Title: 'Made without CSRF?', Environment: 'Sandbox', APIID: 'payments.acme' },
    trpc: { title: 'Made without CSRF?', environment: 'Sandbox', apiId: 'payments.acme' },
  },
  act: {
    rest: { ActionName: 'ticket.action.resolve', Comments: 'fixed' },
    trpc: { id: TICKET, action: 'ticket.action.resolve', comments: 'fixed' },
  },
  comment: { rest: { Content: 'noted' }, trpc: { id: TICKET, content: 'noted' } },
};

const CSRF_OPERATIONS = (Object.keys(OPERATIONS) as OperationName[]).filter(
  (name): name is CsrfOperation => OPERATIONS[name].auth === 'session+csrf',
);

type CsrfHeader = 'missing' | 'wrong' | 'right';

function csrfHeaders(session: Session, csrf: CsrfHeader): Record<string, string> {
  if (csrf === 'missing') return {};
  const value = csrf === 'right' ? session.csrf : `${session.csrf.slice(0, -2)}xx`;
  return { [`X-Csrf-Token_${session.tenant}`]: value };
}

/** Sends the operation's request through REST or tRPC; answers the HTTP status. */
async function send(
  server: TestServer,
  session: Session,
  name: CsrfOperation,
  surface: 'REST' | 'tRPC',
  csrf: CsrfHeader,
): Promise<number> {
  const operation = OPERATIONS[name];
  if (surface === 'tRPC') {
    const response = await fetch(`${server.url}/trpc/${operation.procedure}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: session.cookie,
        ...csrfHeaders(session, csrf),
      },
      body: JSON.stringify(REQUESTS[name].trpc),
    });
    await response.text();
    return response.status;
  }
  const rest = operation.rest!;
  const body = REQUESTS[name].rest;
  const response = await call(server.url, session, rest.path.replace(':id', TICKET), {
    method: rest.method,
    noCsrf: true,
    headers: {
      Accept: rest.answer === 'text' ? 'text/plain' : 'application/json',
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
      ...csrfHeaders(session, csrf),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  await response.text();
  return response.status;
}

/** What a refused write must leave as it was: every ticket, the history of one, the session. */
async function stored(server: TestServer, session: Session): Promise<unknown> {
  const [tickets, history, status] = await Promise.all([
    server.sql('SELECT id, state, version, comment_count FROM tickets ORDER BY id'),
    server.sql(
      `SELECT id, action, to_state FROM history WHERE ticket_id = '${TICKET}' ORDER BY id`,
    ),
    call(server.url, session, '/api/login/status', { headers: { Accept: 'application/json' } }),
  ]);
  return { tickets, history, status: status.status, session: await status.json() };
}

describe.each(['REST', 'tRPC'] as const)('CSRF on every write, through %s', (surface) => {
  it('covers every operation the contract declares session+csrf', () => {
    expect(CSRF_OPERATIONS.sort()).toEqual(
      ['act', 'comment', 'createTicket', 'logout', 'renew'].sort(),
    );
  });

  it.each(CSRF_OPERATIONS)(
    '%s: 401 without the header and with a wrong one, nothing changes; the right one works',
    async (name) => {
      // Renewal must not be mistaken for a no-op: the clock moves between login and renewal.
      let now = Date.parse('2030-01-01T10:00:00.000Z');
      await using server = await startTestServer({ now: () => new Date(now) });
      const ada = await login(server.url, 'ada@acme.test');
      now += 60_000;
      const before = await stored(server, ada);

      for (const csrf of ['missing', 'wrong'] as const) {
        expect({ csrf, status: await send(server, ada, name, surface, csrf) }).toEqual({
          csrf,
          status: 401,
        });
        expect(await stored(server, ada)).toEqual(before);
      }

      const accepted = await send(server, ada, name, surface, 'right');
      expect(accepted).toBe(surface === 'REST' ? OPERATIONS[name].rest!.status : 200);
      expect(await stored(server, ada)).not.toEqual(before);
    },
  );
});
