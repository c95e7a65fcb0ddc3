// The live feed `tickets.changes` (tRPC subscription over server-sent events): every committed
// change of the subscriber's tenant arrives, in eventId order; a subscriber that comes back with
// its last eventId gets exactly what it missed; another process writing to the same SQLite file
// is noticed; closing the feed ends the streams at once. Waits are bounded; nothing is timed.
import type { TicketChange } from '@tickets/contract';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { act, call, login, setCookies, type Session } from './support/client.js';
import { serverEnv, startChildServer, tempDir } from './support/childServer.js';
import { STREAMS_PER_SESSION } from '../src/service/liveChanges.js';
import { startTestServer } from './support/testServer.js';
import { eventually, readSse } from './support/trpc.js';

const RESOLVE = 'ticket.action.resolve';
const CLOSE = 'ticket.action.close';

/** Subscribes as `session` and collects the changes it receives until `stop()`. */
function subscribe(url: string, session: Session, input: { lastEventId?: number } = {}) {
  const controller = new AbortController();
  const received: TicketChange[] = [];
  const ids: string[] = [];
  const errors: unknown[] = [];
  const done = readSse(url, session, 'tickets.changes', input, controller.signal, (event) => {
    if (event.event === 'serialized-error') {
      errors.push(JSON.parse(event.data));
      return;
    }
    received.push(JSON.parse(event.data) as TicketChange);
    if (event.id !== undefined) ids.push(event.id);
  });
  return {
    received,
    errors,
    ids,
    done,
    async stop() {
      controller.abort();
      return done;
    },
  };
}

/** The server ended the stream at once, with one error that holds `error`. */
async function expectRefused(
  feed: ReturnType<typeof subscribe>,
  error: Record<string, unknown>,
): Promise<void> {
  await expect(feed.done).resolves.toMatchObject({ ended: 'server' });
  expect(feed.errors).toEqual([expect.objectContaining(error)]);
}

