// Concurrent writes on one ticket (CONTRACT §5): exactly one winner per state, the others 409,
// no lost update, and a history that tells one consistent story. Also concurrent retries with one
// Idempotency-Key, and the same race between two server processes over one SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, call, login, type Session } from './support/client.js';
import { sqliteProvisioned, twoServersOnOneDatabase } from './support/childServer.js';
import { fixture } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

interface HistoryRow {
  Action: string;
  From: string;
  To: string;
  Comments: string[];
  UserID: string;
}

interface Answer {
  status: number;
  text: string;
  type: string | null;
  replayed: boolean;
  comment: string;
}

async function history(url: string, session: Session, id: string): Promise<HistoryRow[]> {
  const response = await call(url, session, `/api/tickets/${id}/history`, {
    headers: { Accept: 'application/json' },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { History: HistoryRow[] }).History;
}

async function ticket(
  url: string,
  session: Session,
  id: string,
): Promise<{ State: string; Version: number; Comments: number }> {
  const response = await call(url, session, `/api/tickets/${id}`, {
    headers: { Accept: 'application/json' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { State: string; Version: number; Comments: number };
}

/** Fires all requests at once (every one is started before any is awaited). */
async function race(
  requests: readonly {
    url: string;
    session: Session;
    action: string;
    comment: string;
    key?: string;
  }[],
  ticketId: string,
): Promise<Answer[]> {
  return Promise.all(
    requests.map(async ({ url, session, action, comment, key }) => {
      const answer = await act(url, session, ticketId, action, {
        comments: comment,
        ...(key !== undefined && { headers: { 'Idempotency-Key': key } }),
      });
      return {
        status: answer.status,
        text: answer.text,
        type: answer.headers.get('content-type'),
        replayed: answer.headers.get('idempotent-replayed') === 'true',
        comment,
      };
    }),
  );
}

/** Each row starts where the one before ended, from the state a new ticket starts in. */
function expectOneStory(rows: readonly HistoryRow[], start = 'OPEN'): void {
  let state = start;
  for (const [index, row] of rows.entries()) {
    expect(row.From, `history row ${index} (${row.Action})`).toBe(state);
    state = row.To;
  }
}

const ROUNDS = 5;
const PARALLEL = 50;

describe('concurrent actions on one ticket (one server)', () => {
  let server: TestServer;
  let ada: Session;
  let root: Session;
  let bob: Session;
  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    root = await login(server.url, 'root@acme.test');
    bob = await login(server.url, 'bob@acme.test');
  });
  afterAll(() => server.close());

  it(`${PARALLEL} admins take the same step at once: exactly one 200 per round, the rest 409`, async () => {
    const id = 'ticket1.acme';
    let successes = 0;
    const startVersion = (await ticket(server.url, root, id)).Version;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Resolve and close rounds alternate; every round starts in OPEN or REOPEN.
      const [action, to] =
        round % 2 === 0 ? ['ticket.action.resolve', 'RESOLVED'] : ['ticket.action.close', 'CLOSED'];
      const before = await ticket(server.url, root, id);
      const rowsBefore = (await history(server.url, root, id)).length;
      const answers = await race(
        Array.from({ length: PARALLEL }, (_, i) => ({
          url: server.url,
          session: i % 2 === 0 ? ada : root,
          action,
          comment: `round ${round} request ${i}`,
        })),
        id,
      );

      const won = answers.filter((a) => a.status === 200);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(won[0]!.text).toBe(to);
      for (const lost of answers.filter((a) => a.status !== 200)) {
        expect(lost.status, lost.text).toBe(409);
        expect(lost.type).toMatch(/^text\/plain/);
        expect(lost.text.length).toBeGreaterThan(0);
      }
      const after = await ticket(server.url, root, id);
      expect(after.State).toBe(to);
      expect(after.Version).toBe(before.Version + 1);
      const rows = await history(server.url, root, id);
      expect(rows).toHaveLength(rowsBefore + 1);
      expect(rows.at(-1)).toMatchObject({ Action: action, To: to, Comments: [won[0]!.comment] });
      successes += 1;

      // Reset for the next round.
      const reopened = await act(server.url, bob, id, 'ticket.action.reopen');
      expect(reopened).toMatchObject({ status: 200, text: 'REOPEN' });
      successes += 1;
    }
    const rows = await history(server.url, root, id);
    expectOneStory(rows);
    expect(rows).toHaveLength(successes);
    const final = await ticket(server.url, root, id);
    expect(final.Version).toBe(startVersion + successes);
    expect(final.State).toBe(rows.at(-1)!.To);
  });

  it(`${PARALLEL} admins resolve and close at once: one step per state, never a lost update`, async () => {
    // close is allowed from RESOLVED, so a close that is read after a winning resolve wins too
    // (a second, different state). What must hold: one winner per state, every 200 is a history
    // row that names its request, every 409 left nothing behind, one unbroken story.
    const id = 'ticket5.acme';
    let successes = 0;
    const startVersion = (await ticket(server.url, root, id)).Version;
    const rowsAtStart = (await history(server.url, root, id)).length;
    for (let round = 0; round < ROUNDS; round += 1) {
      const before = await ticket(server.url, root, id);
      const rowsBefore = (await history(server.url, root, id)).length;
      const answers = await race(
        Array.from({ length: PARALLEL }, (_, i) => ({
          url: server.url,
          session: i % 3 === 0 ? root : ada,
          action: (i + round) % 2 === 0 ? 'ticket.action.resolve' : 'ticket.action.close',
          comment: `mixed round ${round} request ${i}`,
        })),
        id,
      );
      const won = answers.filter((a) => a.status === 200);
      for (const lost of answers.filter((a) => a.status !== 200)) {
        expect(lost.status, lost.text).toBe(409);
        expect(lost.type).toMatch(/^text\/plain/);
      }
      expect(won.length).toBeGreaterThanOrEqual(1);
      expect(won.length).toBeLessThanOrEqual(2);
      if (won.length === 2) expect(won.map((a) => a.text).sort()).toEqual(['CLOSED', 'RESOLVED']);

      const rows = (await history(server.url, root, id)).slice(rowsBefore);
      expect(rows).toHaveLength(won.length);
      expectOneStory(rows, before.State);
      // Each winner is exactly one row with its own comment and its own answer.
      for (const winner of won) {
        const mine = rows.filter((row) => row.Comments.includes(winner.comment));
        expect(mine).toHaveLength(1);
        expect(mine[0]!.To).toBe(winner.text);
      }
      const after = await ticket(server.url, root, id);
      expect(after.Version).toBe(before.Version + won.length);
      expect(after.State).toBe(rows.at(-1)!.To);
      successes += won.length;

      const reopened = await act(server.url, root, id, 'ticket.action.reopen');
      expect(reopened).toMatchObject({ status: 200, text: 'REOPEN' });
      successes += 1;
    }
    const rows = (await history(server.url, root, id)).slice(rowsAtStart);
    expectOneStory(rows);
    expect(rows).toHaveLength(successes);
    expect((await ticket(server.url, root, id)).Version).toBe(startVersion + successes);
  });

  it('20 identical requests with one Idempotency-Key: one transition, replays for the rest', async () => {
    const id = 'ticket6.acme'; // an app ticket: root (site admin) may resolve it
    for (let round = 0; round < 3; round += 1) {
      const before = await ticket(server.url, root, id);
      const rowsBefore = (await history(server.url, root, id)).length;
      const key = `concurrent-retry-${round}-${before.Version}`;
      const answers = await race(
        Array.from({ length: 20 }, () => ({
          url: server.url,
          session: root,
          action: 'ticket.action.resolve',
          comment: `retried ${round}`,
          key,
        })),
        id,
      );
      // Every one answers the first response: the one that did the work, the others replays of
      // it (a request that lost the race finds the winner's answer under the key).
      for (const answer of answers) {
        expect({ status: answer.status, text: answer.text }).toEqual({
          status: 200,
          text: 'RESOLVED',
        });
      }
      expect(answers.filter((a) => a.status === 200 && !a.replayed)).toHaveLength(1);
      const rows = await history(server.url, root, id);
      expect(rows).toHaveLength(rowsBefore + 1);
      expect(rows.at(-1)).toMatchObject({ To: 'RESOLVED', Comments: [`retried ${round}`] });
      const after = await ticket(server.url, root, id);
      expect(after).toMatchObject({ State: 'RESOLVED', Version: before.Version + 1 });

      // A later retry with the same key is a replay too, not a second transition.
      const again = await act(server.url, root, id, 'ticket.action.resolve', {
        comments: `retried ${round}`,
        headers: { 'Idempotency-Key': key },
      });
      expect(again).toMatchObject({ status: 200, text: 'RESOLVED' });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await history(server.url, root, id)).toHaveLength(rowsBefore + 1);

      expect(await act(server.url, root, id, 'ticket.action.reopen')).toMatchObject({
        status: 200,
      });
    }
    expectOneStory(await history(server.url, root, id));
  });

  it(`${PARALLEL} comments at once, without If-Match: every one lands, one row each, the count adds up`, async () => {
    // They all read the same version, one wins, and the others run again one at a time.
    const id = 'ticket2.acme';
    const before = await ticket(server.url, root, id);
    const rowsBefore = (await history(server.url, root, id)).length;
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, async (_, i) => {
        const response = await call(server.url, i % 2 ? bob : ada, `/api/tickets/${id}/comments`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ Content: `comment ${i}` }),
        });
        return {
          status: response.status,
          content: `comment ${i}`,
          commentId: ((await response.json()) as { CommentID?: string }).CommentID,
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    // Each on a version of its own.
    expect(new Set(answers.map((a) => a.commentId)).size).toBe(PARALLEL);
    const rows = (await history(server.url, root, id)).slice(rowsBefore);
    expect(rows).toHaveLength(PARALLEL);
    for (const row of rows) expect(row).toMatchObject({ Action: 'comment', From: row.To });
    expect(rows.map((row) => row.Comments[0]).sort()).toEqual(answers.map((a) => a.content).sort());
    const after = await ticket(server.url, root, id);
    expect(after.Version).toBe(before.Version + PARALLEL);
    expect(after.Comments).toBe(before.Comments + PARALLEL);
  });

  it('an action and comments at once, without If-Match: the action is taken and every comment lands', async () => {
    // Each lost race is run again on the ticket as it now is; a comment changes the version but
    // not what the action needs.
    const id = 'ticket6.acme';
    const before = await ticket(server.url, root, id);
    const rowsBefore = (await history(server.url, root, id)).length;
    const comments = Array.from({ length: 5 }, (_, i) =>
      call(server.url, ada, `/api/tickets/${id}/comments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ Content: `beside the action ${i}` }),
      }).then((response) => response.status),
    );
    const action = act(server.url, root, id, 'ticket.action.close', { comments: 'closing' });
    const [statuses, closed] = await Promise.all([Promise.all(comments), action]);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    expect(closed).toMatchObject({ status: 200, text: 'CLOSED' });
    const rows = (await history(server.url, root, id)).slice(rowsBefore);
    expect(rows.map((row) => row.Action).sort()).toEqual([
      'comment',
      'comment',
      'comment',
      'comment',
      'comment',
      'ticket.action.close',
    ]);
    expectOneStory(rows, before.State);
    const after = await ticket(server.url, root, id);
    expect(after).toMatchObject({ State: 'CLOSED', Version: before.Version + 6 });
    expect(after.Comments).toBe(before.Comments + 6);
  });
});

describe('a write that loses to another change is run again', () => {
  it('on either store: three lost commits, then the action is taken once, one history row', async () => {
    let conflicts = 3;
    await using server = await startTestServer({
      // The first commits of the action lose, as to a comment that landed in between.
      wrapStore: (store) =>
        new Proxy(store, {
          get: (target, name) => {
            if (name === 'commitChange') {
              const commit: typeof store.commitChange = async (change) => {
                if (conflicts > 0) {
                  conflicts -= 1;
                  return 'conflict';
                }
                return store.commitChange(change);
              };
              return commit;
            }
            const value: unknown = Reflect.get(target, name);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    const root = await login(server.url, 'root@acme.test');
    const before = await ticket(server.url, root, 'ticket1.acme');
    const answer = await act(server.url, root, 'ticket1.acme', 'ticket.action.resolve', {
      comments: 'after three tries',
    });
    expect(answer).toMatchObject({ status: 200, text: 'RESOLVED' });
    expect(conflicts).toBe(0);
    const rows = await history(server.url, root, 'ticket1.acme');
    expect(rows.filter((row) => row.Comments.includes('after three tries'))).toHaveLength(1);
    expect((await ticket(server.url, root, 'ticket1.acme')).Version).toBe(before.Version + 1);
  });
});

describe('concurrent actions through two server processes over one SQLite file', () => {
  const shared = twoServersOnOneDatabase({ prepare: sqliteProvisioned(fixture) });

  it(`${PARALLEL} resolves split over both processes: exactly one 200 per round`, async () => {
    const [a, b] = shared.servers;
    const ada = await login(a.url, 'ada@acme.test');
    const root = await login(b.url, 'root@acme.test');
    const id = 'ticket4.acme'; // REOPEN
    let successes = 0;
    const rowsAtStart = (await history(a.url, ada, id)).length;
    for (let round = 0; round < ROUNDS; round += 1) {
      const before = await ticket(a.url, ada, id);
      const answers = await race(
        Array.from({ length: PARALLEL }, (_, i) => ({
          url: i % 2 === 0 ? a.url : b.url,
          session: i % 4 < 2 ? ada : root,
          action: 'ticket.action.resolve',
          comment: `two processes round ${round} request ${i}`,
        })),
        id,
      );
      const won = answers.filter((x) => x.status === 200);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(won[0]!.text).toBe('RESOLVED');
      for (const lost of answers.filter((x) => x.status !== 200)) {
        expect(lost.status, lost.text).toBe(409);
        expect(lost.type).toMatch(/^text\/plain/);
      }
      const after = await ticket(b.url, root, id);
      expect(after).toMatchObject({ State: 'RESOLVED', Version: before.Version + 1 });
      successes += 1;
      expect(await act(b.url, root, id, 'ticket.action.reopen')).toMatchObject({ status: 200 });
      successes += 1;
    }
    const rows = (await history(b.url, root, id)).slice(rowsAtStart);
    expect(rows).toHaveLength(successes);
    expectOneStory(rows, 'REOPEN');
  });
});
