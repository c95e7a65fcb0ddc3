import type { z } from 'zod';
import type { AppErrorCode } from './errors.js';
import * as s from './schemas.js';
import * as wire from './wire.js';

/** Who may call: anyone; a session; a session and, on writes, the CSRF header. */
export type AuthLevel = 'public' | 'session' | 'session+csrf';

/** A state-changing REST operation's optional headers and parameters. */
export type WriteOption = 'idempotencyKey' | 'ifMatch' | 'dryRun';

export interface RestBinding {
  readonly method: 'GET' | 'POST';
  /** Koa-style path, e.g. `/api/tickets/:id/actions`. */
  readonly path: string;
  /** More paths serving the same operation. */
  readonly aliases?: readonly string[];
  readonly operationId: string;
  /** Where the tenant comes from: the TicketID in the path, or `fedmemberid` / the only cookie. */
  readonly tenantFrom: 'ticket' | 'request';
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  /** The success answer: a JSON/XML shape under its XML root, or `text/plain`. */
  readonly answer: { readonly schema: z.ZodType; readonly xmlRoot: string } | 'text';
  readonly status: 200 | 201;
  readonly writeOptions?: readonly WriteOption[];
}

export interface Operation<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** The tRPC procedure, e.g. `tickets.act`. */
  readonly procedure: string;
  readonly kind: 'query' | 'mutation' | 'subscription';
  readonly auth: AuthLevel;
  readonly summary: string;
  /** The typed input: the tRPC procedure's, and the service command it decodes to. */
  readonly input: I;
  /** The typed answer (tRPC); REST answers `rest.answer`, which may be narrower. */
  readonly output: O;
  /** The expected failures, besides the 401/503/500 any authed call may meet. */
  readonly errors: readonly AppErrorCode[];
  readonly rest?: RestBinding;
}

const TICKET_READ: AppErrorCode[] = ['INVALID_INPUT', 'NOT_FOUND', 'NOT_ACCEPTABLE'];
const WRITE_BODY: AppErrorCode[] = [
  'INVALID_INPUT',
  'MALFORMED_BODY',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IDEMPOTENCY_KEY_REUSED',
];

/**
 * Every operation of the API, declared once. The REST routes, the tRPC router and the OpenAPI
 * document are derived from this table.
 */
