import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppState } from '../src/http/context.js';
import { createHttpServer } from '../src/http/httpServer.js';
import { InFlight } from '../src/http/inFlight.js';
import { logSink } from './support/logSink.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/** Sends raw bytes and answers everything the server writes until it closes the connection. */
function raw(url: string, request: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.end(request);
  });
}

describe('answers Node gives before the app sees the request', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each([
    ['malformed HTTP', 'GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 400],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400],
    [
      'headers larger than Node accepts',
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
    [
      'an Expect other than 100-continue',
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\nConnection: close\r\n\r\n',
      417,
    ],
  ])('answers %s with a 4xx that carries an X-Request-Id', async (_what, request, status) => {
    const answer = await raw(server.url, request);
    expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(answer).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
    const id = /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/i.exec(answer)![1];
    expect(server.logs.some((line) => line['requestId'] === id && line['status'] === status)).toBe(
      true,
    );
    // And the server goes on serving.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('InFlight: the handlers a shutdown waits for', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    return { promise, resolve, reject };
  };

  it('settles when the last handler ends, whether it resolved or failed', async () => {
    const inFlight = new InFlight();
    expect(await inFlight.settled(0)).toBe(true);
    const [ok, failing] = [deferred(), deferred()];
    inFlight.track(ok.promise);
    inFlight.track(failing.promise);
    expect(inFlight.size).toBe(2);
    const settled = inFlight.settled(10_000);
    ok.resolve();
    await ok.promise;
    expect(inFlight.size).toBe(1);
    failing.reject(new Error('the handler failed'));
    expect(await settled).toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('gives up after its timeout while a handler still runs, and counts it', async () => {
    const inFlight = new InFlight();
    const stuck = deferred();
    inFlight.track(stuck.promise);
    expect(await inFlight.settled(20)).toBe(false);
    expect(inFlight.size).toBe(1);
    stuck.resolve();
    expect(await inFlight.settled(10_000)).toBe(true);
  });
});

describe('the HTTP server around the app', () => {
  it('logs a failure of the error handling itself, cuts the connection, and goes on serving', async () => {
    const { logger, lines: logs } = logSink();
    const koa = new Koa<AppState>();
    koa.silent = true;
    // Koa reports a handler's error to its 'error' listeners; one that throws fails Koa's own
    // error handling, and the promise of the request's handler rejects.
    koa.on('error', () => {
      throw new Error('the error listener failed');
    });
    koa.use((ctx) => {
      if (ctx.path === '/fails') throw new Error('the handler failed');
      ctx.body = 'ok';
    });
    const inFlight = new InFlight();
    const server = createHttpServer(koa, logger, inFlight);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(fetch(`${url}/fails`)).rejects.toThrow();
      expect(await inFlight.settled(10_000)).toBe(true);
      expect(logs).toContainEqual(
        expect.objectContaining({
          level: 50,
          msg: 'the request handler failed',
          err: expect.objectContaining({ message: 'the error listener failed' }),
        }),
      );
      const served = await fetch(`${url}/`);
      expect(await served.text()).toBe('ok');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
