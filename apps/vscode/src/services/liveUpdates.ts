import type { ChangesOptions, TicketChange } from '@tickets/client';

/** Where the extension logs what it does (the output channel). */
export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The path of the live change feed's requests. */
const FEED_PATH = '/trpc/tickets.changes';

const urlOf = (input: string | URL | Request): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/**
 * A fetch that reports, from the live feed's (re)connections, whether the feed is up: an answer
 * of 200 to a feed request means connected, no answer or an error status means down. The
 * client's EventSource reconnects by itself, so each attempt reports again.
 */
export function observingFeed(fetch: Fetch, report: (up: boolean) => void): Fetch {
  return async (input, init) => {
    if (!urlOf(input).includes(FEED_PATH)) return fetch(input, init);
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      if (!init?.signal?.aborted) report(false);
      throw error;
    }
    report(response.ok);
    return response;
  };
}

export interface Timers {
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface LiveUpdatesDeps {
  /** The client's `changes()`. */
  readonly changes: (options: ChangesOptions) => AsyncIterable<TicketChange>;
  /** Called with every change the feed delivers. */
  readonly onChange: (change: TicketChange) => void;
  /** Reloads what is shown (a poll). */
  readonly poll: () => Promise<void>;
  /** The feed ended with an error waiting cannot fix (the session is gone). */
  readonly onFailed: (error: unknown) => void;
  readonly log: Logger;
  readonly timers: Timers;
}

export interface LiveSettings {
  /** Whether to follow the live feed at all. */
  readonly live: boolean;
  readonly pollIntervalSeconds: number;
}

/** Seconds between polls, kept sane whatever the settings say. */
export const pollIntervalMs = (seconds: number): number =>
  Math.round(Math.min(Math.max(Number.isFinite(seconds) ? seconds : 30, 5), 3600) * 1000);

/**
 * Keeps the view current: the live feed while it is up; polling, said so in the log, while it
 * is down or switched off. `feedStatus` is fed by `observingFeed`.
 */
export class LiveUpdates {
  private abort: AbortController | undefined;
  private pollTimer: unknown;
  private feedUp: boolean | undefined;
  private lastEventId: number | undefined;
  private settings: LiveSettings = { live: true, pollIntervalSeconds: 30 };

  constructor(private readonly deps: LiveUpdatesDeps) {}

  /** Whether polling runs now. */
  get polling(): boolean {
    return this.pollTimer !== undefined;
  }

  start(settings: LiveSettings): void {
    this.stop();
    this.settings = settings;
    if (!settings.live) {
      this.deps.log.info(
        `live updates are off (tickets.live); polling every ${pollIntervalMs(settings.pollIntervalSeconds) / 1000} s`,
      );
      this.startPolling();
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    void this.follow(abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
    this.feedUp = undefined;
    this.stopPolling();
  }

  /** What the feed's connection attempts say: up, or down (then polling takes over). */
  feedStatus(up: boolean): void {
    if (!this.abort || up === this.feedUp) return;
    this.feedUp = up;
    if (up) {
      if (this.polling) {
        this.deps.log.info('live updates: connected again; polling stopped');
        this.stopPolling();
        // The feed resumes after the last event it delivered; with none yet it starts at the
        // end of the log, so what changed since the last poll is read once more.
        if (this.lastEventId === undefined) this.pollOnce();
      } else {
        this.deps.log.info('live updates: connected');
      }
    } else if (!this.polling) {
      this.deps.log.warn(
        `live updates: the live channel is down; polling every ${pollIntervalMs(this.settings.pollIntervalSeconds) / 1000} s until it is back`,
      );
      this.startPolling();
    }
  }

  private async follow(signal: AbortSignal): Promise<void> {
    try {
      const options = {
        signal,
        ...(this.lastEventId !== undefined && { lastEventId: this.lastEventId }),
      };
      for await (const change of this.deps.changes(options)) {
        this.lastEventId = change.eventId;
        this.deps.onChange(change);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.deps.log.error(
        `live updates stopped: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.deps.onFailed(error);
    }
  }

  private pollOnce(): void {
    this.deps.poll().catch((error: unknown) => {
      this.deps.log.warn(`poll failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = this.deps.timers.setInterval(
      () => this.pollOnce(),
      pollIntervalMs(this.settings.pollIntervalSeconds),
    );
  }

  private stopPolling(): void {
    if (this.pollTimer === undefined) return;
    this.deps.timers.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
