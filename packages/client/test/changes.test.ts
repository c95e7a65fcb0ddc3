// Live changes through the client: what another user does through REST reaches `changes()`;
// resuming from a lastEventId gives exactly what was missed; a dropped connection and a restarted
// server lose nothing and repeat nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS_PER_SESSION } from '../../../apps/server/src/service/liveChanges.js';
import { QUEUED_CHANGES_LIMIT } from '../src/changes.js';
import type { TicketChange } from '../src/index.js';
import {
  call,
  clientOf,
  connected,
  eventually,
  failure,
  fixture,
  loggedIn,
  provisionFile,
  restAct,
  restLogin,
  serverEnv,
  startChildServer,
  startProxy,
  startTestServer,
  tempDir,
  watch,
  type ChildServer,
  type Proxy,
  type Session,
  type TempDir,
  type TestServer,
} from './support.js';

/** A comment through the REST surface, as another program would make it. */
async function restComment(url: string, session: Session, id: string, text: string) {
  const response = await call(url, session, `/api/tickets/${id}/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Content: text }),
  });
  expect(response.status).toBe(201);
}

const ids = (changes: readonly TicketChange[]): number[] => changes.map((c) => c.eventId);

/** Ids strictly increasing: delivered in order, none twice. */
const strictlyIncreasing = (values: readonly number[]): boolean =>
  values.every((value, i) => i === 0 || value > values[i - 1]!);

describe('changes() against the in-process server', () => {
  let server: TestServer;
  let ada: Session;
  beforeAll(async () => {
    server = await startTestServer();
    ada = await restLogin(server.url, 'ada@acme.test');
  });
  afterAll(async () => {
    await server.close();
  });

  it('delivers a change another user made through REST', async () => {
    const { client, lines } = await loggedIn(server.url, 'carol@acme.test');
    const stream = watch(client, { lastEventId: 0 });
    await connected(lines);
    const answer = await restAct(server.url, ada, 'ticket1.acme', 'ticket.action.resolve', {
      comments: 'Fixed',
    });
    expect(answer).toMatchObject({ status: 200, text: 'RESOLVED' });
    await eventually(() => stream.received.some((c) => c.ticketId === 'ticket1.acme'));
    expect(stream.received.find((c) => c.ticketId === 'ticket1.acme')).toEqual({
      eventId: expect.any(Number),
      ticketId: 'ticket1.acme',
      kind: 'action',
      action: 'ticket.action.resolve',
      from: 'OPEN',
      to: 'RESOLVED',
      version: 2,
      userId: 'ada.acme',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await stream.stop()).toEqual({});
  });

  it('without a lastEventId, starts with the changes after it connected', async () => {
    const { client, lines } = await loggedIn(server.url, 'carol@acme.test');
    await restComment(server.url, ada, 'ticket5.acme', 'marker');
    const before = watch(client, { lastEventId: 0 });
    await eventually(() => before.received.some((c) => c.ticketId === 'ticket5.acme'));
    await before.stop();
    const marker = before.received.find((c) => c.ticketId === 'ticket5.acme')!.eventId;
    const stream = watch(client);
    await connected(lines, 2);
    // The feed's starting point is fixed just after it connects: comment until one arrives.
    let n = 0;
    await eventually(async () => {
      await restComment(server.url, ada, 'ticket5.acme', `ping ${(n += 1)}`);
      return stream.received.length > 0;
    });
    expect(stream.received[0]!.eventId).toBeGreaterThan(marker);
    expect(stream.received.every((c) => c.kind === 'comment')).toBe(true);
    await stream.stop();
  });

  it('resumes from a lastEventId with exactly the missed changes, none twice', async () => {
    const proxy = await startProxy(server.url);
    const { client, lines } = await loggedIn(proxy.url, 'bob@acme.test');
    await restComment(server.url, ada, 'ticket2.acme', 'before');
    const first: TicketChange[] = [];
    let streaming = 0;
    for await (const change of client.changes({ lastEventId: 0 })) {
      first.push(change);
      streaming = proxy.openConnections(/tickets\.changes/);
      if (change.ticketId === 'ticket2.acme') break; // the consumer leaves: unsubscribed
    }
    const last = first.at(-1)!.eventId;
    // Leaving the loop closed the stream's connection.
    expect(streaming).toBe(1);
    await eventually(() => proxy.openConnections(/tickets\.changes/) === 0);

    for (const text of ['missed 1', 'missed 2', 'missed 3'])
      await restComment(server.url, ada, 'ticket3.acme', text);
    const resumed = watch(client, { lastEventId: last });
    await eventually(() => resumed.received.length >= 3);
    expect(resumed.received.map((c) => [c.ticketId, c.kind])).toEqual([
      ['ticket3.acme', 'comment'],
      ['ticket3.acme', 'comment'],
      ['ticket3.acme', 'comment'],
    ]);
    expect(resumed.received[0]!.eventId).toBeGreaterThan(last);
    await connected(lines, 2);
    await restComment(server.url, ada, 'ticket3.acme', 'live');
    await eventually(() => resumed.received.length >= 4);
    expect(resumed.received).toHaveLength(4);
    expect(strictlyIncreasing(ids(resumed.received))).toBe(true);
    await resumed.stop();
    await proxy.close();
  });

  it('a dropped connection resumes where it was: nothing lost, nothing twice', async () => {
    const proxy = await startProxy(server.url);
    try {
      const { client, lines } = await loggedIn(proxy.url, 'bob@acme.test');
      const stream = watch(client, { lastEventId: 0 });
      await restComment(server.url, ada, 'ticket4.acme', 'before the drop');
      await eventually(() => stream.received.some((c) => c.ticketId === 'ticket4.acme'));
      proxy.dropAll();
      for (const text of ['during 1', 'during 2'])
        await restComment(server.url, ada, 'ticket4.acme', text);
      await connected(lines, 2);
      await restComment(server.url, ada, 'ticket4.acme', 'after');
      const reference = watch((await loggedIn(server.url, 'carol@acme.test')).client, {
        lastEventId: 0,
      });
      await eventually(() => reference.received.length > 0 && ids(stream.received).length > 0);
      await eventually(
        () => stream.received.at(-1)?.eventId === reference.received.at(-1)?.eventId,
        20_000,
        'the dropped stream catching up',
      );
      expect(ids(stream.received)).toEqual(ids(reference.received));
      expect(lines.some((l) => l.message.includes('the connection failed; reconnecting'))).toBe(
        true,
      );
      await stream.stop();
      await reference.stop();
    } finally {
      await proxy.close();
    }
  });

  it(`one stream more than a session may hold waits out the server's Retry-After, then connects`, async () => {
    const { client, lines } = await loggedIn(server.url, 'carol@acme.test');
    const held = Array.from({ length: STREAMS_PER_SESSION }, () => watch(client));
    await connected(lines, STREAMS_PER_SESSION);
    const extra = watch(client, { lastEventId: 0 });
    const refusals = () =>
      lines.filter(
        (line) =>
          line.message === 'live changes: the stream failed; starting it again' &&
          line.details?.['kind'] === 'rate-limited',
      );
    await eventually(() => refusals().length > 0);
    // The wait it chose is the server's 5 s, not its own quarter-second backoff.
    expect(refusals()[0]!.details!['waitMs']).toBeGreaterThanOrEqual(5_000);
    expect(extra.received).toEqual([]);
    // A place comes free; the waiting stream then connects and delivers.
    await held[0]!.stop();
    await restComment(server.url, ada, 'ticket5.acme', 'after the wait');
    await eventually(() => extra.received.some((c) => c.ticketId === 'ticket5.acme'));
    expect(await extra.stop()).toEqual({});
    for (const stream of held.slice(1)) expect(await stream.stop()).toEqual({});
  });

  it('ends with `unauthenticated` when there is no session', async () => {
    const { client, lines } = clientOf(server.url);
    const error = await failure(
      (async () => {
        for await (const change of client.changes()) void change;
      })(),
    );
    expect(error).toMatchObject({ kind: 'unauthenticated', status: 401 });
    expect(lines.some((l) => l.level === 'error')).toBe(true);
  });

  it('ends at once, cleanly, when the signal is already aborted', async () => {
    const { client } = await loggedIn(server.url, 'bob@acme.test');
    const received: TicketChange[] = [];
    for await (const change of client.changes({ signal: AbortSignal.abort() }))
      received.push(change);
    expect(received).toEqual([]);
  });

  describe('a consumer slower than the feed', () => {
    const TICKETS = [
      'ticket1.acme',
      'ticket2.acme',
      'ticket3.acme',
      'ticket4.acme',
      'ticket5.acme',
    ];

    /** The id before a backlog of `count` comments, made through REST five tickets at a time. */
    async function backlog(count: number): Promise<number> {
      const { client } = await loggedIn(server.url, 'ada@acme.test');
      const marker = watch(client, { lastEventId: 0 });
      await restComment(server.url, ada, 'ticket4.acme', 'marker');
      await eventually(() => marker.received.some((c) => c.ticketId === 'ticket4.acme'));
      await marker.stop();
      const before = marker.received.at(-1)!.eventId;
      for (let made = 0; made < count; made += TICKETS.length) {
        await Promise.all(
          TICKETS.slice(0, count - made).map((id, i) =>
            restComment(server.url, ada, id, `backlog ${made + i}`),
          ),
        );
      }
      return before;
    }

    it('stops at an abort, with changes still queued', async () => {
      const from = await backlog(200);
      const { client } = await loggedIn(server.url, 'carol@acme.test');
      const controller = new AbortController();
      let taken = 0;
      let afterAbort = 0;
      for await (const change of client.changes({ lastEventId: from, signal: controller.signal })) {
        void change;
        if (controller.signal.aborted) afterAbort += 1;
        taken += 1;
        if (taken === 10) {
          // Let the rest of the replay arrive and queue up, then leave.
          await eventually(async () => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return true;
          });
          controller.abort();
        }
      }
      expect(taken).toBe(10);
      expect(afterAbort).toBe(0);
    });

    it(`holds at most ${QUEUED_CHANGES_LIMIT} changes, reading a longer replay in steps: all of it, in order, once`, async () => {
      const count = QUEUED_CHANGES_LIMIT + 300;
      const from = await backlog(count);
      const { client, lines } = await loggedIn(server.url, 'carol@acme.test');
      const controller = new AbortController();
      const received: TicketChange[] = [];
      for await (const change of client.changes({ lastEventId: from, signal: controller.signal })) {
        received.push(change);
        // A consumer that takes its time over each change.
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (received.length === count) controller.abort();
      }
      expect(received).toHaveLength(count);
      expect(received.every((c) => c.kind === 'comment')).toBe(true);
      expect(strictlyIncreasing(ids(received))).toBe(true);
      expect(
        lines.some(
          (l) =>
            l.message === 'live changes: the consumer fell behind; reading on from where it is',
        ),
      ).toBe(true);
    });
  });
});

