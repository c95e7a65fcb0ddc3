import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createHttpServer } from './http/httpServer.js';
import { DEMO_PASSWORD, demoData } from './demo.js';
import type { Logger } from './logger.js';
import { provision } from './provision.js';
import type { PasswordChecks } from './service/passwordChecks.js';
import { resolveSecret } from './secret.js';
import { openStore } from './store/openStore.js';
import type { Store } from './store/store.js';
import type { Datasync } from './store/sqlite/walSync.js';

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  /** Stops accepting, drains in-flight requests, closes the database. */
  close(): Promise<void>;
}

export interface ServerHooks {
  /** How SQLite's write-ahead log is flushed (default fdatasync): tests inject a failure. */
  readonly datasync?: Datasync;
  /** Ends the process after a fatal store failure (default `process.exit`). */
  readonly exit?: (code: number) => void;
  /** How long a shutdown waits for requests in flight before it cuts them (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** The bound on password checks (default: the process-wide one); tests hold checks open. */
  readonly passwordChecks?: PasswordChecks;
  /** How often expired sessions, records and counters are purged (default every 10 minutes). */
  readonly purgeEveryMs?: number;
  /** Wraps the store once opened: tests hold a store call open. */
  readonly wrapStore?: (store: Store) => Store;
}

/** What an operator does on an empty database (logged by `serve`, which never seeds one itself). */
export const FIRST_TENANT_HINT =
  'nobody can log in yet: write a provisioning file with a tenant and a user with "siteAdmin": true, ' +
  'then run `tickets-server provision FILE` against this database (docs/operating.md); ' +
  'for a demo with known passwords instead, TICKETS_DEMO=on';

const PURGE_EVERY_MS = 10 * 60 * 1000;
/** How long a shutdown waits for requests in flight before it cuts them. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The only place that listens: opens the store, provisions the demo on an empty database when
 * asked to (`TICKETS_DEMO=on`, as `npm start` does), serves. When the store fails for good (a
 * flush to disk failed: it acknowledges nothing any more), stops and exits 1, so that a
 * supervisor restarts the server and reopening the database recovers it.
 */
export async function startServer(
  config: Config,
  logger: Logger,
  hooks: ServerHooks = {},
): Promise<RunningServer> {
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  let stop: (() => Promise<void>) | undefined = undefined;
  const onFatal = () => {
    logger.fatal('the store failed for good: stopping, to be restarted (exit code 1)');
    // Before the server listens, nothing to drain: the failure also fails whatever was starting.
    void (stop?.() ?? Promise.resolve())
      .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
      .finally(() => exit(1));
  };
  // Before the database is opened: an unusable secret file stops the start with nothing to close.
  const secret = resolveSecret(config.secret, config.dataDir);
  const opened = await openStore(config.database, { logger, onFatal, datasync: hooks.datasync });
  const store = hooks.wrapStore?.(opened) ?? opened;
  // Until the server listens, a failure (the port taken, say) closes what was opened before it
  // is thrown: on PostgreSQL the pool's connections and the counts' folding would otherwise keep
  // the process alive after the error was printed.
  let app: ReturnType<typeof createApp> | undefined;
  let demo: boolean;
  let server: ReturnType<typeof createHttpServer>;
  try {
    const empty = (await store.countTenants()) === 0;
    demo = config.demo && empty;
    if (demo) {
      await provision(store, demoData);
      logger.info({ tenant: 'demo' }, 'provisioned the demo tenant on an empty database');
    } else if (empty) {
      // Never seeded with known passwords: the operator provisions the first tenant and site admin.
      logger.warn({ hint: FIRST_TENANT_HINT }, 'the database has no tenant yet');
    }
    app = createApp({
      store,
      logger,
      secret,
      sessionMinutes: config.sessionMinutes,
      sessionMaxMinutes: config.sessionMaxMinutes,
      csrf: config.csrf,
      trustProxy: config.trustProxy,
      ...(hooks.passwordChecks && { passwordChecks: hooks.passwordChecks }),
    });
    const listening = createHttpServer(app.koa, logger, app.inFlight);
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, () => resolve());
    });
    server = listening;
  } catch (error) {
    await app?.liveChanges.close();
    await store
      .close()
      .catch((closeError: unknown) =>
        logger.error({ err: closeError }, 'closing the store failed'),
      );
    throw error;
  }
  const { liveChanges, inFlight } = app;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, database: config.database.kind }, 'listening');
  // Printed once the port is known (PORT=0 picks one), with the address that really answers.
  if (demo) process.stderr.write(demoInstructions(url));

  const purge = setInterval(() => {
    inFlight
      .track(store.purgeExpired(new Date()))
      .catch((error: unknown) => logger.error({ err: error }, 'purge failed'));
  }, hooks.purgeEveryMs ?? PURGE_EVERY_MS);
  purge.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(purge);
      // Live streams would hold their connections open until the drain timeout.
      await liveChanges.close();
      const drainMs = hooks.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
      const deadline = Date.now() + drainMs;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), drainMs);
      await drained;
      clearTimeout(timer);
      // The connections are gone, but a handler may still run (its client hung up while its
      // password was being checked): the store stays open for it until the same deadline.
      if (!(await inFlight.settled(deadline - Date.now()))) {
        logger.warn({ handlers: inFlight.size }, 'closing the store under requests still running');
      }
      await store.close();
      logger.info('stopped');
    })();
    return closing;
  };
  stop = close;
  return { url, server, close };
}

function demoInstructions(base: string): string {
  return `
  Demo tenant "demo" is ready. Every demo user's password is ${DEMO_PASSWORD}:
    admin@demo.test   site admin (may do everything)
    ada@demo.test     admin of the Payments API (payments.demo)
    bob@demo.test     admin of the Checkout app (checkout.demo)
    carol@demo.test   a developer who reported most tickets

  Try it:
    curl -c jar -H 'Content-Type: application/json' \\
      -d '{"email":"ada@demo.test","password":"${DEMO_PASSWORD}"}' ${base}/api/login
    curl -b jar ${base}/api/tickets

`;
}
