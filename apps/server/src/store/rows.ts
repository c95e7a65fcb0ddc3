import type { HistoryEntry, Ticket, TicketId, TicketState } from '@tickets/domain';
import type {
  CallerRecord,
  IdempotencyRecord,
  SessionRecord,
  StoredHistoryEntry,
  TicketView,
  UserRecord,
} from './store.js';

/**
 * The rows both SQL stores keep, and their mapping to and from the Store's records: the same
 * columns and types in SQLite and PostgreSQL (times as epoch milliseconds, lists as JSON text).
 */
export interface TicketRow {
  id: string;
  tenant: string;
  title: string;
  description: string;
  environment: 'Sandbox' | 'Production';
  api_id: string | null;
  app_id: string | null;
  labels: string;
  tags: string;
  state: TicketState;
  step: number;
  author_id: string;
  created: string;
  updated: string;
  version: number;
  comment_count: number;
  workflow_id: number | null;
}

export interface UserRow {
  id: string;
  tenant: string;
  email: string;
  name: string;
  password_hash: string;
  site_admin: number;
}

export interface HistoryRow {
  id: number;
  action: string;
  from_state: TicketState;
  to_state: TicketState;
  comments: string;
  user_id: string;
  created: string;
}

export interface SessionRow {
  id: string;
  user_id: string;
  tenant: string;
  csrf_token: string;
  login_at: number;
  expires_at: number;
  ended_at: number | null;
}

export interface IdempotencyRow {
  user_id: string;
  key: string;
  request_hash: string;
  outcome: string;
  created_at: number;
}

export const toTicket = (row: TicketRow): Ticket => ({
  id: row.id as TicketId,
  tenant: row.tenant,
  title: row.title,
  description: row.description,
  environment: row.environment,
  apiId: row.api_id ?? undefined,
  appId: row.app_id ?? undefined,
  labels: JSON.parse(row.labels) as string[],
  tags: JSON.parse(row.tags) as string[],
  state: row.state,
  step: row.step,
  authorId: row.author_id,
  created: row.created,
  updated: row.updated,
  version: row.version,
  commentCount: row.comment_count,
  workflowId: row.workflow_id ?? undefined,
});

/** The columns of `tickets` in the order of `ticketValues`. */
export const TICKET_COLUMNS = [
  'id',
  'tenant',
  'title',
  'description',
  'environment',
  'api_id',
  'app_id',
  'labels',
  'tags',
  'state',
  'step',
  'author_id',
  'created',
  'updated',
  'version',
  'comment_count',
  'workflow_id',
] as const;

/** TICKET_COLUMNS qualified by a table's alias, as a select list: `t.id, t.tenant, …`. */
export const ticketColumnsOf = (alias: string): string =>
  TICKET_COLUMNS.map((column) => `${alias}.${column}`).join(', ');

export const ticketValues = (ticket: Ticket): unknown[] => [
  ticket.id,
  ticket.tenant,
  ticket.title,
  ticket.description,
  ticket.environment,
  ticket.apiId ?? null,
  ticket.appId ?? null,
  JSON.stringify(ticket.labels),
  JSON.stringify(ticket.tags),
  ticket.state,
  ticket.step,
  ticket.authorId,
  ticket.created,
  ticket.updated,
  ticket.version,
  ticket.commentCount,
  ticket.workflowId ?? null,
];

/** The columns of a new `history` row (the database gives its id), in `historyValues`' order. */
export const HISTORY_COLUMNS = [
  'ticket_id',
  'action',
  'from_state',
  'to_state',
  'comments',
  'user_id',
  'created',
] as const;

/** A history entry of ticket `ticketId` as the values of its row, in HISTORY_COLUMNS' order. */
export const historyValues = (ticketId: string, entry: HistoryEntry): unknown[] => [
  ticketId,
  entry.action,
  entry.from,
  entry.to,
  JSON.stringify(entry.comments),
  entry.userId,
  entry.created,
];

export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  tenant: row.tenant,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  siteAdmin: row.site_admin === 1,
});

