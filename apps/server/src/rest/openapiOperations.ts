import {
  ERROR_TABLE,
  LIMITS,
  OPERATIONS,
  problemType,
  ActResult,
  XML_ROOTS,
  type AppErrorCode,
  type AuthLevel,
  type Operation as Declared,
  type OperationName,
  type RestBinding,
  type WriteOption,
} from '@tickets/contract';
import { z } from 'zod';
import { BODY_MEDIA_TYPES, RESPONSE_MEDIA_TYPES } from '../http/mediaTypes.js';
import {
  byStatus,
  componentName,
  content,
  errorCodes,
  errorContent,
  headerRef as header,
  JSON_TYPES,
  jsonSchema,
  list,
  parameterRef as parameter,
  ProblemSchema,
  schemaComponents,
  schemaRef,
  TEXT,
  type Component,
  type HeaderName,
  type OperationObject,
  type Parameter,
  type ParameterName,
  type PathItem,
  type Ref,
  type Response,
  type Schema,
} from './openapiSchemas.js';

/**
 * The operations of the OpenAPI document, derived from `OPERATIONS` of @tickets/contract: paths,
 * methods, operationIds, bodies, parameters, answers, security and error answers. What is
 * written here is prose, and the little the declarations do not (yet) say, in `DOCS`.
 */

export type TagName = 'Login' | 'Tickets' | 'Workflow' | 'System';
type SuccessHeader = 'ETag' | 'Location' | 'Set-Cookie';

/** The prose of an operation, and what the contract does not (yet) declare. */
interface Doc {
  readonly tag?: TagName;
  readonly description?: string;
  /** The success answer's description. */
  readonly answer?: string;
  /** The request body's description and examples. */
  readonly body?: { readonly description: string; readonly json: unknown; readonly xml?: string };
  /** The XML root element of the body; without one the body is JSON only. */
  readonly bodyXmlRoot?: string;
  /** The answer of a `text` operation. */
  readonly textAnswer?: z.ZodType;
  readonly headers?: readonly SuccessHeader[];
  /** Answers 304 to an `If-None-Match` naming the current ETag. */
  readonly conditional?: true;
  /** Error descriptions of this operation, over those of `ERROR_NOTES`. */
  readonly errors?: Partial<Record<AppErrorCode, string>>;
}

