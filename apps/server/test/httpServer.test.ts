import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InFlight } from '../src/http/inFlight.js';
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
