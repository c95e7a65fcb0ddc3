import type { InFlight } from '../http/inFlight.js';
import type { Logger } from '../logger.js';
import type { Store, TicketChangeRecord } from '../store/store.js';

/** Changes read from the log at a time. */
const BATCH = 200;

/**
 * Live streams one session may hold open at once in one process: an editor window or two, a
 * script; the VS Code extension opens one per window, and each window signs in with a session of
 * its own.
 */
export const STREAMS_PER_SESSION = 4;

/**
 * The live feed over the store's change log: each subscriber reads the log after its last
 * eventId, and waits for the store to say something new was committed (by this process or
 * another one sharing the database) before it reads again. The log is durable, so a subscriber
 * that comes back with its last eventId misses nothing and gets nothing twice.
 */
export class LiveChanges {
  private readonly waiters = new Set<() => void>();
  /** Live streams open now, by session id. */
  private readonly streamsOfSession = new Map<string, number>();
  private readonly closing = new AbortController();
  private watching: Promise<() => Promise<void>> | undefined;

  /**
   * `inFlight` counts the store reads of every stream while they run: a client can hang up in
   * the middle of one, after which nothing else holds a shutdown until the read is done.
   */
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly inFlight: InFlight,
  ) {}

  /**
   * Counts one more stream of the session and answers how it leaves (once; again is nothing),
   * or `undefined` when the session holds STREAMS_PER_SESSION already: a replay costs the
   * process's CPU, and a client opening stream after stream cannot hold up everyone else's.
   */
  admitStream(sessionId: string): (() => void) | undefined {
    const open = this.streamsOfSession.get(sessionId) ?? 0;
    if (open >= STREAMS_PER_SESSION) return undefined;
    this.streamsOfSession.set(sessionId, open + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const others = (this.streamsOfSession.get(sessionId) ?? 1) - 1;
      if (others > 0) this.streamsOfSession.set(sessionId, others);
      else this.streamsOfSession.delete(sessionId);
    };
  }

  /**
   * The tenant's changes after `afterEventId` (or, without one, those from now on), as they
   * commit, until `signal` aborts or the feed closes.
   */
  async *follow(
    tenant: string,
    afterEventId: number | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<TicketChangeRecord> {
    this.startWatching();
    const stop = AbortSignal.any([signal, this.closing.signal]);
    const stopped = new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    if (stop.aborted) return;
    let cursor = afterEventId ?? (await this.inFlight.track(this.store.latestEventId()));
    while (!stop.aborted) {
      let woken = false;
      let wake = (): void => {};
      const wakeup = new Promise<void>((resolve) => {
        wake = () => {
          woken = true;
          resolve();
        };
      });
      // Registered before reading, so that a commit during the read is not slept through.
      this.waiters.add(wake);
      try {
        for (;;) {
          const batch = await this.inFlight.track(this.read(tenant, cursor));
          for (const change of batch) {
            if (stop.aborted) return;
            cursor = change.eventId;
            yield change;
          }
          if (batch.length < BATCH) break;
        }
        if (!woken) await Promise.race([wakeup, stopped]);
      } finally {
        this.waiters.delete(wake);
      }
    }
  }

  /**
   * The changes after `cursor`, once they are on disk: nothing is sent that a power cut could
   * take back (an eventId handed out again). One step, counted as one by `inFlight`.
   */
  private async read(tenant: string, cursor: number): Promise<TicketChangeRecord[]> {
    const batch = await this.store.listChanges(tenant, cursor, BATCH);
    if (batch.length > 0) await this.store.flushed();
    return batch;
  }

  /** Ends every stream at once (on shutdown, so that the drain is not held up) and stops watching. */
  async close(): Promise<void> {
    this.closing.abort();
    const watching = this.watching;
    this.watching = undefined;
    if (watching) await (await watching)();
  }

  private startWatching(): void {
    if (this.watching || this.closing.signal.aborted) return;
    this.watching = this.store.watchChanges(() => {
      for (const wake of [...this.waiters]) wake();
    });
    this.watching.catch((error: unknown) => {
      this.logger.error({ err: error }, 'cannot watch the change log; live changes stop');
      this.watching = undefined;
    });
  }
}