export const OPERATIONS = {
  login: {
    procedure: 'session.login',
    kind: 'mutation',
    auth: 'public',
    summary: 'Log in with e-mail and password',
    input: s.LoginInput,
    output: s.SessionStatus,
    errors: [
      'INVALID_INPUT',
      'MALFORMED_BODY',
      'UNSUPPORTED_MEDIA_TYPE',
      'PAYLOAD_TOO_LARGE',
      'UNAUTHENTICATED',
      'TOO_MANY_REQUESTS',
    ],
    rest: {
      method: 'POST',
      path: '/api/login',
      operationId: 'login',
      tenantFrom: 'request',
      body: wire.LoginBody,
      answer: { schema: s.LoginResponse, xmlRoot: wire.XML_ROOTS.login },
      status: 200,
    },
  },
  sessionStatus: {
    procedure: 'session.status',
    kind: 'query',
    auth: 'session',
    summary: 'The session of the caller',
    input: s.SessionInput,
    output: s.SessionStatus,
    errors: ['INVALID_INPUT'],
    rest: {
      method: 'GET',
      path: '/api/login/status',
      operationId: 'loginStatus',
      tenantFrom: 'request',
      answer: { schema: s.LoginResponse, xmlRoot: wire.XML_ROOTS.login },
      status: 200,
    },
  },
  renew: {
    procedure: 'session.renew',
    kind: 'mutation',
    auth: 'session+csrf',
    summary: 'Renew the session',
    input: s.SessionInput,
    output: s.SessionStatus,
    errors: ['INVALID_INPUT'],
    rest: {
      method: 'POST',
      path: '/api/login/renewToken',
      operationId: 'renewToken',
      tenantFrom: 'request',
      answer: { schema: s.LoginResponse, xmlRoot: wire.XML_ROOTS.login },
      status: 200,
    },
  },
  logout: {
    procedure: 'session.logout',
    kind: 'mutation',
    auth: 'session+csrf',
    summary: 'End the session',
    input: s.SessionInput,
    output: s.StatusResponse,
    errors: ['INVALID_INPUT'],
    rest: {
      method: 'POST',
      path: '/api/login/logout',
      operationId: 'logout',
      tenantFrom: 'request',
      answer: { schema: s.StatusResponse, xmlRoot: wire.XML_ROOTS.status },
      status: 200,
    },
  },
  endSession: {
    procedure: 'session.logout',
    kind: 'mutation',
    auth: 'session',
    summary: 'End the session (the platform’s GET form)',
    input: s.SessionInput,
    output: s.StatusResponse,
    errors: ['INVALID_INPUT'],
    rest: {
      method: 'GET',
      path: '/api/login/endsession',
      operationId: 'endSession',
      tenantFrom: 'request',
      answer: { schema: s.StatusResponse, xmlRoot: wire.XML_ROOTS.status },
      status: 200,
    },
  },
  createTicket: {
    procedure: 'tickets.create',
    kind: 'mutation',
    auth: 'session+csrf',
    summary: 'Open a ticket',
    input: s.CreateTicketInput,
    output: s.Ticket,
    errors: [...WRITE_BODY, 'NOT_ALLOWED', 'NOT_FOUND', 'NOT_ACCEPTABLE'],
    rest: {
      method: 'POST',
      path: '/api/tickets',
      operationId: 'createTicket',
      tenantFrom: 'request',
      body: wire.TicketBody,
      answer: { schema: wire.TicketWire, xmlRoot: wire.XML_ROOTS.ticket },
      status: 201,
      writeOptions: ['idempotencyKey'],
    },
  },
  listTickets: {
    procedure: 'tickets.list',
    kind: 'query',
    auth: 'session',
    summary: 'List the tickets of the caller’s tenant',
    input: s.ListTicketsInput,
    output: s.TicketPage,
    errors: ['INVALID_INPUT', 'NOT_ACCEPTABLE'],
    rest: {
      method: 'GET',
      path: '/api/tickets',
      operationId: 'listTickets',
      tenantFrom: 'request',
      query: wire.ListQuery,
      answer: { schema: wire.TicketListWire, xmlRoot: wire.XML_ROOTS.ticketList },
      status: 200,
    },
  },
  getTicket: {
    procedure: 'tickets.get',
    kind: 'query',
    auth: 'session',
    summary: 'One ticket',
    input: s.TicketRef,
    output: s.Ticket,
    errors: TICKET_READ,
    rest: {
      method: 'GET',
      path: '/api/tickets/:id',
      operationId: 'getTicket',
      tenantFrom: 'ticket',
      answer: { schema: wire.TicketWire, xmlRoot: wire.XML_ROOTS.ticket },
      status: 200,
    },
  },
  act: {
    procedure: 'tickets.act',
    kind: 'mutation',
    auth: 'session+csrf',
    summary: 'Run a workflow action on a ticket',
    input: s.RunActionInput,
    output: s.ActResult,
    errors: [
      ...WRITE_BODY,
      'UNKNOWN_ACTION',
      'NOT_FOUND',
      'NOT_ALLOWED',
      'VERSION_MISMATCH',
      'INVALID_TRANSITION',
      'CONFLICT',
      'NOT_ACCEPTABLE',
    ],
    rest: {
      method: 'POST',
      path: '/api/tickets/:id/actions',
      operationId: 'executeTicketAction',
      tenantFrom: 'ticket',
      body: wire.ActionBody,
      answer: 'text',
      status: 200,
      writeOptions: ['idempotencyKey', 'ifMatch', 'dryRun'],
    },
  },
  validActions: {
    procedure: 'tickets.validActions',
    kind: 'query',
    auth: 'session',
    summary: 'The actions of the ticket’s current state, each allowed or not, and why',
    input: s.TicketRef,
    output: s.ValidActions,
    errors: TICKET_READ,
    rest: {
      method: 'GET',
      path: '/api/tickets/:id/actions',
      aliases: ['/api/workflow/objects/:id/actions'],
      operationId: 'listTicketActions',
      tenantFrom: 'ticket',
      answer: { schema: wire.ActionListWire, xmlRoot: wire.XML_ROOTS.validActions },
      status: 200,
    },
  },
  history: {
    procedure: 'tickets.history',
    kind: 'query',
    auth: 'session',
    summary: 'Every transition and comment of a ticket, oldest first, whole or one page',
    input: s.HistoryInput,
    output: s.HistoryAnswer,
    errors: TICKET_READ,
    rest: {
      method: 'GET',
      path: '/api/tickets/:id/history',
      operationId: 'getTicketHistory',
      tenantFrom: 'ticket',
      query: wire.HistoryQuery,
      answer: { schema: wire.HistoryListWire, xmlRoot: wire.XML_ROOTS.history },
      status: 200,
    },
  },
  comment: {
    procedure: 'tickets.comment',
    kind: 'mutation',
    auth: 'session+csrf',
    summary: 'Comment on a ticket without a transition',
    input: s.AddCommentInput,
    output: s.Comment,
    errors: [
      ...WRITE_BODY,
      'NOT_FOUND',
      'NOT_ALLOWED',
      'VERSION_MISMATCH',
      'CONFLICT',
      'NOT_ACCEPTABLE',
    ],
    rest: {
      method: 'POST',
      path: '/api/tickets/:id/comments',
      operationId: 'addTicketComment',
      tenantFrom: 'ticket',
      body: wire.CommentBody,
      answer: { schema: wire.CommentWire, xmlRoot: wire.XML_ROOTS.comment },
      status: 201,
      writeOptions: ['idempotencyKey', 'ifMatch'],
    },
  },
  changes: {
    procedure: 'tickets.changes',
    kind: 'subscription',
    auth: 'session',
    summary: 'Every committed change of the tenant’s tickets, live, resumable by eventId',
    input: s.ChangesInput,
    output: s.TicketChange,
    errors: ['INVALID_INPUT', 'TOO_MANY_REQUESTS'],
  },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;
