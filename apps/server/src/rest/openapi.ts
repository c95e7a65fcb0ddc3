import {
  ACTION_INPUT_LIMITS,
  COMMENT_ACTION,
  ENVIRONMENTS,
  PRIORITY_LABELS,
  TENANT_ID_PATTERN,
  TICKET_STATES,
} from '@tickets/domain';
import { INTERNAL_MESSAGE, type AppErrorCode } from '../errors/appError.js';
import { ERROR_TABLE, problemType } from '../errors/errorTable.js';
import { BODY_MEDIA_TYPES, PROBLEM_JSON, RESPONSE_MEDIA_TYPES } from '../http/mediaTypes.js';
import { BODY_LIMIT_BYTES } from '../http/readBody.js';
import { LOGIN_FAILURES_BEFORE_DELAY } from '../service/sessionService.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../service/idempotency.js';
import { LIST_LIMITS } from '../service/ticketInput.js';
import { XML_ROOTS } from './representations.js';

// ---------------------------------------------------------------------------------------------
// The subset of OpenAPI 3.1 this document uses, typed, so that a typo is a compile error.
// ---------------------------------------------------------------------------------------------

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null';

export interface XmlObject {
  readonly name?: string;
  readonly wrapped?: boolean;
  readonly attribute?: boolean;
}

/** A JSON Schema (2020-12, the OpenAPI 3.1 dialect), as far as this document needs it. */
export interface Schema {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly enum?: readonly (string | number | boolean)[];
  readonly const?: string | number | boolean;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly xml?: XmlObject;
}

export interface Reference {
  readonly $ref: string;
  readonly description?: string;
}

export interface Example {
  readonly summary?: string;
  readonly value: unknown;
}

export interface MediaTypeObject {
  readonly schema: Schema;
  readonly examples?: Readonly<Record<string, Example>>;
}

export type Content = Readonly<Record<string, MediaTypeObject>>;

export interface Header {
  readonly description: string;
  readonly required?: boolean;
  readonly schema: Schema;
}

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'header' | 'path' | 'cookie';
  readonly description: string;
  readonly required?: boolean;
  readonly schema: Schema;
  readonly example?: unknown;
}

export interface RequestBody {
  readonly description: string;
  readonly required: boolean;
  readonly content: Content;
}

export interface Response {
  readonly description: string;
  readonly headers?: Readonly<Record<string, Header | Reference>>;
  readonly content?: Content;
}

/** Scheme name → scopes (always empty: these are apiKey schemes). */
export type SecurityRequirement = Readonly<Partial<Record<SecuritySchemeName, readonly string[]>>>;

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  readonly tags: readonly TagName[];
  readonly parameters?: readonly (Parameter | Reference)[];
  readonly requestBody?: RequestBody;
  readonly responses: Readonly<Record<string, Response | Reference>>;
  /** `[]` for the public operations; never left to a document-wide default. */
  readonly security: readonly SecurityRequirement[];
}

export const HTTP_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type PathItem = {
  readonly summary?: string;
  readonly parameters?: readonly (Parameter | Reference)[];
} & { readonly [M in HttpMethod]?: Operation };

export interface SecurityScheme {
  readonly type: 'apiKey';
  readonly name: string;
  readonly in: 'cookie' | 'header';
  readonly description: string;
}

export interface Tag {
  readonly name: TagName;
  readonly description: string;
}

export interface OpenApiDocument {
  readonly openapi: `3.1.${number}`;
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly summary: string;
    readonly description: string;
    readonly license: { readonly name: string; readonly identifier: string };
  };
  readonly jsonSchemaDialect: string;
  readonly servers: readonly { readonly url: string; readonly description: string }[];
  readonly tags: readonly Tag[];
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: {
    readonly schemas: Readonly<Record<SchemaName, Schema>>;
    readonly parameters: Readonly<Record<ParameterName, Parameter>>;
    readonly headers: Readonly<Record<HeaderName, Header>>;
    readonly securitySchemes: Readonly<Record<SecuritySchemeName, SecurityScheme>>;
  };
}

type SchemaName =
  | 'TicketID'
  | 'TicketState'
  | 'Environment'
  | 'PriorityLabel'
  | 'Ticket'
  | 'TicketInput'
  | 'TicketList'
  | 'Action'
  | 'AvailableAction'
  | 'ValidActions'
  | 'HistoryEntry'
  | 'History'
  | 'Comment'
  | 'CommentInput'
  | 'LoginRequest'
  | 'LoginResponse'
  | 'StatusResponse'
  | 'Problem'
  | 'Health';

type ParameterName =
  | 'TicketID'
  | 'fedmemberid'
  | 'XRequestId'
  | 'IdempotencyKey'
  | 'IfMatch'
  | 'IfNoneMatch'
  | 'dryRun'
  | 'start'
  | 'count'
  | 'APIID'
  | 'AppID'
  | 'AuthorID'
  | 'State';

type HeaderName =
  'XRequestId' | 'ETag' | 'Location' | 'IdempotentReplayed' | 'RetryAfter' | 'SetCookie';

type SecuritySchemeName = 'AtmoAuthToken' | 'CsrfToken';
type TagName = 'Login' | 'Tickets' | 'Workflow' | 'System';

// ---------------------------------------------------------------------------------------------
// Small builders.
// ---------------------------------------------------------------------------------------------

const schemaRef = (name: SchemaName): Schema => ({ $ref: `#/components/schemas/${name}` });
const parameterRef = (name: ParameterName): Reference => ({
  $ref: `#/components/parameters/${name}`,
});
const headerRef = (name: HeaderName): Reference => ({ $ref: `#/components/headers/${name}` });
const code = (text: string): string => `\`${text}\``;
/** A regular expression's source without its anchors, to compose patterns. */
const unanchored = (pattern: RegExp): string =>
  pattern.source.replace(/^\^/, '').replace(/\$$/, '');

const TEXT_PLAIN = 'text/plain';
const JSON_BODY_TYPES = [...BODY_MEDIA_TYPES]
  .filter(([, format]) => format === 'json')
  .map(([type]) => type);
const mediaTypeList = (types: Iterable<string>): string => [...types].map(code).join(', ');

