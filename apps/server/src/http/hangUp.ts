import type { ServerResponse } from 'node:http';

/**
 * A signal that aborts when the client closes its connection before `response` has been sent:
 * work done for it from then on is work nobody waits for.
 */
export function hangUpSignal(response: ServerResponse): AbortSignal {
  if (response.closed && !response.writableFinished) return AbortSignal.abort();
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
