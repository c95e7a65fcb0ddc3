// Two real server processes (`node --import tsx src/cli.ts serve`) sharing one PostgreSQL schema
// (CONTRACT §5: several processes may share one PostgreSQL database; the guarantees hold across
// them). The schema is made by the `migrate` and `provision` commands, the servers start at once,
// and then: concurrent identical actions on one ticket split over both give exactly one 200 per
// round, the rest 409, and one consistent history; a burst of wrong logins split over both is
// throttled as one; what one process writes the other reads; SIGTERM stops both cleanly. Traffic goes to 127.0.0.1 only; the processes are stopped by PID.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { act, call, login, type Session } from './support/client.js';
import { runCli, serverEnv, twoServersOnOneDatabase } from './support/childServer.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { fixture } from './support/fixtures.js';
import { eventually, readSse } from './support/trpc.js';
import {
  createSchema,
  dropSchema,
  TEST_DATABASE_URL,
  urlWithSearchPath,
} from './support/postgres.js';

const ROUNDS = 5;
const PARALLEL = 40;
/** Shared by both processes, so that a session cookie signed by one is good on the other. */
const SECRET = 'postgres-e2e-secret-0123456789abcdef';

interface HistoryRow {
  Action: string;
  From: string;
  To: string;
  Comments: string[];
  UserID: string;
}

interface TicketView {
  TicketID: string;
  Title: string;
  State: string;
  Version: number;
}

const json = { Accept: 'application/json' };

async function history(url: string, session: Session, id: string): Promise<HistoryRow[]> {
  const response = await call(url, session, `/api/tickets/${id}/history`, { headers: json });
  expect(response.status).toBe(200);
  return ((await response.json()) as { History: HistoryRow[] }).History;
}

async function ticket(url: string, session: Session, id: string): Promise<TicketView> {
  const response = await call(url, session, `/api/tickets/${id}`, { headers: json });
  expect(response.status, `GET ${id} on ${url}`).toBe(200);
  return (await response.json()) as TicketView;
}

