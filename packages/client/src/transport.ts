import type { CookieJar } from './cookies.js';
import { TicketsClientError } from './errors.js';
import type { Log } from './logger.js';
import type { SessionKeeper } from './session.js';

/** The fetch the client uses: the global one, or the caller's. */
export type Fetch = typeof globalThis.fetch;

/** How long a call waits for its whole answer by default. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** What every path to the server shares: where it is, the session's cookies, the fetch. */
export class Transport {
  constructor(
    readonly baseUrl: string,
    readonly tenant: string,
    readonly jar: CookieJar,
    readonly keeper: SessionKeeper,
    readonly fetch: Fetch,
    readonly log: Log,
    private readonly userAgent: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs one call, `run` reading its whole answer under `signal`, which aborts when that has not
   * happened within the client's timeout (the reason a TimeoutError) or when `outer` aborts; the
   * call then fails with that reason, even under a `fetch` that does not heed its signal. The
   * timer ends with the call. A stream is not timed this way.
   */
  async timed<T>(run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal | null): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      timeout.abort(
        new DOMException(`no whole answer within ${this.timeoutMs} ms`, 'TimeoutError'),
      );
    }, this.timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout.signal]) : timeout.signal;
    let stopWaiting = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      stopWaiting = () => signal.removeEventListener('abort', onAbort);
    });
    try {
      return await Promise.race([run(signal), aborted]);
    } finally {
      clearTimeout(timer);
      stopWaiting();
    }
  }

  /**
   * The session's headers: the cookies and, whenever the client holds a CSRF value, the CSRF header
   * with it, on every request (a server with CSRF `all` asks for it on reads and the stream too).
   */
  sessionHeaders(): Record<string, string> {
    const headers: Record<string, string> = {};
    const cookie = this.jar.header();
    if (cookie !== undefined) headers['Cookie'] = cookie;
    const csrf = this.jar.csrf;
    if (csrf !== undefined) headers[`X-Csrf-Token_${this.tenant}`] = csrf;
    if (this.userAgent !== undefined) headers['User-Agent'] = this.userAgent;
    return headers;
  }

  /** Notes what a failure says about the session (gone when unauthenticated) and answers it. */
  failed(error: unknown): never {
    if (error instanceof TicketsClientError && error.kind === 'unauthenticated') {
      this.keeper.reset();
    }
    throw error;
  }
}