/** The same schema under each of the given media types (XML uses the schema's `xml.name` as root). */
function contentFor(
  schema: Schema,
  types: Iterable<string>,
  examples: { json?: unknown; xml?: string } = {},
): Content {
  return Object.fromEntries(
    [...types].map((type) => {
      const example =
        type === 'application/json'
          ? examples.json
          : type === 'application/xml'
            ? examples.xml
            : undefined;
      return [
        type,
        { schema, ...(example !== undefined && { examples: { example: { value: example } } }) },
      ];
    }),
  );
}

/** A request body in any of the ten media types (CONTRACT §3), rooted at `schema`'s XML name. */
function tenMediaTypeBody(
  description: string,
  schema: SchemaName,
  examples: { json?: unknown; xml?: string } = {},
): RequestBody {
  return {
    description:
      `${description} Any of the ten media types ${mediaTypeList(BODY_MEDIA_TYPES.keys())}, ` +
      `each with an optional ${code('charset')} parameter (UTF-8 when absent). At most ` +
      `${BODY_LIMIT_BYTES / 1024} KiB. XML bodies are parsed without DTDs: a DOCTYPE or entity ` +
      'declaration is refused (400).',
    required: true,
    content: contentFor(schemaRef(schema), BODY_MEDIA_TYPES.keys(), examples),
  };
}

const requestIdHeader = { 'X-Request-Id': headerRef('XRequestId') };

/** A successful answer in the negotiated media type (JSON, XML or a vnd.soa type). */
function dataResponse(
  description: string,
  schema: SchemaName,
  headers: Readonly<Record<string, Reference>> = {},
): Response {
  return {
    description:
      `${description} In the media type the ${code('Accept')} header chose among ` +
      `${mediaTypeList(RESPONSE_MEDIA_TYPES)} (${code('application/json')} for ${code('*/*')} or no ${code('Accept')}).`,
    headers: { ...requestIdHeader, ...headers },
    content: contentFor(schemaRef(schema), RESPONSE_MEDIA_TYPES),
  };
}

export type ErrorStatus =
  400 | 401 | 403 | 404 | 406 | 409 | 412 | 413 | 415 | 422 | 429 | 500 | 503;
/**
 * An operation's error answers: per status a description, and optionally the error codes it can
 * carry there (by default every code of the error table with that status).
 */
type ErrorSpec = Partial<
  Record<
    ErrorStatus,
    string | { readonly description: string; readonly codes: readonly AppErrorCode[] }
  >
>;

const ERROR_CODES = Object.keys(ERROR_TABLE) as AppErrorCode[];
/** Every problem type URN, from the error table (so the document cannot drift from it). */
export const PROBLEM_TYPES: readonly string[] = ERROR_CODES.map(problemType);
const codesWithStatus = (status: number): AppErrorCode[] =>
  ERROR_CODES.filter((key) => ERROR_TABLE[key].status === status);

/** Statuses whose stored answer an idempotent retry replays (with `Idempotent-Replayed`). */
const REPLAYABLE: ReadonlySet<number> = new Set([400, 403, 404, 409, 412]);

/**
 * The error answers of an operation: each status with its own description, the problem types it
 * can carry, `X-Request-Id` (and `Retry-After` on 429). `text` is the action endpoint's format:
 * a short `text/plain` message; otherwise `application/problem+json`.
 */
function errorResponses(
  format: 'problem' | 'text',
  spec: ErrorSpec,
  options: { idempotent?: boolean } = {},
): Record<string, Response> {
  // Any operation may find the database busy (locked by another process) for too long.
  const all: ErrorSpec = {
    ...spec,
    503:
      spec[503] ??
      'The database stayed busy (locked by another process); try again after `Retry-After`.',
  };
  return Object.fromEntries(
    Object.entries(all).map(([key, entry]) => {
      const status = Number(key) as ErrorStatus;
      const description = typeof entry === 'string' ? entry : entry.description;
      const codes = typeof entry === 'string' ? codesWithStatus(status) : entry.codes;
      if (codes.some((c) => ERROR_TABLE[c].status !== status)) {
        throw new Error(
          `openapi: the codes of the ${status} answer must all have status ${status}`,
        );
      }
      const types = codes.map(problemType);
      const headers: Record<string, Reference> = { ...requestIdHeader };
      if (status === 429 || status === 503) headers['Retry-After'] = headerRef('RetryAfter');
      if (options.idempotent && REPLAYABLE.has(status)) {
        headers['Idempotent-Replayed'] = headerRef('IdempotentReplayed');
      }
      const typeNote =
        types.length > 0
          ? ` Problem type${types.length > 1 ? 's' : ''}: ${types.map(code).join(', ')}.`
          : '';
      const content: Content =
        format === 'text'
          ? {
              [TEXT_PLAIN]: {
                schema: {
                  type: 'string',
                  description: 'A short human-readable message.',
                  ...(status === 500 && { const: INTERNAL_MESSAGE }),
                },
              },
            }
          : {
              [PROBLEM_JSON]: {
                schema: {
                  allOf: [
                    schemaRef('Problem'),
                    {
                      properties: {
                        status: { const: status },
                        ...(types.length > 0 && { type: { enum: types } }),
                      },
                    },
                  ],
                },
              },
            };
      return [
        key,
        {
          description: format === 'text' ? description : `${description}${typeNote}`,
          headers,
          content,
        },
      ];
    }),
  );
}

type AuthLevel = 'public' | 'session' | 'session+csrf';

const SECURITY: Record<AuthLevel, readonly SecurityRequirement[]> = {
  public: [],
  session: [{ AtmoAuthToken: [] }],
  'session+csrf': [{ AtmoAuthToken: [], CsrfToken: [] }],
};

const AUTH_NOTE: Record<AuthLevel, string> = {
  public: 'No session needed.',
  session:
    `Needs the session cookie ${code('AtmoAuthToken_{tenant}')}; with ${code('TICKETS_CSRF=all')} ` +
    `also the ${code('X-Csrf-Token_{tenant}')} header.`,
  'session+csrf':
    `Needs the session cookie ${code('AtmoAuthToken_{tenant}')} and the ` +
    `${code('X-Csrf-Token_{tenant}')} header (unless ${code('TICKETS_CSRF=off')}).`,
};

