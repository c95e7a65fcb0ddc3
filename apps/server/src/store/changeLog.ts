import { COMMENT_ACTION, type Ticket, type TicketId, type TicketState } from '@tickets/domain';
import type { Logger } from '../logger.js';
import type { TicketChange, TicketChangeRecord } from './store.js';

/**
 * What both SQL stores share of the change log (the `ticket_changes` table): its row, the row a
 * write appends, the mapping to TicketChangeRecord, and the set of watchers to call.
 */
export interface TicketChangeRow {
  id: number;
  tenant: string;
  ticket_id: string;
  kind: TicketChangeRecord['kind'];
  action: string | null;
  from_state: TicketState | null;
  to_state: TicketState;
  version: number;
  user_id: string;
  /** Epoch milliseconds, so that purging compares numbers (as sessions and idempotency do). */
  changed_at: number;
}

/** A row to append; its id is given by the database. */
export type NewTicketChangeRow = Omit<TicketChangeRow, 'id'>;

/** The columns of `ticket_changes` a write sets, in the order of `ticketChangeValues`. */
export const TICKET_CHANGE_COLUMNS = [
  'tenant',
  'ticket_id',
  'kind',
  'action',
  'from_state',
  'to_state',
  'version',
  'user_id',
  'changed_at',
] as const;

export const ticketChangeValues = (row: NewTicketChangeRow): unknown[] =>
  TICKET_CHANGE_COLUMNS.map((column) => row[column]);

const epochMs = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`change log: ${JSON.stringify(iso)} is not a time`);
  return ms;
};

/** The change a new ticket records: by its author, at its creation. */
export const createdChange = (ticket: Ticket): NewTicketChangeRow => ({
  tenant: ticket.tenant,
  ticket_id: ticket.id,
  kind: 'created',
  action: null,
  from_state: null,
  to_state: ticket.state,
  version: ticket.version,
  user_id: ticket.authorId,
  changed_at: epochMs(ticket.created),
});

/** The change a transition or a comment records, from its history entry. */
export const committedChange = ({ ticket, history }: TicketChange): NewTicketChangeRow => ({
  tenant: ticket.tenant,
  ticket_id: ticket.id,
  kind: history.action === COMMENT_ACTION ? 'comment' : 'action',
  action: history.action,
  from_state: history.from,
  to_state: history.to,
  version: ticket.version,
  user_id: history.userId,
  changed_at: epochMs(history.created),
});

export const toTicketChange = (row: TicketChangeRow): TicketChangeRecord => ({
  eventId: row.id,
  tenant: row.tenant,
  ticketId: row.ticket_id as TicketId,
  kind: row.kind,
  ...(row.action !== null && { action: row.action }),
  ...(row.from_state !== null && { from: row.from_state }),
  to: row.to_state,
  version: row.version,
  userId: row.user_id,
  at: new Date(row.changed_at).toISOString(),
});

/**
 * Refuses a page that SQL would read otherwise than meant (a negative LIMIT is no limit in
 * SQLite, an error in PostgreSQL; a fraction is an error in one and not the other).
 */
export function checkChangePage(afterEventId: number, limit: number): void {
  if (!Number.isSafeInteger(afterEventId))
    throw new RangeError(`listChanges: afterEventId ${afterEventId} is not an integer`);
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`listChanges: limit ${limit} is not a positive integer`);
}

/** The listeners of watchChanges; one registration each, even of the same function twice. */
export class ChangeListeners {
  private readonly entries = new Set<{ readonly listener: () => void }>();

  constructor(private readonly logger?: Logger) {}

  get size(): number {
    return this.entries.size;
  }

  /** Adds a listener; answers the function that removes it (true when it was the last one). */
  add(listener: () => void): () => boolean {
    const entry = { listener };
    this.entries.add(entry);
    return () => this.entries.delete(entry) && this.entries.size === 0;
  }

  /** Calls every listener now; one that throws is logged and does not stop the others. */
  fire(): void {
    for (const { listener } of [...this.entries]) {
      try {
        listener();
      } catch (error) {
        this.logger?.warn({ err: error }, 'a change listener threw');
      }
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
