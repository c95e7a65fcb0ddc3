export {
  createTicketsClient,
  type Comment,
  type CommentOptions,
  type HistoryEntry,
  type HistoryPage,
  type HistoryPaging,
  type ListFilters,
  type LoginResponse,
  type Ticket,
  type TicketChange,
  type TicketDraft,
  type TicketPage,
  type TicketsClient,
  type TicketsClientOptions,
  type ValidAction,
} from './client.js';
export type { ActOptions, ActResult, TicketState } from './act.js';
export type { ChangesOptions } from './changes.js';
export { TicketsClientError, type ErrorKind } from './errors.js';
export type { TicketsClientLogger } from './logger.js';
export type { AdministeredResource, SessionInfo } from './session.js';
