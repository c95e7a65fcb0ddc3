/**
 * BASELINE, not the product: the HTTP part the two baseline servers of the benchmark share
 * (baselineSqliteServer.ts, baselinePgServer.ts). A bare `node:http` handler for
 * `POST /api/tickets/{TicketID}/actions` doing the least the product must also do: read the
 * JSON body, check the signed session cookie and the CSRF header, run the action, answer the
 * new state as `text/plain`. It exists only to be measured beside the product.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** What a baseline store does for one action: the new state, or an HTTP error to answer. */
export type BaselineAction = (input: {
  readonly sessionId: string;
  readonly csrf: string;
  readonly ticketId: string;
  readonly action: 'resolve' | 'reopen';
  readonly comments: string;
}) => Promise<{ readonly status: number; readonly text: string }>;

const ACTION_PATH = /^\/api\/tickets\/([^/]+)\/actions$/;

/** The TokenID of a product-signed `AtmoAuthToken_{tenant}` value, when its signature holds. */
function sessionIdOf(cookieValue: string, secret: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(cookieValue);
  } catch {
    return undefined;
  }
  const at = decoded.lastIndexOf(',sig=');
  if (at < 0) return undefined;
  const payload = decoded.slice(0, at);
  const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('base64url'));
  const given = Buffer.from(decoded.slice(at + 5));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const token = payload.split(',').find((field) => field.startsWith('TokenID='));
  return token?.slice('TokenID='.length);
}

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  secret: string,
  run: BaselineAction,
): Promise<void> {
  const match = request.method === 'POST' ? ACTION_PATH.exec(request.url ?? '') : null;
  if (!match) return answer(response, 404, 'not found');
  const ticketId = decodeURIComponent(match[1]!);
  const tenant = ticketId.slice(ticketId.lastIndexOf('.') + 1);
  const cookie = (request.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`AtmoAuthToken_${tenant}=`));
  const sessionId = cookie && sessionIdOf(cookie.slice(cookie.indexOf('=') + 1), secret);
  const csrf = request.headers[`x-csrf-token_${tenant}`.toLowerCase()];
  if (!sessionId || typeof csrf !== 'string') return answer(response, 401, 'unauthenticated');
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let body: { ActionName?: unknown; Comments?: unknown };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
  } catch {
    return answer(response, 400, 'malformed body');
  }
  const action =
    body.ActionName === 'ticket.action.resolve'
      ? 'resolve'
      : body.ActionName === 'ticket.action.reopen'
        ? 'reopen'
        : undefined;
  if (!action) return answer(response, 400, 'unknown action');
  const comments = typeof body.Comments === 'string' ? body.Comments : '';
  const result = await run({
    sessionId,
    csrf: decodeURIComponent(csrf),
    ticketId,
    action,
    comments,
  });
  answer(response, result.status, result.text);
}

/** Serves the action endpoint on 127.0.0.1:`port` until the process is ended. */
export function serveBaseline(port: number, secret: string, run: BaselineAction): void {
  const server = createServer((request, response) => {
    handle(request, response, secret, run).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) answer(response, 500, 'internal');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
}

/** The states each action leaves and reaches in the default workflow, with the target step. */
export const TRANSITIONS = {
  resolve: { from: ['OPEN', 'REOPEN'], to: 'RESOLVED', step: 2 },
  reopen: { from: ['RESOLVED', 'CLOSED'], to: 'REOPEN', step: 4 },
} as const;
