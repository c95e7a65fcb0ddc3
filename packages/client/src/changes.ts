import { fromTrpcError, isTransient } from './errors.js';
import type { Log } from './logger.js';
import type { SessionKeeper } from './session.js';
import { backoff, sleep } from './timing.js';

export interface ChangesOptions {
  /** Resume after this event: the changes after it are delivered first (none missed, none twice). */
  readonly lastEventId?: number | undefined;
  /** Ends the iteration. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * One subscription's connection as the EventSource's fetch sees it: how many (re)connections in a
 * row failed (for the backoff), the auth cookie it connected with, and the answer's request id.
 */
export interface StreamConnection {
  failures: number;
  cookie: string | undefined;
  requestId: string | undefined;
}

/**
 * What the tRPC subscription reports, queued for the iterator; `behind` when the consumer has
 * fallen so far behind that the stream was closed to be opened again later.
 */
type Report<C> =
  | { readonly type: 'data'; readonly change: C }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'end' }
  | { readonly type: 'behind' }
  | { readonly type: 'aborted' };

/** What the feed delivers: the tenant's ticket changes, in increasing `eventId` order. */
export interface Change {
  readonly eventId: number;
}

export interface SubscribeHandlers<C extends Change> {
  onData(tracked: { id: string; data: C }): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
}

/** Starts `tickets.changes` after `lastEventId` with these handlers and this connection. */
export type Subscribe<C extends Change> = (
  lastEventId: number | undefined,
  handlers: SubscribeHandlers<C>,
  connection: StreamConnection,
) => { unsubscribe(): void };

export interface ChangesDeps<C extends Change> {
  readonly subscribe: Subscribe<C>;
  readonly keeper: SessionKeeper;
  /** The auth cookie the client holds now. */
  readonly currentCookie: () => string | undefined;
  readonly log: Log;
}

/** The wait before restarting a stream: from a quarter second, doubling, up to 30 s. */
const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 30_000;

/** How long to wait before a stream starts again: a backoff, or what the server asked, if longer. */
const restartWait = (restarts: number, atLeastMs = 0): number =>
  Math.max(backoff(restarts, RESTART_BASE_MS, RESTART_MAX_MS), atLeastMs);

/**
 * Changes received and not yet taken by the consumer, at most. An EventSource cannot be told to
 * wait: past this, the stream is closed and opened again after the last change taken, once the
 * consumer has caught up (a long replay to a slow consumer is read in such steps).
 */
export const QUEUED_CHANGES_LIMIT = 500;

/** A queue of reports the iterator awaits, or an abort. */
class Reports<C> {
  private readonly items: Report<C>[] = [];
  private waiting: ((report: Report<C>) => void) | undefined;

  get size(): number {
    return this.items.length;
  }

  push(report: Report<C>): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(report);
    else this.items.push(report);
  }

  next(signal: AbortSignal | undefined): Promise<Report<C>> {
    // An abort ends the iteration at once, whatever is still queued.
    if (signal?.aborted) return Promise.resolve({ type: 'aborted' });
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiting = undefined;
        resolve({ type: 'aborted' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting = (report) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(report);
      };
    });
  }
}

/**
 * The tenant's ticket changes, live, as an async iterator over the tRPC subscription. The link's
 * EventSource reconnects by itself after a lost connection, resuming after the last event it
 * received; when the subscription itself fails or ends, it is started again here, after the last
 * change this iterator delivered. Changes are delivered once each, in eventId order. Failures
 * that waiting cannot fix (the session is gone) end the iteration with a TicketsClientError.
 */
export async function* followChanges<C extends Change>(
  deps: ChangesDeps<C>,
  options: ChangesOptions = {},
): AsyncGenerator<C, void, undefined> {
  const { signal } = options;
  const { log } = deps;
  let last = options.lastEventId;
  let restarts = 0;
  const release = deps.keeper.hold();
  try {
    while (!signal?.aborted) {
      const reports = new Reports<C>();
      const connection: StreamConnection = { failures: 0, cookie: undefined, requestId: undefined };
      let behind = false;
      const subscription = deps.subscribe(
        last,
        {
          onData: (tracked) => {
            if (behind) return;
            if (reports.size >= QUEUED_CHANGES_LIMIT) {
              behind = true;
              reports.push({ type: 'behind' });
              subscription.unsubscribe();
              return;
            }
            reports.push({ type: 'data', change: tracked.data });
          },
          onError: (error) => reports.push({ type: 'error', error }),
          onComplete: () => reports.push({ type: 'end' }),
          onConnectionStateChange: (state) => {
            if (state.state === 'pending')
              log.debug('live changes: connected', { lastEventId: last });
            if (state.state !== 'connecting' || !state.error) return;
            connection.failures += 1;
            log.warn('live changes: the connection failed; reconnecting', {
              lastEventId: last,
              failures: connection.failures,
              error: state.error instanceof Error ? state.error.message : String(state.error),
            });
          },
        },
        connection,
      );
      let restartAtOnce = false;
      let waitMs: number | undefined;
      try {
        for (;;) {
          const report = await reports.next(signal);
          if (report.type === 'aborted') return;
          if (report.type === 'data') {
            const { change } = report;
            // Once each: a replay of what was delivered already is dropped.
            if (last !== undefined && change.eventId <= last) continue;
            last = change.eventId;
            connection.failures = 0;
            restarts = 0;
            yield change;
            continue;
          }
          if (report.type === 'behind') {
            log.debug('live changes: the consumer fell behind; reading on from where it is', {
              lastEventId: last,
            });
            restartAtOnce = true;
            break;
          }
          if (report.type === 'end') {
            log.info('live changes: the server ended the stream; starting it again', {
              lastEventId: last,
            });
            break;
          }
          const error = fromTrpcError(report.error, connection.requestId);
          // The client holds another cookie than the stream opened with (a new login ended the
          // old session, or a server that checks the cookie itself saw it expire): go on with it.
          if (
            error.kind === 'unauthenticated' &&
            connection.cookie !== undefined &&
            connection.cookie !== deps.currentCookie() &&
            deps.currentCookie() !== undefined
          ) {
            log.info('live changes: the session changed; reconnecting with it', {
              lastEventId: last,
            });
            restartAtOnce = true;
            break;
          }
          if (!isTransient(error)) {
            log.error('live changes: the stream failed', {
              kind: error.kind,
              error: error.message,
            });
            if (error.kind === 'unauthenticated') deps.keeper.reset();
            throw error;
          }
          // A server that says how long to wait (too many streams, say) is waited out.
          waitMs = restartWait(restarts, (error.retryAfterSeconds ?? 0) * 1000);
          log.warn('live changes: the stream failed; starting it again', {
            kind: error.kind,
            error: error.message,
            lastEventId: last,
            waitMs,
          });
          break;
        }
      } finally {
        subscription.unsubscribe();
      }
      if (!restartAtOnce) {
        await sleep(waitMs ?? restartWait(restarts), signal);
        restarts += 1;
      }
    }
  } finally {
    release();
  }
}
