import { createHash } from 'node:crypto';
import type { AppError, AppErrorCode, Outcome } from '../errors/appError.js';
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord, type Store } from '../store/store.js';

/** An outcome, and whether it is the replay of an earlier call with the same idempotency key. */
export type Replayable<T> = Outcome<T> & { readonly replayed: boolean };

/** The answer of a change that lost to another change of the same ticket. */
export const LOST_RACE: AppError = {
  code: 'CONFLICT',
  message: 'another change to the ticket won; read it again',
};

const KEY_REUSED: Replayable<never> = {
  ok: false,
  error: {
    code: 'IDEMPOTENCY_KEY_REUSED',
    message: 'this Idempotency-Key was used with a different request',
  },
  replayed: false,
};

/** Answers that are not final, so not kept under a key: a fault of ours, a throttle, a 401. */
const NOT_KEPT: ReadonlySet<AppErrorCode> = new Set([
  'INTERNAL',
  'UNAVAILABLE',
  'TOO_MANY_REQUESTS',
  'UNAUTHENTICATED',
]);

const fail = (error: AppError): { ok: false; error: AppError } => ({ ok: false, error });

function requestHash(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/** Builds the record that keeps an outcome under the caller's key, in the change's transaction. */
export type RecordOutcome<T> = (outcome: Outcome<T>) => IdempotencyRecord;

export interface IdempotentCall<T> {
  readonly store: Store;
  readonly now: () => Date;
  readonly userId: string;
  readonly key: string | undefined;
  /** What identifies the request: the operation, its target and its input as parsed. */
  readonly request: unknown[];
  /**
   * Runs the operation from its reads; with a key, `record` must be written in the change's own
   * transaction. `raced`: the write lost (to a request with the same key, or to another change
   * of the ticket), and nothing was written.
   */
  readonly run: (record: RecordOutcome<T> | undefined) => Promise<Outcome<T> | 'raced'>;
  /** Where the runs take turns, if they do (without: each runs at once). */
  readonly turns?: RunTurns | undefined;
}

/** How the runs of a request wait for their turn: its first run, and a run after a lost race. */
export interface RunTurns {
  first<R>(run: () => Promise<R>): Promise<R>;
  again<R>(run: () => Promise<R>): Promise<R>;
}

const AT_ONCE: RunTurns = { first: (run) => run(), again: (run) => run() };

/**
 * How many times a request that lost to another change of its ticket is run: again from its
 * reads, as if it had come a moment later. A comment then lands on the new version, an action
 * still offered in the new state is taken there, one that is not is refused as such (409), and
 * one with `If-Match` gets its 412. Comments take turns (see TicketService.addComment), so that
 * in one process they do not keep racing each other. Only a request that loses this many times
 * over answers LOST_RACE.
 */
export const RUNS_PER_REQUEST = 10;

/**
 * Runs a state-changing operation, again while it loses to other changes (RUNS_PER_REQUEST),
 * and under an idempotency key: a retry with the same key and input gets the stored outcome
 * again (marked replayed); the same key with other input gets 422.
 */
export async function runIdempotent<T>(call: IdempotentCall<T>): Promise<Replayable<T>> {
  const { store, now, userId, key, run } = call;
  const turns = call.turns ?? AT_ONCE;
  if (key === undefined) {
    let outcome = await turns.first(() => run(undefined));
    for (let runs = 1; outcome === 'raced' && runs < RUNS_PER_REQUEST; runs += 1) {
      outcome = await turns.again(() => run(undefined));
    }
    return { ...(outcome === 'raced' ? fail(LOST_RACE) : outcome), replayed: false };
  }
  const hash = requestHash(call.request);
  const replay = async (): Promise<Replayable<T> | undefined> => {
    const stored = await store.getIdempotency(userId, key);
    if (!stored || stored.createdAt.getTime() < now().getTime() - IDEMPOTENCY_TTL_MS)
      return undefined;
    if (stored.requestHash !== hash) {
      return KEY_REUSED;
    }
    return { ...(JSON.parse(stored.outcome) as Outcome<T>), replayed: true };
  };
  const earlier = await replay();
  if (earlier) return earlier;

  const record = (outcome: Outcome<T>): IdempotencyRecord => ({
    userId,
    key,
    requestHash: hash,
    outcome: JSON.stringify(outcome),
    createdAt: now(),
  });
  let result = await turns.first(() => run(record));
  for (let runs = 1; result === 'raced' && runs < RUNS_PER_REQUEST; runs += 1) {
    // Lost a race: to a request with the same key (its answer is replayed), or to another
    // change of the ticket (run again).
    const earlier = await replay();
    if (earlier) return earlier;
    result = await turns.again(() => run(record));
  }
  // Still losing: a final 409 like any other, kept under the key below (where a winner with
  // the same key is found and replayed).
  const outcome: Outcome<T> = result === 'raced' ? fail(LOST_RACE) : result;
  if (outcome.ok) return { ...outcome, replayed: false };
  if (NOT_KEPT.has(outcome.error.code)) return { ...outcome, replayed: false };
  const stored = await store.saveIdempotency(record(outcome));
  if (stored.requestHash !== hash) {
    return KEY_REUSED;
  }
  return {
    ...(JSON.parse(stored.outcome) as Outcome<T>),
    replayed: stored.outcome !== JSON.stringify(outcome),
  };
}
