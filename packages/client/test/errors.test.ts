// Every TicketsClientError kind, decoded from real answers of the server (tRPC and the REST
// action endpoint), plus `network` from a port where nothing listens.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketsClientError, type TicketsClient } from '../src/index.js';
import {
  clientOf,
  closedPortUrl,
  failure,
  loggedIn,
  startTestServer,
  type TestServer,
} from './support.js';

type Store = Parameters<
  NonNullable<NonNullable<Parameters<typeof startTestServer>[0]>['wrapStore']>
>[0];

/**
 * A store whose next `count` commits wait until all of them have arrived, so that they all read
 * the same version before any writes: a real race, decided by the database.
 */
function racingStore(store: Store): {
  store: Store;
  race(count: number): void;
  alwaysChanged(ticketId: string): void;
} {
  let waiting: { count: number; arrived: (() => void)[] } | undefined;
  /** A ticket that another writer changes before every commit of ours: each one conflicts. */
  let busy: string | undefined;
  const commitChange: Store['commitChange'] = async (change) => {
    if (change.ticket.id === busy) return 'conflict';
    const gate = waiting;
    if (gate) {
      await new Promise<void>((resolve) => {
        gate.arrived.push(resolve);
        if (gate.arrived.length === gate.count) {
          waiting = undefined;
          for (const go of gate.arrived) go();
        }
      });
    }
    return store.commitChange(change);
  };
  const wrapped = new Proxy(store, {
    get: (target, name) => {
      if (name === 'commitChange') return commitChange;
      const value: unknown = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store: wrapped,
    race: (count) => (waiting = { count, arrived: [] }),
    alwaysChanged: (ticketId) => (busy = ticketId),
  };
}

describe('TicketsClientError from real answers', () => {
  let server: TestServer;
  let race: (count: number) => void;
  let alwaysChanged: (ticketId: string) => void;
  let ada: TicketsClient;
  let bob: TicketsClient;
  beforeAll(async () => {
    server = await startTestServer({
      wrapStore: (store) => {
        const racing = racingStore(store);
        race = racing.race;
        alwaysChanged = racing.alwaysChanged;
        return racing.store;
      },
    });
    ada = (await loggedIn(server.url, 'ada@acme.test')).client;
    bob = (await loggedIn(server.url, 'bob@acme.test')).client;
  });
  afterAll(async () => {
    await server.close();
  });

  /** A request id the server really logged. */
  const logged = (requestId: string | undefined): boolean =>
    server.logs.some((line) => line['requestId'] === requestId && line['msg'] === 'request');

  it('unauthenticated: before login, through tRPC and REST', async () => {
    const { client } = clientOf(server.url);
    const viaTrpc = await failure(client.tickets.list());
    expect(viaTrpc).toBeInstanceOf(TicketsClientError);
    expect(viaTrpc).toBeInstanceOf(Error);
    expect(viaTrpc).toMatchObject({
      name: 'TicketsClientError',
      kind: 'unauthenticated',
      status: 401,
      problemType: 'urn:tickets:problem:unauthenticated',
      message: 'login required: no session cookie',
    });
    expect(logged(viaTrpc.requestId)).toBe(true);
    const viaRest = await failure(client.tickets.act('ticket1.acme', { action: 'x.y' }));
    expect(viaRest).toMatchObject({ kind: 'unauthenticated', status: 401 });
    expect(logged(viaRest.requestId)).toBe(true);
  });

  it('unauthenticated: wrong password, and every call after logout', async () => {
    const { client } = clientOf(server.url);
    expect(
      await failure(client.login({ email: 'root@acme.test', password: 'wrong-password' })),
    ).toMatchObject({ kind: 'unauthenticated', status: 401, message: 'wrong e-mail or password' });
    await client.login({ email: 'root@acme.test', password: 'correct-horse-1' });
    await client.logout();
    for (const call of [
      () => client.tickets.get('ticket1.acme'),
      () => client.tickets.comment('ticket1.acme', { content: 'x' }),
      () => client.tickets.act('ticket1.acme', { action: 'ticket.action.close' }),
      () => client.status(),
    ]) {
      expect(await failure(call())).toMatchObject({ kind: 'unauthenticated', status: 401 });
    }
  });

  it('forbidden: Bob may not resolve', async () => {
    const error = await failure(
      bob.tickets.act('ticket1.acme', { action: 'ticket.action.resolve' }),
    );
    expect(error).toMatchObject({
      kind: 'forbidden',
      status: 403,
      problemType: 'urn:tickets:problem:not-allowed',
    });
    expect(error.message).toContain('only an admin');
  });

  it('not-found: no such ticket', async () => {
    expect(await failure(ada.tickets.get('ticket999.acme'))).toMatchObject({
      kind: 'not-found',
      status: 404,
      problemType: 'urn:tickets:problem:not-found',
    });
    expect(
      await failure(ada.tickets.act('ticket999.acme', { action: 'ticket.action.resolve' })),
    ).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('invalid-input: an unknown action, a bad field, a malformed id', async () => {
    const unknown = await failure(ada.tickets.act('ticket1.acme', { action: 'ticket.action.fly' }));
    expect(unknown).toMatchObject({
      kind: 'invalid-input',
      status: 400,
      problemType: 'urn:tickets:problem:unknown-action',
    });
    expect(unknown.message).toContain('unknown action "ticket.action.fly"');
    expect(
      await failure(
        ada.tickets.act('ticket1.acme', {
          action: 'ticket.action.resolve',
          comments: ['ok', 'x'.repeat(4001)],
        }),
      ),
    ).toMatchObject({
      kind: 'invalid-input',
      status: 400,
      problemType: 'urn:tickets:problem:invalid-input',
    });
    const badField = await failure(
      ada.tickets.create({ title: '   ', environment: 'Production', apiId: 'payments.acme' }),
    );
    expect(badField).toMatchObject({
      kind: 'invalid-input',
      status: 400,
      problemType: 'urn:tickets:problem:invalid-input',
      field: 'title',
    });
    expect(await failure(ada.tickets.list({ state: 'DONE' as unknown as 'OPEN' }))).toMatchObject({
      kind: 'invalid-input',
      field: 'state',
    });
    expect(await failure(ada.tickets.get('not a ticket id'))).toMatchObject({
      kind: 'invalid-input',
      status: 400,
    });
  });

  it('invalid-transition: reopen an open ticket', async () => {
    const error = await failure(
      ada.tickets.act('ticket5.acme', { action: 'ticket.action.reopen' }),
    );
    expect(error).toMatchObject({
      kind: 'invalid-transition',
      status: 409,
      problemType: 'urn:tickets:problem:invalid-transition',
    });
  });

  it('conflict: of two parallel actions on one ticket exactly one wins', async () => {
    const ticket = await ada.tickets.create({
      title: 'Race me',
      environment: 'Sandbox',
      apiId: 'payments.acme',
    });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        ada.tickets.act(ticket.id, { action: 'ticket.action.resolve' }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      expect(result.reason).toBeInstanceOf(TicketsClientError);
      expect(['conflict', 'invalid-transition']).toContain(
        (result.reason as TicketsClientError).kind,
      );
    }
    expect((await ada.tickets.history(ticket.id)).map((h) => h.action)).toEqual([
      'ticket.action.resolve',
    ]);
  });

  it('conflict: two actions that read the same version; the loser is run again on the new state', async () => {
    const ticket = await ada.tickets.create({
      title: 'Race me too',
      environment: 'Sandbox',
      apiId: 'payments.acme',
    });
    race(2);
    const [closed, resolved] = await Promise.allSettled([
      ada.tickets.act(ticket.id, { action: 'ticket.action.close' }),
      ada.tickets.act(ticket.id, { action: 'ticket.action.resolve' }),
    ]);
    const history = (await ada.tickets.history(ticket.id)).map((h) => h.action);
    if (history[0] === 'ticket.action.close') {
      // Closed first: resolving a closed ticket is not offered.
      expect(closed.status).toBe('fulfilled');
      expect((resolved as PromiseRejectedResult).reason).toMatchObject({
        kind: 'invalid-transition',
        status: 409,
      });
      expect(history).toEqual(['ticket.action.close']);
    } else {
      // Resolved first: a resolved ticket may be closed, and is.
      expect([closed.status, resolved.status]).toEqual(['fulfilled', 'fulfilled']);
      expect(history).toEqual(['ticket.action.resolve', 'ticket.action.close']);
    }
  });

  it('conflict: a ticket changed by others before every try of ours', async () => {
    const ticket = await ada.tickets.create({
      title: 'Always changing',
      environment: 'Sandbox',
      apiId: 'payments.acme',
    });
    alwaysChanged(ticket.id);
    expect(
      await failure(ada.tickets.act(ticket.id, { action: 'ticket.action.resolve' })),
    ).toMatchObject({
      kind: 'conflict',
      status: 409,
      problemType: 'urn:tickets:problem:conflict',
      message: 'another change to the ticket won; read it again',
    });
    expect(
      await failure(ada.tickets.comment(ticket.id, { content: 'neither does this' })),
    ).toMatchObject({ kind: 'conflict', status: 409 });
    alwaysChanged('');
  });

  it('conflict: an idempotency key reused with another request', async () => {
    await ada.tickets.comment('ticket1.acme', { content: 'one', idempotencyKey: 'reused-key' });
    expect(
      await failure(
        ada.tickets.comment('ticket1.acme', { content: 'two', idempotencyKey: 'reused-key' }),
      ),
    ).toMatchObject({
      kind: 'conflict',
      status: 422,
      problemType: 'urn:tickets:problem:idempotency-key-reused',
    });
    expect(
      await failure(
        ada.tickets.act('ticket1.acme', {
          action: 'ticket.action.resolve',
          idempotencyKey: 'reused-key',
        }),
      ),
    ).toMatchObject({ kind: 'conflict', status: 422 });
  });

  it('version-mismatch: a stale If-Match, through REST and tRPC', async () => {
    const ticket = await ada.tickets.get('ticket1.acme');
    expect(
      await failure(
        ada.tickets.act('ticket1.acme', {
          action: 'ticket.action.resolve',
          ifMatch: ticket.version - 1,
        }),
      ),
    ).toMatchObject({
      kind: 'version-mismatch',
      status: 412,
      problemType: 'urn:tickets:problem:version-mismatch',
    });
    expect(
      await failure(ada.tickets.comment('ticket1.acme', { content: 'x', ifMatch: 1 })),
    ).toMatchObject({ kind: 'version-mismatch', status: 412 });
  });

  it('rate-limited: repeated failed logins', async () => {
    // The server's clock stands still, so the throttle's wait (1 s after the third failure)
    // has not run out however slow the password checks are on a loaded machine.
    const at = new Date();
    await using limited = await startTestServer({ now: () => at });
    const { client } = clientOf(limited.url);
    const attempt = () => client.login({ email: 'shay@acme.test', password: 'not-it' });
    for (let i = 0; i < 3; i += 1) expect((await failure(attempt())).kind).toBe('unauthenticated');
    const throttled = await failure(attempt());
    expect(throttled).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      problemType: 'urn:tickets:problem:too-many-requests',
    });
    expect(throttled.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('unavailable: the database stays locked by another writer', async () => {
    const other = new Database(server.dbPath);
    try {
      other.exec('BEGIN IMMEDIATE');
      const [viaRest, viaTrpc] = await Promise.all([
        failure(ada.tickets.act('ticket5.acme', { action: 'ticket.action.resolve' })),
        failure(ada.tickets.comment('ticket5.acme', { content: 'while locked' })),
      ]);
      expect(viaRest).toMatchObject({
        kind: 'unavailable',
        status: 503,
        retryAfterSeconds: 1,
        message: 'the database is busy; try again shortly',
      });
      expect(viaTrpc).toMatchObject({
        kind: 'unavailable',
        status: 503,
        problemType: 'urn:tickets:problem:unavailable',
        retryAfterSeconds: 1,
      });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('network: nothing listens (the action is tried a few times, then given up)', async () => {
    const { client, lines } = clientOf(await closedPortUrl());
    const error = await failure(client.tickets.list());
    expect(error).toMatchObject({ kind: 'network', status: undefined, requestId: undefined });
    expect(error.cause).toBeDefined();
    const action = await failure(client.tickets.act('ticket1.acme', { action: 'a.b' }));
    expect(action).toMatchObject({ kind: 'network', status: undefined });
    expect(
      lines.filter((line) => line.message.startsWith('the action got no answer')),
    ).toHaveLength(3);
  });
});

describe('internal: a server whose store was closed under it', () => {
  it('answers 500, which is `internal`, through tRPC and REST', async () => {
    await using server = await startTestServer();
    const { client } = await loggedIn(server.url, 'ada@acme.test');
    await server.store.close();
    const viaTrpc = await failure(client.tickets.get('ticket1.acme'));
    expect(viaTrpc).toMatchObject({
      kind: 'internal',
      status: 500,
      problemType: 'urn:tickets:problem:internal',
      message: 'An error occurred processing the call.',
    });
    const viaRest = await failure(
      client.tickets.act('ticket1.acme', { action: 'ticket.action.resolve' }),
    );
    expect(viaRest).toMatchObject({
      kind: 'internal',
      status: 500,
      message: 'An error occurred processing the call.',
    });
    expect(viaRest.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('answers that are not the server’s own (a proxy in between)', () => {
  /** A server that answers every request with `status`, `contentType` and `body`. */
  async function answering(status: number, contentType: string, body: string) {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(status, { 'Content-Type': contentType });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('a JSON error that is not tRPC’s is `internal` with its status, not `network`', async () => {
    await using proxy = await answering(500, 'application/json', '{"oops":true}');
    const { client } = clientOf(proxy.url);
    expect(await failure(client.tickets.list())).toMatchObject({ kind: 'internal', status: 500 });
  });

  it('a success that is not tRPC’s answer is `internal`, not `invalid-input`', async () => {
    await using proxy = await answering(200, 'text/plain', 'HELLO');
    const { client } = clientOf(proxy.url);
    const error = await failure(client.tickets.list());
    expect(error).toMatchObject({ kind: 'internal', status: 200 });
    expect(error.message).toContain("not tRPC's JSON");
  });
});