const COOKIES: readonly SuccessHeader[] = ['Set-Cookie'];
const DOCS: Partial<Record<OperationName, Doc>> = {
  login: {
    description:
      'Opens a session and sets its cookies. Wrong credentials get the same 401 whether the user ' +
      'exists or not; after repeated failures for one account, further attempts are slowed down ' +
      '(429 with `Retry-After`). Exempt from CSRF.',
    body: {
      description: 'Credentials.',
      json: { email: 'ada@acme.test', password: 's3cret-pass' },
    },
    answer: 'Logged in.',
    headers: COOKIES,
    errors: { UNAUTHENTICATED: 'Wrong e-mail or password.', UNSUPPORTED_MEDIA_TYPE: 'Not JSON.' },
  },
  sessionStatus: { description: 'Who is logged in, and until when.', answer: 'The session.' },
  renew: {
    description:
      'Extends the session to now + the session length, never past the maximum after login ' +
      '(8 h by default), and sets the cookies again. Fails (401) once the session has expired.',
    answer: 'Renewed; `authTokenValidUntil` is the new expiry.',
    headers: COOKIES,
  },
  logout: {
    description: 'Ends the session on the server and expires both cookies.',
    answer: 'Logged out.',
    headers: COOKIES,
  },
  endSession: {
    description: 'Ends the session on the server and expires both cookies.',
    answer: 'Logged out.',
    headers: COOKIES,
  },
  createTicket: {
    description:
      "Opens a ticket on an API or app of the caller's tenant; any user of the tenant may. The " +
      "caller becomes its author and it starts in the workflow's initial state.",
    body: {
      description: 'The new ticket; a list is one value or several (in XML, a repeated element).',
      json: {
        Title: 'Refunds fail',
        Environment: 'Production',
        APIID: 'payments.acme',
        Tag: ['refunds'],
      },
      xml: '<Ticket><Title>Refunds fail</Title><Environment>Production</Environment><APIID>payments.acme</APIID><Tag>refunds</Tag></Ticket>',
    },
    bodyXmlRoot: XML_ROOTS.ticket,
    answer: 'Created.',
    headers: ['ETag', 'Location'],
    errors: {
      NOT_ALLOWED: "The `APIID` or `AppID` is not a resource of the caller's tenant.",
      NOT_FOUND: 'No such API or app.',
      CONFLICT: 'A concurrent request with the same `Idempotency-Key` won.',
    },
  },
  listTickets: {
    description:
      "The caller's tenant's tickets (every user of a tenant sees all of its tickets), newest " +
      `first, ties by TicketID; ${LIMITS.defaultCount} per page by default, at most ${LIMITS.maxCount}.`,
    answer: 'A page of tickets.',
  },
  getTicket: {
    description: "One ticket of the caller's tenant; its `ETag` is its version.",
    answer: 'The ticket.',
    headers: ['ETag'],
    conditional: true,
  },
  act: {
    tag: 'Workflow',
    description:
      'Moves the ticket through its workflow (e.g. `ticket.action.resolve`) and answers the new ' +
      'state as `text/plain`; any `Accept` that admits it will do. Errors are short `text/plain` ' +
      'messages too. Checks run in this order: session, CSRF, `Content-Type` (415), body size ' +
      '(413), parsing (400), the ticket (404), rights (403), `If-Match` (412), the state (409). ' +
      'A transition and its history row are written together; of concurrent actions on one ' +
      'ticket exactly one wins per state: a loser is run again on the ticket as it now is, and ' +
      'gets 409 when its action is not offered there (412 with a stale `If-Match`).',
    body: {
      description: 'The action.',
      json: { ActionName: 'ticket.action.resolve', Comments: ['Fixed in 2.4.1'] },
      xml: '<Action><ActionName>ticket.action.resolve</ActionName><Comments>Fixed in 2.4.1</Comments></Action>',
    },
    bodyXmlRoot: XML_ROOTS.action,
    textAnswer: ActResult.shape.state,
    answer: "The ticket's new state (with `dryRun`, the state it would have).",
    headers: ['ETag'],
    errors: { NOT_ACCEPTABLE: 'The `Accept` header excludes `text/plain`.' },
  },
  validActions: { tag: 'Workflow', answer: "The actions of the ticket's current state." },
  history: {
    description:
      'Every transition and comment, oldest first: action, from, to, comments, actor, time. ' +
      'Without `start` and `count` the whole history, as before paging existed; with either, one ' +
      `page of it and \`totalResults\` and \`startIndex\`: ${LIMITS.defaultCount} entries by ` +
      `default, at most ${LIMITS.maxCount}.`,
    answer: 'The history, whole or one page; nothing in it is ever rewritten.',
  },
  comment: {
    description:
      "A comment without a transition: it appears in the history, counts in the ticket's " +
      "`Comments` and changes its version. Any user of the ticket's tenant may comment.",
    body: {
      description: 'The comment; trimmed, it must not be empty.',
      json: { Content: 'Seen again on 2.4.1' },
      xml: '<Comment><Content>Seen again on 2.4.1</Content></Comment>',
    },
    bodyXmlRoot: XML_ROOTS.comment,
    answer: "Added; the `ETag` is the ticket's new version.",
    headers: ['ETag'],
  },
};

/** What each failure means, unless the operation says otherwise. */
export const ERROR_NOTES: Record<AppErrorCode, string> = {
  INVALID_INPUT: "An invalid field, parameter or header (the problem's `field` names it).",
  MALFORMED_BODY:
    'The body is not well-formed JSON or XML, its XML root is another element, or the XML has ' +
    'a DOCTYPE or entity declaration.',
  UNKNOWN_ACTION: 'The action is not part of the workflow.',
  UNAUTHENTICATED: 'No, expired, ended or forged session cookie for the tenant.',
  NOT_ALLOWED: 'Logged in, but the workflow does not let this caller do this.',
  NOT_FOUND: "No such ticket in the caller's tenant.",
  METHOD_NOT_ALLOWED: 'The path does not take this method.',
  NOT_ACCEPTABLE: 'The `Accept` header admits none of the media types of the answer.',
  INVALID_TRANSITION:
    "The action is not available in the ticket's current state (the answer names the state " +
    'and the valid actions).',
  CONFLICT: 'A concurrent change to the ticket won; read it and try again.',
  VERSION_MISMATCH: "`If-Match` does not match the ticket's version.",
  PAYLOAD_TOO_LARGE: `The body is larger than ${LIMITS.bodyBytes / 1024} KiB.`,
  UNSUPPORTED_MEDIA_TYPE: 'The `Content-Type` is none of those listed (or its charset is unknown).',
  IDEMPOTENCY_KEY_REUSED: 'The `Idempotency-Key` was used with a different request.',
  TOO_MANY_REQUESTS: 'Too many failed logins for this account; wait `Retry-After` seconds.',
  UNAVAILABLE: 'The database stayed busy or could not be reached; try again after `Retry-After`.',
  INTERNAL: 'A fault of ours; the details are only in the log.',
};

