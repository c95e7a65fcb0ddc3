/**
 * What the client's tests share: the server's own test harness (the real app on port 0 over a
 * temporary SQLite file, child `serve` processes, PostgreSQL schemas), a client made for a test
 * server, bounded waits, and a TCP proxy that can cut connections.
 */
import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../../../apps/server/test/support/testServer.js';
import {
  createTicketsClient,
  TicketsClientError,
  type TicketChange,
  type TicketsClient,
  type TicketsClientOptions,
} from '../src/index.js';

export { startTestServer, type TestServer };
export { fixture, PASSWORD } from '../../../apps/server/test/support/fixtures.js';
export {
  act as restAct,
  call,
  login as restLogin,
  type Session,
} from '../../../apps/server/test/support/client.js';
export {
  provisionFile,
  runCli,
  serverEnv,
  startChildServer,
  tempDir,
  type ChildServer,
  type TempDir,
} from '../../../apps/server/test/support/childServer.js';
export {
  createSchema,
  dropSchema,
  TEST_DATABASE_URL,
  urlWithSearchPath,
} from '../../../apps/server/test/support/postgres.js';

export const TENANT = 'acme';

/** One log line the client wrote. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly details: Record<string, unknown> | undefined;
}

/** A logger that keeps what it is told. */
export function memoryLogger() {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push({ level, message, details });
    };
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

/** A client of the test tenant at `url`, with a logger that keeps its lines. */
export function clientOf(
  url: string,
  options: Partial<TicketsClientOptions> = {},
): { client: TicketsClient; lines: LogLine[] } {
  const { lines, logger } = memoryLogger();
  const client = createTicketsClient({ baseUrl: url, tenant: TENANT, logger, ...options });
  return { client, lines };
}

/** A client logged in as `email`. */
export async function loggedIn(
  url: string,
  email: string,
  options: Partial<TicketsClientOptions> = {},
): Promise<{ client: TicketsClient; lines: LogLine[] }> {
  const made = clientOf(url, options);
  await made.client.login({ email, password: 'correct-horse-1' });
  return made;
}

/** Polls `check` until it holds; fails after `timeoutMs` (a hang guard, not a timed assertion). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = 'the condition',
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The error a promise rejects with, which must be a TicketsClientError. */
export async function failure(promise: Promise<unknown>): Promise<TicketsClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TicketsClientError) return error;
    throw new Error(`expected a TicketsClientError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/**
 * Reads a `changes()` iterator in the background into `received`, until `stop()` (which aborts
 * the iterator's signal and waits for the loop to end). `done` says how the loop ended.
 */
export function watch(
  client: TicketsClient,
  options: { lastEventId?: number } = {},
): {
  received: TicketChange[];
  done: Promise<{ error?: unknown }>;
  stop(): Promise<{ error?: unknown }>;
} {
  const controller = new AbortController();
  const received: TicketChange[] = [];
  const done = (async () => {
    try {
      for await (const change of client.changes({ ...options, signal: controller.signal }))
        received.push(change);
      return {};
    } catch (error) {
      return { error };
    }
  })();
  return {
    received,
    done,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

/** Waits until the client's log says the live stream is connected `times` times in all. */
export function connected(lines: readonly LogLine[], times = 1): Promise<void> {
  return eventually(
    () => lines.filter((line) => line.message === 'live changes: connected').length >= times,
    30_000,
    `${times} connection(s) of the live stream`,
  );
}

/** A TCP proxy on 127.0.0.1 in front of `target` (host:port), which can cut what it relays. */
export interface Proxy {
  readonly url: string;
  /** Points new connections elsewhere (a restarted server). */
  retarget(url: string): void;
  /** Destroys every open connection, both sides. */
  dropAll(): void;
  /**
   * Cuts the connection that carries the next request whose first line matches: the request
   * reaches the server, its answer never reaches the client. Resolves once cut.
   */
  cutAnswerTo(requestLine: RegExp): Promise<void>;
  /**
   * Holds back the answer to the next request whose first line matches, the connection left
   * open: nothing of it, or with `bodyOnly` its headers but not its body, reaches the client (a
   * server that stalls). Resolves once the answer has come from the server and been held.
   */
  holdAnswerTo(requestLine: RegExp, options?: { readonly bodyOnly?: boolean }): Promise<void>;
  /** How many client connections are open whose latest request line matched. */
  openConnections(requestLine: RegExp): number;
  close(): Promise<void>;
}

export async function startProxy(targetUrl: string): Promise<Proxy> {
  let target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const cuts: { pattern: RegExp; done: () => void }[] = [];
  const holds: { pattern: RegExp; bodyOnly: boolean; done: () => void }[] = [];
  const requestLines = new Map<Socket, string>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    let cutNextAnswer: (() => void) | undefined;
    let holding: { bodyOnly: boolean; done: () => void; held: boolean } | undefined;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      requestLines.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      const firstLine = chunk.toString('latin1').split('\r\n', 1)[0] ?? '';
      if (/^[A-Z]+ \S+ HTTP\/1\.1$/.test(firstLine) && sockets.has(client))
        requestLines.set(client, firstLine);
      const index = cuts.findIndex((cut) => cut.pattern.test(firstLine));
      if (index >= 0) cutNextAnswer = cuts.splice(index, 1)[0]!.done;
      const hold = holds.findIndex((held) => held.pattern.test(firstLine));
      if (hold >= 0) holding = { ...holds.splice(hold, 1)[0]!, held: false };
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutNextAnswer) {
        const done = cutNextAnswer;
        cutNextAnswer = undefined;
        end();
        done();
        return;
      }
      if (holding) {
        // Once held, the rest of this connection's answers are held too.
        if (holding.bodyOnly && !holding.held) {
          const headersEnd = chunk.indexOf('\r\n\r\n');
          client.write(headersEnd >= 0 ? chunk.subarray(0, headersEnd + 4) : chunk);
          if (headersEnd < 0) return;
        }
        if (!holding.held) holding.done();
        holding.held = true;
        return;
      }
      client.write(chunk);
    });
    upstream.connect(Number(target.port), target.hostname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    retarget: (url) => {
      target = new URL(url);
    },
    dropAll: () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    cutAnswerTo: (pattern) => new Promise<void>((resolve) => cuts.push({ pattern, done: resolve })),
    holdAnswerTo: (pattern, options = {}) =>
      new Promise<void>((resolve) =>
        holds.push({ pattern, bodyOnly: options.bodyOnly === true, done: resolve }),
      ),
    openConnections: (pattern) =>
      [...requestLines].filter(([socket, line]) => !socket.destroyed && pattern.test(line)).length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The in-process test server with a proxy in front of it, for the tests of a describe block:
 * both started before them and closed after.
 */
export function serverBehindProxy(): { readonly server: TestServer; readonly proxy: Proxy } {
  let server: TestServer | undefined;
  let proxy: Proxy | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    proxy = await startProxy(server.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the server is not started yet (use in a test)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get proxy() {
      return started(proxy);
    },
  };
}

/** A URL where nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * The PostgreSQL the tests use. Like the server's tests, they fail rather than skip when it cannot
 * be reached; under CI, TEST_DATABASE_URL must be set.
 */
export function requirePostgresUrl(): string {
  if (process.env['CI'] === 'true' && !process.env['TEST_DATABASE_URL'])
    throw new Error('CI=true: set TEST_DATABASE_URL to the PostgreSQL these tests need');
  return process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}
