import type Database from 'better-sqlite3';
import { retryWhileBusy, type BusyPolicy } from '../retryWhileBusy.js';

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for SQLite: the writes that arrive together (in one turn of the event loop) share
 * one write transaction, hence one COMMIT and one flush to disk, instead of one each. Each write
 * runs in a SAVEPOINT of its own, so one that throws is rolled back alone and the others still
 * commit. A caller's promise settles only after the COMMIT and `durable()` (the flush) are done:
 * an answer is never sent for a write that is not yet on disk, and a crash before then loses
 * only writes nobody was told about.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private batches = 0;
  /** Transaction control, prepared once (exec would parse it again for every write). */
  private readonly control: Record<
    'begin' | 'savepoint' | 'release' | 'rollbackTo' | 'commit' | 'rollback',
    Database.Statement
  >;

  constructor(
    private readonly db: Database.Database,
    private readonly busy: BusyPolicy,
    /** Resolves once every commit so far is on disk (see WalSync). */
    private readonly durable: () => Promise<void> = () => Promise.resolve(),
    /** Throws when nothing may be written any more (a flush failed): the batch is refused. */
    private readonly assertUsable: () => void = () => {},
  ) {
    this.control = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      savepoint: db.prepare('SAVEPOINT write'),
      release: db.prepare('RELEASE write'),
      rollbackTo: db.prepare('ROLLBACK TO write'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
  }

  /** How many transactions have committed batches so far. */
  get committedBatches(): number {
    return this.batches;
  }

  /**
   * Runs `work` (synchronous statements on the connection) inside the next batch's transaction,
   * in its own savepoint. Resolves with what it returned once the batch committed; rejects with
   * what it threw (its own writes rolled back), or with the error that failed the whole batch.
   */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current I/O phase: every request read in it has queued its write by then.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    // Busy (another process holds the write lock): nothing was written; the batch is tried
    // again, asynchronously, as a whole.
    retryWhileBusy(async () => this.commit(batch), this.busy)
      .then(async (settled) => {
        await this.durable();
        return settled;
      })
      .then(
        (settled) => {
          settled.forEach((outcome, index) => {
            if (outcome.ok) batch[index]!.resolve(outcome.value);
            else batch[index]!.reject(outcome.error);
          });
        },
        (error: unknown) => {
          for (const pending of batch) pending.reject(error);
        },
      );
  }

  private commit(batch: readonly Pending[]): Settled[] {
    const { begin, savepoint, release, rollbackTo, commit, rollback } = this.control;
    this.assertUsable();
    begin.run();
    try {
      const settled = batch.map((pending): Settled => {
        savepoint.run();
        try {
          const value = pending.work();
          release.run();
          return { ok: true, value };
        } catch (error) {
          rollbackTo.run();
          release.run();
          return { ok: false, error };
        }
      });
      commit.run();
      this.batches += 1;
      return settled;
    } catch (error) {
      if (this.db.inTransaction) rollback.run();
      throw error;
    }
  }
}
