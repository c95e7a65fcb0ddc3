import * as contract from '@tickets/contract';
import {
  ERROR_TABLE,
  problemType,
  type AppErrorCode,
  type Operation as Declared,
} from '@tickets/contract';
import { TICKET_STATES } from '@tickets/domain';
import { z } from 'zod';
import type { JSONSchema } from 'zod/v4/core';
import { BODY_MEDIA_TYPES, PROBLEM_JSON, TEXT_PLAIN } from '../http/mediaTypes.js';

/**
 * The machinery of the OpenAPI document: every schema in it is the output of zod's own
 * converter over a schema of @tickets/contract (or, for the few shapes the contract does not
 * declare, such as the problem body, over a zod schema here). The prose is in `openapi.ts` and
 * `openapiOperations.ts`.
 */

// ---------------------------------------------------------------------------------------------
// The subset of OpenAPI 3.1 the document uses.
// ---------------------------------------------------------------------------------------------

/** A JSON Schema 2020-12, with OpenAPI's `xml` (the root element of an XML body or answer). */
export type Schema = JSONSchema.JSONSchema & { readonly xml?: { readonly name: string } };
export type Ref = { readonly $ref: string };
export interface Example {
  readonly summary?: string;
  readonly description?: string;
  readonly value: unknown;
}
export interface MediaType {
  readonly schema: Schema;
  readonly examples?: Readonly<Record<string, Example>>;
}
export type Content = Readonly<Record<string, MediaType>>;
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
export interface Response {
  readonly description: string;
  readonly headers?: Readonly<Record<string, Ref>>;
  readonly content?: Content;
}
export interface OperationObject {
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly parameters?: readonly (Parameter | Ref)[];
  readonly requestBody?: {
    readonly description: string;
    readonly required: true;
    content: Content;
  };
  readonly responses: Readonly<Record<string, Response>>;
  /** `[]` for the public operations; never left to a document-wide default. */
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
}
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
export type PathItem = { parameters?: readonly (Parameter | Ref)[] } & {
  [M in (typeof HTTP_METHODS)[number]]?: OperationObject;
};

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
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly parameters: Readonly<Record<string, Parameter>>;
    readonly headers: Readonly<Record<string, Header>>;
    readonly securitySchemes: Readonly<
      Record<string, { type: 'apiKey'; in: 'cookie' | 'header'; name: string; description: string }>
    >;
  };
}

// ---------------------------------------------------------------------------------------------
// Schemas, by zod's converter.
// ---------------------------------------------------------------------------------------------

const CONVERT = { target: 'draft-2020-12', unrepresentable: 'any' } as const;

/** One schema as JSON Schema 2020-12: `input` for what callers send, `output` for answers. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { ...CONVERT, io });
  return rest;
}

export const schemaRef = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });

export type ParameterName =
  | 'TicketID'
  | 'fedmemberid'
  | 'XRequestId'
  | 'IdempotencyKey'
  | 'IfMatch'
  | 'dryRun'
  | 'IfNoneMatch';
export type HeaderName =
  | 'XRequestId'
  | 'ETag'
  | 'Location'
  | 'IdempotentReplayed'
  | 'RetryAfter'
  | 'SetCookie'
  | 'ProblemType';
export const parameterRef = (name: ParameterName): Ref => ({
  $ref: `#/components/parameters/${name}`,
});
export const headerRef = (name: HeaderName): Ref => ({ $ref: `#/components/headers/${name}` });

export const code = (text: string): string => `\`${text}\``;
export const list = (items: Iterable<string>): string => [...items].map(code).join(', ');

/** A schema's name in the document: its export name in @tickets/contract, without `Wire`. */
const EXPORTED: readonly [string, unknown][] = [
  ...Object.entries(contract.wire),
  ...Object.entries(contract),
];
export function componentName(schema: z.ZodType): string {
  const found = EXPORTED.find(([, value]) => value === schema);
  if (!found) throw new Error('openapi: every schema of OPERATIONS must be exported by name');
  return found[0].replace(/Wire$/, '');
}

export interface Component {
  readonly schema: z.ZodType;
  readonly io: 'input' | 'output';
  readonly xmlRoot?: string;
}

/**
 * `components.schemas`: each named schema converted once, those of one direction together so
 * that a schema inside another (a Ticket in a TicketList) is a `$ref`, not a copy.
 */