interface OperationSpec {
  readonly id: string;
  readonly summary: string;
  readonly description: string;
  readonly tag: TagName;
  readonly auth: AuthLevel;
  readonly parameters?: readonly ParameterName[];
  readonly requestBody?: RequestBody;
  readonly responses: Readonly<Record<string, Response>>;
}

function operation(spec: OperationSpec): Operation {
  return {
    operationId: spec.id,
    summary: spec.summary,
    description: `${spec.description}\n\n${AUTH_NOTE[spec.auth]}`,
    tags: [spec.tag],
    ...(spec.parameters && { parameters: spec.parameters.map(parameterRef) }),
    ...(spec.requestBody && { requestBody: spec.requestBody }),
    responses: spec.responses,
    security: SECURITY[spec.auth],
  };
}

/** Every path carries the optional request id; ticket paths their TicketID too. */
const pathParameters = { parameters: [parameterRef('XRequestId')] };
const ticketPathParameters = { parameters: [parameterRef('TicketID'), parameterRef('XRequestId')] };

// ---------------------------------------------------------------------------------------------
// Schemas.
// ---------------------------------------------------------------------------------------------

const TENANT = unanchored(TENANT_ID_PATTERN);
const ID_PATTERN = `^[A-Za-z0-9_:-]+(?:\\.[A-Za-z0-9_:-]+)*\\.${TENANT}$`;
const dateTime = (description: string): Schema => ({
  type: 'string',
  format: 'date-time',
  description,
});
const ACTION_NAME: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: ACTION_INPUT_LIMITS.actionName,
  description: 'A workflow action name, case-sensitive, without surrounding spaces.',
  examples: ['ticket.action.resolve'],
};
const COMMENT_TEXT: Schema = { type: 'string', maxLength: ACTION_INPUT_LIMITS.comment };
const INPUT_LIST_ITEM: Schema = { type: 'string', maxLength: 64 };

