/**
 * The request handlers still running. A handler can outlive its connection (a client that hung
 * up while its login waited for a password check, or whose connection the drain's timeout
 * closed), so a shutdown waits for them, not only for the connections, before it closes the
 * store under them.
 */
export class InFlight {
  private running = 0;
  private readonly waiting = new Set<() => void>();

  /** How many handlers are running. */
  get size(): number {
    return this.running;
  }

  /** Counts `handling` until it settles. */
  track(handling: Promise<unknown>): void {
    this.running += 1;
    const done = () => {
      this.running -= 1;
      if (this.running === 0) for (const wake of this.waiting) wake();
    };
    handling.then(done, done);
  }

  /** Resolves `true` once no handler runs, or `false` if some still do after `timeoutMs`. */
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
