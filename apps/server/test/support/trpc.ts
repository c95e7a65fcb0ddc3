import type { Session } from './client.js';

/** A tRPC answer over HTTP: status, the parsed envelope, and the headers. */
export interface TrpcAnswer {
  readonly status: number;
  readonly body: {
    result?: { data: unknown };
    error?: {
      message: string;
      data: { code: string; httpStatus: number; problemType: string; field?: string };
    };
  };
  readonly headers: Headers;
}

function sessionHeaders(session: Session | undefined, csrf: boolean): Record<string, string> {
  if (!session) return {};
  return {
    Cookie: session.cookie,
    ...(csrf && { [`X-Csrf-Token_${session.tenant}`]: session.csrf }),
  };
}

/** A tRPC query as the standard HTTP link sends it: GET with the input as JSON in `?input=`. */
export async function trpcQuery(
  url: string,
  session: Session | undefined,
  path: string,
  input?: unknown,
): Promise<TrpcAnswer> {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await fetch(`${url}/trpc/${path}${query}`, {
    headers: sessionHeaders(session, false),
  });
  return {
    status: response.status,
    body: (await response.json()) as TrpcAnswer['body'],
    headers: response.headers,
  };
}

/** A tRPC mutation: POST with the input as the JSON body; the CSRF header unless `noCsrf`. */
export async function trpcMutation(
  url: string,
  session: Session | undefined,
  path: string,
  input?: unknown,
  options: { noCsrf?: boolean; body?: string } = {},
): Promise<TrpcAnswer> {
  const response = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...sessionHeaders(session, !options.noCsrf) },
    body: options.body ?? JSON.stringify(input ?? null),
  });
  return {
    status: response.status,
    body: (await response.json()) as TrpcAnswer['body'],
    headers: response.headers,
  };
}

/** The data of a successful answer (fails the test with the error otherwise). */
export function dataOf<T>(answer: TrpcAnswer): T {
  if (answer.body.error || answer.status !== 200) {
    throw new Error(`tRPC call failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.result!.data as T;
}

/** The error's tRPC code, HTTP status and problem type, for one-line expectations. */
export function errorOf(answer: TrpcAnswer) {
  const error = answer.body.error;
  return {
    status: answer.status,
    code: error?.data.code,
    problemType: error?.data.problemType,
  };
}

export interface SseEvent {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

/**
 * Reads a tRPC subscription's server-sent events as they come, until `stop` aborts; `onEvent`
 * sees each data event and each `serialized-error` (not pings, `connected` or `return`).
 */
export async function readSse(
  url: string,
  session: Session,
  path: string,
  input: unknown,
  stop: AbortSignal,
  onEvent: (event: SseEvent) => void,
): Promise<{ status: number; ended: 'server' | 'aborted' }> {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await fetch(`${url}/trpc/${path}${query}`, {
    headers: { Cookie: session.cookie, Accept: 'text/event-stream' },
    signal: stop,
  });
  if (!response.body) return { status: response.status, ended: 'server' };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          if (colon < 0) continue;
          const name = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          fields.set(name, fields.has(name) ? `${fields.get(name)}\n${value}` : value);
        }
        const data = fields.get('data');
        const event = fields.get('event');
        // Named events are tRPC's own (`connected`, `ping`, `return`, `serialized-error`).
        if (data === undefined || (event !== undefined && event !== 'serialized-error')) continue;
        onEvent({
          data,
          ...(fields.has('id') && { id: fields.get('id')! }),
          ...(event !== undefined && { event }),
        });
      }
    }
    return { status: response.status, ended: 'server' };
  } catch (error) {
    if (stop.aborted) return { status: response.status, ended: 'aborted' };
    throw error;
  }
}

/** Waits until `check` holds, polling; fails after `ms`. */
export async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