export const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  tenant: row.tenant,
  csrfToken: row.csrf_token,
  loginAt: new Date(row.login_at),
  expiresAt: new Date(row.expires_at),
  endedAt: row.ended_at === null ? undefined : new Date(row.ended_at),
});

export const toHistory = (row: HistoryRow): StoredHistoryEntry => ({
  id: row.id,
  action: row.action,
  from: row.from_state,
  to: row.to_state,
  comments: JSON.parse(row.comments) as string[],
  userId: row.user_id,
  created: row.created,
});

export const toIdempotency = (row: IdempotencyRow): IdempotencyRecord => ({
  userId: row.user_id,
  key: row.key,
  requestHash: row.request_hash,
  outcome: row.outcome,
  createdAt: new Date(row.created_at),
});

/** A ticket as named parameters (`@id`, `@tenant`, …), one per column of TICKET_COLUMNS. */
export const ticketParams = (ticket: Ticket): Record<(typeof TICKET_COLUMNS)[number], unknown> => {
  const values = ticketValues(ticket);
  return Object.fromEntries(TICKET_COLUMNS.map((column, i) => [column, values[i]])) as Record<
    (typeof TICKET_COLUMNS)[number],
    unknown
  >;
};

/** A session row joined with its user's columns (prefixed `user_`) and admin rights (JSON). */
export interface CallerRow extends SessionRow {
  user_email: string;
  user_name: string;
  user_password_hash: string;
  user_site_admin: number;
  user_tenant: string;
  admin_of: string;
}

/**
 * The one read behind Store.getCaller, for both stores: `?` is the session id (`$1` on
 * PostgreSQL, where `json_group_array` is spelt `json_agg`).
 */
export const callerQuery = (param: string, jsonArray: string, emptyArray: string): string => `
  SELECT s.*, u.email AS user_email, u.name AS user_name, u.password_hash AS user_password_hash,
    u.site_admin AS user_site_admin, u.tenant AS user_tenant,
    coalesce((SELECT ${jsonArray} FROM (
      SELECT resource_id FROM resource_admins WHERE user_id = u.id ORDER BY resource_id) r),
      ${emptyArray}) AS admin_of
  FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ${param}`;

export const toCaller = (row: CallerRow): CallerRecord => ({
  session: toSession(row),
  user: toUser({
    id: row.user_id,
    tenant: row.user_tenant,
    email: row.user_email,
    name: row.user_name,
    password_hash: row.user_password_hash,
    site_admin: row.user_site_admin,
  }),
  adminOf: JSON.parse(row.admin_of) as string[],
});

/** The one read behind Store.getTicketWithAuthor (`param`: the placeholder of the id). */
export const ticketWithAuthorQuery = (param: string): string =>
  `SELECT t.*, (SELECT name FROM users WHERE id = t.author_id) AS author_name FROM tickets t WHERE t.id = ${param}`;

export const toTicketWithAuthor = (
  row: TicketRow & { author_name: string | null },
): { ticket: Ticket; authorName: string } => ({
  ticket: toTicket(row),
  authorName: row.author_name ?? row.author_id,
});

/**
 * A listed row as its view, from its values: those of TICKET_COLUMNS in order (as
 * `ticketValues` gives them), then the author's name. A page's rows are read as arrays: a row
 * object that the driver builds column by column cost better-sqlite3 about 2 µs a row.
 */
export const ticketViewOfValues = (values: readonly unknown[]): TicketView => {
  const authorId = values[11] as string;
  return {
    id: values[0] as TicketId,
    tenant: values[1] as string,
    title: values[2] as string,
    description: values[3] as string,
    environment: values[4] as Ticket['environment'],
    apiId: (values[5] as string | null) ?? undefined,
    appId: (values[6] as string | null) ?? undefined,
    labels: JSON.parse(values[7] as string) as string[],
    tags: JSON.parse(values[8] as string) as string[],
    state: values[9] as TicketState,
    step: values[10] as number,
    authorId,
    created: values[12] as string,
    updated: values[13] as string,
    version: values[14] as number,
    commentCount: values[15] as number,
    workflowId: (values[16] as number | null) ?? undefined,
    authorName: (values[17] as string | null) ?? authorId,
  };
};
