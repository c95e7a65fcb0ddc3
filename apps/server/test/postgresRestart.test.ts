/**
 * PostgreSQL stopped under load and started again, through TCP and through a Unix socket: a
 * cluster of the test's own (support/throwawayPostgres.ts) is stopped with `pg_ctl` while
 * clients keep creating tickets. Every answer is either a success or a 503 with `Retry-After`
 * (refused, reset, administrator shutdown, a socket file that is gone, a server still starting):
 * never a 500. Every ticket whose creation was acknowledged is there afterwards, and the server
 * serves again by itself once PostgreSQL is back, without a restart.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, runCli } from './support/childServer.js';
import { readSse } from './support/trpc.js';
import { call, login, type Session } from './support/client.js';
import { startTestServer, type TestServer } from './support/testServer.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './support/throwawayPostgres.js';

/** A bound on each phase (a hang guard, never a timed assertion). */
const PHASE_LIMIT_MS = 60_000;
const CLIENTS = 4;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: string;
}

/** Waits until `condition` holds, within the phase limit (a hang guard). */
async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + PHASE_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** Clients creating tickets in a loop until told to stop; every answer is kept. */
class Load {
  readonly answers: Answer[] = [];
  /** Titles of the tickets whose creation was acknowledged (201), by TicketID. */
  readonly acknowledged = new Map<string, string>();
  private running = true;
  private readonly loops: Promise<void>[];
  private sequence = 0;