const schemas: Record<SchemaName, Schema> = {
  TicketID: {
    type: 'string',
    pattern: ID_PATTERN,
    description:
      `A ticket id ${code('{local}.{tenant}')}: the part after the last dot is the tenant ` +
      `(fedmemberid), and names the session cookie and CSRF header a ticket-scoped request uses.`,
    examples: ['ticket25687.acmepaymentscorp'],
  },
  TicketState: {
    type: 'string',
    enum: TICKET_STATES,
    description: 'A ticket state (exact strings, upper case).',
  },
  Environment: { type: 'string', enum: ENVIRONMENTS },
  PriorityLabel: {
    type: 'string',
    enum: PRIORITY_LABELS,
    description: 'The priority label.',
  },
  Ticket: {
    type: 'object',
    description: 'A ticket as callers see it.',
    xml: { name: XML_ROOTS.ticket },
    required: [
      'TicketID',
      'Title',
      'Description',
      'Environment',
      'Label',
      'Tag',
      'State',
      'UserID',
      'UserName',
      'Created',
      'Updated',
      'Version',
      'Comments',
    ],
    properties: {
      TicketID: schemaRef('TicketID'),
      Title: { type: 'string', minLength: 1, maxLength: 200 },
      Description: { type: 'string', maxLength: 20_000 },
      Environment: schemaRef('Environment'),
      APIID: { type: 'string', description: 'The API the ticket is about, if any.' },
      AppID: { type: 'string', description: 'The app the ticket is about, if any.' },
      Label: { type: 'array', items: schemaRef('PriorityLabel') },
      Tag: { type: 'array', items: { type: 'string' } },
      State: schemaRef('TicketState'),
      UserID: { type: 'string', description: "The author's user id." },
      UserName: { type: 'string', description: "The author's name." },
      Created: dateTime('When the ticket was opened.'),
      Updated: dateTime('When the ticket last changed.'),
      Version: {
        type: 'integer',
        minimum: 1,
        description: `Changes on every change to the ticket, comments included; the ${code('ETag')} is ${code('"<Version>"')}.`,
      },
      Comments: {
        type: 'integer',
        minimum: 0,
        description: 'How many comments the ticket has, with a transition or without.',
      },
    },
    anyOf: [{ required: ['APIID'] }, { required: ['AppID'] }],
  },
  TicketInput: {
    type: 'object',
    description:
      `A new ticket. It needs an ${code('APIID')} or an ${code('AppID')} (or both) of the caller's ` +
      "tenant; the caller becomes its author and it starts in the workflow's initial state. In XML " +
      `the root is ${code(`<${XML_ROOTS.ticket}>`)} and a list is a repeated element.`,
    xml: { name: XML_ROOTS.ticket },
    required: ['Title', 'Environment'],
    properties: {
      Title: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Trimmed; no control characters.',
      },
      Description: {
        type: 'string',
        maxLength: 20_000,
        default: '',
        description: 'No control characters.',
      },
      Environment: schemaRef('Environment'),
      APIID: { type: 'string', maxLength: 300, description: "An API of the caller's tenant." },
      AppID: { type: 'string', maxLength: 300, description: "An app of the caller's tenant." },
      Label: {
        description: `One priority label, alone or in a list; ${code(PRIORITY_LABELS[1])} when absent.`,
        oneOf: [
          schemaRef('PriorityLabel'),
          { type: 'array', items: schemaRef('PriorityLabel'), maxItems: 1 },
        ],
      },
      Tag: {
        description: 'Tags: one string or a list of at most 20, each at most 64 characters.',
        oneOf: [INPUT_LIST_ITEM, { type: 'array', items: INPUT_LIST_ITEM, maxItems: 20 }],
      },
    },
    anyOf: [{ required: ['APIID'] }, { required: ['AppID'] }],
  },
  TicketList: {
    type: 'object',
    description: 'A page of tickets the caller may see: newest first, ties by TicketID.',
    xml: { name: XML_ROOTS.ticketList },
    required: ['totalResults', 'startIndex', 'Ticket'],
    properties: {
      totalResults: {
        type: 'integer',
        minimum: 0,
        description: 'How many tickets match the filters.',
      },
      startIndex: {
        type: 'integer',
        minimum: 0,
        description: `The ${code('start')} of this page.`,
      },
      Ticket: { type: 'array', items: schemaRef('Ticket'), maxItems: LIST_LIMITS.maxCount },
    },
  },
  Action: {
    type: 'object',
    description:
      `The body of the action endpoint. ${code('ActionName')} is required and case-sensitive; ` +
      `${code('Comments')} is one string or a list of strings (in XML: repeated ${code('<Comments>')} ` +
      `elements). Other fields, such as ${code('UserID')}, are ignored: the session's user acts.`,
    xml: { name: 'Action' },
    required: ['ActionName'],
    properties: {
      ActionName: ACTION_NAME,
      Comments: {
        description: `At most ${ACTION_INPUT_LIMITS.comments} comments of at most ${ACTION_INPUT_LIMITS.comment} characters; trimmed, empty ones dropped.`,
        oneOf: [
          COMMENT_TEXT,
          { type: 'array', items: COMMENT_TEXT, maxItems: ACTION_INPUT_LIMITS.comments },
        ],
      },
    },
  },
  AvailableAction: {
    type: 'object',
    description: "One action of the ticket's current state, as this caller sees it.",
    xml: { name: 'Action' },
    required: ['Value', 'Label', 'Allowed'],
    properties: {
      Value: { ...ACTION_NAME, description: 'The action name to send as `ActionName`.' },
      Label: { type: 'string', description: 'A human-readable name.' },
      Allowed: { type: 'boolean', description: 'Whether this caller may take it.' },
      Reason: { type: 'string', description: 'Why not, when not allowed.' },
    },
  },
  ValidActions: {
    type: 'object',
    description: "The actions of the ticket's current state.",
    xml: { name: XML_ROOTS.validActions },
    required: ['Action'],
    properties: { Action: { type: 'array', items: schemaRef('AvailableAction') } },
  },
  HistoryEntry: {
    type: 'object',
    description: `One transition, or one comment without a transition (${code('Action')} ${code(COMMENT_ACTION)}, ${code('From')} = ${code('To')}).`,
    xml: { name: 'History' },
    required: ['Action', 'From', 'To', 'Comments', 'UserID', 'Created'],
    properties: {
      Action: {
        type: 'string',
        description: `The workflow action, ${code(COMMENT_ACTION)} for a comment, or ${code('provision')} for a ticket provisioned in a later state.`,
      },
      From: schemaRef('TicketState'),
      To: schemaRef('TicketState'),
      Comments: { type: 'array', items: { type: 'string' } },
      UserID: { type: 'string', description: 'Who did it.' },
      Created: dateTime('When.'),
    },
  },
  History: {
    type: 'object',
    description:
      'Every transition and comment of a ticket, oldest first. Nothing is ever rewritten.',
    xml: { name: XML_ROOTS.history },
    required: ['History'],
    properties: { History: { type: 'array', items: schemaRef('HistoryEntry') } },
  },
  Comment: {
    type: 'object',
    description: 'A comment as stored.',
    xml: { name: XML_ROOTS.comment },
    required: ['CommentID', 'Content', 'UserID', 'Created'],
    properties: {
      CommentID: {
        type: 'string',
        description:
          'The ticket and the version the comment made: `{ticket}-comment{version}.{tenant}`.',
        examples: ['ticket1-comment3.acme'],
      },
      Content: { type: 'string' },
      UserID: { type: 'string' },
      Created: dateTime('When.'),
    },
  },
  CommentInput: {
    type: 'object',
    description: `A comment without a transition. In XML the root is ${code(`<${XML_ROOTS.comment}>`)}.`,
    xml: { name: XML_ROOTS.comment },
    required: ['Content'],
    properties: {
      Content: {
        type: 'string',
        minLength: 1,
        maxLength: ACTION_INPUT_LIMITS.comment,
        description: 'Trimmed; must not be empty.',
      },
    },
  },
  LoginRequest: {
    type: 'object',
    description: 'Credentials (JSON only).',
    required: ['email', 'password'],
    properties: {
      email: {
        type: 'string',
        minLength: 1,
        maxLength: 320,
        description: 'The e-mail address (trimmed, compared case-insensitively).',
      },
      password: { type: 'string', minLength: 1, maxLength: 1024, format: 'password' },
    },
  },
  LoginResponse: {
    type: 'object',
    description: 'The session just opened, renewed or checked.',
    xml: { name: XML_ROOTS.login },
    required: [
      'userName',
      'userFDN',
      'loginDomainID',
      'fedmemberid',
      'authTokenValidUntil',
      'Status',
    ],
    properties: {
      userName: { type: 'string' },
      userFDN: { type: 'string', description: 'The user id.', examples: ['ada.acme'] },
      loginDomainID: { type: 'string', examples: ['siteusers.acme'] },
      fedmemberid: {
        type: 'string',
        pattern: TENANT_ID_PATTERN.source,
        description: "The session's tenant.",
      },
      authTokenValidUntil: dateTime('When the session expires unless renewed.'),
      Status: { type: 'string', const: 'Success' },
    },
  },
  StatusResponse: {
    type: 'object',
    xml: { name: XML_ROOTS.status },
    required: ['Status'],
    properties: { Status: { type: 'string', const: 'Success' } },
  },
  Problem: {
    type: 'object',
    description:
      'An RFC 9457 problem (`application/problem+json`), the error answer of every operation but ' +
      'the action endpoint. Problem types:\n\n' +
      ERROR_CODES.map(
        (key) =>
          `- ${code(problemType(key))}: ${ERROR_TABLE[key].status} ${ERROR_TABLE[key].title}`,
      ).join('\n'),
    required: ['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId'],
    properties: {
      type: {
        type: 'string',
        enum: PROBLEM_TYPES,
        description: 'The stable problem type, `urn:tickets:problem:<slug>`.',
      },
      title: { type: 'string', description: 'A short summary of the problem type.' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string', description: 'What went wrong in this request.' },
      instance: { type: 'string', description: 'The request path.' },
      code: { type: 'string', enum: ERROR_CODES, description: 'The error code behind the type.' },
      requestId: { type: 'string', description: `The request's ${code('X-Request-Id')}.` },
      field: {
        type: 'string',
        description: `The bad field (invalid input), e.g. ${code('Title')} or ${code('Comments[1]')}.`,
      },
      action: {
        type: 'string',
        description: 'The action refused (not allowed, invalid transition).',
      },
      state: {
        ...schemaRef('TicketState'),
        description: "The ticket's state (invalid transition).",
      },
      validActions: {
        type: 'array',
        items: { type: 'string' },
        description: 'The actions of that state (invalid transition).',
      },
      expected: {
        type: 'integer',
        description: `The version ${code('If-Match')} named (version mismatch).`,
      },
      actual: { type: 'integer', description: "The ticket's version (version mismatch)." },
      retryAfterSeconds: {
        type: 'integer',
        minimum: 0,
        description: 'How long to wait (too many requests).',
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } },
  },
};

