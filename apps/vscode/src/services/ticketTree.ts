import type { ListFilters, Ticket, ValidAction } from '@tickets/client';
import type { State } from './format.js';
import { compareTickets, TicketPager, type ListTickets } from './pager.js';

/** What the tree needs of the server. */
export interface TreeApi {
  readonly list: ListTickets;
  validActions(id: string): Promise<ValidAction[]>;
}

/** How many tickets' actions are asked for at once. */
const ACTIONS_CHUNK = 25;

/** A ticket as the tree shows it, with the actions of its state (allowed or not). */
export interface TicketRow {
  readonly ticket: Ticket;
  readonly actions: readonly ValidAction[];
}

export interface TicketGroup {
  readonly state: State;
  /** How many tickets the server has in this group (undefined until known). */
  readonly total: number | undefined;
  readonly rows: readonly TicketRow[];
  /** Whether a `Load more` row belongs under the group. */
  readonly hasMore: boolean;
}

interface GroupState {
  readonly state: State;
  pager: TicketPager;
  rows: TicketRow[];
  /** Tickets moved in or out here since the last load, so the count stays right meanwhile. */
  adjust: number;
  /** The page being loaded, if any: a second `Load more` meanwhile waits for it. */
  loading?: Promise<boolean> | undefined;
}

/** The names of the actions a row's user may take. */
export const allowedActionNames = (row: TicketRow): string[] =>
  row.actions.filter((action) => action.allowed).map((action) => action.value);

/**
 * The tree's data, free of VS Code: one group per state with its count, the tickets loaded so
 * far a page at a time ("Load more"), each with its valid actions. A reload keeps as many
 * tickets per group as were loaded, so a live update does not fold the list back.
 */
export class TicketTreeModel {
  private groupStates: GroupState[] = [];
  private generation = 0;

  constructor(
    private readonly api: TreeApi,
    private readonly pageSize: number,
    private readonly onError: (error: unknown, ticketId: string) => void,
  ) {}

  groups(): TicketGroup[] {
    return this.groupStates.map((group) => {
      const total = group.pager.total;
      return {
        state: group.state,
        total: total === undefined ? undefined : Math.max(total + group.adjust, group.rows.length),
        rows: group.rows,
        hasMore: group.pager.hasMore,
      };
    });
  }

  /** Forgets every ticket (sign-out). */
  clear(): void {
    this.generation += 1;
    this.groupStates = [];
  }

  findRow(id: string): TicketRow | undefined {
    for (const group of this.groupStates) {
      const row = group.rows.find((candidate) => candidate.ticket.id === id);
      if (row) return row;
    }
    return undefined;
  }

  /** Every ticket loaded, newest first. */
  rows(): TicketRow[] {
    return this.groupStates
      .flatMap((group) => group.rows)
      .sort((a, b) => compareTickets(a.ticket, b.ticket));
  }

  /**
   * The tickets with their actions. Asked a chunk at a time: the client batches concurrent
   * queries into one GET, whose URL must stay well under the server's limit.
   */
  private async withActions(tickets: readonly Ticket[]): Promise<TicketRow[]> {
    const rows: TicketRow[] = [];
    for (let i = 0; i < tickets.length; i += ACTIONS_CHUNK) {
      const chunk = tickets.slice(i, i + ACTIONS_CHUNK);
      rows.push(
        ...(await Promise.all(
          chunk.map(async (ticket) => {
            try {
              return { ticket, actions: await this.api.validActions(ticket.id) };
            } catch (error) {
              this.onError(error, ticket.id);
              return { ticket, actions: [] };
            }
          }),
        )),
      );
    }
    return rows;
  }

  /**
   * Loads the groups afresh from these queries (per state, in the tree's order), at least as
   * many tickets per group as were loaded before (a page at first). A failure of a listing
   * rejects; a failure of one ticket's actions leaves that row without actions.
   */
  async load(queries: ReadonlyMap<State, readonly ListFilters[]>): Promise<void> {
    const generation = ++this.generation;
    const previous = new Map(this.groupStates.map((group) => [group.state, group.rows.length]));
    const next = await Promise.all(
      [...queries].map(async ([state, stateQueries]) => {
        const pager = new TicketPager(stateQueries, this.api.list, this.pageSize);
        const want = Math.max(previous.get(state) ?? 0, 1);
        const tickets: Ticket[] = [];
        while (tickets.length < want && pager.hasMore) tickets.push(...(await pager.nextPage()));
        return { state, pager, rows: await this.withActions(tickets), adjust: 0 };
      }),
    );
    if (generation === this.generation) this.groupStates = next;
  }

  /**
   * The next page of one group; false when it had no more (or the model was reloaded meanwhile).
   * A click while a page loads waits for that page rather than asking for the same one again.
   */
  async loadMore(state: State): Promise<boolean> {
    const group = this.groupStates.find((candidate) => candidate.state === state);
    if (!group) return false;
    if (group.loading) return group.loading;
    if (!group.pager.hasMore) return false;
    const generation = this.generation;
    group.loading = (async () => {
      const rows = await this.withActions(await group.pager.nextPage());
      if (generation !== this.generation) return false;
      const known = new Set(group.rows.map((row) => row.ticket.id));
      group.rows.push(...rows.filter((row) => !known.has(row.ticket.id)));
      return true;
    })().finally(() => {
      group.loading = undefined;
    });
    return group.loading;
  }

  /**
   * Shows a ticket's new state at once (after an action), before the next reload confirms it:
   * out of the group of its old state (`from`), into the new one if shown, with its new actions.
   */
  async moveTicket(ticket: Ticket, from: State | undefined): Promise<void> {
    const [row] = await this.withActions([ticket]);
    for (const group of this.groupStates) {
      group.rows = group.rows.filter((candidate) => candidate.ticket.id !== ticket.id);
      if (from !== ticket.state && group.state === from) group.adjust -= 1;
    }
    const target = this.groupStates.find((group) => group.state === ticket.state);
    if (!target || !row) return;
    const at = target.rows.findIndex((candidate) => compareTickets(ticket, candidate.ticket) < 0);
    target.rows.splice(at < 0 ? target.rows.length : at, 0, row);
    if (from !== ticket.state) target.adjust += 1;
  }
}
