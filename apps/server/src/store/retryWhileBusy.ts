import { setTimeout as sleep } from 'node:timers/promises';
import { StoreBusyError } from '../errors/appError.js';

export interface BusyPolicy {
  /** The database said "busy" (a lock, a deadlock, a serialization failure): worth a retry. */
  readonly isBusy: (error: unknown) => boolean;
  /** The database cannot be reached: answered at once, never retried (a COMMIT may have happened). */
  readonly isUnreachable?: (error: unknown) => boolean;
  /** How long, in all, a call keeps trying. */
  readonly patienceMs: number;
}

/**
 * Runs a store call again while the database is busy, waiting a little longer each time (with
 * jitter) without blocking the event loop; past the patience, StoreBusyError, which the app
 * answers 503. A call is one transaction, so a failed attempt has written nothing.
 */
export async function retryWhileBusy<T>(call: () => Promise<T>, policy: BusyPolicy): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (policy.isUnreachable?.(error)) throw new StoreBusyError('unreachable', { cause: error });
      if (!policy.isBusy(error)) throw error;
      if (Date.now() - started >= policy.patienceMs)
        throw new StoreBusyError('busy', { cause: error });
      await sleep(Math.min(5 * 2 ** attempt, 200) * (0.5 + Math.random()));
    }
  }
}