const QUERY_NOTES: Readonly<Record<string, string>> = {
  APIID: 'Only tickets about this API.',
  AppID: 'Only tickets about this app.',
  AuthorID: 'Only tickets by this user.',
  State: 'Only tickets in this state.',
  after:
    'Keyset paging: a TicketID of the caller’s tenant (else 400); the page starts right after ' +
    'it in the list’s order, without walking the tickets before it. `start` then counts from ' +
    'there, and is the `startIndex` answered.',
  start:
    'How many to skip: of the matching tickets (after `after`, if given), or of the ' +
    'history’s entries.',
  count: `The page size; a value over ${LIMITS.maxCount} is clamped to ${LIMITS.maxCount}.`,
};

const AUTH_NOTE: Record<AuthLevel, string> = {
  public: 'No session needed.',
  session:
    'Needs the session cookie `AtmoAuthToken_{tenant}`; with `TICKETS_CSRF=all` also the ' +
    '`X-Csrf-Token_{tenant}` header.',
  'session+csrf':
    'Needs the session cookie `AtmoAuthToken_{tenant}` and the `X-Csrf-Token_{tenant}` header ' +
    '(unless `TICKETS_CSRF=off`).',
};
const SECURITY: Record<AuthLevel, OperationObject['security']> = {
  public: [],
  session: [{ AtmoAuthToken: [] }],
  'session+csrf': [{ AtmoAuthToken: [], CsrfToken: [] }],
};

const WRITE_PARAMETER: Record<WriteOption, ParameterName> = {
  idempotencyKey: 'IdempotencyKey',
  ifMatch: 'IfMatch',
  dryRun: 'dryRun',
};

const SUCCESS_HEADER: Record<SuccessHeader, HeaderName> = {
  ETag: 'ETag',
  Location: 'Location',
  'Set-Cookie': 'SetCookie',
};
/** Error statuses whose answer an idempotent retry replays (with `Idempotent-Replayed`). */
const REPLAYED = new Set([400, 403, 404, 409, 412]);

const restOperations = Object.entries(OPERATIONS).flatMap(([name, op]: [string, Declared]) =>
  op.rest ? [{ op, rest: op.rest, doc: DOCS[name as OperationName] ?? {} }] : [],
);

const components = new Map<string, Component>([
  ['Problem', { schema: ProblemSchema, io: 'output' }],
]);
function component(schema: z.ZodType, io: 'input' | 'output', xmlRoot?: string): Ref {
  const name = componentName(schema);
  const known = components.get(name);
  if (known && (known.schema !== schema || known.io !== io || known.xmlRoot !== xmlRoot))
    throw new Error(`openapi: two different schemas named ${name}`);
  components.set(name, { schema, io, ...(xmlRoot !== undefined && { xmlRoot }) });
  return schemaRef(name);
}

const template = (path: string): string =>
  path.replace(/:(\w+)/g, (_, name: string) => {
    if (name !== 'id') throw new Error(`openapi: unknown path parameter :${name}`);
    return '{TicketID}';
  });

function errorResponses(op: Declared, rest: RestBinding, doc: Doc): Record<string, Response> {
  const idempotent = rest.writeOptions?.includes('idempotencyKey') ?? false;
  const format = rest.answer === 'text' ? 'text' : 'problem';
  const note = (c: AppErrorCode): string => {
    let text = doc.errors?.[c] ?? ERROR_NOTES[c];
    if (c === 'UNAUTHENTICATED' && op.auth === 'session+csrf')
      text += ' Or the CSRF header is missing or wrong.';
    if (c === 'UNAUTHENTICATED' && rest.tenantFrom === 'ticket')
      text += ' A ticket of another tenant gets this too, whether it exists or not.';
    if (c === 'INVALID_INPUT' && rest.tenantFrom === 'ticket') text += ' Or a malformed TicketID.';
    if (c === 'INVALID_INPUT' && rest.tenantFrom === 'request')
      text += ' Or an invalid `fedmemberid`, or session cookies of several tenants without one.';
    return `${ERROR_TABLE[c].title}: ${text}`;
  };
  return Object.fromEntries(
    [...byStatus(errorCodes(op))].map(([status, codes]) => {
      const where = format === 'text' ? ' (in `Problem-Type`)' : '';
      const types = ` Problem types${where}: ${list(codes.map(problemType))}.`;
      return [
        String(status),
        {
          description: codes.map(note).join(' ') + types,
          headers: {
            'X-Request-Id': header('XRequestId'),
            ...(format === 'text' && { 'Problem-Type': header('ProblemType') }),
            ...((status === 429 || status === 503) && { 'Retry-After': header('RetryAfter') }),
            ...(idempotent &&
              REPLAYED.has(status) && { 'Idempotent-Replayed': header('IdempotentReplayed') }),
          },
          content: errorContent(format, status, codes),
        },
      ];
    }),
  );
}