// ---------------------------------------------------------------------------------------------
// Parameters and headers.
// ---------------------------------------------------------------------------------------------

const parameters: Record<ParameterName, Parameter> = {
  TicketID: {
    name: 'TicketID',
    in: 'path',
    required: true,
    description:
      `The ticket, ${code('{local}.{tenant}')}. Its tenant suffix selects the session cookie ` +
      `${code('AtmoAuthToken_{tenant}')} and CSRF header the request must carry.`,
    schema: schemaRef('TicketID'),
    example: 'ticket1.acme',
  },
  fedmemberid: {
    name: 'fedmemberid',
    in: 'query',
    description:
      'The tenant, when the server hosts several and it cannot be told otherwise. Without it, ' +
      `the tenant is that of the only ${code('AtmoAuthToken_*')} cookie sent; several such cookies ` +
      `and no ${code('fedmemberid')} give 400. (${code('fedmemberId')} is accepted too.)`,
    schema: { type: 'string', pattern: TENANT_ID_PATTERN.source },
    example: 'acme',
  },
  XRequestId: {
    name: 'X-Request-Id',
    in: 'header',
    description:
      'A request id of your own; kept (and echoed) when it looks sane, otherwise replaced.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description:
      'Makes the call safe to retry: a retry with the same key and body (by the same user) within ' +
      '24 h returns the first answer again (with `Idempotent-Replayed: true`) and changes nothing; ' +
      'the same key with another body gives 422. 2xx and final 4xx answers are kept; 401, 429 and ' +
      '5xx are not.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description:
      `Refuse (412) if the ticket's version is not this one: ${code('"<version>"')} as in the ` +
      `${code('ETag')} (a bare number and ${code('W/')} are accepted; ${code('*')} matches any).`,
    schema: { type: 'string', pattern: '^(?:\\*|(?:W/)?"?\\d{1,15}"?)$' },
    example: '"3"',
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    description: `A ${code('ETag')} the caller holds: 304 when the ticket is still at that version.`,
    schema: { type: 'string' },
  },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    description:
      'Full validation and authorization, the would-be state in the body, nothing written (and no ' +
      `idempotency record kept). ${code('?dryRun')} alone means true.`,
    schema: { type: 'boolean', default: false },
  },
  start: {
    name: 'start',
    in: 'query',
    description: 'How many matching tickets to skip.',
    schema: { type: 'integer', minimum: 0, maximum: LIST_LIMITS.maxStart, default: 0 },
  },
  count: {
    name: 'count',
    in: 'query',
    description: `The page size; a value over ${LIST_LIMITS.maxCount} is clamped to ${LIST_LIMITS.maxCount}.`,
    schema: { type: 'integer', minimum: 1, default: LIST_LIMITS.defaultCount },
  },
  APIID: {
    name: 'APIID',
    in: 'query',
    description: 'Only tickets about this API.',
    schema: { type: 'string', maxLength: 300 },
  },
  AppID: {
    name: 'AppID',
    in: 'query',
    description: 'Only tickets about this app.',
    schema: { type: 'string', maxLength: 300 },
  },
  AuthorID: {
    name: 'AuthorID',
    in: 'query',
    description: 'Only tickets by this user.',
    schema: { type: 'string', maxLength: 300 },
  },
  State: {
    name: 'State',
    in: 'query',
    description: 'Only tickets in this state.',
    schema: schemaRef('TicketState'),
  },
};

