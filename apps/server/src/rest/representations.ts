import type { AvailableAction } from '@tickets/domain';
import type { LoginResponse } from '@tickets/contract';
import type { IssuedSession } from '../service/sessionService.js';
import type {
  CommentOutcome,
  HistoryView,
  TicketPage,
  TicketView,
} from '../service/ticketService.js';

/**
 * The Akana shapes of the REST surface (PascalCase fields). XML mirrors each with the wrapper
 * as root element (the `xmlRoot` beside each) and one element per field or array item.
 */
export function ticketJson(ticket: TicketView) {
  // One literal of one shape, the lists not copied (a list page makes twenty of these): an
  // absent APIID or AppID is an undefined field, which neither JSON nor XML writes.
  return {
    TicketID: ticket.id,
    Title: ticket.title,
    Description: ticket.description,
    Environment: ticket.environment,
    APIID: ticket.apiId,
    AppID: ticket.appId,
    Label: ticket.labels,
    Tag: ticket.tags,
    State: ticket.state,
    UserID: ticket.authorId,
    UserName: ticket.authorName,
    Created: ticket.created,
    Updated: ticket.updated,
    Version: ticket.version,
    Comments: ticket.commentCount,
  };
}

export function ticketListJson(page: TicketPage) {
  return { totalResults: page.total, startIndex: page.start, Ticket: page.tickets.map(ticketJson) };
}

export function validActionsJson(actions: readonly AvailableAction[]) {
  return {
    Action: actions.map((action) => ({
      Value: action.name,
      Label: action.label,
      Allowed: action.allowed,
      ...(action.reason !== undefined && { Reason: action.reason }),
    })),
  };
}

/** The paging facts come first, as in the list, and only when paging was asked for. */
export function historyJson(history: HistoryView) {
  return {
    ...(history.paged && { totalResults: history.total, startIndex: history.start }),
    History: history.entries.map((entry) => ({
      Action: entry.action,
      From: entry.from,
      To: entry.to,
      Comments: [...entry.comments],
      UserID: entry.userId,
      Created: entry.created,
    })),
  };
}

export function commentJson(comment: CommentOutcome) {
  return {
    CommentID: comment.commentId,
    Content: comment.content,
    UserID: comment.userId,
    Created: comment.created,
  };
}

/** The login answer, REST and tRPC alike, typed by the contract (so `Status` is `'Success'`). */
export function loginResponseJson(issued: Pick<IssuedSession, 'caller'>): LoginResponse {
  const { user, session } = issued.caller;
  return {
    userName: user.name,
    userFDN: user.id,
    loginDomainID: `siteusers.${session.tenant}`,
    fedmemberid: session.tenant,
    authTokenValidUntil: session.expiresAt.toISOString(),
    Status: 'Success',
  };
}
