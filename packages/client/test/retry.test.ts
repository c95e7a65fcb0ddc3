// An action whose answer is lost (the connection is cut after the server applied it) is sent
// again with the same Idempotency-Key: applied once, answered as a replay.
import { describe, expect, it } from 'vitest';
import { clientOf, failure, loggedIn, serverBehindProxy } from './support.js';

describe('an action retried after a cut connection', () => {
  const served = serverBehindProxy();

  const actionRequests = (path: string) =>
    served.server.logs.filter((line) => line['msg'] === 'request' && line['path'] === path);

  it('is applied once and answered as a replay', async () => {
    const { client, lines } = await loggedIn(served.proxy.url, 'ada@acme.test');
    const before = await client.tickets.get('ticket1.acme');
    const cut = served.proxy.cutAnswerTo(/^POST \/api\/tickets\/ticket1\.acme\/actions /);

    const result = await client.tickets.act('ticket1.acme', {
      action: 'ticket.action.resolve',
      comments: 'Fixed in 2.4.1',
    });
    await cut;

    expect(result).toEqual({ state: 'RESOLVED', version: before.version + 1, replayed: true });
    // Both requests reached the server, with one key; the first was applied, the second replayed.
    const requests = actionRequests('/api/tickets/ticket1.acme/actions');
    expect(requests.map((line) => line['status'])).toEqual([200, 200]);
    const retried = lines.filter((line) => line.message.startsWith('the action got no answer'));
    expect(retried).toHaveLength(1);
    expect(retried[0]!.details).toMatchObject({ attempt: 1, ticketId: 'ticket1.acme' });
    expect(retried[0]!.details!['idempotencyKey']).toMatch(/^[0-9a-f-]{36}$/);

    const history = await client.tickets.history('ticket1.acme');
    expect(history.filter((entry) => entry.action === 'ticket.action.resolve')).toEqual([
      expect.objectContaining({ from: 'OPEN', to: 'RESOLVED', comments: ['Fixed in 2.4.1'] }),
    ]);
    expect(await client.tickets.get('ticket1.acme')).toMatchObject({
      state: 'RESOLVED',
      version: before.version + 1,
    });
  });

  it('keeps the caller’s own key across the retry', async () => {
    const { client } = await loggedIn(served.proxy.url, 'ada@acme.test');
    const cut = served.proxy.cutAnswerTo(/^POST \/api\/tickets\/ticket4\.acme\/actions /);
    const result = await client.tickets.act('ticket4.acme', {
      action: 'ticket.action.close',
      idempotencyKey: 'close-ticket4-once',
    });
    await cut;
    expect(result).toMatchObject({ state: 'CLOSED', replayed: true });
    // The key is the caller's: asking again answers the same, still a replay.
    expect(
      await client.tickets.act('ticket4.acme', {
        action: 'ticket.action.close',
        idempotencyKey: 'close-ticket4-once',
      }),
    ).toEqual(result);
    const closes = (await client.tickets.history('ticket4.acme')).filter(
      (entry) => entry.action === 'ticket.action.close',
    );
    expect(closes).toHaveLength(1);
  });
});

describe('a server that stalls: the client’s timeout', () => {
  const served = serverBehindProxy();

  // Long enough for any answer of a slow machine (a login's password check included); the held
  // ones are waited out once each.
  const timeoutMs = 5_000;

  it('an action whose answer is overdue is sent again with its key: applied once, a replay', async () => {
    const { client, lines } = await loggedIn(served.proxy.url, 'ada@acme.test', { timeoutMs });
    const before = await client.tickets.get('ticket1.acme');
    const held = served.proxy.holdAnswerTo(/^POST \/api\/tickets\/ticket1\.acme\/actions /);

    const result = await client.tickets.act('ticket1.acme', { action: 'ticket.action.resolve' });
    await held;

    expect(result).toEqual({ state: 'RESOLVED', version: before.version + 1, replayed: true });
    // Sent again after the timeout (and again, should a slow machine make a retry late too).
    const retried = lines.filter((line) => line.message.startsWith('the action got no answer'));
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(String(retried[0]!.details!['error'])).toBe(`no whole answer within ${timeoutMs} ms`);
    const resolves = (await client.tickets.history('ticket1.acme')).filter(
      (entry) => entry.action === 'ticket.action.resolve',
    );
    expect(resolves).toHaveLength(1);
  });

  it.each([
    ['no answer at all', false],
    ['headers but never the whole body', true],
  ])('a call that gets %s fails as network, and the next call is answered', async (_, bodyOnly) => {
    const { client } = await loggedIn(served.proxy.url, 'ada@acme.test', { timeoutMs });
    const held = served.proxy.holdAnswerTo(/^GET \/trpc\/tickets\.get/, { bodyOnly });
    const error = await failure(client.tickets.get('ticket3.acme'));
    await held;
    expect(error).toMatchObject({ kind: 'network', status: undefined });
    expect(error.message).toBe(
      `tRPC call: no answer from the server (no whole answer within ${timeoutMs} ms)`,
    );
    expect(await client.tickets.get('ticket3.acme')).toMatchObject({ id: 'ticket3.acme' });
  });

  it('times out a call under a fetch that never heeds its signal', async () => {
    const { client } = clientOf(served.proxy.url, {
      timeoutMs: 100,
      fetch: () => new Promise<Response>(() => {}),
    });
    expect(await failure(client.tickets.list())).toMatchObject({
      kind: 'network',
      message: 'tRPC call: no answer from the server (no whole answer within 100 ms)',
    });
  });

  it('refuses a timeout that is no positive whole number of milliseconds', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => clientOf(served.proxy.url, { timeoutMs: bad })).toThrow(/timeoutMs must be/);
    }
  });
});
