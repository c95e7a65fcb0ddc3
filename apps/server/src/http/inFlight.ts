/**
 * The work still running that may use the store: request handlers, tRPC procedures, a live
 * stream's reads, the purge. Such work can outlive its connection (a client that hung up while
 * its password was being checked, or whose connection the drain's timeout closed), so a shutdown
 * waits for it, not only for the connections, before it closes the store under it.
 */
export class InFlight {
  private running = 0;
  private readonly waiting = new Set<() => void>();

  /** How many are running. */
  get size(): number {
    return this.running;
  }

  /** Counts `handling` until it settles, and answers it. */
  track<T>(handling: Promise<T>): Promise<T> {
    this.running += 1;
    const done = () => {
      this.running -= 1;
      if (this.running === 0) for (const wake of this.waiting) wake();
    };
    handling.then(done, done);
    return handling;
  }

  /** Resolves `true` once nothing runs, or `false` if something still does after `timeoutMs`. */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve(idle);
      };
      const wake = () => finish(true);
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      this.waiting.add(wake);
    });
  }
}
