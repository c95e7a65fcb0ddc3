import { ENVIRONMENTS, TICKET_STATES } from '@tickets/domain';
import { z } from 'zod';
import * as field from './fields.js';
import { LIMITS } from './limits.js';

/**
 * The typed surface's inputs and outputs (camelCase), which are also the application service's
 * commands and results. The Akana wire shapes of REST are in `wire.ts`, built from the same fields.
 */

/** A list of tags: trimmed, blank ones dropped, at most `max` of at most 64 characters. */
export const trimmedList = <T extends z.ZodType<string, string>>(
  item: T,
  max: number,
  name: string,
) =>
  z
    .array(z.string(`each ${name} must be a string`), `${name} must be a list of strings`)
    .transform((values) => values.map((value) => value.trim()).filter(Boolean))
    .pipe(z.array(item).max(max, `at most ${max} ${name} values`));

const atLeastOneResource = () => ({
  message: 'a ticket needs an apiId or an appId',
  path: ['apiId'],
});

const TicketDraftShape = z.object({
  title: field.title('title'),
  description: field.description('description'),
  environment: field.environment('environment'),
  apiId: field.resourceId('apiId'),
  appId: field.resourceId('appId'),
  labels: trimmedList(field.priorityLabel('labels'), LIMITS.labels, 'labels')
    .optional()
    .default([]),
  tags: trimmedList(field.listItem('tags'), LIMITS.tags, 'tags').optional().default([]),
});
const namesAResource = (draft: { apiId?: string | undefined; appId?: string | undefined }) =>
  draft.apiId !== undefined || draft.appId !== undefined;

export const TicketDraft = TicketDraftShape.refine(namesAResource, atLeastOneResource());
/** What the service takes to open a ticket. */
export type TicketDraft = z.output<typeof TicketDraft>;

export const CreateTicketInput = TicketDraftShape.extend({
  idempotencyKey: field.idempotencyKey().optional(),
}).refine(namesAResource, atLeastOneResource());

export const ListTicketsInput = z.object({
  apiId: field.filterId('apiId'),
  appId: field.filterId('appId'),
  authorId: field.filterId('authorId'),
  state: field.state('state').optional(),
  after: field.after(),
  start: field.start(),
  count: field.count(),
});
export type ListTickets = z.output<typeof ListTicketsInput>;

export const TicketRef = z.object({ id: field.ticketId('id') });

/**
 * A ticket's history, whole (no `start`, no `count`: every entry, as before paging existed) or
 * one page of it, with the list's rules: `start` defaults to 0 and `count` to the list's default,
 * a `count` above the list's maximum is clamped to it.
 */
export const HistoryInput = TicketRef.extend({
  start: field.optionalStart(),
  count: field.optionalCount(),
});
export type HistoryQuery = z.output<typeof HistoryInput>;

export const RunActionInput = z.object({
  id: field.ticketId('id'),
  action: field.actionName('action'),
  comments: field.comments('comments'),
  ifMatch: field.version('ifMatch').optional(),
  idempotencyKey: field.idempotencyKey().optional(),
  dryRun: z.boolean().optional().default(false),
});
/** What the service takes to run a workflow action. */
export type RunAction = Omit<z.output<typeof RunActionInput>, 'idempotencyKey'>;

export const AddCommentInput = z.object({
  id: field.ticketId('id'),
  content: field.commentText('content', true),
  ifMatch: field.version('ifMatch').optional(),
  idempotencyKey: field.idempotencyKey().optional(),
});
export type AddComment = Omit<z.output<typeof AddCommentInput>, 'idempotencyKey'>;

export const LoginInput = z.object({
  email: field.email('email'),
  password: field.password('password'),
  tenant: field.tenantId('tenant').optional(),
});
export type Login = z.output<typeof LoginInput>;

export const SessionInput = z.object({ tenant: field.tenantId('tenant').optional() }).optional();

const NOT_AN_EVENT_ID = 'lastEventId must be an eventId, a whole number from 0';

/** Where a feed resumes: the last `eventId` the subscriber received. */
export const ChangesInput = z
  .object({
    lastEventId: z
      .union(
        [
          z
            .number()
            .int(NOT_AN_EVENT_ID)
            .min(0, NOT_AN_EVENT_ID)
            .max(Number.MAX_SAFE_INTEGER, NOT_AN_EVENT_ID),
          // Any safe integer: PostgreSQL's eventIds are transaction ids times 1024.
          z
            .string()
            .regex(/^\d{1,16}$/, NOT_AN_EVENT_ID)
            .transform(Number)
            .refine(Number.isSafeInteger, NOT_AN_EVENT_ID),
        ],
        NOT_AN_EVENT_ID,
      )
      .optional(),
  })
  .optional();

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

