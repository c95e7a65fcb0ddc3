import { ERROR_TABLE, LoginInput, problemType, RunActionInput, TicketRef } from '@tickets/contract';
import { z } from 'zod';
import { RESPONSE_MEDIA_TYPES } from '../http/mediaTypes.js';
import { PACKAGE_LICENSE, PACKAGE_VERSION } from '../packageVersion.js';
import { DOCS_ASSETS, DOCS_ASSETS_VERSION, DOCS_PATH } from './docsRoutes.js';
import {
  ERROR_NOTES,
  operationPaths,
  operationSchemas,
  type TagName,
} from './openapiOperations.js';
import {
  code,
  content,
  errorContent,
  headerRef as header,
  jsonSchema,
  list,
  parameterRef as parameter,
  problemTypes,
  type Header,
  type HeaderName,
  type OpenApiDocument,
  type Parameter,
  type ParameterName,
  type PathItem,
  type Response,
} from './openapiSchemas.js';

/**
 * The OpenAPI 3.1 description of the REST surface, served at `GET /api/openapi.json`. The
 * operations, their schemas, parameters, security and error answers are derived from the
 * declarations of @tickets/contract (`openapiOperations.ts`); what is written here is prose, the
 * shared parameters and headers, and the two paths that are not operations.
 */

// ---------------------------------------------------------------------------------------------
// Parameters and headers.
// ---------------------------------------------------------------------------------------------

const parameters: Record<ParameterName, Parameter> = {
  TicketID: {
    name: 'TicketID',
    in: 'path',
    required: true,
    description:
      'The ticket, `{local}.{tenant}`: the part after the last dot is the tenant (fedmemberid), ' +
      'which names the session cookie and CSRF header the request must carry.',
    schema: jsonSchema(TicketRef.shape.id, 'input'),
    example: 'ticket1.acme',
  },
  fedmemberid: {
    name: 'fedmemberid',
    in: 'query',
    description:
      'The tenant, when the server hosts several and it cannot be told otherwise. Without it, ' +
      'the tenant is that of the only `AtmoAuthToken_*` cookie sent; several such cookies and no ' +
      '`fedmemberid` give 400. (`fedmemberId` is accepted too.)',
    schema: jsonSchema(LoginInput.shape.tenant, 'input'),
    example: 'acme',
  },
  XRequestId: {
    name: 'X-Request-Id',
    in: 'header',
    description: 'A request id of your own; kept (and echoed) when it looks sane, else replaced.',
    schema: jsonSchema(z.string(), 'input'),
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description:
      'Makes the call safe to retry: a retry with the same key and body (by the same user) within ' +
      '24 h returns the first answer again (with `Idempotent-Replayed: true`) and changes nothing; ' +
      'the same key with another body gives 422. 2xx and final 4xx answers are kept; 401, 429 and ' +
      '5xx are not.',
    schema: jsonSchema(RunActionInput.shape.idempotencyKey, 'input'),
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description:
      'Refuse (412) if the ticket\'s version is not this one: `"<version>"` as in the `ETag` ' +
      '(a bare number is accepted; `*` matches any). A weak tag (`W/"3"`) never matches: 412.',
    schema: jsonSchema(z.string(), 'input'),
    example: '"3"',
  },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    description:
      'Full validation and authorization, the would-be state in the body, nothing written (and ' +
      'no idempotency record kept). `?dryRun` alone means true.',
    schema: jsonSchema(RunActionInput.shape.dryRun, 'input'),
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    description: 'An `ETag` the caller holds: 304 when the ticket is still at that version.',
    schema: jsonSchema(z.string(), 'input'),
  },
};

const headers: Record<HeaderName, Header> = {
  XRequestId: {
    description: "On every response: the request's own `X-Request-Id` when sane, else a new one.",
    required: true,
    schema: jsonSchema(z.string(), 'output'),
  },
  ETag: {
    description: "The ticket's version, quoted; send it back in `If-Match` or `If-None-Match`.",
    required: true,
    schema: jsonSchema(z.string().regex(/^"\d+"$/), 'output'),
  },
  Location: {
    description: 'The new ticket: `/api/tickets/{TicketID}`.',
    required: true,
    schema: jsonSchema(z.string(), 'output'),
  },
  IdempotentReplayed: {
    description:
      'Present when this answer replays an earlier call with the same `Idempotency-Key`.',
    schema: jsonSchema(z.literal('true'), 'output'),
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: jsonSchema(z.number().int().min(0), 'output'),
  },
  ProblemType: {
    description:
      'The problem type of a `text/plain` error (the action endpoint), which its status alone ' +
      'does not always settle.',
    required: true,
    schema: jsonSchema(problemTypes(), 'output'),
  },
  SetCookie: {
    description:
      '`AtmoAuthToken_{tenant}` (signed, HttpOnly, SameSite=Lax) and `Csrf-Token_{tenant}` ' +
      '(readable by scripts; unless CSRF is off), both expiring with the session. Logout sets ' +
      'both expired.',
    schema: jsonSchema(z.string(), 'output'),
  },
};

// ---------------------------------------------------------------------------------------------
// The two paths that are not operations of the API.
// ---------------------------------------------------------------------------------------------

