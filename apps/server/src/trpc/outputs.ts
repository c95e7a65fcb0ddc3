import type {
  Comment,
  HistoryEntry,
  HistoryPage,
  SessionStatus,
  Ticket,
  TicketChange,
  ValidAction,
} from '@tickets/contract';
import type { AvailableAction } from '@tickets/domain';
import { loginResponseJson } from '../rest/representations.js';
import type { ResourceRecord, StoredHistoryEntry, TicketChangeRecord } from '../store/store.js';
import type { IssuedSession } from '../service/sessionService.js';
import type { CommentOutcome, HistoryView, TicketView } from '../service/ticketService.js';

/** The typed surface's shapes (`@tickets/contract` outputs) of the service's results. */

/** The REST login response plus who the caller is: site admin or not, the resources administered. */
export const sessionOutput = (
  issued: Pick<IssuedSession, 'caller'>,
  administered: readonly ResourceRecord[],
): SessionStatus => ({
  ...loginResponseJson(issued),
  siteAdmin: issued.caller.actor.siteAdmin,
  adminOf: administered.map(({ id, type }) => ({ id, type })),
});

export function ticketOutput(ticket: TicketView): Ticket {
  return {
    id: ticket.id,
    title: ticket.title,
    description: ticket.description,
    environment: ticket.environment,
    ...(ticket.apiId !== undefined && { apiId: ticket.apiId }),
    ...(ticket.appId !== undefined && { appId: ticket.appId }),
    labels: [...ticket.labels],
    tags: [...ticket.tags],
    state: ticket.state,
    userId: ticket.authorId,
    userName: ticket.authorName,
    created: ticket.created,
    updated: ticket.updated,
    version: ticket.version,
    comments: ticket.commentCount,
  };
}

export const validActionsOutput = (actions: readonly AvailableAction[]): ValidAction[] =>
  actions.map((action) => ({
    value: action.name,
    label: action.label,
    allowed: action.allowed,
    ...(action.reason !== undefined && { reason: action.reason }),
  }));

const historyEntryOutput = (entry: StoredHistoryEntry): HistoryEntry => ({
  action: entry.action,
  from: entry.from,
  to: entry.to,
  comments: [...entry.comments],
  userId: entry.userId,
  created: entry.created,
});

/** The whole history as a list (the answer before paging existed), or one page of it. */
export const historyOutput = (history: HistoryView): HistoryEntry[] | HistoryPage => {
  const entries = history.entries.map(historyEntryOutput);
  return history.paged
    ? { totalResults: history.total, startIndex: history.start, entries }
    : entries;
};

export const commentOutput = (comment: CommentOutcome): Comment => ({
  commentId: comment.commentId,
  content: comment.content,
  userId: comment.userId,
  created: comment.created,
});

export const changeOutput = (change: TicketChangeRecord): TicketChange => ({
  eventId: change.eventId,
  ticketId: change.ticketId,
  kind: change.kind,
  ...(change.action !== undefined && { action: change.action }),
  ...(change.from !== undefined && { from: change.from }),
  to: change.to,
  version: change.version,
  userId: change.userId,
  at: change.at,
});
