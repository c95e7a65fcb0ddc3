// A shutdown in process (`startServer(...).close()`), with a short drain timeout: what it does
// with requests that outlast the drain.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer, type ServerHooks } from '../src/main.js';
import { provisionFile, readDb, scratchSpace, serverEnv } from './support/childServer.js';
import { login } from './support/client.js';
import { fixture, PASSWORD } from './support/fixtures.js';
import { gate, HeldChecks } from './support/heldChecks.js';
import { eventually } from './support/trpc.js';
import { logSink } from './support/logSink.js';

const scratch = scratchSpace('tickets-shutdown-');

/** The server in process over a fresh SQLite file, with a drain timeout of 300 ms. */
async function serve(hooks: ServerHooks = {}) {
  const { dir, dbPath } = scratch.fresh();
  await provisionFile(dbPath, fixture);
  const { logger, lines } = logSink();
  const config = loadConfig(serverEnv(dir));
  const running = await startServer(config, logger, { drainTimeoutMs: 300, ...hooks });
  return { running, dbPath, lines };
}

describe('shutdown past the drain timeout', () => {
  it('cuts a request that never finishes sending its body, which changes nothing, and stops cleanly', async () => {
    const { running, dbPath, lines } = await serve();
    let socket: ReturnType<typeof connect> | undefined;
    try {
      const bob = await login(running.url, 'bob@acme.test');
      const ticket = readDb(dbPath, (db) =>
        db
          .prepare("SELECT id FROM tickets WHERE tenant = 'acme' ORDER BY id LIMIT 1")
          .pluck()
          .get(),
      ) as string;
      const historyBefore = readDb(dbPath, (db) =>
        db.prepare('SELECT count(*) FROM history').pluck().get(),
      );
      // A comment whose body stops half way: Node answers 100 Continue once the app's handler has
      // the request, and the handler then waits for the rest of the body.
      const { port } = new URL(running.url);
      socket = connect(Number(port), '127.0.0.1');
      const received: Buffer[] = [];
      const continued = new Promise<void>((resolve) =>
        socket!.on('data', (chunk: Buffer) => {
          received.push(chunk);
          if (Buffer.concat(received).toString('latin1').includes('100 Continue')) resolve();
        }),
      );
      const closedByServer = new Promise<void>((resolve) => socket!.on('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.write(
        [
          `POST /api/tickets/${ticket}/comments HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          `Cookie: ${bob.cookie}`,
          `X-Csrf-Token_${bob.tenant}: ${bob.csrf}`,
          'Content-Type: application/json',
          'Content-Length: 100',
          'Expect: 100-continue',
          '',
          '',
        ].join('\r\n'),
      );
      await continued;
      socket.write('{"Content": "never fin');

      const closing = Date.now();
      await running.close();
      await closedByServer;
      // Cut at the given 300 ms, not at the default 10 s.
      expect(Date.now() - closing).toBeLessThan(8_000);
      const messages = lines.map((line) => line['msg']);
      expect(messages).not.toContain('closing the store under requests still running');
      expect(lines.filter((line) => Number(line['level']) >= 50)).toEqual([]);
      expect(messages.at(-1)).toBe('stopped');
      // The cut request changed nothing.
      expect(readDb(dbPath, (db) => db.prepare('SELECT count(*) FROM history').pluck().get())).toBe(
        historyBefore,
      );
    } finally {
      socket?.destroy();
      await running.close();
    }
  });

  it('stops waiting for handlers at the deadline, says how many still run, and stops', async () => {
    // Every password check is held until the test lets it go: the login's handler runs on after
    // its client hung up, past the 300 ms deadline.
    const checks = new HeldChecks(1, 32, 0);
    const { running, lines } = await serve({ passwordChecks: checks });
    try {
      const client = new AbortController();
      const sent = fetch(`${running.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'bob@acme.test', password: PASSWORD }),
        signal: client.signal,
      }).catch(() => undefined);
      await eventually(() => checks.ran === 1, 30_000);
      client.abort();
      await sent;

      await running.close();
      const messages = lines.map((line) => line['msg']);
      const warning = messages.indexOf('closing the store under requests still running');
      expect(warning).toBeGreaterThan(-1);
      expect(lines[warning]?.['handlers']).toBeGreaterThan(0);
      expect(messages.indexOf('stopped')).toBeGreaterThan(warning);
      expect(running.server.listening).toBe(false);
    } finally {
      checks.held.open();
    }
  });
});

describe('shutdown under background work', () => {
  it('waits for a purge under way before it closes the store', async () => {
    const held = gate();
    let purges = 0;
    let purgeDone = false;
    const { running, lines } = await serve({
      drainTimeoutMs: 30_000,
      purgeEveryMs: 20,
      // The first purge is held until the test lets it go; the store does its work after that.
      wrapStore: (store) =>
        new Proxy(store, {
          get: (target, name) => {
            if (name !== 'purgeExpired') return Reflect.get(target, name, target);
            return async (now: Date) => {
              purges += 1;
              if (purges > 1) return target.purgeExpired(now);
              await held.promise;
              await target.purgeExpired(now);
              purgeDone = true;
            };
          },
        }),
    });
    await eventually(() => purges >= 1, 30_000);
    const closed = running.close();
    await eventually(() => !running.server.listening, 30_000);
    held.open();
    await closed;
    const messages = lines.map((line) => line['msg']);
    // The purge ran on an open store, to its end, before the store was closed.
    expect(purgeDone).toBe(true);
    expect(messages).not.toContain('purge failed');
    expect(messages).not.toContain('closing the store under requests still running');
    expect(messages).toContain('stopped');
  });
});