export function schemaComponents(
  components: ReadonlyMap<string, Component>,
): Record<string, Schema> {
  const result: Record<string, Schema> = {};
  for (const io of ['input', 'output'] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, component] of components) {
      if (component.io === io) registry.add(component.schema, { id });
    }
    const { schemas } = z.toJSONSchema(registry, {
      ...CONVERT,
      io,
      uri: (id) => schemaRef(id).$ref,
    });
    for (const [id, converted] of Object.entries(schemas)) {
      const { $schema: _s, $id: _i, ...schema } = converted;
      const xmlRoot = components.get(id)?.xmlRoot;
      result[id] = xmlRoot === undefined ? schema : { ...schema, xml: { name: xmlRoot } };
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Media types.
// ---------------------------------------------------------------------------------------------

export const JSON_TYPES = [...BODY_MEDIA_TYPES].filter(([, f]) => f === 'json').map(([t]) => t);
export const XML_TYPES = [...BODY_MEDIA_TYPES].filter(([, f]) => f === 'xml').map(([t]) => t);
/** `text/plain` without its charset parameter, as a key of `content`. */
export const TEXT = TEXT_PLAIN.split(';')[0]!;

/** The schema under each media type; a JSON example under the JSON ones, an XML string under the XML ones. */
export function content(
  schema: Schema | Ref,
  types: readonly string[],
  example: { json?: unknown; xml?: string } = {},
): Content {
  return Object.fromEntries(
    types.map((type): [string, MediaType] => {
      if (example.json === undefined) return [type, { schema }];
      // An example's value must fit the schema, an object: under XML types it is the same value
      // (a viewer renders it as XML by the schema's `xml` name) and the wire form is quoted.
      const xml = BODY_MEDIA_TYPES.get(type) === 'xml' ? example.xml : undefined;
      const shown: Example =
        xml === undefined
          ? { value: example.json }
          : {
              summary: 'The same body in XML',
              description: `On the wire:\n\n\`\`\`xml\n${xml}\n\`\`\``,
              value: example.json,
            };
      return [type, { schema, examples: { example: shown } }];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------------

const CODES = Object.keys(ERROR_TABLE) as [AppErrorCode, ...AppErrorCode[]];
const enumOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]]);

/** Every problem type of the error table. */
export const problemTypes = () => enumOf(CODES.map(problemType));

/**
 * The RFC 9457 body of every error answer but the action endpoint's. The contract does not
 * declare it (yet); its `type` and `code` come from the error table.
 */
export const ProblemSchema = z
  .looseObject({
    type: problemTypes().describe('The stable problem type.'),
    title: z.string().describe('A short summary of the problem type.'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('What went wrong in this request.'),
    instance: z.string().describe('The request path.'),
    code: enumOf(CODES).describe('The error code behind the type.'),
    requestId: z.string().describe("The request's `X-Request-Id`."),
    field: z.string().optional().describe('The bad field (invalid input), e.g. `Title`.'),
    action: z.string().optional().describe('The action refused (not allowed, invalid transition).'),
    state: z.enum(TICKET_STATES).optional().describe("The ticket's state (invalid transition)."),
    validActions: z.array(z.string()).optional().describe('The actions of that state.'),
    expected: z.number().int().optional().describe('The version `If-Match` named.'),
    actual: z.number().int().optional().describe("The ticket's version (version mismatch)."),
    retryAfterSeconds: z.number().int().min(0).optional().describe('How long to wait.'),
  })
  .meta({
    description:
      'An RFC 9457 problem (`application/problem+json`). Problem types:\n\n' +
      CODES.map(
        (c) => `- \`${problemType(c)}\`: ${ERROR_TABLE[c].status} ${ERROR_TABLE[c].title}`,
      ).join('\n'),
  });

/**
 * The expected failures of an operation: those it declares, the 503 and 500 any call may meet,
 * the 401 of every authenticated one, and the 406 of content negotiation, which every REST
 * operation does (for data or for `text/plain`). In the order of the error table.
 */
export function errorCodes(op: Declared): AppErrorCode[] {
  const codes = new Set<AppErrorCode>([...op.errors, 'NOT_ACCEPTABLE', 'UNAVAILABLE', 'INTERNAL']);
  if (op.auth !== 'public') codes.add('UNAUTHENTICATED');
  return CODES.filter((code) => codes.has(code));
}

/** Codes grouped by their HTTP status. */
export function byStatus(codes: readonly AppErrorCode[]): Map<number, AppErrorCode[]> {
  const groups = new Map<number, AppErrorCode[]>();
  for (const code of codes) {
    const { status } = ERROR_TABLE[code];
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return new Map([...groups].sort(([a], [b]) => a - b));
}

/** An error answer's body: a problem narrowed to the status and its types, or short text. */
export function errorContent(
  format: 'problem' | 'text',
  status: number,
  codes: readonly AppErrorCode[],
): Content {
  if (format === 'text') {
    return { [TEXT]: { schema: jsonSchema(z.string().describe('A short message.'), 'output') } };
  }
  const narrowing = z.looseObject({
    status: z.literal(status),
    type: enumOf(codes.map(problemType)),
    code: enumOf(codes),
  });
  return {
    [PROBLEM_JSON]: { schema: { allOf: [schemaRef('Problem'), jsonSchema(narrowing, 'output')] } },
  };
}