describe('changes() across restarts of a server process on one SQLite file', () => {
  let dir: TempDir;
  let child: ChildServer | undefined;
  let proxy: Proxy;
  beforeAll(async () => {
    dir = tempDir('tickets-client-restart-');
    await provisionFile(dir.dbPath, fixture);
  });
  afterEach(async () => {
    await child?.stop();
    await proxy?.close();
    dir.remove();
  });

  it('resumes after a graceful restart and after a killed process', async () => {
    const env = serverEnv(dir.dir);
    child = await startChildServer(env);
    proxy = await startProxy(child.url);
    const { client, lines } = await loggedIn(proxy.url, 'bob@acme.test');
    let ada = await restLogin(child.url, 'ada@acme.test');
    const stream = watch(client, { lastEventId: 0 });
    await restComment(child.url, ada, 'ticket1.acme', 'first');
    await eventually(() => stream.received.length === 1);

    // SIGTERM: the server ends the stream and drains; the client starts it again.
    child.signal('SIGTERM');
    expect(await child.exited).toMatchObject({ code: 0 });
    child = await startChildServer(env);
    proxy.retarget(child.url);
    ada = await restLogin(child.url, 'ada@acme.test');
    await restComment(child.url, ada, 'ticket1.acme', 'second');
    await restComment(child.url, ada, 'ticket1.acme', 'third');
    await eventually(() => stream.received.length >= 3, 30_000, 'three changes after a restart');
    expect(lines.some((l) => l.message.includes('the server ended the stream'))).toBe(true);

    // SIGKILL: the connection is simply gone; the EventSource reconnects with its last id.
    await child.stop();
    child = await startChildServer(env);
    proxy.retarget(child.url);
    ada = await restLogin(child.url, 'ada@acme.test');
    await restComment(child.url, ada, 'ticket1.acme', 'fourth');
    await eventually(() => stream.received.length >= 4, 30_000, 'four changes after a kill');

    await restComment(child.url, ada, 'ticket1.acme', 'fifth');
    await eventually(() => stream.received.length >= 5);
    const history = await client.tickets.history('ticket1.acme');
    expect(history.filter((h) => h.action === 'comment')).toHaveLength(5);
    expect(stream.received).toHaveLength(5);
    expect(stream.received.map((c) => c.version)).toEqual([2, 3, 4, 5, 6]);
    expect(strictlyIncreasing(ids(stream.received))).toBe(true);
    expect(await stream.stop()).toEqual({});
  });
});