function operation(
  op: Declared,
  rest: RestBinding,
  doc: Doc,
  operationId: string,
): OperationObject {
  const query = rest.query ? jsonSchema(rest.query, 'input') : undefined;
  const queryParameters = Object.entries(query?.properties ?? {}).map(
    ([name, schema]): Parameter => ({
      name,
      in: 'query',
      description: QUERY_NOTES[name] ?? name,
      ...(query?.required?.includes(name) && { required: true }),
      schema: typeof schema === 'object' ? schema : {},
    }),
  );
  const bodyTypes = doc.bodyXmlRoot === undefined ? JSON_TYPES : [...BODY_MEDIA_TYPES.keys()];
  const idempotent = rest.writeOptions?.includes('idempotencyKey') ?? false;
  const answer =
    rest.answer === 'text'
      ? { [TEXT]: { schema: jsonSchema(doc.textAnswer ?? z.string(), 'output') } }
      : content(component(rest.answer.schema, 'output', rest.answer.xmlRoot), RESPONSE_MEDIA_TYPES);
  const success: Response = {
    description:
      (doc.answer ?? 'Done.') +
      (rest.answer === 'text'
        ? ''
        : ` In the media type the \`Accept\` header chose (JSON for none).`),
    headers: {
      'X-Request-Id': header('XRequestId'),
      ...Object.fromEntries(
        (doc.headers ?? []).map((name) => [name, header(SUCCESS_HEADER[name])]),
      ),
      ...(idempotent && { 'Idempotent-Replayed': header('IdempotentReplayed') }),
    },
    content: answer,
  };
  const params: (Parameter | Ref)[] = [
    ...(rest.tenantFrom === 'request' ? [parameter('fedmemberid')] : []),
    ...queryParameters,
    ...(rest.writeOptions ?? []).map((option) => parameter(WRITE_PARAMETER[option])),
    ...(doc.conditional ? [parameter('IfNoneMatch')] : []),
  ];
  return {
    operationId,
    summary: op.summary,
    description: `${doc.description ?? op.summary}\n\n${AUTH_NOTE[op.auth]}`,
    tags: [doc.tag ?? (op.procedure.startsWith('session.') ? 'Login' : 'Tickets')],
    ...(params.length > 0 && { parameters: params }),
    ...(rest.body && {
      requestBody: {
        description:
          `${doc.body?.description ?? 'The body.'} In ${bodyTypes.length === 1 ? '' : 'any of '}` +
          `${list(bodyTypes)}, with an optional \`charset\` (UTF-8 when absent); at most ` +
          `${LIMITS.bodyBytes / 1024} KiB. XML is read without DTDs: a DOCTYPE or entity ` +
          'declaration is refused (400).',
        required: true,
        content: content(component(rest.body, 'input', doc.bodyXmlRoot), bodyTypes, doc.body ?? {}),
      },
    }),
    responses: {
      [String(rest.status)]: success,
      ...(doc.conditional && {
        '304': {
          description: 'Not modified: the ticket is still at the `If-None-Match` version.',
          headers: { 'X-Request-Id': header('XRequestId'), ETag: header('ETag') },
        },
      }),
      ...errorResponses(op, rest, doc),
    },
    security: SECURITY[op.auth],
  };
}

/** The paths of the operations, each from its declaration. */
export const operationPaths: Record<string, PathItem> = {};
for (const { op, rest, doc } of restOperations) {
  [rest.path, ...(rest.aliases ?? [])].forEach((path, index) => {
    const key = template(path);
    const item = (operationPaths[key] ??= {
      parameters: [
        parameter('XRequestId'),
        ...(key.includes('{TicketID}') ? [parameter('TicketID')] : []),
      ],
    });
    const alias =
      index === 0
        ? doc
        : {
            ...doc,
            description: `The same as \`${rest.method} ${template(rest.path)}\`, at another path.`,
          };
    item[rest.method.toLowerCase() as 'get' | 'post'] = operation(
      op,
      rest,
      alias,
      index === 0 ? rest.operationId : `${rest.operationId}Alias${index > 1 ? index : ''}`,
    );
  });
}

/** The schemas the operations name: their bodies and answers, and the problem. */
export const operationSchemas = (): Record<string, Schema> => schemaComponents(components);
