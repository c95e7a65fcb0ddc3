// Every method of the client, against the real server on port 0 over a temporary SQLite file.
import type {
  Comment as ContractComment,
  HistoryEntry as ContractHistoryEntry,
  HistoryPage as ContractHistoryPage,
  SessionStatus as ContractSessionStatus,
  Ticket as ContractTicket,
  TicketChange as ContractTicketChange,
  TicketPage as ContractTicketPage,
  ValidAction as ContractValidAction,
} from '@tickets/contract';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type {
  Comment,
  HistoryEntry,
  HistoryPage,
  LoginResponse,
  Ticket,
  TicketChange,
  TicketPage,
  ValidAction,
} from '../src/index.js';
import { clientOf, failure, loggedIn, startTestServer, type TestServer } from './support.js';

/** The router's wire types are the contract's outputs, as JSON carries them. */
type Json<T> = { [K in keyof T]: Exclude<T[K], undefined> };

describe('the client, method by method', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('infers its result types from the router, and they are the contract outputs', () => {
    expectTypeOf<Ticket>().toEqualTypeOf<Json<ContractTicket>>();
    expectTypeOf<TicketPage['tickets'][number]>().toEqualTypeOf<Json<ContractTicket>>();
    expectTypeOf<TicketPage['totalResults']>().toEqualTypeOf<ContractTicketPage['totalResults']>();
    expectTypeOf<ValidAction>().toEqualTypeOf<Json<ContractValidAction>>();
    expectTypeOf<HistoryEntry>().toEqualTypeOf<ContractHistoryEntry>();
    expectTypeOf<HistoryPage>().toEqualTypeOf<ContractHistoryPage>();
    expectTypeOf<Comment>().toEqualTypeOf<ContractComment>();
    expectTypeOf<LoginResponse>().toEqualTypeOf<ContractSessionStatus>();
    expectTypeOf<TicketChange>().toEqualTypeOf<Json<ContractTicketChange>>();
  });

  it('logs in, keeps the session, reads its status and renews it', async () => {
    const { client } = clientOf(server.url);
    expect(client.session).toBeUndefined();
    const answer = await client.login({ email: 'ada@acme.test', password: 'correct-horse-1' });
    expect(answer).toMatchObject({ userFDN: 'ada.acme', fedmemberid: 'acme', Status: 'Success' });
    expect(client.session).toEqual({
      userId: 'ada.acme',
      userName: 'Ada',
      tenant: 'acme',
      validUntil: new Date(answer.authTokenValidUntil),
      siteAdmin: false,
      adminOf: [{ id: 'payments.acme', type: 'api' }],
    });
    const status = await client.status();
    expect(status).toMatchObject({
      userFDN: 'ada.acme',
      authTokenValidUntil: answer.authTokenValidUntil,
      siteAdmin: false,
      adminOf: [{ id: 'payments.acme', type: 'api' }],
    });
    const renewed = await client.renew();
    expect(Date.parse(renewed.authTokenValidUntil)).toBeGreaterThanOrEqual(
      Date.parse(answer.authTokenValidUntil),
    );
    expect(client.session?.validUntil).toEqual(new Date(renewed.authTokenValidUntil));
    // The renewed cookies work, for reads and (with the CSRF header) for writes.
    expect((await client.tickets.get('ticket1.acme')).id).toBe('ticket1.acme');
    await client.tickets.comment('ticket6.acme', { content: 'after renewal' });
  });

  it('says which resources the user administers: none for a developer, all for a site admin', async () => {
    const developer = await loggedIn(server.url, 'bob@acme.test');
    expect(developer.client.session).toMatchObject({ siteAdmin: false, adminOf: [] });
    expect(await developer.client.status()).toMatchObject({ siteAdmin: false, adminOf: [] });
    const { client } = await loggedIn(server.url, 'root@acme.test');
    expect(client.session).toMatchObject({ userId: 'root.acme', siteAdmin: true });
    expect((await client.renew()).siteAdmin).toBe(true);
  });

  it('lists with filters and paging', async () => {
    const { client } = await loggedIn(server.url, 'carol@acme.test');
    const all = await client.tickets.list();
    expect(all.totalResults).toBeGreaterThanOrEqual(6);
    const ids = (page: TicketPage): string[] => page.tickets.map((ticket) => ticket.id).sort();
    const open = await client.tickets.list({ state: 'OPEN', apiId: 'payments.acme' });
    expect(open.tickets.every((t) => t.state === 'OPEN' && t.apiId === 'payments.acme')).toBe(true);
    expect(ids(open)).toContain('ticket5.acme');
    expect(ids(await client.tickets.list({ appId: 'shop.acme' }))).toEqual(
      expect.arrayContaining(['ticket5.acme', 'ticket6.acme']),
    );
    const carols = await client.tickets.list({ authorId: 'carol.acme' });
    expect(carols.tickets.every((t) => t.userId === 'carol.acme')).toBe(true);
    const second = await client.tickets.list({ start: 1, count: 2 });
    expect(second).toMatchObject({ startIndex: 1, totalResults: all.totalResults });
    expect(second.tickets).toHaveLength(2);
    expect(second.tickets.map((t) => t.id)).toEqual(all.tickets.slice(1, 3).map((t) => t.id));
  });

  it('gets a ticket, its valid actions and its history', async () => {
    const { client } = await loggedIn(server.url, 'bob@acme.test');
    const ticket = await client.tickets.get('ticket2.acme');
    expect(ticket).toMatchObject({
      id: 'ticket2.acme',
      title: 'Resolved one',
      state: 'RESOLVED',
      environment: 'Sandbox',
      apiId: 'payments.acme',
      userId: 'bob.acme',
    });
    const actions = await client.tickets.validActions('ticket2.acme');
    expect(actions.map((a) => a.value).sort()).toEqual([
      'ticket.action.close',
      'ticket.action.reopen',
    ]);
    expect(actions.every((a) => typeof a.allowed === 'boolean' && a.label.length > 0)).toBe(true);
    const history = await client.tickets.history('ticket2.acme');
    expect(history).toEqual([
      expect.objectContaining({ action: 'provision', from: 'OPEN', to: 'RESOLVED' }),
    ]);
  });

  it('pages a long history: whole without paging, else pages with totalResults and startIndex', async () => {
    const { client } = await loggedIn(server.url, 'bob@acme.test');
    const ticket = await client.tickets.create({
      title: 'A long conversation',
      environment: 'Sandbox',
      apiId: 'payments.acme',
    });
    const notes = Array.from({ length: 30 }, (_, index) => `note ${index + 1}`);
    for (const content of notes) await client.tickets.comment(ticket.id, { content });
    const text = (entries: readonly HistoryEntry[]) => entries.map((e) => e.comments.join());

    expect(text(await client.tickets.history(ticket.id))).toEqual(notes);
    const first = await client.tickets.history(ticket.id, { count: 10 });
    expect(first).toMatchObject({ totalResults: 30, startIndex: 0 });
    expect(text(first.entries)).toEqual(notes.slice(0, 10));
    const middle = await client.tickets.history(ticket.id, { start: 10, count: 10 });
    expect(text(middle.entries)).toEqual(notes.slice(10, 20));
    // No count: the list's default page size (20); `{}` is a page too, not the whole history.
    expect(text((await client.tickets.history(ticket.id, { start: 25 })).entries)).toEqual(
      notes.slice(25),
    );
    expect(text((await client.tickets.history(ticket.id, {})).entries)).toEqual(notes.slice(0, 20));
    expect(await client.tickets.history(ticket.id, { start: 40, count: 10 })).toEqual({
      totalResults: 30,
      startIndex: 40,
      entries: [],
    });
    const refused = await failure(client.tickets.history(ticket.id, { count: 0 }));
    expect(refused).toMatchObject({ kind: 'invalid-input', field: 'count' });
  });

  it('creates a ticket, replaying a repeated idempotency key', async () => {
    const { client } = await loggedIn(server.url, 'bob@acme.test');
    const draft = {
      title: 'Timeouts on refunds',
      description: 'Since 2.4.0',
      environment: 'Production' as const,
      apiId: 'payments.acme',
      tags: ['refunds'],
      idempotencyKey: 'create-refunds-1',
    };
    const created = await client.tickets.create(draft);
    expect(created).toMatchObject({
      title: 'Timeouts on refunds',
      state: 'OPEN',
      userId: 'bob.acme',
      tags: ['refunds'],
      labels: ['com.soa.ticket.label.priority.medium'],
      version: 1,
    });
    expect(await client.tickets.create(draft)).toEqual(created);
    expect(await client.tickets.get(created.id)).toEqual(created);
  });

  it('comments, with If-Match and an idempotency key', async () => {
    const { client } = await loggedIn(server.url, 'carol@acme.test');
    const before = await client.tickets.get('ticket5.acme');
    const comment = await client.tickets.comment('ticket5.acme', {
      content: '  Seen again today  ',
      ifMatch: before.version,
      idempotencyKey: 'comment-ticket5-1',
    });
    expect(comment).toMatchObject({ content: 'Seen again today', userId: 'carol.acme' });
    expect(comment.commentId).toBe(`ticket5-comment${before.version + 1}.acme`);
    // The same key again: the same comment, not a second one.
    expect(
      await client.tickets.comment('ticket5.acme', {
        content: '  Seen again today  ',
        ifMatch: before.version,
        idempotencyKey: 'comment-ticket5-1',
      }),
    ).toEqual(comment);
    const after = await client.tickets.get('ticket5.acme');
    expect(after).toMatchObject({ version: before.version + 1, comments: before.comments + 1 });
  });

  it('acts through REST: dry run, If-Match, then for real', async () => {
    const { client } = await loggedIn(server.url, 'ada@acme.test');
    const before = await client.tickets.get('ticket4.acme');
    expect(before.state).toBe('REOPEN');
    const dry = await client.tickets.act('ticket4.acme', {
      action: 'ticket.action.resolve',
      dryRun: true,
    });
    expect(dry).toEqual({ state: 'RESOLVED', version: before.version, replayed: false });
    expect(await client.tickets.get('ticket4.acme')).toEqual(before);

    const done = await client.tickets.act('ticket4.acme', {
      action: 'ticket.action.resolve',
      comments: ['Fixed in 2.4.1', 'Deployed'],
      ifMatch: before.version,
    });
    expect(done).toEqual({ state: 'RESOLVED', version: before.version + 1, replayed: false });
    const history = await client.tickets.history('ticket4.acme');
    expect(history.at(-1)).toMatchObject({
      action: 'ticket.action.resolve',
      from: 'REOPEN',
      to: 'RESOLVED',
      comments: ['Fixed in 2.4.1', 'Deployed'],
      userId: 'ada.acme',
    });
  });

  it('acts with the caller’s idempotency key: the second answer is a replay', async () => {
    const { client } = await loggedIn(server.url, 'carol@acme.test');
    const first = await client.tickets.act('ticket6.acme', {
      action: 'ticket.action.close',
      idempotencyKey: 'close-ticket6',
    });
    expect(first).toMatchObject({ state: 'CLOSED', replayed: false });
    const again = await client.tickets.act('ticket6.acme', {
      action: 'ticket.action.close',
      idempotencyKey: 'close-ticket6',
    });
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('sends a User-Agent, and a custom fetch sees every request', async () => {
    const seen: { url: string; userAgent: string | null }[] = [];
    const { client } = clientOf(server.url, {
      userAgent: 'tickets-vscode/0.1.0',
      fetch: async (input, init) => {
        seen.push({
          url: String(input),
          userAgent: new Headers(init?.headers).get('user-agent'),
        });
        return fetch(input, init);
      },
    });
    await client.login({ email: 'bob@acme.test', password: 'correct-horse-1' });
    await client.tickets.get('ticket1.acme');
    await client.tickets.act('ticket1.acme', { action: 'ticket.action.close', dryRun: true });
    expect(seen.map((request) => new URL(request.url).pathname)).toEqual([
      '/trpc/session.login',
      '/trpc/tickets.get',
      '/api/tickets/ticket1.acme/actions',
    ]);
    expect(seen.every((request) => request.userAgent === 'tickets-vscode/0.1.0')).toBe(true);
  });

  it('logs out: the session is forgotten and ended on the server', async () => {
    const { client } = await loggedIn(server.url, 'shay@acme.test');
    await client.logout();
    expect(client.session).toBeUndefined();
    expect((await failure(client.tickets.list())).kind).toBe('unauthenticated');
    // Logging out again is harmless.
    await client.logout();
  });
});
