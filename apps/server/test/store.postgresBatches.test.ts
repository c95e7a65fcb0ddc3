// The PostgreSQL store batches what concurrent requests ask in one turn of the event loop
// (src/store/postgres/batched.ts): callers, tickets, and changes, with or without idempotency
// records.
// What each request gets must be exactly what it would get alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticket } from '@tickets/domain';
import { CHANGES_PER_TRANSACTION } from '../src/store/postgres/changeFeed.js';
import { PostgresStore } from '../src/store/postgres/postgresStore.js';
import {
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type TicketChange,
} from '../src/store/store.js';
import { commentOn, NOW, PLAN, ticket } from './support/storeFixtures.js';
import { createSchema, dropSchema, TEST_DATABASE_URL, withClient } from './support/postgres.js';

describe('PostgresStore: batched calls', () => {
  let schema: string;
  let store: PostgresStore;

  beforeEach(async () => {
    schema = await createSchema();
    store = await PostgresStore.open(TEST_DATABASE_URL, { schema });
    await store.applyProvision(PLAN);
  });

  afterEach(async () => {
    await store.close();
    await dropSchema(schema);
  });

  const insertTickets = async (count: number): Promise<Ticket[]> => {
    const tickets = Array.from({ length: count }, (_, i) => ticket(i + 1));
    for (const t of tickets) await store.insertTicket(t, []);
    return tickets;
  };

  const historyCounts = async (): Promise<Map<string, number>> =>
    withClient(async (client) => {
      const { rows } = await client.query<{ ticket_id: string; n: string }>(
        `SELECT ticket_id, count(*) AS n FROM ${schema}.history GROUP BY ticket_id`,
      );
      return new Map(rows.map((row) => [row.ticket_id, Number(row.n)]));
    });

  it('changes of distinct tickets asked together are written in one transaction, each with its own history row and change id', async () => {
    const tickets = await insertTickets(20);
    const before = await store.latestEventId();
    const results = await Promise.all(
      tickets.map((t) => store.commitChange(commentOn(t, `on ${t.id}`))),
    );
    expect(results.every((r) => r !== 'conflict')).toBe(true);
    const committed = results as { historyId: number; eventId: number }[];
    // One transaction: every change id is that transaction's id times 1024 plus a place.
    const transactions = new Set(
      committed.map((r) => Math.floor(r.eventId / CHANGES_PER_TRANSACTION)),
    );
    expect(transactions.size).toBe(1);
    expect(new Set(committed.map((r) => r.eventId)).size).toBe(20);
    expect(new Set(committed.map((r) => r.historyId)).size).toBe(20);
    const counts = await historyCounts();
    for (const t of tickets) expect(counts.get(t.id)).toBe(1);
    // The feed lists each change once, with the id its writer was told (a change is listed once
    // every transaction older than it has ended, anywhere on the server: hence the wait).
    const comments = async () =>
      (await store.listChanges('acme', before, 100)).filter((c) => c.kind === 'comment');
    await expect.poll(async () => (await comments()).length, { timeout: 30_000 }).toBe(20);
    const changes = await comments();
    expect(changes.map((c) => c.eventId).sort((a, b) => a - b)).toEqual(
      committed.map((r) => r.eventId).sort((a, b) => a - b),
    );
    for (const c of changes) {
      const i = tickets.findIndex((t) => t.id === c.ticketId);
      expect(c.eventId).toBe(committed[i]!.eventId);
      expect(c).toMatchObject({ kind: 'comment', version: 2, userId: 'ada.acme' });
    }
    for (const t of tickets) {
      expect(await store.getTicket(t.id)).toMatchObject({ version: 2, commentCount: 1 });
    }
  });

  it('of changes of one ticket asked together, each is checked against what the one before it left', async () => {
    const [read] = await insertTickets(1);
    const first = commentOn(read!, 'first');
    // Made from the version the first leaves: it wins after the first, in a later statement.
    const second = commentOn(first.ticket, 'second');
    // Made from the same read as the first: it loses, whichever way the batch is cut.
    const stale = commentOn(read!, 'stale');
    const [a, b, c] = await Promise.all([first, second, stale].map((x) => store.commitChange(x)));
    expect(a).not.toBe('conflict');
    expect(b).not.toBe('conflict');
    expect(c).toBe('conflict');
    expect(await store.getTicket(read!.id)).toMatchObject({ version: 3, commentCount: 2 });
    expect((await store.listHistory(read!.id)).map((h) => h.comments)).toEqual([
      ['first'],
      ['second'],
    ]);
  });

  it('a change that fails for a reason of its own fails alone; the others asked with it are written', async () => {
    const tickets = await insertTickets(4);
    const bad: TicketChange = {
      ...commentOn(tickets[0]!, 'by nobody'),
      // No such user: the history row's foreign key refuses it.
      history: { ...commentOn(tickets[0]!, 'x').history, userId: 'ghost.acme' },
    };
    const results = await Promise.allSettled([
      store.commitChange(bad),
      ...tickets.slice(1).map((t) => store.commitChange(commentOn(t, 'fine'))),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    for (const result of results.slice(1)) {
      expect(result.status).toBe('fulfilled');
      expect((result as PromiseFulfilledResult<unknown>).value).not.toBe('conflict');
    }
    expect(await store.getTicket(tickets[0]!.id)).toMatchObject({ version: 1, commentCount: 0 });
    expect(await store.listHistory(tickets[0]!.id)).toEqual([]);
    const counts = await historyCounts();
    for (const t of tickets.slice(1)) expect(counts.get(t.id)).toBe(1);
  });

  const keyed = (change: TicketChange, key: string, createdAt = NOW): TicketChange => ({
    ...change,
    idempotency: record(key, `"${change.ticket.id} under ${key}"`, createdAt),
  });
  const record = (key: string, outcome: string, createdAt = NOW): IdempotencyRecord => ({
    userId: 'ada.acme',
    key,
    requestHash: `hash of ${outcome}`,
    outcome,
    createdAt,
  });

  it('changes with idempotency records asked together are written in one transaction, each with its record', async () => {
    const tickets = await insertTickets(8);
    const changes = tickets.map((t, i) => keyed(commentOn(t, `on ${t.id}`), `key-${i}`));
    const results = await Promise.all(changes.map((c) => store.commitChange(c)));
    expect(results.every((r) => r !== 'conflict')).toBe(true);
    const committed = results as { historyId: number; eventId: number }[];
    expect(
      new Set(committed.map((r) => Math.floor(r.eventId / CHANGES_PER_TRANSACTION))).size,
    ).toBe(1);
    for (const [i, change] of changes.entries()) {
      expect(await store.getIdempotency('ada.acme', `key-${i}`)).toEqual(change.idempotency);
      expect(await store.getTicket(change.ticket.id)).toMatchObject({ version: 2 });
    }
  });

  it('a change whose key is already taken is a conflict that writes nothing; the others asked with it are written', async () => {
    const tickets = await insertTickets(4);
    const earlier = record('taken', '"earlier"');
    await store.saveIdempotency(earlier);
    const changes = [
      keyed(commentOn(tickets[0]!, 'late'), 'taken'),
      keyed(commentOn(tickets[1]!, 'keyed'), 'free'),
      commentOn(tickets[2]!, 'keyless'),
      keyed(commentOn(tickets[3]!, 'keyed too'), 'free-too'),
    ];
    const results = await Promise.all(changes.map((c) => store.commitChange(c)));
    expect(results[0]).toBe('conflict');
    for (const result of results.slice(1)) {
      expect(result).toMatchObject({ historyId: expect.any(Number) });
    }
    expect(await store.getTicket(tickets[0]!.id)).toEqual(tickets[0]);
    expect(await store.listHistory(tickets[0]!.id)).toEqual([]);
    expect(await store.getIdempotency('ada.acme', 'taken')).toEqual(earlier);
    expect(await store.getIdempotency('ada.acme', 'free')).toEqual(changes[1]!.idempotency);
    expect(await store.getIdempotency('ada.acme', 'free-too')).toEqual(changes[3]!.idempotency);
    const counts = await historyCounts();
    for (const t of tickets.slice(1)) expect(counts.get(t.id)).toBe(1);
  });

  it('of two changes asked together under one key, one is written with its record and the other is a conflict', async () => {
    const [a, b] = await insertTickets(2);
    const changes = [keyed(commentOn(a!, 'on a'), 'same'), keyed(commentOn(b!, 'on b'), 'same')];
    const results = await Promise.all(changes.map((c) => store.commitChange(c)));
    const won = results.findIndex((r) => r !== 'conflict');
    expect(won).toBeGreaterThanOrEqual(0);
    expect(results.filter((r) => r === 'conflict')).toHaveLength(1);
    const lost = 1 - won;
    expect(await store.getIdempotency('ada.acme', 'same')).toEqual(changes[won]!.idempotency);
    expect(await store.getTicket(changes[won]!.ticket.id)).toMatchObject({ version: 2 });
    expect(await store.listHistory([a!, b!][lost]!.id)).toEqual([]);
  });

  it('a second change under a key already in the statement goes in the next one: the first statement stands, the second change is a conflict', async () => {
    const tickets = await insertTickets(4);
    const changes = [
      keyed(commentOn(tickets[0]!, 'first under k'), 'k'),
      keyed(commentOn(tickets[1]!, 'second under k'), 'k'),
      keyed(commentOn(tickets[2]!, 'under x'), 'x'),
      commentOn(tickets[3]!, 'keyless'),
    ];
    const results = await Promise.all(changes.map((c) => store.commitChange(c)));
    expect(results[1]).toBe('conflict');
    const written = [results[0], results[2], results[3]] as { eventId: number }[];
    // The three others in one transaction: the repeated key did not fail their statement.
    expect(new Set(written.map((r) => Math.floor(r.eventId / CHANGES_PER_TRANSACTION))).size).toBe(
      1,
    );
    expect(await store.getIdempotency('ada.acme', 'k')).toEqual(changes[0]!.idempotency);
    expect(await store.listHistory(tickets[1]!.id)).toEqual([]);
  });

  it('a change with a key that fails for a reason of its own fails alone, its key stays free; the others are written', async () => {
    const tickets = await insertTickets(3);
    const bad = keyed(byNobody(tickets[0]!, 'by nobody'), 'bad');
    const results = await Promise.allSettled([
      store.commitChange(bad),
      store.commitChange(keyed(commentOn(tickets[1]!, 'fine'), 'fine')),
      store.commitChange(commentOn(tickets[2]!, 'fine too')),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    expect(results[1]).toMatchObject({
      status: 'fulfilled',
      value: { historyId: expect.any(Number) },
    });
    expect(results[2]).toMatchObject({
      status: 'fulfilled',
      value: { historyId: expect.any(Number) },
    });
    expect(await store.getIdempotency('ada.acme', 'bad')).toBeUndefined();
    expect(await store.getIdempotency('ada.acme', 'fine')).toBeDefined();
    expect(await store.listHistory(tickets[0]!.id)).toEqual([]);
  });

  it('a change whose key holds an expired record is written, and its record replaces the old one', async () => {
    const [a, b] = await insertTickets(2);
    await store.saveIdempotency(
      record('old', '"expired"', new Date(NOW.getTime() - IDEMPOTENCY_TTL_MS - 60_000)),
    );
    const changes = [keyed(commentOn(a!, 'reuses old'), 'old'), keyed(commentOn(b!, 'new'), 'new')];
    const results = await Promise.all(changes.map((c) => store.commitChange(c)));
    expect(results.every((r) => r !== 'conflict')).toBe(true);
    expect(await store.getIdempotency('ada.acme', 'old')).toEqual(changes[0]!.idempotency);
    expect(await store.getIdempotency('ada.acme', 'new')).toEqual(changes[1]!.idempotency);
    const counts = await historyCounts();
    expect([counts.get(a!.id), counts.get(b!.id)]).toEqual([1, 1]);
  });

  /** A change of `read` by a user who does not exist: the history row's foreign key refuses it. */
  const byNobody = (read: Ticket, text: string): TicketChange => {
    const change = commentOn(read, text);
    return { ...change, history: { ...change.history, userId: 'ghost.acme' } };
  };

  it('a later statement of a batch failing takes back no answer of an earlier one', async () => {
    const [a, b] = await insertTickets(2);
    const first = commentOn(a!, 'first');
    // The second change of A goes in a second statement, which fails; A's first and B's stand.
    const results = await Promise.allSettled([
      store.commitChange(first),
      store.commitChange(byNobody(first.ticket, 'second')),
      store.commitChange(commentOn(b!, 'on b')),
    ]);
    expect(results[0]).toMatchObject({
      status: 'fulfilled',
      value: { historyId: expect.any(Number) },
    });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    expect(results[2]).toMatchObject({
      status: 'fulfilled',
      value: { historyId: expect.any(Number) },
    });
    expect(await store.getTicket(a!.id)).toMatchObject({ version: 2, commentCount: 1 });
    expect(await store.getTicket(b!.id)).toMatchObject({ version: 2, commentCount: 1 });
  });

  it("a change failing alone in its statement does not fail the ticket's next change in the batch", async () => {
    const [a] = await insertTickets(1);
    const [bad, good] = await Promise.allSettled([
      store.commitChange(byNobody(a!, 'refused')),
      store.commitChange(commentOn(a!, 'written')),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { historyId: expect.any(Number) } });
    expect((await store.listHistory(a!.id)).map((h) => h.comments)).toEqual([['written']]);
  });

  it('callers and tickets asked together each get their own, and an unknown one nothing', async () => {
    const tickets = await insertTickets(3);
    const sessions = ['s1', 's2', 's3'].map((id) => ({
      id,
      userId: 'ada.acme',
      tenant: 'acme',
      csrfToken: `csrf-${id}`,
      loginAt: NOW,
      expiresAt: new Date(NOW.getTime() + 3_600_000),
    }));
    for (const session of sessions) expect(await store.createSession(session)).toBe(true);
    const [callers, read] = await Promise.all([
      Promise.all(['s2', 'nope', 's1', 's2', 's3'].map((id) => store.getCaller(id))),
      Promise.all(
        [tickets[2]!.id, 'ticket99.acme', tickets[0]!.id, tickets[2]!.id].map((id) =>
          store.getTicketWithAuthor(id),
        ),
      ),
    ]);
    expect(callers.map((c) => c?.session.csrfToken)).toEqual([
      'csrf-s2',
      undefined,
      'csrf-s1',
      'csrf-s2',
      'csrf-s3',
    ]);
    expect(callers[0]).toMatchObject({ user: { id: 'ada.acme' }, adminOf: ['payments.acme'] });
    expect(read.map((r) => r?.ticket.id)).toEqual([
      tickets[2]!.id,
      undefined,
      tickets[0]!.id,
      tickets[2]!.id,
    ]);
    expect(read[0]).toMatchObject({ authorName: 'Ada' });
  });

  it('idempotency records asked together each get their own, by user and key, and an unknown one nothing', async () => {
    const ada = record('k1', '"ada k1"');
    const adaK2 = record('k2', '"ada k2"');
    const bob = { ...record('k1', '"bob k1"'), userId: 'bob.acme' };
    for (const r of [ada, adaK2, bob]) await store.saveIdempotency(r);
    const asked: [string, string][] = [
      ['bob.acme', 'k1'],
      ['ada.acme', 'k1'],
      ['ada.acme', 'nope'],
      ['bob.acme', 'k2'],
      ['ada.acme', 'k2'],
      ['ada.acme', 'k1'],
    ];
    const found = await Promise.all(asked.map(([user, key]) => store.getIdempotency(user, key)));
    expect(found).toEqual([bob, ada, undefined, undefined, adaK2, ada]);
  });
});
