import type { ListFilters, Ticket, TicketPage } from '@tickets/client';

export type ListTickets = (filters: ListFilters) => Promise<TicketPage>;

/** The server's order: newest first, ties by TicketID. */
export function compareTickets(a: Ticket, b: Ticket): number {
  const byCreated = Date.parse(b.created) - Date.parse(a.created);
  if (byCreated !== 0) return byCreated;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface Source {
  readonly filters: NonNullable<ListFilters>;
  /** The `start` of the next page to fetch. */
  next: number;
  /** What the server last said there is in all. */
  total: number | undefined;
  /** Fetched, not handed out yet. */
  buffer: Ticket[];
  exhausted: boolean;
}

/**
 * Pages through the union of one or more `tickets.list` queries in the server's order (newest
 * first), fetching each a page at a time, only as far as needed. A ticket two queries both
 * answer (one with an API and an app) is handed out once.
 */
export class TicketPager {
  private readonly sources: Source[];
  private readonly seen = new Set<string>();

  constructor(
    queries: readonly ListFilters[],
    private readonly list: ListTickets,
    private readonly pageSize: number,
  ) {
    this.sources = queries.map((filters) => ({
      filters: filters ?? {},
      next: 0,
      total: undefined,
      buffer: [],
      exhausted: false,
    }));
  }

  /** How many tickets there are in all, as the server counts them; undefined before a fetch. */
  get total(): number | undefined {
    if (this.sources.some((source) => source.total === undefined)) {
      return this.sources.length === 0 ? 0 : undefined;
    }
    return this.sources.reduce((sum, source) => sum + (source.total ?? 0), 0);
  }

  /** Whether `nextPage` can hand out more. */
  get hasMore(): boolean {
    return this.sources.some((source) => source.buffer.length > 0 || !source.exhausted);
  }

  private async fill(source: Source): Promise<void> {
    if (source.buffer.length > 0 || source.exhausted) return;
    const page = await this.list({ ...source.filters, start: source.next, count: this.pageSize });
    source.total = page.totalResults;
    source.next += page.tickets.length;
    source.buffer.push(...page.tickets);
    if (page.tickets.length === 0 || source.next >= page.totalResults) source.exhausted = true;
  }

  /** The next `pageSize` tickets (fewer at the end). */
  async nextPage(): Promise<Ticket[]> {
    const out: Ticket[] = [];
    while (out.length < this.pageSize) {
      await Promise.all(this.sources.map((source) => this.fill(source)));
      let best: Source | undefined;
      for (const source of this.sources) {
        const head = source.buffer[0];
        if (head && (!best || compareTickets(head, best.buffer[0]!) < 0)) best = source;
      }
      if (!best) break;
      const ticket = best.buffer.shift()!;
      if (this.seen.has(ticket.id)) continue;
      this.seen.add(ticket.id);
      out.push(ticket);
    }
    return out;
  }
}