const headers: Record<HeaderName, Header> = {
  XRequestId: {
    description:
      "On every response: the request's own `X-Request-Id` when sane, otherwise a new one.",
    required: true,
    schema: { type: 'string' },
  },
  ETag: {
    description: "The ticket's version, quoted; send it back in `If-Match` or `If-None-Match`.",
    required: true,
    schema: { type: 'string', pattern: '^"\\d+"$' },
  },
  Location: {
    description: 'The new ticket: `/api/tickets/{TicketID}`.',
    required: true,
    schema: { type: 'string', format: 'uri-reference' },
  },
  IdempotentReplayed: {
    description:
      'Present (`true`) when this answer is the replay of an earlier call with the same `Idempotency-Key`.',
    schema: { type: 'string', const: 'true' },
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  SetCookie: {
    description:
      '`AtmoAuthToken_{tenant}` (signed, HttpOnly, SameSite=Lax) and `Csrf-Token_{tenant}` ' +
      '(readable by scripts; unless CSRF is off), both expiring with the session. Logout sets both expired.',
    schema: { type: 'string' },
  },
};

// ---------------------------------------------------------------------------------------------
// Operations.
// ---------------------------------------------------------------------------------------------

const p = (format: 'problem' | 'text', spec: ErrorSpec, idempotent = false) =>
  errorResponses(format, spec, { idempotent });

const SESSION_401 = 'No, expired, ended or forged session cookie for the tenant.';
const WRITE_401 = `${SESSION_401} Or the CSRF header is missing or wrong.`;
const TENANT_400 = `an invalid ${code('fedmemberid')}, or session cookies of several tenants and no ${code('fedmemberid')}`;
/** A 400 that can only be invalid input (no body is read). */
const invalid = (description: string) => ({ description, codes: ['INVALID_INPUT'] as const });
const TICKET_400 = 'The TicketID is malformed.';
const NOT_ACCEPTABLE = 'The `Accept` header admits none of the response media types.';
const INTERNAL = 'A fault of ours; the details are only in the log.';
const ETAG = { ETag: headerRef('ETag') };
const REPLAYED = { 'Idempotent-Replayed': headerRef('IdempotentReplayed') };
const SET_COOKIE = { 'Set-Cookie': headerRef('SetCookie') };

const loginStatusResponses = (extra: ErrorSpec = {}) => ({
  ...p('problem', {
    400: invalid(`Not one tenant: ${TENANT_400}.`),
    401: SESSION_401,
    ...extra,
    406: NOT_ACCEPTABLE,
    500: INTERNAL,
  }),
});

const paths: Record<string, PathItem> = {
  '/api/login': {
    ...pathParameters,
    post: operation({
      id: 'login',
      summary: 'Log in',
      description:
        'Opens a session and sets its cookies. Wrong credentials get the same 401 whether the user ' +
        `exists or not; after ${LOGIN_FAILURES_BEFORE_DELAY} failures for one account, further ` +
        'attempts are slowed down (429 with `Retry-After`). Exempt from CSRF.',
      tag: 'Login',
      auth: 'public',
      parameters: ['fedmemberid'],
      requestBody: {
        description: `Credentials, in one of the JSON media types ${mediaTypeList(JSON_BODY_TYPES)}.`,
        required: true,
        content: contentFor(schemaRef('LoginRequest'), JSON_BODY_TYPES, {
          json: { email: 'ada@acme.test', password: 's3cret-pass' },
        }),
      },
      responses: {
        '200': dataResponse('Logged in.', 'LoginResponse', SET_COOKIE),
        ...p('problem', {
          400: {
            description: `Missing or invalid ${code('email')}/${code('password')}, malformed JSON, an invalid ${code('fedmemberid')}, or an e-mail known in several tenants without ${code('fedmemberid')}.`,
            codes: ['INVALID_INPUT', 'MALFORMED_BODY'],
          },
          401: 'Wrong e-mail or password.',
          406: NOT_ACCEPTABLE,
          413: `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`,
          415: 'The body is not JSON.',
          429: 'Too many failed logins for this account; wait `Retry-After` seconds.',
          500: INTERNAL,
        }),
      },
    }),
  },
  '/api/login/status': {
    ...pathParameters,
    get: operation({
      id: 'getLoginStatus',
      summary: 'The current session',
      description: 'Who is logged in, and until when.',
      tag: 'Login',
      auth: 'session',
      parameters: ['fedmemberid'],
      responses: {
        '200': dataResponse('The session.', 'LoginResponse'),
        ...loginStatusResponses(),
      },
    }),
  },
  '/api/login/renewToken': {
    ...pathParameters,
    post: operation({
      id: 'renewToken',
      summary: 'Renew the session',
      description:
        'Extends the session to now + the session length, never past the maximum after login ' +
        '(8 h by default), and sets the cookies again. Fails (401) once the session has expired.',
      tag: 'Login',
      auth: 'session+csrf',
      parameters: ['fedmemberid'],
      responses: {
        '200': dataResponse(
          'Renewed; `authTokenValidUntil` is the new expiry.',
          'LoginResponse',
          SET_COOKIE,
        ),
        ...loginStatusResponses({ 401: WRITE_401 }),
      },
    }),
  },
  '/api/login/endsession': {
    ...pathParameters,
    get: operation({
      id: 'endSession',
      summary: 'Log out (GET)',
      description: 'Ends the session on the server and expires both cookies.',
      tag: 'Login',
      auth: 'session',
      parameters: ['fedmemberid'],
      responses: {
        '200': dataResponse('Logged out.', 'StatusResponse', SET_COOKIE),
        ...loginStatusResponses(),
      },
    }),
  },
  '/api/login/logout': {
    ...pathParameters,
    post: operation({
      id: 'logout',
      summary: 'Log out',
      description: 'Ends the session on the server and expires both cookies.',
      tag: 'Login',
      auth: 'session+csrf',
      parameters: ['fedmemberid'],
      responses: {
        '200': dataResponse('Logged out.', 'StatusResponse', SET_COOKIE),
        ...loginStatusResponses({ 401: WRITE_401 }),
      },
    }),
  },
  '/api/tickets': {
    ...pathParameters,
    post: operation({
      id: 'createTicket',
      summary: 'Open a ticket',
      description:
        "Opens a ticket on an API or app of the caller's tenant; any user of the tenant may.",
      tag: 'Tickets',
      auth: 'session+csrf',
      parameters: ['fedmemberid', 'IdempotencyKey'],
      requestBody: tenMediaTypeBody('The new ticket.', 'TicketInput', {
        json: {
          Title: 'Refunds fail',
          Description: 'Since 2.4.0',
          Environment: 'Production',
          APIID: 'payments.acme',
        },
        xml: '<Ticket><Title>Refunds fail</Title><Environment>Production</Environment><APIID>payments.acme</APIID></Ticket>',
      }),
      responses: {
        '201': dataResponse('Created.', 'Ticket', {
          Location: headerRef('Location'),
          ...ETAG,
          ...REPLAYED,
        }),
        ...p(
          'problem',
          {
            400: {
              description: `Malformed body, or an invalid field (the problem's ${code('field')} names it); or ${TENANT_400}.`,
              codes: ['INVALID_INPUT', 'MALFORMED_BODY'],
            },
            401: WRITE_401,
            403: `The ${code('APIID')} or ${code('AppID')} is not a resource of the caller's tenant.`,
            404: `No such API or app.`,
            406: NOT_ACCEPTABLE,
            409: {
              description: 'A concurrent request with the same `Idempotency-Key` won.',
              codes: ['CONFLICT'],
            },
            413: `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`,
            415: 'The `Content-Type` is none of the ten.',
            422: 'The `Idempotency-Key` was used with a different request.',
            500: INTERNAL,
          },
          true,
        ),
      },
    }),
    get: operation({
      id: 'listTickets',
      summary: 'List tickets',
      description:
        "The caller's tenant's tickets (every user of a tenant sees all of its tickets), newest " +
        `first, ties by TicketID; ${LIST_LIMITS.defaultCount} per page by default, at most ${LIST_LIMITS.maxCount}.`,
      tag: 'Tickets',
      auth: 'session',
      parameters: ['fedmemberid', 'start', 'count', 'APIID', 'AppID', 'AuthorID', 'State'],
      responses: {
        '200': dataResponse('A page of tickets.', 'TicketList'),
        ...p('problem', {
          400: invalid(
            `An invalid filter (the problem's ${code('field')} names it); or ${TENANT_400}.`,
          ),
          401: SESSION_401,
          406: NOT_ACCEPTABLE,
          500: INTERNAL,
        }),
      },
    }),
  },
  '/api/tickets/{TicketID}': {
    ...ticketPathParameters,
    get: operation({
      id: 'getTicket',
      summary: 'One ticket',
      description: "One ticket of the caller's tenant; its `ETag` is its version.",
      tag: 'Tickets',
      auth: 'session',
      parameters: ['IfNoneMatch'],
      responses: {
        '200': dataResponse('The ticket.', 'Ticket', ETAG),
        '304': {
          description: 'Not modified: the ticket is still at the `If-None-Match` version.',
          headers: { ...requestIdHeader, ...ETAG },
        },
        ...p('problem', {
          400: invalid(TICKET_400),
          401: `${SESSION_401} A ticket of another tenant gets this too, whether it exists or not.`,
          404: "No such ticket in the caller's tenant.",
          406: NOT_ACCEPTABLE,
          500: INTERNAL,
        }),
      },
    }),
  },
  '/api/tickets/{TicketID}/actions': {
    ...ticketPathParameters,
    post: operation({
      id: 'executeTicketAction',
      summary: 'Take a workflow action',
      description:
        'Moves the ticket through its workflow (e.g. `ticket.action.resolve`) and answers the new ' +
        'state as `text/plain`. Any `Accept` that admits `text/plain` will do (none = `*/*`). ' +
        'Errors are short `text/plain` messages too. Checks run in this order: session, CSRF, ' +
        '`Content-Type` (415), body size (413), parsing (400), the ticket (404), rights (403), ' +
        '`If-Match` (412), the state (409). A transition and its history row are written together; ' +
        'of concurrent actions on one ticket exactly one wins, the others get 409.',
      tag: 'Workflow',
      auth: 'session+csrf',
      parameters: ['dryRun', 'IdempotencyKey', 'IfMatch'],
      requestBody: tenMediaTypeBody('The action.', 'Action', {
        json: { ActionName: 'ticket.action.resolve', Comments: ['Fixed in 2.4.1'] },
        xml: '<Action><ActionName>ticket.action.resolve</ActionName><Comments>Fixed in 2.4.1</Comments></Action>',
      }),
      responses: {
        '200': {
          description: "The ticket's new state (with `dryRun`, the state it would have).",
          headers: { ...requestIdHeader, ...ETAG, ...REPLAYED },
          content: {
            [TEXT_PLAIN]: {
              schema: schemaRef('TicketState'),
              examples: { resolved: { value: 'RESOLVED' } },
            },
          },
        },
        ...p(
          'text',
          {
            400: `Malformed JSON or XML, missing ${code('ActionName')}, an action unknown to the workflow, a DOCTYPE or entity in XML, or a malformed TicketID, ${code('If-Match')}, ${code('Idempotency-Key')} or ${code('dryRun')}.`,
            401: `${WRITE_401} A ticket of another tenant gets this too, whether it exists or not.`,
            403: 'Logged in, but the workflow does not let this caller take this action.',
            404: "No such ticket in the caller's tenant.",
            406: 'The `Accept` header excludes `text/plain`.',
            409: "The action is not available in the ticket's current state (the message names the state and the valid actions), or a concurrent action won.",
            412: "`If-Match` does not match the ticket's version.",
            413: `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`,
            415: 'The `Content-Type` is none of the ten (or its charset is unsupported).',
            422: 'The `Idempotency-Key` was used with a different body.',
            500: `A fault of ours: the body is ${code(INTERNAL_MESSAGE)}; details only in the log.`,
          },
          true,
        ),
      },
    }),
    get: operation({
      id: 'listTicketActions',
      summary: "The actions of the ticket's state",
      description:
        "The actions of the ticket's current state, each allowed for this caller or not (and why not).",
      tag: 'Workflow',
      auth: 'session',
      responses: validActionsResponses(),
    }),
  },
  '/api/workflow/objects/{TicketID}/actions': {
    ...ticketPathParameters,
    get: operation({
      id: 'listWorkflowObjectActions',
      summary: "The actions of the ticket's state (platform path)",
      description: `The same as ${code('GET /api/tickets/{TicketID}/actions')}, under the platform's workflow path.`,
      tag: 'Workflow',
      auth: 'session',
      responses: validActionsResponses(),
    }),
  },
  '/api/tickets/{TicketID}/history': {
    ...ticketPathParameters,
    get: operation({
      id: 'getTicketHistory',
      summary: "A ticket's history",
      description:
        'Every transition and comment: action, from, to, comments, actor, time; oldest first.',
      tag: 'Tickets',
      auth: 'session',
      responses: {
        '200': dataResponse('The history.', 'History'),
        ...ticketReadErrors(),
      },
    }),
  },
  '/api/tickets/{TicketID}/comments': {
    ...ticketPathParameters,
    post: operation({
      id: 'addTicketComment',
      summary: 'Comment on a ticket',
      description:
        "A comment without a transition: it appears in the history, counts in the ticket's " +
        "`Comments` and changes its version. Any user of the ticket's tenant may comment.",
      tag: 'Tickets',
      auth: 'session+csrf',
      parameters: ['IdempotencyKey', 'IfMatch'],
      requestBody: tenMediaTypeBody('The comment.', 'CommentInput', {
        json: { Content: 'Seen again on 2.4.1' },
        xml: '<Comment><Content>Seen again on 2.4.1</Content></Comment>',
      }),
      responses: {
        '201': dataResponse("Added; the `ETag` is the ticket's new version.", 'Comment', {
          ...ETAG,
          ...REPLAYED,
        }),
        ...p(
          'problem',
          {
            400: {
              description: `Malformed body, missing or empty ${code('Content')}, or a malformed TicketID, ${code('If-Match')} or ${code('Idempotency-Key')}.`,
              codes: ['INVALID_INPUT', 'MALFORMED_BODY'],
            },
            401: `${WRITE_401} A ticket of another tenant gets this too, whether it exists or not.`,
            404: "No such ticket in the caller's tenant.",
            406: NOT_ACCEPTABLE,
            409: {
              description: 'A concurrent change to the ticket won; read it and try again.',
              codes: ['CONFLICT'],
            },
            412: "`If-Match` does not match the ticket's version.",
            413: `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`,
            415: 'The `Content-Type` is none of the ten.',
            422: 'The `Idempotency-Key` was used with a different request.',
            500: INTERNAL,
          },
          true,
        ),
      },
    }),
  },
  '/healthz': {
    ...pathParameters,
    get: operation({
      id: 'getHealth',
      summary: 'Health',
      description: 'Answers 200 while the server can reach its database.',
      tag: 'System',
      auth: 'public',
      responses: {
        '200': {
          description: 'Healthy.',
          headers: requestIdHeader,
          content: contentFor(
            { allOf: [schemaRef('Health')], properties: { status: { const: 'ok' } } },
            ['application/json'],
          ),
        },
        '503': {
          description: 'The database cannot be reached.',
          headers: requestIdHeader,
          content: contentFor(
            { allOf: [schemaRef('Health')], properties: { status: { const: 'unavailable' } } },
            ['application/json'],
          ),
        },
      },
    }),
  },
  '/api/openapi.json': {
    ...pathParameters,
    get: operation({
      id: 'getOpenApiDocument',
      summary: 'This document',
      description: 'The OpenAPI 3.1 description of the REST surface.',
      tag: 'System',
      auth: 'public',
      responses: {
        '200': {
          description: 'The OpenAPI document.',
          headers: requestIdHeader,
          content: contentFor(
            {
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: {
                openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
                info: { type: 'object' },
                paths: { type: 'object' },
              },
            },
            ['application/json'],
          ),
        },
      },
    }),
  },
};

function ticketReadErrors(): Record<string, Response> {
  return p('problem', {
    400: invalid(TICKET_400),
    401: `${SESSION_401} A ticket of another tenant gets this too, whether it exists or not.`,
    404: "No such ticket in the caller's tenant.",
    406: NOT_ACCEPTABLE,
    500: INTERNAL,
  });
}

function validActionsResponses(): Record<string, Response> {
  return {
    '200': dataResponse("The actions of the ticket's current state.", 'ValidActions'),
    ...ticketReadErrors(),
  };
}

// ---------------------------------------------------------------------------------------------
// The document.
// ---------------------------------------------------------------------------------------------

const problemTable = [
  '| type | status | title |',
  '|---|---|---|',
  ...ERROR_CODES.map(
    (key) =>
      `| ${code(problemType(key))} | ${ERROR_TABLE[key].status} | ${ERROR_TABLE[key].title} |`,
  ),
].join('\n');

const description = `A self-hostable ticket workflow server speaking the Akana Tickets API.

**Tenants and ids.** Every id is ${code('{local}.{tenant}')}, e.g. ${code('ticket25687.acmepaymentscorp')}. Ticket-scoped operations (paths with ${code('{TicketID}')}) take the tenant from the TicketID's suffix; the others from ${code('?fedmemberid=')}, else from the only ${code('AtmoAuthToken_*')} cookie sent. The session cookie and CSRF header carry the tenant as a suffix: ${code('AtmoAuthToken_{tenant}')}, ${code('X-Csrf-Token_{tenant}')}.

**Media types.** Operations that return data answer in ${mediaTypeList(RESPONSE_MEDIA_TYPES)}, as the ${code('Accept')} header chooses (406 when it admits none); XML mirrors JSON with the wrapper as root element and one element per field or list item. Request bodies are accepted in the same ten types (login: JSON only). The action endpoint answers ${code('text/plain')}.

**Errors.** ${code('application/problem+json')} (RFC 9457) with a stable ${code('type')}, except on the action endpoint, which answers a short ${code('text/plain')} message. Unknown paths get 404 and unsupported methods 405. Every response carries ${code('X-Request-Id')}; responses under ${code('/api/')} carry ${code('Cache-Control: no-store')}. GET operations answer HEAD too.

**Writes.** State-changing ticket operations take ${code('Idempotency-Key')} and, where a ticket exists, ${code('If-Match')}.

**Problem types**

${problemTable}`;

/** The OpenAPI 3.1 description of the REST surface, served at `GET /api/openapi.json`. */
export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tickets API',
    version: '0.1.0',
    summary: 'Akana-compatible ticket workflow API',
    description,
    license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
  },
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  servers: [{ url: '/', description: 'This server' }],
  tags: [
    { name: 'Login', description: 'Sessions: login, status, renewal, logout.' },
    { name: 'Tickets', description: 'Tickets: create, list, read, history, comments.' },
    {
      name: 'Workflow',
      description: 'Workflow actions: take one, list those of the current state.',
    },
    { name: 'System', description: 'Health and this document.' },
  ],
  paths,
  components: {
    schemas,
    parameters,
    headers,
    securitySchemes: {
      AtmoAuthToken: {
        type: 'apiKey',
        in: 'cookie',
        name: 'AtmoAuthToken_{tenant}',
        description:
          'The session cookie set by `POST /api/login`. Its name ends with the tenant (fedmemberid), ' +
          'e.g. `AtmoAuthToken_acme`; OpenAPI cannot template a cookie name, so `{tenant}` stands for ' +
          "it. A ticket-scoped request uses the cookie of the TicketID's tenant (`ticket1.acme` → " +
          '`AtmoAuthToken_acme`); other requests that of `?fedmemberid=`, else the only ' +
          '`AtmoAuthToken_*` cookie sent. The value is signed (TokenID, user, issue and expiration ' +
          'time) and names a server-side session; HttpOnly, SameSite=Lax. A missing, forged, ended ' +
          'or expired session gets 401.',
      },
      CsrfToken: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Csrf-Token_{tenant}',
        description:
          'The value of the `Csrf-Token_{tenant}` cookie set at login (readable by scripts), sent ' +
          'back in this header; `{tenant}` as for the session cookie, e.g. `X-Csrf-Token_acme`. ' +
          'Needed on every non-GET request but `POST /api/login` (`TICKETS_CSRF=write`, the ' +
          'default); on GETs too with `TICKETS_CSRF=all`; never with `off`. Header names are ' +
          'case-insensitive; a missing or wrong value gets 401.',
      },
    },
  },
};
