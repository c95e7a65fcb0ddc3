/**
 * Every way of not reaching PostgreSQL, or of being refused by it, is a 503 with `Retry-After`
 * through HTTP, never a 500: a port nobody listens on (refused), a Unix socket whose file does
 * not exist (ENOENT), a host name that does not resolve (DNS), a database that does not exist,
 * a role it does not know. (Stopping a real server mid-load, with administrator
 * shutdown and recovery, is postgresRestart.test.ts.)
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { StoreBusyError } from '../src/errors/appError.js';
import { createHttpServer } from '../src/http/httpServer.js';
import { createLogger } from '../src/logger.js';
import { PostgresStore } from '../src/store/postgres/postgresStore.js';

describe.each([
  ['refused (nothing listens on the port)', 'postgres://postgres@127.0.0.1:1/test'],
  [
    'a Unix socket whose file is missing',
    'postgres://postgres@/test?host=/nonexistent/tickets-socket',
  ],
  ['a host name that does not resolve', 'postgres://postgres@no-such-host.invalid:5432/test'],
  [
    'answering for a database that does not exist (dropped or renamed)',
    'postgres://postgres@127.0.0.1:5432/tickets_no_such_database',
  ],
  ['refusing a role it does not know', 'postgres://tickets_no_such_role@127.0.0.1:5432/test'],
])('PostgreSQL %s', (_what, url) => {
  it('is StoreBusyError "unreachable" at the store, and 503 with Retry-After through HTTP', async () => {
    const store = await PostgresStore.open(url, { migrate: false });
    const logged: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logged.push(chunk.toString('utf8'));
          callback();
        },
      }),
    );
    const app = createApp({ store, logger, secret: 'test-secret-test-secret-test-secret!' });
    const server = createHttpServer(app.koa, logger);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pinged = await store.ping().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(pinged).toBeInstanceOf(StoreBusyError);
      expect((pinged as StoreBusyError).reason).toBe('unreachable');

      const login = await fetch(`${base}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email: 'ada@acme.test', password: 'correct-horse-1' }),
      });
      expect(login.status).toBe(503);
      expect(Number(login.headers.get('Retry-After'))).toBeGreaterThan(0);
      expect(await login.json()).toMatchObject({ type: 'urn:tickets:problem:unavailable' });

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(logged.join('')).not.toContain('"msg":"request failed"');
    } finally {
      await app.liveChanges.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    }
  });
});