describe('two server processes over one PostgreSQL schema', () => {
  let schema: string | undefined;
  const shared = twoServersOnOneDatabase({
    prefix: 'tickets-pg-e2e-',
    prepare: async (dir) => {
      schema = await createSchema('tickets_e2e');
      const env = serverEnv(dir.dir, {
        DATABASE_URL: urlWithSearchPath(TEST_DATABASE_URL, schema),
        TICKETS_SECRET: SECRET,
      });

      const migrated = await runCli(['migrate'], env);
      expect(migrated, migrated.stderr).toMatchObject({ code: 0 });
      expect(migrated.stdout).toBe(
        `applied migration(s) ${POSTGRES_MIGRATIONS.map((m) => m.version).join(', ')}; the database is up to date\n`,
      );
      const again = await runCli(['migrate'], env);
      expect(again.stdout).toBe('the database is up to date (nothing to apply)\n');

      const file = join(dir.dir, 'fixture.json');
      writeFileSync(file, JSON.stringify(fixture));
      const provisioned = await runCli(['provision', file], env);
      expect(provisioned, provisioned.stderr).toMatchObject({ code: 0 });
      expect(provisioned.stdout).toContain('provisioned: 2 tenant(s)');
      return env;
    },
    // Both at once: each checks the migrations under the advisory lock as it opens the store.
    atOnce: true,
    cleanup: async () => {
      if (schema !== undefined) await dropSchema(schema);
    },
  });

  beforeAll(async () => {
    for (const child of shared.servers) {
      expect((await child.waitForLog('listening'))['database']).toBe('postgres');
      expect(new URL(child.url).hostname).toBe('127.0.0.1');
    }
  });

  it('a change made through one process reaches a live subscriber of the other (from the start of the log)', async () => {
    const [a, b] = shared.servers;
    const bob = await login(a.url, 'bob@acme.test');
    const root = await login(b.url, 'root@acme.test');
    const controller = new AbortController();
    const received: { ticketId: string; kind: string; to: string; eventId: number }[] = [];
    const done = readSse(
      a.url,
      bob,
      'tickets.changes',
      { lastEventId: 0 },
      controller.signal,
      (event) => {
        if (event.event === undefined)
          received.push(JSON.parse(event.data) as (typeof received)[number]);
      },
    );
    const response = await call(b.url, root, '/api/tickets/ticket6.acme/comments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Content: 'from the other process' }),
    });
    expect(response.status).toBe(201);
    await eventually(() => received.some((change) => change.ticketId === 'ticket6.acme'), 10_000);
    expect(received.filter((change) => change.ticketId === 'ticket6.acme')).toEqual([
      expect.objectContaining({ kind: 'comment', to: 'OPEN' }),
    ]);
    controller.abort();
    await done;
  });

  it(`${ROUNDS} rounds of ${PARALLEL} identical actions split over both: one 200 per round, the rest 409`, async () => {
    const [a, b] = shared.servers;
    // Each user logs in on one process and is then served by both.
    const ada = await login(a.url, 'ada@acme.test');
    const root = await login(b.url, 'root@acme.test');
    const id = 'ticket4.acme'; // REOPEN
    const start = await ticket(a.url, ada, id);
    expect(start.State).toBe('REOPEN');
    const rowsAtStart = (await history(b.url, root, id)).length;

    const winners: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Resolve and close rounds alternate; each starts in REOPEN.
      const [action, to] =
        round % 2 === 0 ? ['ticket.action.resolve', 'RESOLVED'] : ['ticket.action.close', 'CLOSED'];
      const before = await ticket(b.url, root, id);
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, async (_, i) => {
          const comment = `round ${round} request ${i}`;
          const answer = await act(
            i % 2 === 0 ? a.url : b.url,
            i % 4 < 2 ? ada : root,
            id,
            action,
            {
              comments: comment,
            },
          );
          return { ...answer, comment };
        }),
      );

      const won = answers.filter((answer) => answer.status === 200);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(won[0]!.text).toBe(to);
      for (const lost of answers.filter((answer) => answer.status !== 200))
        expect(lost.status, lost.text).toBe(409);
      winners.push(won[0]!.comment);

      // Both processes read the one change.
      for (const [url, session] of [
        [a.url, ada],
        [b.url, root],
      ] as const) {
        expect(await ticket(url, session, id)).toMatchObject({
          State: to,
          Version: before.Version + 1,
        });
      }
      // Back to REOPEN for the next round, through the other process.
      expect(
        await act(round % 2 === 0 ? b.url : a.url, root, id, 'ticket.action.reopen'),
      ).toMatchObject({ status: 200, text: 'REOPEN' });
    }

    const rows = (await history(a.url, ada, id)).slice(rowsAtStart);
    expect(rows).toHaveLength(2 * ROUNDS);
    let state = 'REOPEN';
    for (const [index, row] of rows.entries()) {
      expect(row.From, `history row ${index} (${row.Action})`).toBe(state);
      state = row.To;
    }
    // Every winner's comment is in its row, and no loser left one behind.
    expect(rows.filter((_, index) => index % 2 === 0).map((row) => row.Comments)).toEqual(
      winners.map((comment) => [comment]),
    );
    expect(rows.filter((_, index) => index % 2 === 1).every((row) => row.To === 'REOPEN')).toBe(
      true,
    );
    expect(await history(b.url, root, id)).toEqual(await history(a.url, ada, id));
    expect(await ticket(b.url, root, id)).toMatchObject({
      State: 'REOPEN',
      Version: start.Version + 2 * ROUNDS,
    });
  });

  it('a ticket created on one process is read, listed and changed on the other', async () => {
    const [a, b] = shared.servers;
    const onA = await login(a.url, 'bob@acme.test');
    const onB = await login(b.url, 'ada@acme.test');
    const created = await call(a.url, onA, '/api/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...json },
      body: JSON.stringify({
        Title: 'Created on process A',
        Environment: 'Production',
        APIID: 'payments.acme',
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { TicketID: id } = (await created.json()) as { TicketID: string };

    expect(await ticket(b.url, onB, id)).toMatchObject({
      TicketID: id,
      Title: 'Created on process A',
      State: 'OPEN',
    });
    const list = await call(b.url, onB, '/api/tickets?count=100', { headers: json });
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { Ticket: TicketView[] };
    expect(listed.Ticket.map((t) => t.TicketID)).toContain(id);

    expect(await act(b.url, onB, id, 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
    expect((await ticket(a.url, onA, id)).State).toBe('RESOLVED');
    expect((await history(a.url, onA, id)).map((row) => row.Action)).toEqual([
      'ticket.action.resolve',
    ]);
  });

  it('a concurrent burst of wrong logins split over both processes gets one guess in all past the second failure, not one each', async () => {
    const [a, b] = shared.servers;
    const attempt = (url: string, email: string, password: string): Promise<Response> =>
      fetch(`${url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...json },
        body: JSON.stringify({ email, password }),
      });
    // The throttle's count is in the database, checked and counted in one step. Two failures
    // first, one after another; then a burst split over both processes, in which exactly one
    // guess may take the count to three: each process reading "two" would let two through.
    // Every other guess is refused at once (no password check), well inside the one-second wait.
    for (const email of ['carol@acme.test', 'shay@acme.test', 'nobody@acme.test']) {
      for (const url of [a.url, b.url])
        expect((await attempt(url, email, 'wrong')).status).toBe(401);
      const burst = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          attempt(i % 2 === 0 ? a.url : b.url, email, `guess-${i}`),
        ),
      );
      const statuses = burst.map((response) => response.status);
      expect(
        statuses.filter((status) => status === 401),
        email,
      ).toHaveLength(1);
      expect(
        statuses.filter((status) => status === 429),
        email,
      ).toHaveLength(11);
      for (const response of burst.filter((r) => r.status === 429))
        expect(response.headers.get('retry-after')).toBe('1');
    }
  });

  it('SIGTERM stops both processes cleanly', async () => {
    for (const child of shared.servers) child.signal('SIGTERM');
    for (const child of shared.servers) {
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(child.logs.map((line) => line['msg'])).toContain('stopped');
      expect(child.stderr()).toBe('');
    }
  });
});
