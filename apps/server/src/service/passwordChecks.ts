import { availableParallelism } from 'node:os';

/**
 * A process-wide bound on password checks (scrypt, 8 MiB and a hundred milliseconds or more of CPU
 * each, on libuv's thread pool, which the SQLite store's flushes to disk also use). At most
 * `concurrency` run at once, at most `queueLimit` wait; a login beyond that is refused at once
 * (503 with Retry-After) instead of piling up: a flood of logins cannot starve other requests
 * of CPU, memory or the thread pool.
 */
export class PasswordChecks {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  /** Whether a check asked for now would be refused (every slot taken, the queue full). */
  get saturated(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.queueLimit;
  }

  /** How many checks wait for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `check` once a slot is free; `'busy'` (without running it) when the queue is full. A
   * check whose `signal` aborts before its turn (its client hung up) leaves the queue without
   * running: `'abandoned'`. Once it runs, it runs to its end.
   */
  run<T>(check: () => Promise<T>, signal?: AbortSignal): Promise<T | 'abandoned'> | 'busy' {
    if (signal?.aborted) return Promise.resolve('abandoned');
    if (this.saturated) return 'busy';
    return this.inSlot(check, signal);
  }

  /**
   * Runs `check` in its turn, however many wait: for work that must all be done (the users of a
   * provisioning file), not for requests, which `run` refuses past the queue's limit.
   */
  async runInTurn<T>(check: () => Promise<T>): Promise<T> {
    await this.takeSlot();
    return this.holding(check);
  }

  private async inSlot<T>(check: () => Promise<T>, signal?: AbortSignal): Promise<T | 'abandoned'> {
    if (!(await this.takeSlot(signal))) return 'abandoned';
    return this.holding(check);
  }

  /**
   * Takes a slot, at once when one is free (counted before this returns), else in turn; false
   * when `signal` aborts the wait first, which leaves the queue.
   */
  private async takeSlot(signal?: AbortSignal): Promise<boolean> {
    if (this.running < this.concurrency) {
      this.running += 1;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', leave);
        resolve(true);
      };
      const leave = () => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }

  /** Runs `check` in the slot taken, then passes the slot to the next in line, if any. */
  private async holding<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } finally {
      // Passed on, the slot stays counted as running.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

/**
 * The server's bound: half the cores, at least one, at most two (scrypt holds a core each;
 * two of libuv's four threads stay free for file work); a queue of 32: about 2.5 seconds' work
 * with two checks at a time, 5 with one (a check takes about 150 ms of CPU on the benchmark's
 * machine). A shorter queue answers more logins 503 sooner; it did not lower a flood's memory.
 */
export const passwordChecks = new PasswordChecks(
  Math.max(1, Math.min(2, Math.floor(availableParallelism() / 2))),
  32,
);