async function comment(url: string, session: Session, id: string, content: string) {
  const response = await call(url, session, `/api/tickets/${id}/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Content: content }),
  });
  expect(response.status).toBe(201);
}

async function create(url: string, session: Session): Promise<string> {
  const response = await call(url, session, '/api/tickets', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ Title: 'New one', Environment: 'Sandbox', APIID: 'payments.acme' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { TicketID: string }).TicketID;
}

describe('tickets.changes', () => {
  it('sends every change of the tenant made through REST by someone else, in order, and nothing of other tenants', async () => {
    await using server = await startTestServer();
    const [ada, bob, gina] = await Promise.all([
      login(server.url, 'ada@acme.test'),
      login(server.url, 'bob@acme.test'),
      login(server.url, 'gina@globex.test'),
    ]);
    // From the start of the log (provisioning writes none), so no change can slip in before.
    const feed = subscribe(server.url, bob, { lastEventId: 0 });
    const globexFeed = subscribe(server.url, gina, { lastEventId: 0 });

    expect((await act(server.url, ada, 'ticket1.acme', RESOLVE, { comments: 'done' })).status).toBe(
      200,
    );
    await comment(server.url, ada, 'ticket1.acme', 'also deployed');
    const created = await create(server.url, ada);
    expect((await act(server.url, gina, 'ticket1.globex', CLOSE)).status).toBe(200);

    await eventually(() => feed.received.length >= 3);
    expect(feed.received).toEqual([
      expect.objectContaining({
        ticketId: 'ticket1.acme',
        kind: 'action',
        action: RESOLVE,
        from: 'OPEN',
        to: 'RESOLVED',
        version: 2,
        userId: 'ada.acme',
      }),
      expect.objectContaining({
        ticketId: 'ticket1.acme',
        kind: 'comment',
        from: 'RESOLVED',
        to: 'RESOLVED',
        version: 3,
        userId: 'ada.acme',
      }),
      expect.objectContaining({
        ticketId: created,
        kind: 'created',
        to: 'OPEN',
        version: 1,
        userId: 'ada.acme',
      }),
    ]);
    const eventIds = feed.received.map((change) => change.eventId);
    expect([...eventIds].sort((a, b) => a - b)).toEqual(eventIds);
    expect(feed.ids).toEqual(eventIds.map(String));
    await eventually(() => globexFeed.received.length >= 1);
    expect(globexFeed.received.map((c) => c.ticketId)).toEqual(['ticket1.globex']);
    await feed.stop();
    await globexFeed.stop();
  });

  it('resumes after the last eventId: every change missed, nothing twice', async () => {
    await using server = await startTestServer();
    const [ada, bob] = await Promise.all([
      login(server.url, 'ada@acme.test'),
      login(server.url, 'bob@acme.test'),
    ]);
    const first = subscribe(server.url, bob, { lastEventId: 0 });
    expect((await act(server.url, ada, 'ticket1.acme', RESOLVE)).status).toBe(200);
    await eventually(() => first.received.length === 1);
    await first.stop();
    const last = first.received[0]!.eventId;

    // While nobody listens:
    await comment(server.url, ada, 'ticket1.acme', 'one');
    await comment(server.url, ada, 'ticket5.acme', 'two');
    expect((await act(server.url, bob, 'ticket1.acme', CLOSE)).status).toBe(200);

    const again = subscribe(server.url, bob, { lastEventId: last });
    await eventually(() => again.received.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show
    expect(again.received.map((c) => [c.ticketId, c.kind, c.to])).toEqual([
      ['ticket1.acme', 'comment', 'RESOLVED'],
      ['ticket5.acme', 'comment', 'OPEN'],
      ['ticket1.acme', 'action', 'CLOSED'],
    ]);
    expect(again.received.every((c) => c.eventId > last)).toBe(true);
    await again.stop();
  });

  it('refuses a subscriber without a session, and a malformed lastEventId', async () => {
    await using server = await startTestServer();
    const anonymous = subscribe(server.url, {
      tenant: 'acme',
      authCookie: '',
      csrf: '',
      cookie: '',
    });
    await expectRefused(anonymous, {
      data: expect.objectContaining({
        code: 'UNAUTHORIZED',
        problemType: 'urn:tickets:problem:unauthenticated',
      }),
    });
    expect(anonymous.received).toEqual([]);
    const bob = await login(server.url, 'bob@acme.test');
    const bad = subscribe(server.url, bob, { lastEventId: 'x' as unknown as number });
    await expectRefused(bad, {
      message: 'lastEventId must be an eventId, a whole number from 0',
      data: expect.objectContaining({ code: 'BAD_REQUEST', field: 'lastEventId' }),
    });
  });

  it(`holds at most ${STREAMS_PER_SESSION} streams of one session open; the next is told to wait, another session is not`, async () => {
    await using server = await startTestServer();
    const bob = await login(server.url, 'bob@acme.test');
    const streams = Array.from({ length: STREAMS_PER_SESSION }, () => subscribe(server.url, bob));
    await comment(server.url, bob, 'ticket1.acme', 'all of them get this');
    await eventually(() => streams.every((stream) => stream.received.length === 1));

    const refused = subscribe(server.url, bob);
    await expectRefused(refused, {
      data: expect.objectContaining({
        code: 'TOO_MANY_REQUESTS',
        problemType: 'urn:tickets:problem:too-many-requests',
        retryAfterSeconds: expect.any(Number),
      }),
    });
    // Bob's other session, and Ada, are not held up by it.
    const again = subscribe(server.url, await login(server.url, 'bob@acme.test'));
    const ada = subscribe(server.url, await login(server.url, 'ada@acme.test'));
    await comment(server.url, bob, 'ticket1.acme', 'and these');
    await eventually(() => again.received.length === 1 && ada.received.length === 1);
    // Once one has closed (its request is logged as finished), the session may open another.
    const finished = () =>
      server.logs.filter(
        (line) => line['msg'] === 'request' && line['path'] === '/trpc/tickets.changes',
      ).length;
    const before = finished();
    await streams[0]!.stop();
    await eventually(() => finished() > before);
    const next = subscribe(server.url, bob);
    await comment(server.url, bob, 'ticket1.acme', 'the new one gets this');
    await eventually(() => next.received.length === 1);
    expect(next.errors).toEqual([]);
    for (const stream of [...streams.slice(1), again, ada, next]) await stream.stop();
  });

  it('sends a change only once the store says it is on disk', async () => {
    // A store whose flush to disk the test holds back: the feed must wait for it.
    let held: Promise<void> = Promise.resolve();
    let release = (): void => {};
    await using server = await startTestServer({
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, name) {
            if (name === 'flushed') {
              return async () => {
                await target.flushed();
                await held;
              };
            }
            const value: unknown = Reflect.get(target, name);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    const [ada, bob] = await Promise.all([
      login(server.url, 'ada@acme.test'),
      login(server.url, 'bob@acme.test'),
    ]);
    const feed = subscribe(server.url, bob, { lastEventId: 0 });
    held = new Promise<void>((resolve) => (release = resolve));
    expect((await act(server.url, ada, 'ticket1.acme', RESOLVE)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 600)); // the feed has looked by now
    expect(feed.received).toEqual([]);
    release();
    await eventually(() => feed.received.length === 1);
    expect(feed.received[0]).toMatchObject({ ticketId: 'ticket1.acme', to: 'RESOLVED' });
    await feed.stop();
  });

  it.each([
    ['the newest eventId, to start from now', 'latestEventId', undefined],
    ['the changes after its lastEventId', 'listChanges', 0],
  ] as const)(
    "counts a stream's read of %s until it ends, though its client hung up during it",
    async (_what, method, lastEventId) => {
      // A store whose reads the test holds back.
      let reading = (): void => {};
      const reached = new Promise<void>((resolve) => (reading = resolve));
      let release = (): void => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      await using server = await startTestServer({
        wrapStore: (store) =>
          new Proxy(store, {
            get(target, name) {
              const value: unknown = Reflect.get(target, name);
              if (typeof value !== 'function') return value;
              const bound = (value as (...args: unknown[]) => unknown).bind(target);
              if (name !== method) return bound;
              return async (...args: unknown[]) => {
                reading();
                await held;
                return bound(...args);
              };
            },
          }),
      });
      const bob = await login(server.url, 'bob@acme.test');
      const feed = subscribe(server.url, bob, lastEventId === undefined ? {} : { lastEventId });
      await reached;
      // The client hangs up before the stream has said anything.
      await expect(feed.stop()).rejects.toThrow(/abort/i);
      // Its request is over; the read is not, and a shutdown would wait for it.
      expect(await server.app.inFlight.settled(200)).toBe(false);
      expect(server.app.inFlight.size).toBeGreaterThan(0);
      release();
      expect(await server.app.inFlight.settled(10_000)).toBe(true);
    },
  );

  it('ends a stream with the 401 of the table when its session is logged out', async () => {
    await using server = await startTestServer({ sessionRecheckMs: 50 });
    const bob = await login(server.url, 'bob@acme.test');
    const feed = subscribe(server.url, bob, { lastEventId: 0 });
    await comment(server.url, bob, 'ticket1.acme', 'before logout');
    await eventually(() => feed.received.length === 1);

    const logout = await call(server.url, bob, '/api/login/logout', { method: 'POST' });
    expect(logout.status).toBe(200);
    await expect(feed.done).resolves.toMatchObject({ ended: 'server' });
    expect(feed.errors).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          code: 'UNAUTHORIZED',
          httpStatus: 401,
          problemType: 'urn:tickets:problem:unauthenticated',
        }),
      }),
    ]);
    expect(server.logs.filter((line) => line['level'] === 50)).toEqual([]);
  });

  it('keeps the stream of a renewed session past the first expiry, and ends it at the new one', async () => {
    let clock = Date.now();
    await using server = await startTestServer({
      sessionRecheckMs: 50,
      sessionMinutes: 30,
      now: () => new Date(clock),
    });
    const minutes = (n: number) => n * 60_000;
    const bob = await login(server.url, 'bob@acme.test');
    const feed = subscribe(server.url, bob, { lastEventId: 0 });

    clock += minutes(20);
    const renewal = await call(server.url, bob, '/api/login/renewToken', { method: 'POST' });
    expect(renewal.status).toBe(200);
    expect(setCookies(renewal).get('AtmoAuthToken_acme')).toBeDefined();

    clock += minutes(20); // past the expiry the stream's own cookie carries
    await new Promise((resolve) => setTimeout(resolve, 300)); // several rechecks
    const ada = await login(server.url, 'ada@acme.test');
    expect((await act(server.url, ada, 'ticket1.acme', RESOLVE)).status).toBe(200);
    await eventually(() => feed.received.length === 1);
    expect(feed.errors).toEqual([]);

    clock += minutes(15); // past the renewed expiry
    await expect(feed.done).resolves.toMatchObject({ ended: 'server' });
    expect(feed.errors).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ code: 'UNAUTHORIZED' }) }),
    ]);
  });

  it('finishes the request on the server when the client closes its stream', async () => {
    await using server = await startTestServer();
    const bob = await login(server.url, 'bob@acme.test');
    const feed = subscribe(server.url, bob, { lastEventId: 0 });
    await comment(server.url, bob, 'ticket1.acme', 'seen');
    await eventually(() => feed.received.length === 1);
    await feed.stop();
    const streamLogged = () =>
      server.logs.some(
        (line) => line['msg'] === 'request' && line['path'] === '/trpc/tickets.changes',
      );
    await eventually(streamLogged);
  });

  it('a client that closes its stream in the middle of a long replay is not logged as a fault', async () => {
    await using server = await startTestServer({ kind: 'sqlite' });
    // A long log to replay: 20,000 comments, written straight into the file.
    const db = new Database(server.dbPath);
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
      INSERT INTO ticket_changes (tenant, ticket_id, kind, action, from_state, to_state, version, user_id, changed_at)
      SELECT 'acme', 'ticket1.acme', 'comment', NULL, 'OPEN', 'OPEN', 1, 'ada.acme', ${Date.now()} FROM n`);
    db.close();
    const bob = await login(server.url, 'bob@acme.test');
    const left = () =>
      server.logs.some((line) => line['msg'] === 'the client left before its answer was written');
    for (let attempt = 0; attempt < 5 && !left(); attempt += 1) {
      const feed = subscribe(server.url, bob, { lastEventId: 0 });
      await eventually(() => feed.received.length > 0);
      await feed.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await eventually(left);
    expect(server.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
  });

  it('ends open streams at once when the feed closes (as on SIGTERM)', async () => {
    await using server = await startTestServer();
    const bob = await login(server.url, 'bob@acme.test');
    const feed = subscribe(server.url, bob);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.app.liveChanges.close();
    await expect(feed.done).resolves.toMatchObject({ ended: 'server' });
  });

  it('notices a change made by another process on the same SQLite file', async () => {
    await using server = await startTestServer();
    const dir = tempDir('tickets-changes-');
    const child = await startChildServer(
      serverEnv(dir.dir, { DATABASE_URL: `sqlite:${server.dbPath}` }),
    );
    try {
      const bob = await login(server.url, 'bob@acme.test');
      const feed = subscribe(server.url, bob, { lastEventId: 0 });
      const ada = await login(child.url, 'ada@acme.test');
      expect((await act(child.url, ada, 'ticket1.acme', RESOLVE)).status).toBe(200);
      await eventually(() => feed.received.length === 1);
      expect(feed.received[0]).toMatchObject({
        ticketId: 'ticket1.acme',
        to: 'RESOLVED',
        userId: 'ada.acme',
      });
      await feed.stop();
    } finally {
      await child.stop();
      dir.remove();
    }
  });
});
