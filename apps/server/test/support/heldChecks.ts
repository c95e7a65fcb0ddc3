import { PasswordChecks } from '../../src/service/passwordChecks.js';

/** A promise with its resolve function, to hold work open until the test lets it finish. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Password checks that count the checks they run and hold each one after the first `free` at a
 * gate until the test opens it (`held.open()`).
 */
export class HeldChecks extends PasswordChecks {
  ran = 0;
  readonly held = gate();

  constructor(
    concurrency: number,
    queueLimit: number,
    private readonly free: number,
  ) {
    super(concurrency, queueLimit);
  }

  override run<T>(check: () => Promise<T>, signal?: AbortSignal) {
    return super.run(async () => {
      this.ran += 1;
      if (this.ran > this.free) await this.held.promise;
      return check();
    }, signal);
  }
}
