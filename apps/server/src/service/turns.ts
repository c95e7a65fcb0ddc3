/**
 * Work that takes turns by key: one task of a key runs at a time, in the order they came;
 * tasks of different keys run freely. A task's failure is its caller's, not the next task's.
 */
export class Turns {
  /** The last task of each key that has one queued or running: it settles, never rejects. */
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Whether a task of `key` is queued or running. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