  constructor(
    private readonly url: string,
    private readonly session: Session,
  ) {
    this.loops = Array.from({ length: CLIENTS }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const title = `Under load ${(this.sequence += 1)}`;
      let response: Response;
      try {
        response = await call(this.url, this.session, '/api/tickets', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ Title: title, Environment: 'Sandbox', APIID: 'payments.acme' }),
        });
      } catch (error) {
        throw new Error('the server stopped answering HTTP', { cause: error });
      }
      const body = await response.text();
      this.answers.push({
        status: response.status,
        retryAfter: response.headers.get('Retry-After'),
        body,
      });
      if (response.status === 201) {
        this.acknowledged.set((JSON.parse(body) as { TicketID: string }).TicketID, title);
      } else {
        await sleep(20);
      }
    }
  }

  count(status: number): number {
    return this.answers.filter((answer) => answer.status === status).length;
  }

  /** Answers other than a success or a 503. */
  unexpected(): Answer[] {
    return this.answers.filter((answer) => answer.status !== 201 && answer.status !== 503);
  }

  /**
   * Waits until `condition` holds (checked as answers come in), within the phase limit; fails at
   * once on an answer that is neither a success nor a 503.
   */
  async until(what: string, condition: () => boolean): Promise<void> {
    await waitFor(what, () => {
      expect(this.unexpected(), `while waiting for ${what}`).toEqual([]);
      return condition();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * The live feed of changes as `@tickets/client` follows it: a stream of `tickets.changes` that,
 * when the server ends it (with an error while the database is away), is opened again from the
 * last eventId delivered. Counts the creations it sees, by TicketID.
 */
class Feed implements AsyncDisposable {
  readonly created = new Map<string, number>();
  /** The tRPC codes of the errors that ended a stream. */
  readonly errors: string[] = [];
  private lastEventId = 0;
  private readonly stop = new AbortController();
  private readonly following: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly session: Session,
  ) {
    this.following = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await this.readOnce().catch((error: unknown) => {
        if (!this.stop.signal.aborted) this.errors.push(`network: ${String(error)}`);
      });
      if (!this.stop.signal.aborted) await sleep(100);
    }
  }

  private async readOnce(): Promise<void> {
    await readSse(
      this.url,
      this.session,
      'tickets.changes',
      { lastEventId: this.lastEventId },
      this.stop.signal,
      (event) => {
        if (event.event === 'serialized-error') {
          this.errors.push((JSON.parse(event.data) as { data: { code: string } }).data.code);
          return;
        }
        const change = JSON.parse(event.data) as {
          eventId: number;
          ticketId: string;
          kind: string;
        };
        this.lastEventId = change.eventId;
        if (change.kind === 'created')
          this.created.set(change.ticketId, (this.created.get(change.ticketId) ?? 0) + 1);
      },
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.stop.abort();
    await this.following.catch(() => undefined);
  }
}

describe('PostgreSQL stopped mid-load and started again', () => {
  let cluster: ThrowawayPostgres;

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
  }, 180_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 180_000);

  it.each([
    ['TCP', 'fast'],
    ['a Unix socket', 'fast'],
    ['TCP, the server killed (immediate stop)', 'immediate'],
  ] as const)(
    'over %s: 503 with Retry-After while it is down, nothing acknowledged lost, recovery by itself',
    async (route, mode) => {
      const url = route === 'a Unix socket' ? cluster.socketUrl : cluster.tcpUrl;
      await using server: TestServer = await startTestServer({ postgresUrl: url });
      const ada = await login(server.url, 'ada@acme.test');
      // The live feed, followed through the whole outage as the client does it.
      await using feed = new Feed(server.url, ada);
      const load = new Load(server.url, ada);
      try {
        await load.until('the first tickets', () => load.count(201) >= 5);

        await cluster.stop(mode);
        if (route === 'a Unix socket') {
          // Its file is gone: connecting fails with ENOENT.
          expect(existsSync(join(cluster.socketDir, `.s.PGSQL.${cluster.port}`))).toBe(false);
        }
        const refusedBefore = load.count(503);
        await load.until(
          '503s while PostgreSQL is down',
          () => load.count(503) >= refusedBefore + 8,
        );
        const health = await fetch(`${server.url}/healthz`);
        expect(health.status).toBe(503);

        await cluster.start();
        const createdBefore = load.count(201);
        await load.until(
          'tickets again once it is back',
          () => load.count(201) >= createdBefore + 5,
        );
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      } finally {
        await load.stop();
        if (!cluster.running) await cluster.start();
      }

      expect(load.unexpected()).toEqual([]);
      const refused = load.answers.filter((answer) => answer.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
        expect(JSON.parse(answer.body)).toMatchObject({
          type: 'urn:tickets:problem:unavailable',
          status: 503,
        });
      }
      expect(
        server.logs.filter((line) => line['msg'] === 'request failed'),
        'no request was a fault of ours',
      ).toEqual([]);

      // Every acknowledged ticket is there, with the title it was created with.
      const ids = [...load.acknowledged.keys()];
      const stored = await server.sql<{ id: string; title: string }>(
        `SELECT id, title FROM tickets WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')})`,
      );
      expect(new Map(stored.map((row) => [row.id, row.title]))).toEqual(load.acknowledged);
      const one = ids[0]!;
      const read = await call(server.url, ada, `/api/tickets/${one}`, {
        headers: { Accept: 'application/json' },
      });
      expect(read.status).toBe(200);

      // The feed has every acknowledged creation, once; the outage ended its stream only with
      // the 503 of the error table; and a change made now arrives.
      await waitFor('every acknowledged creation in the feed', () =>
        ids.every((id) => feed.created.has(id)),
      );
      const after = await call(server.url, ada, '/api/tickets', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ Title: 'After', Environment: 'Sandbox', APIID: 'payments.acme' }),
      });
      expect(after.status).toBe(201);
      const { TicketID } = (await after.json()) as { TicketID: string };
      await waitFor('the new ticket on the live stream', () => feed.created.has(TicketID));
      expect([...feed.created.values()].filter((times) => times > 1)).toEqual([]);
      expect(feed.errors.filter((code) => code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    },
    300_000,
  );

  it('a URL with no user name connects as psql would: PGUSER, else the OS user name, even with no $USER', async () => {
    // The OS user needs a role of that name, as it would for psql.
    const osUser = userInfo().username;
    const admin = new pg.Client({ connectionString: cluster.tcpUrl });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [osUser]);
      if (exists.rowCount === 0)
        await admin.query(`CREATE ROLE ${pg.escapeIdentifier(osUser)} LOGIN SUPERUSER`);
    } finally {
      await admin.end();
    }
    const userless = `postgres://127.0.0.1:${cluster.port}/postgres`;
    const socketUserless = `postgres:///postgres?host=${encodeURIComponent(cluster.socketDir)}&port=${cluster.port}`;
    // childEnv passes no USER, LOGNAME or PGUSER on.
    for (const url of [userless, socketUserless]) {
      const migrated = await runCli(['migrate'], childEnv({ DATABASE_URL: url }));
      expect({ url, code: migrated.code, stderr: migrated.stderr }).toEqual({
        url,
        code: 0,
        stderr: '',
      });
      expect(migrated.stdout).toMatch(/up to date/);
    }
    // PGUSER comes first; a role that does not exist proves it was the one used.
    const named = await runCli(
      ['migrate'],
      childEnv({ DATABASE_URL: userless, PGUSER: 'no_such_role_here' }),
    );
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('no_such_role_here');
  }, 120_000);
});