const system = (
  operationId: string,
  summary: string,
  description: string,
  responses: Record<string, Response>,
): PathItem => ({
  parameters: [parameter('XRequestId')],
  get: { operationId, summary, description, tags: ['System'], responses, security: [] },
});
const json = (schema: z.ZodType, description: string): Response => ({
  description,
  headers: { 'X-Request-Id': header('XRequestId') },
  content: content(jsonSchema(schema, 'output'), ['application/json']),
});
const internal: Response = {
  description: `${ERROR_NOTES.INTERNAL} Problem type: ${code(problemType('INTERNAL'))}.`,
  headers: { 'X-Request-Id': header('XRequestId') },
  content: errorContent('problem', 500, ['INTERNAL']),
};
/** What Node's HTTP layer answers before the app sees a request (http/httpServer.ts). */
const refusedByHttp: Response = {
  description:
    'Malformed HTTP, refused before the app sees the request; so are a request that took too ' +
    'long (408), an `Expect` other than `100-continue` (417) and headers too large (431). A ' +
    'short `text/plain` message.',
  headers: { 'X-Request-Id': header('XRequestId') },
  content: { 'text/plain': { schema: { type: 'string' } } },
};
const page = (type: string, description: string): Response => ({
  description,
  headers: { 'X-Request-Id': header('XRequestId') },
  content: { [type]: { schema: { type: 'string' } } },
});
const pathParameter = (
  name: string,
  description: string,
  values: readonly string[],
): Parameter => ({
  name,
  in: 'path',
  description,
  required: true,
  schema: { type: 'string', enum: [...values] },
});
const systemPaths: Record<string, PathItem> = {
  '/healthz': system(
    'getHealth',
    'Health',
    'Answers 200 while the server can reach its database.',
    {
      '200': json(z.object({ status: z.literal('ok') }), 'Healthy.'),
      '503': json(
        z.object({ status: z.literal('unavailable') }),
        'The database cannot be reached.',
      ),
      '400': refusedByHttp,
      '500': internal,
    },
  ),
  '/api/openapi.json': system(
    'getOpenApiDocument',
    'This document',
    'The OpenAPI 3.1 description of the REST surface.',
    {
      '200': json(
        z.looseObject({
          openapi: z.string().regex(/^3\.1\.\d+$/),
          info: z.looseObject({}),
          paths: z.looseObject({}),
        }),
        'The OpenAPI document.',
      ),
      '400': refusedByHttp,
      '500': internal,
    },
  ),
  [DOCS_PATH]: system(
    'getApiDocs',
    'This document, to browse',
    `A page that shows this document (swagger-ui, from files the server ships; no CDN).`,
    {
      '200': page(
        'text/html',
        'The page; its `Content-Security-Policy` allows only its own files.',
      ),
      '400': refusedByHttp,
      '500': internal,
    },
  ),
  [`${DOCS_PATH}/assets/{version}/{file}`]: {
    parameters: [
      parameter('XRequestId'),
      pathParameter('version', "swagger-ui's version, so that the files may be cached for good.", [
        DOCS_ASSETS_VERSION,
      ]),
      pathParameter('file', 'One of the files of the page.', Object.keys(DOCS_ASSETS)),
    ],
    get: {
      operationId: 'getApiDocsAsset',
      summary: 'A file of the page',
      description: 'The styles and scripts `/api/docs` loads.',
      tags: ['System'],
      security: [],
      responses: {
        '200': {
          description: 'The file, cacheable for a year (its path names the version).',
          headers: { 'X-Request-Id': header('XRequestId') },
          content: {
            'text/css': { schema: { type: 'string' } },
            'text/javascript': { schema: { type: 'string' } },
          },
        },
        '400': refusedByHttp,
        '404': {
          description: `No such file. Problem type: ${code(problemType('NOT_FOUND'))}.`,
          headers: { 'X-Request-Id': header('XRequestId') },
          content: errorContent('problem', 404, ['NOT_FOUND']),
        },
        '500': internal,
      },
    },
  },
};

// ---------------------------------------------------------------------------------------------
// The document.
// ---------------------------------------------------------------------------------------------

const problemTable = [
  '| type | status | title |',
  '|---|---|---|',
  ...Object.values(ERROR_TABLE).map(
    (row) => `| \`urn:tickets:problem:${row.slug}\` | ${row.status} | ${row.title} |`,
  ),
].join('\n');

const description = `A self-hostable ticket workflow server speaking the Akana Tickets API.

**Tenants and ids.** Every id is \`{local}.{tenant}\`, e.g. \`ticket25687.acmepaymentscorp\`. Ticket-scoped operations (paths with \`{TicketID}\`) take the tenant from the TicketID's suffix; the others from \`?fedmemberid=\`, else from the only \`AtmoAuthToken_*\` cookie sent. The session cookie and CSRF header carry the tenant as a suffix: \`AtmoAuthToken_{tenant}\`, \`X-Csrf-Token_{tenant}\`.

**Media types.** Operations that return data answer in ${list(RESPONSE_MEDIA_TYPES)}, as the \`Accept\` header chooses (406 when it admits none); XML mirrors JSON with the wrapper as root element and one element per field or list item. Request bodies are accepted in the same ten types (login: JSON only). The action endpoint answers \`text/plain\`.

**Errors.** \`application/problem+json\` (RFC 9457) with a stable \`type\`, except on the action endpoint, which answers a short \`text/plain\` message. Unknown paths get 404 and unsupported methods 405. Every response carries \`X-Request-Id\`; responses under \`/api/\` carry \`Cache-Control: no-store\`. GET operations answer HEAD too.

**Writes.** State-changing ticket operations take \`Idempotency-Key\` and, where a ticket exists, \`If-Match\`.

**Problem types**

${problemTable}`;

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tickets API',
    version: PACKAGE_VERSION,
    summary: 'Akana-compatible ticket workflow API',
    description,
    license: { name: PACKAGE_LICENSE, identifier: PACKAGE_LICENSE },
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
  ] satisfies { name: TagName; description: string }[],
  paths: { ...operationPaths, ...systemPaths },
  components: {
    schemas: operationSchemas(),
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
