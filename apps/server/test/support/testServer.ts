import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { createHttpServer } from '../../src/http/httpServer.js';
import { createLogger } from '../../src/logger.js';
import { provision, type ProvisionInput } from '../../src/provision.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import type { Store } from '../../src/store/store.js';
import { fixture } from './fixtures.js';

export interface TestServer extends AsyncDisposable {
  readonly url: string;
  readonly app: App;
  readonly store: SqliteStore;
  /** The SQLite file on disk. */
  readonly dbPath: string;
  /** Every log line written, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<AppDeps, 'store' | 'logger'>> {
  /** What to provision; the two-tenant fixture by default. */
  readonly data?: ProvisionInput;
  /** Wraps the store the app sees (e.g. to make a method fail); provisioning and `store` use the real one. */
  readonly wrapStore?: (store: Store) => Store;
}

/** The real app on port 0 over a fresh SQLite file in a temporary folder. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tickets-test-'));
  const dbPath = join(dir, 'tickets.db');
  const { data, wrapStore, ...deps } = options;
  const store = SqliteStore.open(dbPath);
  await provision(store, data ?? fixture);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger('info', sink);
  const app = createApp({
    secret: 'test-secret-test-secret-test-secret!',
    ...deps,
    store: wrapStore ? wrapStore(store) : store,
    logger,
  });
  const server: Server = createHttpServer(app.koa, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.liveChanges.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    store,
    dbPath,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}
