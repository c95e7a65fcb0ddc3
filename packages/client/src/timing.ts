/** Waits `ms`, or less when `signal` aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The wait before retry `attempt` (0, 1, 2 …): doubling from `baseMs` up to `maxMs`, with jitter. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}
