// The real server as a child process (`node --import tsx src/cli.ts serve`), killed hard while
// writes are in flight and restarted on the same file (CONTRACT §5: a 200 means it is durable),
// and stopped with SIGTERM while requests are half sent (§6: SIGTERM drains, then closes).
import { request, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { call, login, type Session } from './support/client.js';
import {
  integrityCheck,
  provisionFile,
  readDb,
  scratchSpace,
  serverEnv,
  type ChildServer,
  type TempDir,
} from './support/childServer.js';
import { fixture, PASSWORD } from './support/fixtures.js';

interface TicketRow {
  id: string;
  title: string;
  state: string;
  version: number;
  comment_count: number;
}

interface HistoryRow {
  id: number;
  ticket_id: string;
  action: string;
  from_state: string;
  to_state: string;
  comments: string;
}

interface Op {
  readonly seq: number;
  readonly kind: 'action' | 'comment' | 'create';
  readonly ticket: string;
  readonly action?: string;
  /** Unique text carried by the request (comment or title), to find what it wrote. */
  readonly marker: string;
  status?: number;
  body?: string;
  failed?: boolean;
}

const ACTIONS = ['ticket.action.resolve', 'ticket.action.close', 'ticket.action.reopen'] as const;

function readAll(dbPath: string): { tickets: Map<string, TicketRow>; history: HistoryRow[] } {
  return readDb(dbPath, (db) => ({
    tickets: new Map(
      (
        db
          .prepare('SELECT id, title, state, version, comment_count FROM tickets')
          .all() as TicketRow[]
      ).map((row) => [row.id, row]),
    ),
    history: db.prepare('SELECT * FROM history ORDER BY id').all() as HistoryRow[],
  }));
}

/** A tiny deterministic generator, so a failing run can be replayed from its seed. */
/** A POST to the server on `port` over a connection of its own, its body left to the caller. */
function post(port: string, path: string, headers: Record<string, string>) {
  return request({
    host: '127.0.0.1',
    port: Number(port),
    method: 'POST',
    path,
    agent: false,
    headers,
  });
}

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('durability of the real server process', () => {
  const scratch = scratchSpace('tickets-child-');
  const start = (dir: TempDir): Promise<ChildServer> => scratch.start(serverEnv(dir.dir));

  it('SIGKILL with writes in flight: every answered write survives, the file is sound', async () => {
    const dir = scratch.fresh();
    await provisionFile(dir.dbPath, fixture);
    const first = await start(dir);
    const root = await login(first.url, 'root@acme.test');

    // Several new tickets to work on, created through the API.
    const tickets: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const response = await call(first.url, root, '/api/tickets', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          Title: `crash target ${i}`,
          Environment: 'Production',
          APIID: 'payments.acme',
        }),
      });
      expect(response.status).toBe(201);
      tickets.push(((await response.json()) as { TicketID: string }).TicketID);
    }

    const WORKERS = 24;
    const MAX_OPS_PER_WORKER = 150;
    const KILL_AFTER_ANSWERS = 200;
    const seed = Date.now();
    const next = random(seed);
    const ops: Op[] = [];
    let answered = 0;
    let killed = false;
    let inFlightAtKill = -1;
    let answeredAtKill = -1;

    const kill = (): void => {
      if (killed) return;
      killed = true;
      inFlightAtKill = ops.filter((op) => op.status === undefined && !op.failed).length;
      answeredAtKill = answered;
      first.signal('SIGKILL');
    };

    const send = (op: Op, session: Session): Promise<Response> => {
      const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (op.kind === 'action') {
        return call(first.url, session, `/api/tickets/${op.ticket}/actions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ActionName: op.action, Comments: op.marker }),
        });
      }
      if (op.kind === 'comment') {
        return call(first.url, session, `/api/tickets/${op.ticket}/comments`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ Content: op.marker }),
        });
      }
      return call(first.url, session, '/api/tickets', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ Title: op.marker, Environment: 'Sandbox', APIID: 'payments.acme' }),
      });
    };

    const worker = async (): Promise<void> => {
      for (let n = 0; n < MAX_OPS_PER_WORKER && !killed; n += 1) {
        const roll = next();
        const seq = ops.length;
        const op: Op = {
          seq,
          kind: roll < 0.6 ? 'action' : roll < 0.92 ? 'comment' : 'create',
          ticket: tickets[Math.floor(next() * tickets.length)]!,
          action: ACTIONS[Math.floor(next() * ACTIONS.length)]!,
          marker: `op-${seq}-${seed}`,
        };
        ops.push(op);
        try {
          const response = await send(op, root);
          op.status = response.status;
          op.body = await response.text();
          answered += 1;
          // Kill as soon as enough answers are in, while the other workers still wait.
          if (answered >= KILL_AFTER_ANSWERS) kill();
        } catch {
          op.failed = true;
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    kill(); // in case every worker ran out of operations first
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);

    // The file is sound (opening it also replays the WAL, as the next server will).
    expect(integrityCheck(dir.dbPath)).toBe('ok');
    const { tickets: rows, history } = readAll(dir.dbPath);

    const rowsWith = (marker: string): HistoryRow[] =>
      history.filter((row) => (JSON.parse(row.comments) as string[]).includes(marker));
    let unknownLanded = 0;
    const unanswered = ops.filter((op) => op.status === undefined).length;
    for (const op of ops) {
      const mine = rowsWith(op.marker);
      if (op.status === undefined) {
        // No answer: either outcome is allowed, but never twice.
        expect(mine.length, op.marker).toBeLessThanOrEqual(1);
        const created = [...rows.values()].filter((t) => t.title === op.marker);
        expect(created.length).toBeLessThanOrEqual(1);
        if (mine.length + created.length > 0) unknownLanded += 1;
        continue;
      }
      expect(op.status, `${op.kind} ${op.marker}: ${op.body}`).toBeLessThan(500);
      if (op.kind === 'action' && op.status === 200) {
        expect(mine, op.marker).toHaveLength(1);
        expect(mine[0]).toMatchObject({
          ticket_id: op.ticket,
          action: op.action,
          to_state: op.body,
        });
      } else if (op.kind === 'comment' && op.status === 201) {
        expect(mine, op.marker).toHaveLength(1);
        expect(mine[0]).toMatchObject({ ticket_id: op.ticket, action: 'comment' });
        expect(JSON.parse(op.body!)).toMatchObject({
          CommentID: expect.stringMatching(
            new RegExp(`^${op.ticket!.split('.')[0]}-comment\\d+\\.acme$`),
          ) as unknown,
          Content: op.marker,
        });
      } else if (op.kind === 'create' && op.status === 201) {
        const id = (JSON.parse(op.body!) as { TicketID: string }).TicketID;
        expect(rows.get(id)).toMatchObject({ title: op.marker, state: 'OPEN' });
      } else {
        // A refusal (409 mostly) wrote nothing.
        expect(op.status, op.body).toBeGreaterThanOrEqual(400);
        expect(mine, op.marker).toHaveLength(0);
      }
    }

    // Every ticket's history is one unbroken story ending in its state; versions add up.
    for (const id of tickets) {
      const own = history.filter((row) => row.ticket_id === id);
      let state = 'OPEN';
      let comments = 0;
      for (const row of own) {
        expect(row.from_state, `${id} row ${row.id}`).toBe(state);
        state = row.to_state;
        comments += (JSON.parse(row.comments) as string[]).length;
      }
      expect(rows.get(id)).toMatchObject({
        state,
        version: 1 + own.length,
        comment_count: comments,
      });
    }

    const statuses = new Map<string, number>();
    for (const op of ops) {
      const key = op.status === undefined ? 'no answer' : String(op.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    console.info(
      `crash run (seed ${seed}): ${ops.length} requests, ${answeredAtKill} answered when SIGKILL was ` +
        `sent, ${inFlightAtKill} in flight then (${answered - answeredAtKill} of them still answered); ` +
        `${unanswered} never answered, of which ${unknownLanded} had committed; ` +
        `answers ${JSON.stringify(Object.fromEntries(statuses))}`,
    );

    // Restarted on the same file, it serves again: the old session still works (the secret
    // and the session row were kept), the stored state is what the API shows, and it writes.
    const second = await start(dir);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    for (const id of tickets) {
      const response = await call(second.url, root, `/api/tickets/${id}`, {
        headers: { Accept: 'application/json' },
      });
      expect(response.status).toBe(200);
      const shown = (await response.json()) as { State: string; Version: number };
      expect(shown).toMatchObject({ State: rows.get(id)!.state, Version: rows.get(id)!.version });
      const historyResponse = await call(second.url, root, `/api/tickets/${id}/history`, {
        headers: { Accept: 'application/json' },
      });
      const shownHistory = ((await historyResponse.json()) as { History: unknown[] }).History;
      expect(shownHistory).toHaveLength(history.filter((row) => row.ticket_id === id).length);
    }
    const comment = await call(second.url, root, `/api/tickets/${tickets[0]}/comments`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ Content: 'after the crash' }),
    });
    expect(comment.status).toBe(201);
    second.signal('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(integrityCheck(dir.dbPath)).toBe('ok');
  });

  it.each([
    ['REST', '/api/login'],
    ['tRPC', '/trpc/session.login'],
  ])(
    'SIGTERM waits for %s logins whose clients hung up while their passwords were being checked',
    async (_surface, path) => {
      const dir = scratch.fresh();
      await provisionFile(dir.dbPath, fixture);
      const server = await start(dir);
      const { port } = new URL(server.url);
      const body = JSON.stringify({ email: 'root@acme.test', password: PASSWORD });
      // Password checks run one or two at a time: the logins behind the first wait in line.
      const logins = Array.from({ length: 8 }, () => {
        const req = post(port, path, {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
        });
        const status = new Promise<number>((resolve) => {
          req.on('response', (response: IncomingMessage) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          req.on('error', () => resolve(0));
        });
        req.end(body);
        return { req, status };
      });
      // Once one is answered, the others have been read and are waiting: their clients hang up,
      // and nothing holds the server's connections open any more.
      const first = await Promise.race(
        logins.map(({ status }, i) => status.then((code) => ({ i, code }))),
      );
      expect(first.code).toBe(200);
      for (const [i, { req }] of logins.entries()) if (i !== first.i) req.destroy();
      const abandoned = logins.length - 1;

      server.signal('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      // The store was closed after the abandoned logins ended, not under them: those whose
      // checks had begun made their sessions, those still waiting left unchecked, nothing failed.
      expect(server.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
      const messages = server.logs.map((line) => line['msg']);
      expect(messages.indexOf('stopped')).toBe(messages.length - 1);
      const checked = messages.filter((message) => message === 'login').length;
      expect(checked).toBeGreaterThanOrEqual(1);
      expect(checked).toBeLessThan(1 + abandoned);
      expect(
        readDb(dir.dbPath, (db) => db.prepare('SELECT count(*) FROM sessions').pluck().get()),
      ).toBe(checked);
      expect(integrityCheck(dir.dbPath)).toBe('ok');
    },
  );

  it('SIGTERM drains requests in flight, then stops cleanly with exit code 0', async () => {
    const dir = scratch.fresh();
    await provisionFile(dir.dbPath, fixture);
    const server = await start(dir);
    const root = await login(server.url, 'root@acme.test');
    const { port } = new URL(server.url);

    // One ticket per request, so that no two of them can legitimately conflict.
    const targets: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const created = await call(server.url, root, '/api/tickets', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          Title: `drain target ${i}`,
          Environment: 'Sandbox',
          APIID: 'payments.acme',
        }),
      });
      expect(created.status).toBe(201);
      targets.push(((await created.json()) as { TicketID: string }).TicketID);
    }

    // Requests that the server has begun (it answered 100 Continue to their headers) but whose
    // bodies are not sent yet: they are in flight when the signal comes.
    const pending = targets.map((ticket, i) => {
      const isAction = i % 2 === 0; // actions and comments alternate
      const path = isAction ? `/api/tickets/${ticket}/actions` : `/api/tickets/${ticket}/comments`;
      const body = Buffer.from(
        JSON.stringify(
          isAction
            ? { ActionName: 'ticket.action.resolve', Comments: `drained ${i}` }
            : { Content: `drained ${i}` },
        ),
      );
      const req = post(port, path, {
        Cookie: root.cookie,
        [`X-Csrf-Token_${root.tenant}`]: root.csrf,
        'Content-Type': 'application/json',
        Accept: isAction ? 'text/plain' : 'application/json',
        'Content-Length': String(body.length),
        Expect: '100-continue',
        Connection: 'close',
      });
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (response: IncomingMessage) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          response.on('error', reject);
        });
        req.on('error', reject);
      });
      const continued = new Promise<void>((resolve, reject) => {
        req.once('continue', () => resolve());
        req.once('error', reject);
      });
      req.flushHeaders();
      return { req, body, answer, continued, isAction, marker: `drained ${i}` };
    });
    await Promise.all(pending.map((p) => p.continued));

    server.signal('SIGTERM');
    expect(await server.waitForLog('shutting down')).toMatchObject({ signal: 'SIGTERM' });
    // It no longer takes new connections...
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    // ...but finishes the ones it has.
    for (const p of pending) p.req.end(p.body);
    const answers = await Promise.all(pending.map((p) => p.answer));
    for (const [i, answer] of answers.entries()) {
      expect(answer, `request ${i}`).toEqual(
        pending[i]!.isAction
          ? { status: 200, text: 'RESOLVED' }
          : expect.objectContaining({ status: 201 }),
      );
    }

    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.map((line) => line['msg'])).toContain('stopped');
    expect(server.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);

    // Everything that was answered is stored, and the file was closed cleanly.
    expect(integrityCheck(dir.dbPath)).toBe('ok');
    const { history } = readAll(dir.dbPath);
    for (const p of pending) {
      const rows = history.filter((row) =>
        (JSON.parse(row.comments) as string[]).includes(p.marker),
      );
      expect(rows, p.marker).toHaveLength(1);
      expect(rows[0]!.to_state).toBe(p.isAction ? 'RESOLVED' : rows[0]!.from_state);
    }
  });
});
