import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Logger } from '../logger.js';
import type { AppState } from './context.js';
import type { InFlight } from './inFlight.js';

/** Node's own answer to a request it cannot parse, by the parser's error code. */
function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * The HTTP server around the app. Requests Node refuses before Koa sees them (malformed HTTP,
 * oversized headers, an `Expect` other than 100-continue) are answered here, in plain text and
 * with an `X-Request-Id` like every other answer. `inFlight`, when given, counts the app's handlers
 * while they run.
 */
export function createHttpServer(koa: Koa<AppState>, logger: Logger, inFlight?: InFlight): Server {
  const handle = koa.callback();
  const server = createServer((request, response) => {
    // Koa answers every failure itself; should its error handling fail in turn, the fault is
    // logged and the connection cut rather than left hanging.
    const handling = handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'the request handler failed');
      if (!response.writableEnded) response.destroy();
    });
    inFlight?.track(handling);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOf(error.code);
    const requestId = randomUUID();
    logger.info({ requestId, status, code: error.code }, 'refused a request Node could not parse');
    const body = `${STATUS_CODES[status]}\n`;
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'Content-Type: text/plain; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-Id: ${requestId}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });

  server.on('checkExpectation', (request, response) => {
    const requestId = randomUUID();
    logger.info(
      { requestId, status: 417, expect: request.headers.expect },
      'refused an Expect header',
    );
    response.writeHead(417, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Request-Id': requestId,
    });
    response.end('Only "Expect: 100-continue" is supported.\n');
  });
  return server;
}
