// The session renews itself before it ends: a server with one-minute sessions and a clock the test
// moves (the client reads the same clock), so that expiry is real and nothing waits for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../../../apps/server/src/provision.js';
import {
  connected,
  eventually,
  failure,
  loggedIn,
  startTestServer,
  watch,
  type TestServer,
} from './support.js';

const SECOND = 1000;

describe('renewal across an expiry (one-minute sessions)', () => {
  let server: TestServer;
  let clock = Date.parse('2031-05-01T08:00:00.000Z');
  const now = (): Date => new Date(clock);
  const advance = (ms: number): void => {
    clock += ms;
  };
  beforeAll(async () => {
    // Streams recheck their session every 200 ms of real time (15 s by default).
    server = await startTestServer({ sessionMinutes: 1, now, sessionRecheckMs: 200 });
  });
  afterAll(async () => {
    await server.close();
  });

  /** How many renewals reached the server so far. */
  const renewals = (): number =>
    server.logs.filter(
      (line) => line['msg'] === 'request' && line['path'] === '/trpc/session.renew',
    ).length;

  it('renews before the end, once for concurrent calls, and works past the first expiry', async () => {
    const { client, lines } = await loggedIn(server.url, 'ada@acme.test', { now });
    const other = (await loggedIn(server.url, 'carol@acme.test', { now })).client;
    const loginAt = clock;
    expect(client.session?.validUntil).toEqual(new Date(loginAt + 60 * SECOND));

    // Two thirds in: no renewal yet (more than a third remains).
    advance(35 * SECOND);
    const before = renewals();
    await client.tickets.get('ticket1.acme');
    expect(renewals()).toBe(before);

    // Less than a third left: the next calls renew first, all of them sharing one renewal.
    advance(10 * SECOND);
    const results = await Promise.all([
      client.tickets.list({ state: 'OPEN' }),
      client.tickets.get('ticket1.acme'),
      client.tickets.history('ticket1.acme'),
      client.tickets.validActions('ticket1.acme'),
      client.tickets.act('ticket5.acme', { action: 'ticket.action.resolve', dryRun: true }),
    ]);
    expect(results).toHaveLength(5);
    expect(renewals()).toBe(before + 1);
    expect(client.session?.validUntil).toEqual(new Date(loginAt + 105 * SECOND));
    expect(lines.some((line) => line.message === 'renewed the session')).toBe(true);

    // Past the first expiry: the client works on; the client that made no call is logged out.
    advance(30 * SECOND);
    expect(clock).toBeGreaterThan(loginAt + 60 * SECOND);
    expect((await client.tickets.get('ticket1.acme')).id).toBe('ticket1.acme');
    await client.tickets.comment('ticket1.acme', { content: 'still here' });
    expect(renewals()).toBe(before + 1);
    expect(await failure(other.tickets.get('ticket1.acme'))).toMatchObject({
      kind: 'unauthenticated',
    });
    expect(other.session).toBeUndefined();

    // And again: it keeps renewing as long as it is used.
    advance(20 * SECOND);
    await client.tickets.list();
    expect(renewals()).toBe(before + 2);
    expect(client.session?.validUntil).toEqual(new Date(loginAt + 155 * SECOND));
  });

  it('does not renew a session that has already ended: the call fails unauthenticated', async () => {
    const { client } = await loggedIn(server.url, 'bob@acme.test', { now });
    advance(61 * SECOND);
    const before = renewals();
    expect(await failure(client.tickets.list())).toMatchObject({
      kind: 'unauthenticated',
      status: 401,
    });
    expect(renewals()).toBe(before);
    expect(client.session).toBeUndefined();
  });

  it('a renewal that is refused leaves the call to fail unauthenticated', async () => {
    const { client, lines } = await loggedIn(server.url, 'root@acme.test', { now });
    // A new password ends the user's sessions on the server, behind the client's back.
    await provision(server.store, {
      users: [
        {
          id: 'root.acme',
          email: 'root@acme.test',
          password: 'a-new-password-2',
          name: 'Root',
          siteAdmin: true,
        },
      ],
    });
    advance(45 * SECOND);
    const before = renewals();
    expect(await failure(client.tickets.list())).toMatchObject({ kind: 'unauthenticated' });
    expect(renewals()).toBe(before + 1);
    expect(lines.some((line) => line.message === 'could not renew the session')).toBe(true);
    expect(client.session).toBeUndefined();
  });

  it('keeps the session of a live stream alive while no call is made', async () => {
    const { client, lines } = await loggedIn(server.url, 'shay@acme.test', { now });
    const validUntil = client.session!.validUntil.getTime();
    // Just before the renewal point, so that the keeper's timer is due a few seconds from now.
    advance(39 * SECOND);
    const before = renewals();
    const stream = watch(client, { lastEventId: 0 });
    await connected(lines);
    expect(renewals()).toBe(before);
    advance(3 * SECOND);
    await eventually(() => renewals() > before, 30_000, 'a renewal while streaming');
    await eventually(() => (client.session?.validUntil.getTime() ?? 0) > validUntil);
    expect(await stream.stop()).toEqual({});
  });

  it('a stream opened before a renewal goes on past the old cookie’s expiry', async () => {
    const { client, lines } = await loggedIn(server.url, 'carol@acme.test', { now });
    const ada = (await loggedIn(server.url, 'ada@acme.test', { now })).client;
    const stream = watch(client, { lastEventId: 0 });
    await ada.tickets.comment('ticket6.acme', { content: 'before the renewal' });
    await eventually(() => stream.received.length > 0);
    const seen = stream.received.length;
    // The client renews; the stream's connection still carries the cookie it was opened with.
    advance(45 * SECOND);
    await client.tickets.get('ticket6.acme');
    await ada.tickets.get('ticket6.acme');
    advance(20 * SECOND); // past the expiry written in the stream's cookie
    // The server follows the session itself, which the renewal extended: several rechecks pass
    // and the stream carries on, on its first connection.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const comments = 3;
    for (let n = 1; n <= comments; n += 1) {
      await ada.tickets.comment('ticket6.acme', { content: `after the old expiry ${n}` });
    }
    await eventually(() => stream.received.length === seen + comments, 20_000, 'every comment');
    const versions = stream.received
      .filter((change) => change.ticketId === 'ticket6.acme')
      .map((change) => change.version);
    expect(versions).toEqual(versions.map((_, i) => versions[0]! + i));
    expect(lines.filter((line) => line.message === 'live changes: connected')).toHaveLength(1);
    expect(await stream.stop()).toEqual({});
  }, 60_000);

  it('a stream ends when its session does, and the client says so', async () => {
    const { client, lines } = await loggedIn(server.url, 'carol@acme.test', { now });
    const stream = watch(client, { lastEventId: 0 });
    await connected(lines);
    await client.logout();
    const { error } = await stream.done;
    expect(error).toMatchObject({ kind: 'unauthenticated' });
  }, 30_000);
});
