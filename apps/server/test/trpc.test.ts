import type { Ticket } from '@tickets/contract';
import { describe, expect, it } from 'vitest';
import { INTERNAL_MESSAGE } from '../src/errors/appError.js';
import { act, call, login, setCookies } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { startTestServer } from './support/testServer.js';
import { dataOf, errorOf, trpcMutation, trpcQuery } from './support/trpc.js';

const RESOLVE = 'ticket.action.resolve';

async function world() {
  const server = await startTestServer();
  const [ada, bob, gina] = await Promise.all([
    login(server.url, 'ada@acme.test'),
    login(server.url, 'bob@acme.test'),
    login(server.url, 'gina@globex.test'),
  ]);
  return Object.assign(server, { ada, bob, gina });
}

describe('tRPC at /trpc: every procedure', () => {
  it('session.login sets the same cookies as REST and answers the login response', async () => {
    await using w = await world();
    const response = await fetch(`${w.url}/trpc/session.login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'ada@acme.test', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookies = setCookies(response);
    expect(cookies.get('AtmoAuthToken_acme')).toBeTruthy();
    expect(cookies.get('Csrf-Token_acme')).toBeTruthy();
    expect(response.headers.getSetCookie().find((c) => c.startsWith('AtmoAuthToken_'))).toMatch(
      /httponly/i,
    );
    const body = (await response.json()) as { result: { data: Record<string, unknown> } };
    expect(body.result.data).toMatchObject({
      userFDN: 'ada.acme',
      fedmemberid: 'acme',
      Status: 'Success',
    });
    // The cookie it set is a working session, for REST too.
    const session = {
      tenant: 'acme',
      authCookie: cookies.get('AtmoAuthToken_acme')!,
      csrf: cookies.get('Csrf-Token_acme')!,
      cookie: `AtmoAuthToken_acme=${cookies.get('AtmoAuthToken_acme')!}`,
    };
    expect((await call(w.url, session, '/api/tickets/ticket1.acme')).status).toBe(200);
  });

  it('session.login refuses wrong credentials with UNAUTHORIZED and sets no cookie', async () => {
    await using w = await world();
    const answer = await trpcMutation(w.url, undefined, 'session.login', {
      email: 'ada@acme.test',
      password: 'wrong-password',
    });
    expect(errorOf(answer)).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
      problemType: 'urn:tickets:problem:unauthenticated',
    });
    expect(answer.headers.getSetCookie()).toEqual([]);
  });

  it('session.status, session.renew and session.logout', async () => {
    await using w = await world();
    const status = dataOf<{ userFDN: string; authTokenValidUntil: string }>(
      await trpcQuery(w.url, w.ada, 'session.status', { tenant: 'acme' }),
    );
    expect(status.userFDN).toBe('ada.acme');
    const renewed = await trpcMutation(w.url, w.ada, 'session.renew', {});
    expect(dataOf<{ authTokenValidUntil: string }>(renewed).authTokenValidUntil).toBeTruthy();
    expect(setCookies(renewed).get('AtmoAuthToken_acme')).toBeTruthy();

    const out = await trpcMutation(w.url, w.ada, 'session.logout', {});
    expect(dataOf(out)).toEqual({ Status: 'Success' });
    expect(errorOf(await trpcQuery(w.url, w.ada, 'session.status', {}))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
  });

  it('session.status, session.login and session.renew say which resources the caller administers', async () => {
    await using w = await world();
    const [shay, root] = await Promise.all([
      login(w.url, 'shay@acme.test'),
      login(w.url, 'root@acme.test'),
    ]);
    const statusOf = async (session: typeof w.ada) =>
      dataOf<Record<string, unknown>>(await trpcQuery(w.url, session, 'session.status', {}));
    // An admin of one API, an admin of one app, a developer, a site admin.
    expect(await statusOf(w.ada)).toMatchObject({
      userFDN: 'ada.acme',
      siteAdmin: false,
      adminOf: [{ id: 'payments.acme', type: 'api' }],
    });
    expect(await statusOf(shay)).toMatchObject({
      siteAdmin: false,
      adminOf: [{ id: 'shop.acme', type: 'app' }],
    });
    expect(await statusOf(w.bob)).toMatchObject({ siteAdmin: false, adminOf: [] });
    expect(await statusOf(root)).toMatchObject({ userFDN: 'root.acme', siteAdmin: true });

    const loggedIn = await trpcMutation(w.url, undefined, 'session.login', {
      email: 'shay@acme.test',
      password: PASSWORD,
    });
    expect(dataOf(loggedIn)).toMatchObject({ adminOf: [{ id: 'shop.acme', type: 'app' }] });
    const renewed = await trpcMutation(w.url, w.ada, 'session.renew', {});
    expect(dataOf(renewed)).toMatchObject({
      siteAdmin: false,
      adminOf: [{ id: 'payments.acme', type: 'api' }],
    });

    // REST answers the Akana login response alone, as before.
    const rest = (await (await call(w.url, w.ada, '/api/login/status')).json()) as object;
    expect(Object.keys(rest).sort()).toEqual([
      'Status',
      'authTokenValidUntil',
      'fedmemberid',
      'loginDomainID',
      'userFDN',
      'userName',
    ]);
  });

  it('tickets.list with filters and paging, only the caller’s tenant', async () => {
    await using w = await world();
    const all = dataOf<{ totalResults: number; startIndex: number; tickets: Ticket[] }>(
      await trpcQuery(w.url, w.ada, 'tickets.list', {}),
    );
    expect(all.totalResults).toBe(6);
    expect(all.tickets.map((t) => t.id)).not.toContain('ticket1.globex');
    const open = dataOf<{ totalResults: number; tickets: Ticket[] }>(
      await trpcQuery(w.url, w.ada, 'tickets.list', { state: 'OPEN', apiId: 'payments.acme' }),
    );
    expect(open.tickets.map((t) => t.id).sort()).toEqual(['ticket1.acme', 'ticket5.acme']);
    const page = dataOf<{ startIndex: number; tickets: Ticket[] }>(
      await trpcQuery(w.url, w.ada, 'tickets.list', { start: 1, count: 2 }),
    );
    expect(page).toMatchObject({ startIndex: 1 });
    expect(page.tickets).toHaveLength(2);
  });

  it('tickets.get answers the ticket in the typed shape', async () => {
    await using w = await world();
    const ticket = dataOf<Ticket>(
      await trpcQuery(w.url, w.bob, 'tickets.get', { id: 'ticket5.acme' }),
    );
    expect(ticket).toMatchObject({
      id: 'ticket5.acme',
      title: 'API and app',
      environment: 'Production',
      apiId: 'payments.acme',
      appId: 'shop.acme',
      state: 'OPEN',
      userId: 'carol.acme',
      userName: 'Carol',
      version: 1,
      comments: 0,
    });
  });

  it('tickets.create opens a ticket that REST then serves', async () => {
    await using w = await world();
    const created = dataOf<Ticket>(
      await trpcMutation(w.url, w.bob, 'tickets.create', {
        title: '  Checkout times out ',
        environment: 'Sandbox',
        appId: 'shop.acme',
        tags: ['checkout', ' '],
      }),
    );
    expect(created).toMatchObject({
      title: 'Checkout times out',
      state: 'OPEN',
      labels: ['com.soa.ticket.label.priority.medium'],
      tags: ['checkout'],
      userId: 'bob.acme',
    });
    const rest = await call(w.url, w.bob, `/api/tickets/${created.id}`, {
      headers: { Accept: 'application/json' },
    });
    expect(((await rest.json()) as { Title: string }).Title).toBe('Checkout times out');
  });

  it('tickets.validActions, tickets.act (dry run, If-Match, idempotency) and tickets.history', async () => {
    await using w = await world();
    const actions = dataOf<{ value: string; allowed: boolean; reason?: string }[]>(
      await trpcQuery(w.url, w.bob, 'tickets.validActions', { id: 'ticket1.acme' }),
    );
    expect(actions.find((a) => a.value === RESOLVE)).toMatchObject({ allowed: false });
    expect(actions.find((a) => a.value === RESOLVE)?.reason).toBeTruthy();

    const dry = dataOf<{ state: string; version: number }>(
      await trpcMutation(w.url, w.ada, 'tickets.act', {
        id: 'ticket1.acme',
        action: RESOLVE,
        dryRun: true,
      }),
    );
    expect(dry).toMatchObject({ state: 'RESOLVED', version: 1 });

    const input = {
      id: 'ticket1.acme',
      action: RESOLVE,
      comments: ['Fixed in 2.4.1'],
      ifMatch: 1,
      idempotencyKey: 'trpc-resolve-1',
    };
    const done = dataOf<{ state: string; version: number; replayed: boolean; ticket: Ticket }>(
      await trpcMutation(w.url, w.ada, 'tickets.act', input),
    );
    expect(done).toMatchObject({ state: 'RESOLVED', version: 2, replayed: false });
    expect(done.ticket).toMatchObject({ state: 'RESOLVED', comments: 1 });
    const again = dataOf<{ replayed: boolean; version: number }>(
      await trpcMutation(w.url, w.ada, 'tickets.act', input),
    );
    expect(again).toMatchObject({ replayed: true, version: 2 });

    const history = dataOf<{ action: string; from: string; to: string; comments: string[] }[]>(
      await trpcQuery(w.url, w.bob, 'tickets.history', { id: 'ticket1.acme' }),
    );
    expect(history.filter((h) => h.action === RESOLVE)).toEqual([
      expect.objectContaining({
        from: 'OPEN',
        to: 'RESOLVED',
        comments: ['Fixed in 2.4.1'],
        userId: 'ada.acme',
      }),
    ]);
  });

  it('tickets.comment adds a comment that bumps the version', async () => {
    await using w = await world();
    const comment = dataOf<{ commentId: string; content: string; userId: string }>(
      await trpcMutation(w.url, w.bob, 'tickets.comment', {
        id: 'ticket1.acme',
        content: '  Seen on 2.4.2 too ',
      }),
    );
    expect(comment).toMatchObject({ content: 'Seen on 2.4.2 too', userId: 'bob.acme' });
    const ticket = dataOf<Ticket>(
      await trpcQuery(w.url, w.bob, 'tickets.get', { id: 'ticket1.acme' }),
    );
    expect(ticket).toMatchObject({ version: 2, comments: 1 });
  });

  it('batches several calls in one request', async () => {
    await using w = await world();
    const input = encodeURIComponent(
      JSON.stringify({ 0: { id: 'ticket1.acme' }, 1: { id: 'ticket2.acme' } }),
    );
    const response = await call(
      w.url,
      w.bob,
      `/trpc/tickets.get,tickets.get?batch=1&input=${input}`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { data: Ticket } }[];
    expect(body.map((entry) => entry.result.data.state)).toEqual(['OPEN', 'RESOLVED']);
  });
});

describe('tRPC errors come from the one error table', () => {
  it('unauthenticated, missing CSRF on a mutation, and another tenant’s ticket are UNAUTHORIZED', async () => {
    await using w = await world();
    const unauthenticated = 'urn:tickets:problem:unauthenticated';
    expect(errorOf(await trpcQuery(w.url, undefined, 'tickets.list', {}))).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
      problemType: unauthenticated,
    });
    const noCsrf = await trpcMutation(
      w.url,
      w.ada,
      'tickets.act',
      { id: 'ticket1.acme', action: RESOLVE },
      { noCsrf: true },
    );
    expect(errorOf(noCsrf)).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
      problemType: unauthenticated,
    });
    // ada holds no session of globex: the same answer whether such a ticket exists or not.
    for (const id of ['ticket1.globex', 'ticket999.globex']) {
      expect(errorOf(await trpcQuery(w.url, w.ada, 'tickets.get', { id }))).toEqual({
        status: 401,
        code: 'UNAUTHORIZED',
        problemType: unauthenticated,
      });
    }
    // Nothing changed.
    expect(
      dataOf<Ticket>(await trpcQuery(w.url, w.ada, 'tickets.get', { id: 'ticket1.acme' })).state,
    ).toBe('OPEN');
  });

  it.each([
    [
      'a ticket that does not exist',
      'tickets.get',
      { id: 'ticket999.acme' },
      404,
      'NOT_FOUND',
      'not-found',
    ],
    [
      'a malformed TicketID',
      'tickets.get',
      { id: 'no-tenant' },
      400,
      'BAD_REQUEST',
      'invalid-input',
    ],
    [
      'an unknown list state',
      'tickets.list',
      { state: 'DONE' },
      400,
      'BAD_REQUEST',
      'invalid-input',
    ],
  ])('%s', async (_what, path, input, status, code, slug) => {
    await using w = await world();
    expect(errorOf(await trpcQuery(w.url, w.bob, path, input))).toEqual({
      status,
      code,
      problemType: `urn:tickets:problem:${slug}`,
    });
  });

  it('refusals of an action: FORBIDDEN, CONFLICT, PRECONDITION_FAILED, UNPROCESSABLE_CONTENT, and an unknown action', async () => {
    await using w = await world();
    const run = (session: typeof w.ada, input: Record<string, unknown>) =>
      trpcMutation(w.url, session, 'tickets.act', {
        id: 'ticket1.acme',
        action: RESOLVE,
        ...input,
      });
    expect(errorOf(await run(w.bob, {}))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      problemType: 'urn:tickets:problem:not-allowed',
    });
    expect(errorOf(await run(w.ada, { ifMatch: 7 }))).toEqual({
      status: 412,
      code: 'PRECONDITION_FAILED',
      problemType: 'urn:tickets:problem:version-mismatch',
    });
    expect(errorOf(await run(w.ada, { action: 'ticket.action.fly' }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      problemType: 'urn:tickets:problem:unknown-action',
    });
    dataOf(await run(w.ada, { idempotencyKey: 'k-1' }));
    expect(errorOf(await run(w.ada, { idempotencyKey: 'k-1', comments: 'other' }))).toEqual({
      status: 422,
      code: 'UNPROCESSABLE_CONTENT',
      problemType: 'urn:tickets:problem:idempotency-key-reused',
    });
    const twice = await run(w.ada, {});
    expect(errorOf(twice)).toEqual({
      status: 409,
      code: 'CONFLICT',
      problemType: 'urn:tickets:problem:invalid-transition',
    });
    expect(twice.body.error?.message).toContain('RESOLVED');
  });

  it('names the invalid field, and refuses a body over the REST limit', async () => {
    await using w = await world();
    const long = await trpcMutation(w.url, w.bob, 'tickets.create', {
      title: 'x'.repeat(201),
      environment: 'Sandbox',
      apiId: 'payments.acme',
    });
    expect(errorOf(long)).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      problemType: 'urn:tickets:problem:invalid-input',
    });
    expect(long.body.error?.data.field).toBe('title');
    const huge = await trpcMutation(w.url, w.bob, 'tickets.comment', undefined, {
      body: JSON.stringify({ id: 'ticket1.acme', content: 'x'.repeat(70 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(huge.body.error?.message).toBe('the body is larger than 64 KiB');
    const ticket = dataOf<Ticket>(
      await trpcQuery(w.url, w.bob, 'tickets.get', { id: 'ticket1.acme' }),
    );
    expect(ticket.comments).toBe(0);
  });

  it.each([
    [
      'a title over the limit',
      'tickets.create',
      { title: 'x'.repeat(300), environment: 'Sandbox', apiId: 'payments.acme' },
      'title',
      'title is at most 200 characters',
    ],
    [
      'an ifMatch that is not a number',
      'tickets.act',
      { id: 'ticket1.acme', action: RESOLVE, ifMatch: '"3"' },
      'ifMatch',
      'ifMatch must be a version number, e.g. 3',
    ],
    [
      'a comment that is not text',
      'tickets.act',
      { id: 'ticket1.acme', action: RESOLVE, comments: [1] },
      'comments',
      'comments must be a string or a list of strings',
    ],
    [
      'a malformed TicketID',
      'tickets.comment',
      { id: 'no-tenant', content: 'x' },
      'id',
      'TicketID must look like {local}.{tenant}, e.g. ticket1.acme',
    ],
  ])(
    '%s answers one plain message naming the field',
    async (_what, path, input, field, message) => {
      await using w = await world();
      const answer = await trpcMutation(w.url, w.ada, path, input);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toBe(message);
      expect(answer.body.error?.data.field).toBe(field);
    },
  );

  it('a fault of ours is INTERNAL_SERVER_ERROR with a generic message, the detail only in the log', async () => {
    await using server = await startTestServer({
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, name, receiver) {
            if (name === 'getTicketWithAuthor')
              return () => Promise.reject(new Error('disk on fire at /var/x'));
            return Reflect.get(target, name, receiver) as unknown;
          },
        }),
    });
    const bob = await login(server.url, 'bob@acme.test');
    const answer = await trpcQuery(server.url, bob, 'tickets.get', { id: 'ticket1.acme' });
    expect(errorOf(answer)).toEqual({
      status: 500,
      code: 'INTERNAL_SERVER_ERROR',
      problemType: 'urn:tickets:problem:internal',
    });
    expect(answer.body.error?.message).toBe(INTERNAL_MESSAGE);
    expect(JSON.stringify(answer.body)).not.toContain('disk on fire');
    expect(JSON.stringify(server.logs)).toContain('disk on fire');
    // The server keeps serving.
    expect((await act(server.url, bob, 'ticket1.acme', 'ticket.action.close')).status).toBe(500);
    expect((await call(server.url, bob, '/api/tickets')).status).toBe(200);
  });
});
