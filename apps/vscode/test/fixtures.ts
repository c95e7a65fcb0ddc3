// Test data: tickets, and a small in-memory stand-in for the server's list and validActions
// with its rules (filters, newest first, ties by id, start/count paging, count up to 100).
import type { ListFilters, SessionInfo, Ticket, TicketPage, ValidAction } from '@tickets/client';

let serial = 0;

/** Ada's session at acme, valid for another minute. */
export function sessionInfo(overrides: Partial<SessionInfo> = {}): SessionInfo {
  return {
    userId: 'ada.acme',
    userName: 'Ada',
    tenant: 'acme',
    validUntil: new Date(Date.now() + 60_000),
    siteAdmin: false,
    adminOf: [],
    ...overrides,
  };
}

/** A ticket; an override of `undefined` leaves the field out (`apiId: undefined`). */
export function ticket(overrides: { [K in keyof Ticket]?: Ticket[K] | undefined } = {}): Ticket {
  serial += 1;
  const built: Record<string, unknown> = {
    id: `ticket${serial}.acme`,
    title: `Ticket number ${serial}`,
    description: 'Something is broken.',
    environment: 'Production',
    apiId: 'payments.acme',
    labels: [],
    tags: [],
    state: 'OPEN',
    userId: 'bob.acme',
    userName: 'Bob',
    created: new Date(Date.UTC(2026, 0, 1, 0, serial)).toISOString(),
    updated: new Date(Date.UTC(2026, 0, 1, 0, serial)).toISOString(),
    version: 1,
    comments: 0,
    ...overrides,
  };
  for (const key of Object.keys(built)) if (built[key] === undefined) delete built[key];
  return built as Ticket;
}

/** The default workflow's actions of a state, all allowed unless `blocked` names them. */
export function defaultActions(
  state: Ticket['state'],
  blocked: Record<string, string> = {},
): ValidAction[] {
  const names: Record<Ticket['state'], string[]> = {
    OPEN: ['resolve', 'close'],
    REOPEN: ['resolve', 'close'],
    RESOLVED: ['close', 'reopen'],
    CLOSED: ['reopen'],
  };
  return names[state].map((name) => {
    const value = `ticket.action.${name}`;
    const label = name[0]!.toUpperCase() + name.slice(1);
    const reason = blocked[value];
    return reason === undefined
      ? { value, label, allowed: true }
      : { value, label, allowed: false, reason };
  });
}

export class FakeServer {
  readonly calls: { list: NonNullable<ListFilters>[]; validActions: string[] } = {
    list: [],
    validActions: [],
  };
  actionsOf: (ticket: Ticket) => ValidAction[] = (t) => defaultActions(t.state);

  constructor(public tickets: Ticket[]) {}

  readonly list = async (filters: ListFilters = {}): Promise<TicketPage> => {
    const f = filters ?? {};
    this.calls.list.push(f);
    const matching = this.tickets
      .filter(
        (t) =>
          (f.state === undefined || t.state === f.state) &&
          (f.apiId === undefined || t.apiId === f.apiId) &&
          (f.appId === undefined || t.appId === f.appId) &&
          (f.authorId === undefined || t.userId === f.authorId),
      )
      .sort((a, b) => b.created.localeCompare(a.created) || (a.id < b.id ? -1 : 1));
    const start = Number(f.start ?? 0);
    const count = Math.min(Number(f.count ?? 20), 100);
    return {
      totalResults: matching.length,
      startIndex: start,
      tickets: matching.slice(start, start + count),
    };
  };

  readonly validActions = async (id: string): Promise<ValidAction[]> => {
    this.calls.validActions.push(id);
    const found = this.tickets.find((t) => t.id === id);
    if (!found) throw new Error(`no ticket ${id}`);
    return this.actionsOf(found);
  };
}

/** Waits for a condition, polling; fails after a generous bound (never asserts timings). */
export async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
