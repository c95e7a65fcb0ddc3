import { open, type FileHandle } from 'node:fs/promises';

/** How long a flush may run before the store reports itself unhealthy (it still waits). */
const STALLED_AFTER_MS = 10_000;

/** Flushes the write-ahead log's data to disk: `fdatasync` unless a test injects a failure. */
export type Datasync = (file: FileHandle) => Promise<void>;

/** What every durable write and wait answers once a flush has failed (see WalSync). */
export class StoreBrokenError extends Error {
  constructor(cause: unknown) {
    super('the store refuses writes: flushing its write-ahead log to disk failed; restart it', {
      cause,
    });
    this.name = 'StoreBrokenError';
  }
}

/**
 * Durability without blocking the event loop. The connection runs with `synchronous = NORMAL`:
 * a COMMIT appends its frames to the write-ahead log without waiting for the disk (SQLite still
 * syncs the log's header when it restarts, and the log and the database around every
 * checkpoint). This flushes the log to disk (fdatasync, on libuv's thread pool) before a write
 * is acknowledged: what `synchronous = FULL` does inside each COMMIT, done once for all the
 * commits made meanwhile, and while other requests keep being served. The log is append-only
 * between checkpoints, so one flush covers every commit before it.
 *
 * A failed flush is fatal, as in PostgreSQL: after a write-back error the kernel may drop the
 * dirty pages and report later flushes as successful, and since the log's frames are
 * checksum-chained, recovery would discard every commit after a lost frame. So from the first
 * failure on, nothing is acknowledged any more: every `durable` call rejects at once with a
 * StoreBrokenError, `onFailure` is told once, and only reopening (recovery) makes the store
 * usable again.
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  /** The flush running, if any. */
  private running: Promise<void> = Promise.resolve();
  /** The flush that starts when the running one is done; it covers commits made meanwhile. */
  private next: Promise<void> | undefined;
  /** Commits since the last flush started. */
  private dirty = false;
  private failure: StoreBrokenError | undefined;
  /** When the running flush started (`performance.now()`), while one runs. */
  private flushStartedAt: number | undefined;

  /** `walPath` undefined: an in-memory database, nothing to flush. */
  constructor(
    private readonly walPath: string | undefined,
    private readonly options: {
      readonly datasync?: Datasync | undefined;
      /** Called once, with the StoreBrokenError, when a flush fails. */
      readonly onFailure?: ((error: StoreBrokenError) => void) | undefined;
      /** A flush running longer than this counts as stalled (see `assertHealthy`). */
      readonly stalledAfterMs?: number | undefined;
    } = {},
  ) {}

  /** Set once a flush failed: the store must not acknowledge anything any more. */
  get broken(): StoreBrokenError | undefined {
    return this.failure;
  }

  /** Throws the StoreBrokenError once a flush has failed. */
  assertUsable(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Throws when the store cannot acknowledge writes: a flush failed (StoreBrokenError), or the
   * one running has not returned for `stalledAfterMs` (a hung disk; it may still return).
   */
  assertHealthy(): void {
    this.assertUsable();
    const started = this.flushStartedAt;
    const limit = this.options.stalledAfterMs ?? STALLED_AFTER_MS;
    if (started !== undefined && performance.now() - started > limit) {
      throw new Error(`flushing the write-ahead log has not returned for over ${limit} ms`);
    }
  }

  /** Tells that a transaction just committed: the next `durable` call must flush. */
  committed(): void {
    if (this.walPath !== undefined) this.dirty = true;
  }

  /** Resolves once every commit made before the call is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.dirty) return this.running;
    this.next ??= this.running
      .catch(() => {})
      .then(() => {
        this.next = undefined;
        this.assertUsable();
        this.dirty = false;
        this.running = this.flush();
        // Opening the log failed (no flush was tried): the next call tries again.
        this.running.catch(() => (this.dirty ||= !this.failure));
        return this.running;
      });
    return this.next;
  }

  private fail(cause: unknown): StoreBrokenError {
    if (!this.failure) {
      this.failure = new StoreBrokenError(cause);
      this.options.onFailure?.(this.failure);
    }
    return this.failure;
  }

  private async flush(): Promise<void> {
    this.handle ??= open(this.walPath!, 'r');
    const handle = await this.handle.catch((error: unknown) => {
      this.handle = undefined;
      throw error;
    });
    const datasync = this.options.datasync ?? ((file: FileHandle) => file.datasync());
    this.flushStartedAt = performance.now();
    try {
      await datasync(handle);
    } catch (error) {
      throw this.fail(error);
    } finally {
      this.flushStartedAt = undefined;
    }
  }

  /** Waits for flushes under way, then lets the file go. */
  async close(): Promise<void> {
    await this.durable().catch(() => {});
    const handle = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await handle?.close();
  }
}
