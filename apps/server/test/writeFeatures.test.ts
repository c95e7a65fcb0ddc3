/**
 * "Beyond the original, on every state-changing operation" (CONTRACT §3, §7): Idempotency-Key,
 * If-Match and `?dryRun=true`, through real HTTP. After each refused or replayed request the
 * ticket and its history are read again: nothing may have changed.
 */
import { describe, expect, it } from 'vitest';
import { act, call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const RESOLVE = 'ticket.action.resolve';
const CLOSE = 'ticket.action.close';
const REOPEN = 'ticket.action.reopen';
const JSON_ACCEPT = { Accept: 'application/json' };

interface Snapshot {
  readonly ticket: { State: string; Version: number; Comments: number; Updated: string };
  readonly etag: string | null;
  readonly history: { Action: string; From: string; To: string; Comments: string[] }[];
}

/** The ticket (with its ETag) and its history, as a user of its tenant reads them. */
async function snapshot(url: string, reader: Session, ticketId: string): Promise<Snapshot> {
  const ticket = await call(url, reader, `/api/tickets/${ticketId}`, { headers: JSON_ACCEPT });
  expect(ticket.status).toBe(200);
  const history = await call(url, reader, `/api/tickets/${ticketId}/history`, {
    headers: JSON_ACCEPT,
  });
  expect(history.status).toBe(200);
  const { State, Version, Comments, Updated } = (await ticket.json()) as Snapshot['ticket'];
  return {
    ticket: { State, Version, Comments, Updated },
    etag: ticket.headers.get('ETag'),
    history: ((await history.json()) as { History: Snapshot['history'] }).History,
  };
}

const mediaTypeOf = (header: string | null): string => (header ?? '').split(';')[0]!.trim();

interface World {
  readonly server: TestServer;
  readonly url: string;
  readonly ada: Session; // Payments API admin
  readonly root: Session; // site admin
  readonly bob: Session; // author of ticket1-4
  readonly carol: Session; // plain user
}

/** A fresh server with the fixture, and its users logged in. */
async function world(): Promise<World & AsyncDisposable> {
  const server = await startTestServer();
  const [ada, root, bob, carol] = await Promise.all(
    ['ada', 'root', 'bob', 'carol'].map((name) => login(server.url, `${name}@acme.test`)),
  );
  return {
    server,
    url: server.url,
    ada: ada!,
    root: root!,
    bob: bob!,
    carol: carol!,
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/** POST /api/tickets/{id}/comments as JSON. */
function comment(
  url: string,
  session: Session,
  ticketId: string,
  content: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(url, session, `/api/tickets/${ticketId}/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...JSON_ACCEPT, ...headers },
    body: JSON.stringify({ Content: content }),
  });
}

/** POST /api/tickets as JSON. */
function createTicket(
  url: string,
  session: Session,
  ticket: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(url, session, '/api/tickets', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...JSON_ACCEPT, ...headers },
    body: JSON.stringify(ticket),
  });
}

async function totalTickets(url: string, session: Session): Promise<number> {
  const list = await call(url, session, '/api/tickets', { headers: JSON_ACCEPT });
  expect(list.status).toBe(200);
  return ((await list.json()) as { totalResults: number }).totalResults;
}

describe('Idempotency-Key', () => {
  describe('on the action endpoint', () => {
    it('answers a retry with the same key and body with the first response, and writes once', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'resolve-ticket1-once' };
      const before = await snapshot(w.url, w.bob, 'ticket1.acme');

      const first = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        comments: 'fixed',
        headers: key,
      });
      expect(first).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(first.headers.get('Idempotent-Replayed')).toBeNull();
      const afterFirst = await snapshot(w.url, w.bob, 'ticket1.acme');
      expect(afterFirst.ticket.Version).toBe(before.ticket.Version + 1);
      expect(afterFirst.history).toHaveLength(before.history.length + 1);

      for (let retry = 0; retry < 2; retry++) {
        const again = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
          comments: 'fixed',
          headers: key,
        });
        expect(again).toMatchObject({ status: 200, text: 'RESOLVED' });
        expect(mediaTypeOf(again.headers.get('Content-Type'))).toBe('text/plain');
        expect(again.headers.get('Idempotent-Replayed')).toBe('true');
        expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(afterFirst);
      }
    });

    it('scopes keys to the user: another user’s same key is not a replay', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'shared-key-1' };
      const first = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, { headers: key });
      expect(first).toMatchObject({ status: 200, text: 'RESOLVED' });

      // root sends the same key and body: it runs for root, and the ticket is RESOLVED by now.
      const samePair = await act(w.url, w.root, 'ticket1.acme', RESOLVE, { headers: key });
      expect(samePair.status).toBe(409);
      expect(samePair.text).toContain('RESOLVED');
      expect(samePair.headers.get('Idempotent-Replayed')).toBeNull();

      // bob sends the same key with another body: no 422, his key is his own.
      const otherBody = await act(w.url, w.bob, 'ticket1.acme', CLOSE, { headers: key });
      expect(otherBody).toMatchObject({ status: 200, text: 'CLOSED' });
      expect(otherBody.headers.get('Idempotent-Replayed')).toBeNull();

      const { history } = await snapshot(w.url, w.bob, 'ticket1.acme');
      expect(history.map((row) => row.Action).slice(-2)).toEqual([RESOLVE, CLOSE]);
    });

    it('replays a stored 409 as 409, even once the action would succeed', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'resolve-closed-ticket3' };
      const first = await act(w.url, w.ada, 'ticket3.acme', RESOLVE, { headers: key });
      expect(first.status).toBe(409);
      expect(first.text).toContain('CLOSED');

      // The author reopens: resolving is valid now.
      expect(await act(w.url, w.bob, 'ticket3.acme', REOPEN)).toMatchObject({
        status: 200,
        text: 'REOPEN',
      });
      const reopened = await snapshot(w.url, w.bob, 'ticket3.acme');

      const replay = await act(w.url, w.ada, 'ticket3.acme', RESOLVE, { headers: key });
      expect(replay).toMatchObject({ status: 409, text: first.text });
      expect(mediaTypeOf(replay.headers.get('Content-Type'))).toBe('text/plain');
      expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
      expect(await snapshot(w.url, w.bob, 'ticket3.acme')).toEqual(reopened);
    });

    it('refuses an Idempotency-Key sent empty (400), and nothing changes', async () => {
      await using w = await world();
      const before = await snapshot(w.url, w.bob, 'ticket1.acme');
      const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        headers: { 'Idempotency-Key': '' },
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('Idempotency-Key must be 1 to 255');
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
    });

    it('refuses the same key with a different request (422), and nothing changes', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'one-request-only' };
      expect(
        await act(w.url, w.ada, 'ticket1.acme', RESOLVE, { comments: 'a', headers: key }),
      ).toMatchObject({ status: 200, text: 'RESOLVED' });
      const ticket1 = await snapshot(w.url, w.bob, 'ticket1.acme');
      const ticket4 = await snapshot(w.url, w.bob, 'ticket4.acme');

      const variants = [
        () => act(w.url, w.ada, 'ticket1.acme', RESOLVE, { comments: 'b', headers: key }),
        () => act(w.url, w.ada, 'ticket1.acme', RESOLVE, { headers: key }),
        () => act(w.url, w.ada, 'ticket1.acme', CLOSE, { comments: 'a', headers: key }),
        () => act(w.url, w.ada, 'ticket4.acme', RESOLVE, { comments: 'a', headers: key }),
      ];
      for (const send of variants) {
        const refused = await send();
        expect(refused.status).toBe(422);
        expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('text/plain');
        expect(refused.text).toContain('Idempotency-Key');
        expect(refused.headers.get('Idempotent-Replayed')).toBeNull();
      }
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(ticket1);
      expect(await snapshot(w.url, w.bob, 'ticket4.acme')).toEqual(ticket4);

      // The original request still replays.
      const replay = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        comments: 'a',
        headers: key,
      });
      expect(replay).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    });

    it('refuses the same key with a different If-Match (422): the precondition is part of the request', async () => {
      await using w = await world();
      const key = 'resolve-at-version-1';
      const first = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        headers: { 'Idempotency-Key': key, 'If-Match': '"1"' },
      });
      expect(first).toMatchObject({ status: 200, text: 'RESOLVED' });
      const resolved = await snapshot(w.url, w.bob, 'ticket1.acme');

      for (const ifMatch of [{ 'If-Match': '"2"' }, { 'If-Match': '*' }, {}]) {
        const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
          headers: { 'Idempotency-Key': key, ...ifMatch },
        });
        expect({ ifMatch, status: refused.status }).toEqual({ ifMatch, status: 422 });
        expect(refused.text).toContain('Idempotency-Key');
        expect(refused.headers.get('Idempotent-Replayed')).toBeNull();
      }
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(resolved);

      const replay = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        headers: { 'Idempotency-Key': key, 'If-Match': '"1"' },
      });
      expect(replay).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    });

    it('never stores a dry run under the key', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'tried-first' };
      const before = await snapshot(w.url, w.bob, 'ticket1.acme');
      const dry = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        comments: 'fixed',
        headers: key,
        query: '?dryRun=true',
      });
      expect(dry).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(dry.headers.get('Idempotent-Replayed')).toBeNull();
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);

      // The same key and body for real: it runs (no replay of the dry run) ...
      const real = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        comments: 'fixed',
        headers: key,
      });
      expect(real).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(real.headers.get('Idempotent-Replayed')).toBeNull();
      const after = await snapshot(w.url, w.bob, 'ticket1.acme');
      expect(after.ticket).toMatchObject({ State: 'RESOLVED', Version: before.ticket.Version + 1 });
      expect(after.history).toHaveLength(before.history.length + 1);

      // ... and from then on it is the real answer that replays.
      const retry = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        comments: 'fixed',
        headers: key,
      });
      expect(retry).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(after);
    });
  });

  describe('on POST /api/tickets', () => {
    const draft = {
      Title: 'Refund webhook retries forever',
      Description: 'Seen in production since Monday.',
      Environment: 'Production',
      APIID: 'payments.acme',
    };

    it('creates one ticket for any number of retries, and answers each with it', async () => {
      await using w = await world();
      const total = await totalTickets(w.url, w.carol);
      const key = { 'Idempotency-Key': 'create-refund-ticket' };

      const first = await createTicket(w.url, w.carol, draft, key);
      expect(first.status).toBe(201);
      expect(first.headers.get('Idempotent-Replayed')).toBeNull();
      const created = (await first.json()) as { TicketID: string; Version: number };
      const location = first.headers.get('Location');
      expect(location).toBe(`/api/tickets/${created.TicketID}`);

      for (let retry = 0; retry < 2; retry++) {
        const again = await createTicket(w.url, w.carol, draft, key);
        expect(again.status).toBe(201);
        expect(again.headers.get('Idempotent-Replayed')).toBe('true');
        expect(again.headers.get('Location')).toBe(location);
        expect(mediaTypeOf(again.headers.get('Content-Type'))).toBe('application/json');
        expect(await again.json()).toEqual(created);
      }
      expect(await totalTickets(w.url, w.carol)).toBe(total + 1);

      // Another user's same key creates their own ticket.
      const bobs = await createTicket(w.url, w.bob, draft, key);
      expect(bobs.status).toBe(201);
      expect(bobs.headers.get('Idempotent-Replayed')).toBeNull();
      expect(((await bobs.json()) as { TicketID: string }).TicketID).not.toBe(created.TicketID);
      expect(await totalTickets(w.url, w.carol)).toBe(total + 2);
    });

    it('refuses the same key with another ticket (422 problem+json), and creates nothing', async () => {
      await using w = await world();
      const key = { 'Idempotency-Key': 'create-once' };
      expect((await createTicket(w.url, w.carol, draft, key)).status).toBe(201);
      const total = await totalTickets(w.url, w.carol);

      const refused = await createTicket(w.url, w.carol, { ...draft, Title: 'Another' }, key);
      expect(refused.status).toBe(422);
      expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('application/problem+json');
      expect(await refused.json()).toMatchObject({
        type: 'urn:tickets:problem:idempotency-key-reused',
        status: 422,
      });
      expect(await totalTickets(w.url, w.carol)).toBe(total);
    });
  });

  describe('on POST /api/tickets/{TicketID}/comments', () => {
    it('adds one comment for any number of retries, and answers each with it', async () => {
      await using w = await world();
      const before = await snapshot(w.url, w.bob, 'ticket1.acme');
      const key = { 'Idempotency-Key': 'comment-logs' };

      const first = await comment(w.url, w.carol, 'ticket1.acme', 'Logs attached.', key);
      expect(first.status).toBe(201);
      expect(first.headers.get('Idempotent-Replayed')).toBeNull();
      const added = (await first.json()) as { CommentID: string };
      const after = await snapshot(w.url, w.bob, 'ticket1.acme');
      expect(after.ticket).toMatchObject({
        Version: before.ticket.Version + 1,
        Comments: before.ticket.Comments + 1,
      });
      expect(after.history).toHaveLength(before.history.length + 1);
      expect(after.history.at(-1)).toMatchObject({
        Action: 'comment',
        Comments: ['Logs attached.'],
      });

      const again = await comment(w.url, w.carol, 'ticket1.acme', 'Logs attached.', key);
      expect(again.status).toBe(201);
      expect(again.headers.get('Idempotent-Replayed')).toBe('true');
      expect(await again.json()).toEqual(added);
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(after);

      const other = await comment(w.url, w.carol, 'ticket1.acme', 'Other words.', key);
      expect(other.status).toBe(422);
      expect(await other.json()).toMatchObject({
        type: 'urn:tickets:problem:idempotency-key-reused',
      });
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(after);
    });
  });
});

describe('If-Match', () => {
  it('lets an action through when it names the current version', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    expect(before.etag).toBe(`"${before.ticket.Version}"`);

    const resolved = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      headers: { 'If-Match': before.etag! },
    });
    expect(resolved).toMatchObject({ status: 200, text: 'RESOLVED' });
    expect(resolved.headers.get('ETag')).toBe(`"${before.ticket.Version + 1}"`);
    const after = await snapshot(w.url, w.bob, 'ticket1.acme');
    expect(after.ticket).toMatchObject({ State: 'RESOLVED', Version: before.ticket.Version + 1 });
    expect(after.etag).toBe(resolved.headers.get('ETag'));
  });

  it('refuses an action on a ticket that changed since it was read (412), and nothing changes', async () => {
    await using w = await world();
    const read = await snapshot(w.url, w.ada, 'ticket1.acme');
    // Someone else comments in between: the version moves.
    expect((await comment(w.url, w.carol, 'ticket1.acme', 'Me too.')).status).toBe(201);
    const current = await snapshot(w.url, w.bob, 'ticket1.acme');
    expect(current.ticket.Version).toBe(read.ticket.Version + 1);

    const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      comments: 'fixed',
      headers: { 'If-Match': read.etag! },
    });
    expect(refused.status).toBe(412);
    expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('text/plain');
    expect(refused.text).toContain(String(current.ticket.Version));
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(current);
  });

  it.each([
    '"abc"',
    '1, 2',
    '"1" "2"',
    '"-1"',
    'W/"x"',
    '"2',
    '2"',
    'W/"2',
    '""',
    `"${Number.MAX_SAFE_INTEGER + 1}"`,
    '"12345678901234567"',
  ])('refuses a malformed If-Match %s on an action (400), and nothing changes', async (value) => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      headers: { 'If-Match': value },
    });
    expect(refused.status).toBe(400);
    expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('text/plain');
    expect(refused.text).toContain('If-Match');
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });

  it('takes versions as large as the typed ifMatch does (2^53 - 1): a 412, not a 400', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      headers: { 'If-Match': `"${Number.MAX_SAFE_INTEGER}"` },
    });
    expect(refused.status).toBe(412);
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });

  it('a weak tag never matches (If-Match compares strongly): 412 on an action, nothing changes', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const weak = `W/"${before.ticket.Version}"`;
    for (const dryRun of [false, true]) {
      const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        headers: { 'If-Match': weak },
        ...(dryRun ? { query: '?dryRun=true' } : {}),
      });
      expect(refused.status).toBe(412);
      expect(refused.text).toContain('weak');
      expect(refused.text).toContain(`"${before.ticket.Version}"`);
    }
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
    // The strong tag, and the bare number accepted before, still match.
    const bare = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      headers: { 'If-Match': String(before.ticket.Version) },
    });
    expect(bare).toMatchObject({ status: 200, text: 'RESOLVED' });
  });

  it('a weak tag on a comment is a 412 naming the strong tag to send; the strong one is taken', async () => {
    await using w = await world();
    const read = await snapshot(w.url, w.carol, 'ticket1.acme');
    const weak = await comment(w.url, w.carol, 'ticket1.acme', 'Weak.', {
      'If-Match': `W/${read.etag!}`,
    });
    expect(weak.status).toBe(412);
    expect(await weak.json()).toMatchObject({
      type: 'urn:tickets:problem:version-mismatch',
      expected: read.ticket.Version,
      actual: read.ticket.Version,
    });
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(read);
    const strong = await comment(w.url, w.carol, 'ticket1.acme', 'Strong.', {
      'If-Match': read.etag!,
    });
    expect(strong.status).toBe(201);
  });

  it('guards comments too: current version 201, stale 412, malformed 400', async () => {
    await using w = await world();
    const read = await snapshot(w.url, w.carol, 'ticket1.acme');

    const ok = await comment(w.url, w.carol, 'ticket1.acme', 'First.', { 'If-Match': read.etag! });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('ETag')).toBe(`"${read.ticket.Version + 1}"`);
    const after = await snapshot(w.url, w.bob, 'ticket1.acme');

    const stale = await comment(w.url, w.carol, 'ticket1.acme', 'Second.', {
      'If-Match': read.etag!,
    });
    expect(stale.status).toBe(412);
    expect(mediaTypeOf(stale.headers.get('Content-Type'))).toBe('application/problem+json');
    expect(await stale.json()).toMatchObject({
      type: 'urn:tickets:problem:version-mismatch',
      status: 412,
    });
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(after);

    const malformed = await comment(w.url, w.carol, 'ticket1.acme', 'Third.', {
      'If-Match': 'version five',
    });
    expect(malformed.status).toBe(400);
    expect(mediaTypeOf(malformed.headers.get('Content-Type'))).toBe('application/problem+json');
    expect(await malformed.json()).toMatchObject({ field: 'If-Match' });
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(after);
  });

  it('GET gives ETag "<Version>"; If-None-Match with it gives 304, a stale one 200', async () => {
    await using w = await world();
    const first = await call(w.url, w.carol, '/api/tickets/ticket1.acme', { headers: JSON_ACCEPT });
    const { Version } = (await first.json()) as { Version: number };
    const etag = first.headers.get('ETag');
    expect(etag).toBe(`"${Version}"`);

    const unchanged = await call(w.url, w.carol, '/api/tickets/ticket1.acme', {
      headers: { ...JSON_ACCEPT, 'If-None-Match': etag! },
    });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    expect(unchanged.headers.get('ETag')).toBe(etag);
    // fetch() sends `Cache-Control: no-cache` with any conditional request; still a 304. A list
    // naming the current ETag, or its weak form, matches too.
    for (const header of [`"0", ${etag!}`, `W/${etag!}`]) {
      const listed = await call(w.url, w.carol, '/api/tickets/ticket1.acme', {
        headers: { ...JSON_ACCEPT, 'If-None-Match': header, 'Cache-Control': 'no-cache' },
      });
      expect(listed.status).toBe(304);
    }

    expect((await act(w.url, w.ada, 'ticket1.acme', RESOLVE)).status).toBe(200);
    const changed = await call(w.url, w.carol, '/api/tickets/ticket1.acme', {
      headers: { ...JSON_ACCEPT, 'If-None-Match': etag! },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('ETag')).toBe(`"${Version + 1}"`);
    expect(await changed.json()).toMatchObject({ State: 'RESOLVED', Version: Version + 1 });
  });
});

describe('?dryRun=true on the action endpoint', () => {
  it('answers the would-be state as text/plain and writes nothing', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    for (const [action, to] of [
      [RESOLVE, 'RESOLVED'],
      [CLOSE, 'CLOSED'],
    ] as const) {
      const dry = await act(w.url, w.ada, 'ticket1.acme', action, {
        comments: 'would fix',
        query: '?dryRun=true',
      });
      expect(dry).toMatchObject({ status: 200, text: to });
      expect(mediaTypeOf(dry.headers.get('Content-Type'))).toBe('text/plain');
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
    }
    // ?dryRun=false is a real call.
    const real = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, { query: '?dryRun=false' });
    expect(real).toMatchObject({ status: 200, text: 'RESOLVED' });
    expect((await snapshot(w.url, w.bob, 'ticket1.acme')).ticket.State).toBe('RESOLVED');
  });

  it('still authorizes: 403 for a plain user, and nothing changes', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const dry = await act(w.url, w.carol, 'ticket1.acme', RESOLVE, { query: '?dryRun=true' });
    expect(dry.status).toBe(403);
    expect(mediaTypeOf(dry.headers.get('Content-Type'))).toBe('text/plain');
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });

  it('still validates the transition: 409 naming the state, and nothing changes', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket3.acme');
    const dry = await act(w.url, w.ada, 'ticket3.acme', RESOLVE, { query: '?dryRun=true' });
    expect(dry.status).toBe(409);
    expect(dry.text).toContain('CLOSED');
    expect(dry.text).toContain(REOPEN);
    expect(await snapshot(w.url, w.bob, 'ticket3.acme')).toEqual(before);
  });

  it('still checks If-Match: 412 for a stale version', async () => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const dry = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
      query: '?dryRun=true',
      headers: { 'If-Match': `"${before.ticket.Version + 7}"` },
    });
    expect(dry.status).toBe(412);
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });

  it.each(['maybe', 'TRUE', '1', 'yes'])(
    'refuses dryRun=%s (400), and nothing changes',
    async (value) => {
      await using w = await world();
      const before = await snapshot(w.url, w.bob, 'ticket1.acme');
      const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, {
        query: `?dryRun=${value}`,
      });
      expect(refused.status).toBe(400);
      expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('text/plain');
      expect(refused.text).toContain('dryRun');
      expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
    },
  );
});

describe('a dryRun parameter that cannot be read is a 400, never a real write', () => {
  it.each([
    '?dryRun[]=true',
    '?dryRun[0]=true',
    '?dryRun=true&dryRun=true',
    '?dryRun=false&dryRun=true',
    '?dryrun=true',
    '?DRYRUN=true',
    '?dryRun=true&dryRun[]=true',
  ])('%s on the action endpoint: 400 naming dryRun, and nothing changes', async (query) => {
    await using w = await world();
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    const refused = await act(w.url, w.ada, 'ticket1.acme', RESOLVE, { query });
    expect(refused.status).toBe(400);
    expect(mediaTypeOf(refused.headers.get('Content-Type'))).toBe('text/plain');
    expect(refused.text).toContain('dryRun');
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });

  it('creating a ticket and commenting have no dry run: a dryRun parameter is a 400, nothing written', async () => {
    await using w = await world();
    const total = await totalTickets(w.url, w.ada);
    const before = await snapshot(w.url, w.bob, 'ticket1.acme');
    for (const query of ['?dryRun=true', '?dryRun[]=true', '?dryRun=false']) {
      const created = await call(w.url, w.ada, `/api/tickets${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...JSON_ACCEPT },
        body: JSON.stringify({ Title: 'Tried', Environment: 'Sandbox', APIID: 'payments.acme' }),
      });
      expect(created.status).toBe(400);
      expect(await created.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'dryRun' });
      const commented = await call(w.url, w.ada, `/api/tickets/ticket1.acme/comments${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...JSON_ACCEPT },
        body: JSON.stringify({ Content: 'tried' }),
      });
      expect(commented.status).toBe(400);
      expect(await commented.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'dryRun' });
    }
    expect(await totalTickets(w.url, w.ada)).toBe(total);
    expect(await snapshot(w.url, w.bob, 'ticket1.acme')).toEqual(before);
  });
});

describe('POST /api/tickets/{TicketID}/comments: what the answer tells', () => {
  it('checks the content (400) before the ticket (404)', async () => {
    await using server = await startTestServer();
    const ada = await login(server.url, 'ada@acme.test');
    const post = (id: string, body: unknown) =>
      call(server.url, ada, `/api/tickets/${id}/comments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('ticket99.acme', { Content: '' })).status).toBe(400);
    expect((await post('ticket99.acme', { Content: 42 })).status).toBe(400);
    expect((await post('ticket99.acme', { Content: 'fine' })).status).toBe(404);
  });

  it("names a comment after its ticket and version, so ids say nothing of other tenants' activity", async () => {
    await using server = await startTestServer();
    const ada = await login(server.url, 'ada@acme.test');
    const gina = await login(server.url, 'gina@globex.test');
    const comment = async (session: typeof ada, id: string) =>
      (
        (await (
          await call(server.url, session, `/api/tickets/${id}/comments`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ Content: 'noted' }),
          })
        ).json()) as { CommentID: string }
      ).CommentID;
    expect(await comment(gina, 'ticket1.globex')).toBe('ticket1-comment2.globex');
    for (let i = 0; i < 3; i += 1) await comment(ada, 'ticket1.acme');
    expect(await comment(gina, 'ticket1.globex')).toBe('ticket1-comment3.globex');
  });
});
