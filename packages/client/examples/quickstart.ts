import { createTicketsClient, TicketsClientError, type TicketChange } from '../src/index.js';

export interface QuickstartOptions {
  readonly baseUrl: string;
  readonly tenant: string;
  readonly email: string;
  readonly password: string;
  /** The API whose open tickets to look at, e.g. `payments.acme`. */
  readonly apiId: string;
  /** Called with each live change; watching ends when `signal` aborts. */
  readonly onChange: (change: TicketChange) => void;
  readonly signal: AbortSignal;
}

/** Logs in, lists the API's open tickets, resolves the first one, and watches what changes. */
export async function quickstart(options: QuickstartOptions): Promise<string[]> {
  const { baseUrl, tenant, email, password, apiId } = options;
  const client = createTicketsClient({ baseUrl, tenant, userAgent: 'tickets-quickstart' });
  await client.login({ email, password });
  try {
    const page = await client.tickets.list({ state: 'OPEN', apiId });
    const open = page.tickets.map((ticket) => ticket.id);
    const [first] = page.tickets;
    if (first) {
      try {
        const { state, version } = await client.tickets.act(first.id, {
          action: 'ticket.action.resolve',
          comments: 'Fixed in 2.4.1',
          ifMatch: first.version,
        });
        console.info(`${first.id} is ${state} (version ${version})`);
      } catch (error) {
        // Someone was quicker, or the ticket changed since it was listed: say so and go on.
        if (!(error instanceof TicketsClientError)) throw error;
        console.warn(`${first.id} was not resolved (${error.kind}): ${error.message}`);
      }
    }
    // Every change of the tenant's tickets from the start of the log, then live ones.
    for await (const change of client.changes({ lastEventId: 0, signal: options.signal })) {
      options.onChange(change);
    }
    return open;
  } finally {
    await client.logout();
  }
}
