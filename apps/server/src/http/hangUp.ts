import { setMaxListeners } from 'node:events';
import type { ServerResponse } from 'node:http';

const signals = new WeakMap<ServerResponse, AbortSignal>();

/**
 * A signal that aborts when the client closes its connection before `response` has been sent:
 * work done for it from then on is work nobody waits for. One per response, however many calls
 * ask for it (a tRPC batch of logins).
 */
export function hangUpSignal(response: ServerResponse): AbortSignal {
  let signal = signals.get(response);
  if (signal) return signal;
  if (response.closed && !response.writableFinished) {
    signal = AbortSignal.abort();
  } else {
    const controller = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    signal = controller.signal;
    // Each login of a batch that waits in line for a password check listens to it, so it may
    // have as many listeners as the line has places: not a leak.
    setMaxListeners(0, signal);
  }
  signals.set(response, signal);
  return signal;
}
