import { open, type FileHandle } from 'node:fs/promises';

/**
 * Durability without blocking the event loop. The connection runs with `synchronous = NORMAL`:
 * a COMMIT appends its frames to the write-ahead log without waiting for the disk (SQLite still
 * syncs the log's header when it restarts, and the log and the database around every
 * checkpoint). This flushes the log to disk (fdatasync, on libuv's thread pool) before a write
 * is acknowledged: what `synchronous = FULL` does inside each COMMIT, done once for all the
 * commits made meanwhile, and while other requests keep being served. The log is append-only
 * between checkpoints, so one flush covers every commit before it.
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  /** The flush running, if any. */
  private running: Promise<void> = Promise.resolve();
  /** The flush that starts when the running one is done; it covers commits made meanwhile. */
  private next: Promise<void> | undefined;
  /** Commits since the last flush started. */
  private dirty = false;

  /** `walPath` undefined: an in-memory database, nothing to flush. */
  constructor(private readonly walPath: string | undefined) {}

  /** Tells that a transaction just committed: the next `durable` call must flush. */
  committed(): void {
    if (this.walPath !== undefined) this.dirty = true;
  }

  /** Resolves once every commit made before the call is on disk. */
  durable(): Promise<void> {
    if (!this.dirty) return this.running;
    this.next ??= this.running
      .catch(() => {})
      .then(() => {
        this.next = undefined;
        this.dirty = false;
        this.running = this.flush();
        // A failed flush proves nothing: the next call flushes again.
        this.running.catch(() => (this.dirty = true));
        return this.running;
      });
    return this.next;
  }

  private async flush(): Promise<void> {
    this.handle ??= open(this.walPath!, 'r');
    const handle = await this.handle.catch((error: unknown) => {
      this.handle = undefined;
      throw error;
    });
    await handle.datasync();
  }

  /** Waits for flushes under way, then lets the file go. */
  async close(): Promise<void> {
    await this.durable().catch(() => {});
    const handle = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await handle?.close();
  }
}