const isoTime = z.iso.datetime();
const stateSchema = z.enum(TICKET_STATES);

export const Ticket = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  environment: z.enum(ENVIRONMENTS),
  apiId: z.string().optional(),
  appId: z.string().optional(),
  labels: z.array(z.string()),
  tags: z.array(z.string()),
  state: stateSchema,
  userId: z.string(),
  userName: z.string(),
  created: isoTime,
  updated: isoTime,
  version: z.number().int(),
  /** Comments made, with a transition or without. */
  comments: z.number().int(),
});
export type Ticket = z.output<typeof Ticket>;

export const TicketPage = z.object({
  totalResults: z.number().int(),
  startIndex: z.number().int(),
  tickets: z.array(Ticket),
});
export type TicketPage = z.output<typeof TicketPage>;

export const ValidAction = z.object({
  value: z.string(),
  label: z.string(),
  allowed: z.boolean(),
  reason: z.string().optional(),
});
export const ValidActions = z.array(ValidAction);
export type ValidAction = z.output<typeof ValidAction>;

export const HistoryEntry = z.object({
  action: z.string(),
  from: stateSchema,
  to: stateSchema,
  comments: z.array(z.string()),
  userId: z.string(),
  created: isoTime,
});
export const History = z.array(HistoryEntry);
export type HistoryEntry = z.output<typeof HistoryEntry>;

/** One page of a ticket's history, oldest first, in the style of the ticket list's answer. */
export const HistoryPage = z.object({
  totalResults: z.number().int(),
  startIndex: z.number().int(),
  entries: z.array(HistoryEntry),
});
export type HistoryPage = z.output<typeof HistoryPage>;

/** The whole history when no paging was asked for (the answer before paging existed), else a page. */
export const HistoryAnswer = z.union([History, HistoryPage]);

export const ActResult = z.object({
  state: stateSchema,
  version: z.number().int(),
  ticket: Ticket,
  replayed: z.boolean(),
});
export type ActResult = z.output<typeof ActResult>;

export const Comment = z.object({
  commentId: z.string(),
  content: z.string(),
  userId: z.string(),
  created: isoTime,
});
export type Comment = z.output<typeof Comment>;

/** The login response of the REST surface, as the Akana platform names its fields. */
export const LoginResponse = z.object({
  userName: z.string(),
  userFDN: z.string(),
  loginDomainID: z.string(),
  fedmemberid: z.string(),
  authTokenValidUntil: isoTime,
  Status: z.literal('Success'),
});
export type LoginResponse = z.output<typeof LoginResponse>;

export const RESOURCE_TYPES = ['api', 'app'] as const;

/** A resource (an API or an app) of the caller's tenant that the caller administers. */
export const AdministeredResource = z.object({ id: z.string(), type: z.enum(RESOURCE_TYPES) });
export type AdministeredResource = z.output<typeof AdministeredResource>;

/**
 * The typed surface's session answer (`session.login`, `session.status`, `session.renew`): the
 * REST login response plus who the caller is. A site admin administers every resource of the
 * tenant, whatever `adminOf` lists. REST keeps answering `LoginResponse` alone.
 */
export const SessionStatus = LoginResponse.extend({
  siteAdmin: z.boolean(),
  adminOf: z.array(AdministeredResource),
});
export type SessionStatus = z.output<typeof SessionStatus>;

export const StatusResponse = z.object({ Status: z.literal('Success') });

export const CHANGE_KINDS = ['created', 'action', 'comment'] as const;

/** One committed change of a ticket, as the live feed sends it. */
export const TicketChange = z.object({
  /** Increases with every change; resume after it with `lastEventId`. */
  eventId: z.number().int(),
  ticketId: z.string(),
  kind: z.enum(CHANGE_KINDS),
  action: z.string().optional(),
  from: stateSchema.optional(),
  to: stateSchema,
  version: z.number().int(),
  userId: z.string(),
  at: isoTime,
});
export type TicketChange = z.output<typeof TicketChange>;
