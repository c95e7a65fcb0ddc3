import { ENVIRONMENTS, PRIORITY_LABELS, TICKET_STATES } from '@tickets/domain';
import { z } from 'zod';
import * as field from './fields.js';
import { LIMITS } from './limits.js';

/**
 * The Akana wire of the REST surface: PascalCase fields, a list given as one string or many.
 * Built from the same fields as the typed surface (`schemas.ts`), so every limit is shared; the
 * REST adapter decodes these into the service's commands. XML mirrors each shape with the
 * wrapper as root element (`XML_ROOTS`) and one element per field or list item.
 */

/**
 * One value or a list of them, trimmed, blank ones dropped. `item` checks each value after
 * trimming, so the input side, which JSON Schema sees, states its rule (`itemMeta`) and the
 * count in `meta`.
 */
const oneOrMany = <T extends z.ZodType<string, string>>(
  item: T,
  max: number,
  name: string,
  itemMeta: z.core.JSONSchemaMeta,
) =>
  z
    .union(
      [z.string().meta(itemMeta), z.array(z.string().meta(itemMeta)).meta({ maxItems: max })],
      `${name} must be a string or a list of strings`,
    )
    .optional()
    .transform((value) =>
      value === undefined
        ? []
        : (Array.isArray(value) ? value : [value]).map((s) => s.trim()).filter(Boolean),
    )
    .pipe(z.array(item).max(max, `at most ${max} ${name} values`));

export const TicketBody = z
  .object({
    Title: field.title('Title'),
    Description: field.description('Description'),
    Environment: field.environment('Environment'),
    APIID: field.resourceId('APIID'),
    AppID: field.resourceId('AppID'),
    Label: oneOrMany(field.priorityLabel('Label'), LIMITS.labels, 'Label', {
      enum: [...PRIORITY_LABELS],
    }),
    Tag: oneOrMany(field.listItem('Tag'), LIMITS.tags, 'Tag', { maxLength: LIMITS.listItem }),
  })
  .refine((ticket) => ticket.APIID !== undefined || ticket.AppID !== undefined, {
    message: 'a ticket needs an APIID or an AppID',
    path: ['APIID'],
  })
  .meta({
    description: 'A new ticket. Give an `APIID`, an `AppID`, or both.',
    anyOf: [{ required: ['APIID'] }, { required: ['AppID'] }],
  });

export const ListQuery = z.object({
  APIID: field.filterId('APIID'),
  AppID: field.filterId('AppID'),
  AuthorID: field.filterId('AuthorID'),
  State: field.state('State').optional(),
  after: field.after(),
  start: field.start(),
  count: field.count(),
});

/** The history's paging; without either, the history is answered whole, as before paging existed. */
export const HistoryQuery = z.object({
  start: field.optionalStart(),
  count: field.optionalCount(),
});

export const ActionBody = z
  .object(
    {
      ActionName: field.actionName('ActionName'),
      Comments: field.comments('Comments'),
    },
    'the body must be an Action object',
  )
  .meta({
    description:
      'A workflow action. `ActionName` is case-sensitive; `Comments` is a string or a list of ' +
      'strings. Other fields (such as `UserID`) are ignored: the session decides who acts.',
  });

export const CommentBody = z.object(
  { Content: field.commentText('Content', true) },
  'the body must be a Comment object',
);

export const LoginBody = z.object({
  email: field.email('email'),
  password: field.password('password'),
});

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

const isoTime = z.iso.datetime();
const stateSchema = z.enum(TICKET_STATES);

export const TicketWire = z.object({
  TicketID: z.string(),
  Title: z.string(),
  Description: z.string(),
  Environment: z.enum(ENVIRONMENTS),
  APIID: z.string().optional(),
  AppID: z.string().optional(),
  Label: z.array(z.string()),
  Tag: z.array(z.string()),
  State: stateSchema,
  UserID: z.string(),
  UserName: z.string(),
  Created: isoTime,
  Updated: isoTime,
  Version: z.number().int(),
  Comments: z.number().int(),
});

export const TicketListWire = z.object({
  totalResults: z.number().int(),
  startIndex: z.number().int(),
  Ticket: z.array(TicketWire),
});

export const ActionListWire = z.object({
  Action: z.array(
    z.object({
      Value: z.string(),
      Label: z.string(),
      Allowed: z.boolean(),
      Reason: z.string().optional(),
    }),
  ),
});

/** `totalResults` and `startIndex` are there only when `start` or `count` was given. */
export const HistoryListWire = z.object({
  totalResults: z.number().int().optional(),
  startIndex: z.number().int().optional(),
  History: z.array(
    z.object({
      Action: z.string(),
      From: stateSchema,
      To: stateSchema,
      Comments: z.array(z.string()),
      UserID: z.string(),
      Created: isoTime,
    }),
  ),
});

export const CommentWire = z.object({
  CommentID: z.string(),
  Content: z.string(),
  UserID: z.string(),
  Created: isoTime,
});

/** The XML root element of each shape. */
export const XML_ROOTS = {
  ticket: 'Ticket',
  ticketList: 'TicketList',
  action: 'Action',
  validActions: 'ActionList',
  history: 'HistoryList',
  comment: 'Comment',
  login: 'LoginResponse',
  status: 'StatusResponse',
} as const;
