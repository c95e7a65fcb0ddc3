// A failed flush of SQLite's write-ahead log is fatal, as an fsync failure is in PostgreSQL: after
// a write-back error the kernel may drop the dirty pages and report later flushes as successful,
// and recovery discards every commit after a lost frame. So from the first failure on, the store
// acknowledges nothing, /healthz answers 503, and the server exits 1 to be restarted. A flush
// that hangs turns /healthz to 503 too, while it hangs.
import type { FileHandle } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createHttpServer } from '../src/http/httpServer.js';
import type { Logger } from '../src/logger.js';
import { startServer } from '../src/main.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import { StoreBrokenError } from '../src/store/sqlite/walSync.js';
import { provisionFile, readDb, scratchSpace, serverEnv } from './support/childServer.js';
import { logSink } from './support/logSink.js';
import { call, login, type Session } from './support/client.js';
import { fixture } from './support/fixtures.js';

const scratch = scratchSpace('tickets-flush-failure-');

/** fdatasync, failing with EIO while `failing` is set (as a disk's write-back error does). */
function faultyDisk() {
  const disk = {
    failing: false,
    datasync: async (file: FileHandle): Promise<void> => {
      if (disk.failing) {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
      }
      await file.datasync();
    },
  };
  return disk;
}

function logSinkWithFatal() {
  const { lines, logger } = logSink();
  const fatal = () => lines.filter((line) => line['level'] === 60);
  return { lines, logger, fatal };
}

/** The app over `store` on port 0; `stop` closes both. */
async function serve(store: SqliteStore, logger: Logger) {
  const app = createApp({ store, logger, secret: 'test-secret-test-secret-test-secret!' });
  const server: Server = createHttpServer(app.koa, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = async () => {
    await app.liveChanges.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop };
}

const comment = (url: string, session: Session, content: string) =>
  call(url, session, '/api/tickets/ticket1.acme/comments', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ Content: content }),
  });

const storedComments = (dbPath: string): string =>
  readDb(dbPath, (db) =>
    (
      db.prepare("SELECT comments FROM history WHERE ticket_id = 'ticket1.acme'").all() as {
        comments: string;
      }[]
    )
      .map((row) => row.comments)
      .join('\n'),
  );

describe('a failed flush of the write-ahead log (SQLite)', () => {
  it('acknowledges nothing from then on: writes answer 500, /healthz 503, onFatal is told once', async () => {
    const { dbPath } = scratch.fresh();
    await provisionFile(dbPath, fixture);
    const disk = faultyDisk();
    const { logger, fatal, lines } = logSinkWithFatal();
    const fatalErrors: StoreBrokenError[] = [];
    const store = SqliteStore.open(dbPath, {
      logger,
      datasync: disk.datasync,
      onFatal: (error) => fatalErrors.push(error),
    });
    const { url, stop } = await serve(store, logger);
    try {
      const bob = await login(url, 'bob@acme.test');
      expect((await comment(url, bob, 'acknowledged before')).status).toBe(201);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      disk.failing = true;
      const failed = await comment(url, bob, 'written while the flush failed');
      expect(failed.status).toBe(500);
      const failedText = await failed.text();
      expect(failedText).not.toMatch(/EIO|write-ahead|fdatasync/);

      // The disk "recovers": a later flush would succeed, yet nothing is acknowledged any more.
      disk.failing = false;
      const later = await comment(url, bob, 'refused after the failure');
      expect(later.status).toBe(500);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'unavailable' });

      await expect(store.flushed()).rejects.toBeInstanceOf(StoreBrokenError);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreBrokenError);
      expect(fatalErrors).toHaveLength(1);
      expect(fatal()).toHaveLength(1);
      expect(fatal()[0]).toMatchObject({
        msg: expect.stringContaining('write-ahead log') as unknown,
        err: { code: 'EIO' },
      });
      // The detail is in the log, for the operator.
      expect(JSON.stringify(lines)).toContain('EIO');
    } finally {
      await stop();
    }
    // Reopened (recovery), the write refused after the failure was never made.
    const stored = storedComments(dbPath);
    expect(stored).toContain('acknowledged before');
    expect(stored).not.toContain('refused after the failure');
  });

  it('turns /healthz to 503 while a flush hangs, and back to 200 once it returns', async () => {
    const { dbPath } = scratch.fresh();
    await provisionFile(dbPath, fixture);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const hanging = new Promise<void>((resolve) => (entered = resolve));
    let hang = false;
    const { logger } = logSinkWithFatal();
    const store = SqliteStore.open(dbPath, {
      logger,
      flushStalledAfterMs: 1,
      datasync: async (file) => {
        if (hang) {
          entered();
          await released;
        }
        await file.datasync();
      },
    });
    const { url, stop } = await serve(store, logger);
    try {
      const bob = await login(url, 'bob@acme.test');
      hang = true;
      const pending = comment(url, bob, 'waits for a hung disk');
      await hanging;
      await new Promise((resolve) => setTimeout(resolve, 20)); // past the 1 ms limit
      expect((await fetch(`${url}/healthz`)).status).toBe(503);
      hang = false;
      release();
      expect((await pending).status).toBe(201);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      release();
      await stop();
    }
  });

  it('makes the server log at fatal, drain and exit 1, once', async () => {
    const { dir, dbPath } = scratch.fresh();
    await provisionFile(dbPath, fixture);
    const disk = faultyDisk();
    const { logger, fatal } = logSinkWithFatal();
    const config = loadConfig(serverEnv(dir));
    const exits: number[] = [];
    let exited!: () => void;
    const exitCalled = new Promise<void>((resolve) => (exited = resolve));
    const running = await startServer(config, logger, {
      datasync: disk.datasync,
      exit: (code) => {
        exits.push(code);
        exited();
      },
    });
    try {
      const bob = await login(running.url, 'bob@acme.test');
      disk.failing = true;
      expect((await comment(running.url, bob, 'not acknowledged')).status).toBe(500);
      await exitCalled;
      expect(exits).toEqual([1]);
      expect(fatal().map((line) => line['msg'])).toEqual([
        'flushing the write-ahead log failed: the store refuses every write from now on',
        'the store failed for good: stopping, to be restarted (exit code 1)',
      ]);
      // Stopped before exiting: the port no longer answers.
      expect(running.server.listening).toBe(false);
      await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
    } finally {
      await running.close();
    }
  });
});
