import type { Ticket } from '@tickets/contract';
import { TICKET_STATES } from '@tickets/domain';
import { httpError, networkError, TicketsClientError } from './errors.js';
import { backoff, sleep } from './timing.js';
import type { Transport } from './transport.js';

export interface ActOptions {
  /** The workflow action, e.g. `ticket.action.resolve`. */
  readonly action: string;
  /** One comment or several, recorded with the transition. */
  readonly comments?: string | readonly string[] | undefined;
  /** The version the caller read: the action fails `version-mismatch` if the ticket moved on. */
  readonly ifMatch?: number | undefined;
  /** Makes a retried request count once; the client makes one when none is given. */
  readonly idempotencyKey?: string | undefined;
  /** Checks the action without applying it. */
  readonly dryRun?: boolean | undefined;
}

/** What an action did: the ticket's new state and version; `replayed` for a repeated request. */
export interface ActResult {
  readonly state: TicketState;
  readonly version: number;
  readonly replayed: boolean;
}

/** How many times an action is sent again after a lost connection, and how long between. */
const RETRIES = 3;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 2_000;

export type TicketState = Ticket['state'];

// From the domain, not the contract's zod schema: a bundle of the client (the VS Code extension)
// then needs no zod at all.
const STATES: readonly string[] = TICKET_STATES;
const isState = (text: string): text is TicketState => STATES.includes(text);

/** `"3"` (or `W/"3"`) as 3. */
function versionOf(etag: string | null): number {
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(etag?.trim() ?? '');
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Runs a workflow action through the REST action endpoint, `POST /api/tickets/{id}/actions`,
 * which answers the new state as text. A lost connection or no whole answer within the client's
 * timeout is retried a few times with the same `Idempotency-Key`, so the action is applied once;
 * an HTTP error is never retried.
 */
export async function act(
  transport: Transport,
  id: string,
  options: ActOptions,
): Promise<ActResult> {
  await transport.keeper.ensureFresh();
  const dryRun = options.dryRun === true;
  const key = options.idempotencyKey ?? (dryRun ? undefined : crypto.randomUUID());
  const url = `${transport.baseUrl}/api/tickets/${encodeURIComponent(id)}/actions${dryRun ? '?dryRun=true' : ''}`;
  const body = JSON.stringify({
    ActionName: options.action,
    ...(options.comments !== undefined && { Comments: options.comments }),
  });
  for (let attempt = 0; ; attempt += 1) {
    const headers: Record<string, string> = {
      ...transport.sessionHeaders(),
      Accept: 'text/plain',
      'Content-Type': 'application/json',
      ...(options.ifMatch !== undefined && { 'If-Match': `"${options.ifMatch}"` }),
      ...(key !== undefined && { 'Idempotency-Key': key }),
    };
    let status: number;
    let text: string;
    let answer: Response;
    try {
      [answer, text] = await transport.timed(async (signal) => {
        const response = await transport.fetch(url, { method: 'POST', headers, body, signal });
        // The body is part of the answer: a connection cut while it is read is a lost answer too.
        return [response, await response.text()] as const;
      });
      transport.jar.store(answer.headers);
      status = answer.status;
    } catch (cause) {
      if (attempt >= RETRIES) throw networkError(cause, `${options.action} on ${id}`);
      const waitMs = backoff(attempt, RETRY_BASE_MS, RETRY_MAX_MS);
      transport.log.warn('the action got no answer; sending it again', {
        ticketId: id,
        action: options.action,
        idempotencyKey: key,
        attempt: attempt + 1,
        waitMs,
        error: cause instanceof Error ? cause.message : String(cause),
      });
      await sleep(waitMs);
      continue;
    }
    if (status < 200 || status > 299) transport.failed(httpError(answer, text));
    const state = text.trim();
    if (!isState(state)) {
      throw new TicketsClientError({
        kind: 'internal',
        message: `the action endpoint answered ${JSON.stringify(state.slice(0, 100))}, not a state`,
        status,
        requestId: answer.headers.get('x-request-id') ?? undefined,
      });
    }
    return {
      state,
      version: versionOf(answer.headers.get('etag')),
      replayed: answer.headers.get('idempotent-replayed') === 'true',
    };
  }
}
