import { TICKET_STATES } from '@tickets/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE, problemType } from '../src/errors/errorTable.js';
import { BODY_MEDIA_TYPES, RESPONSE_MEDIA_TYPES } from '../src/http/mediaTypes.js';
import {
  HTTP_METHODS,
  type Header,
  type OpenApiDocument,
  type Operation,
  type Parameter,
  type PathItem,
  type Reference,
  type Response as ResponseObject,
  type Schema,
} from '../src/rest/openapi.js';
import { XML_ROOTS } from '../src/rest/representations.js';
import { call, login, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

// ---------------------------------------------------------------------------------------------
// Reading the document: JSON pointers, $refs, operations.
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a local JSON pointer (`#/components/schemas/Ticket`), or undefined. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** Every `$ref` anywhere in the document, with where it is. */
function collectRefs(node: unknown, at: string, found: { ref: string; at: string }[] = []) {
  if (Array.isArray(node))
    node.forEach((item, index) => collectRefs(item, `${at}/${index}`, found));
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push({ ref: value, at });
      else collectRefs(value, `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, found);
    }
  }
  return found;
}

interface Op {
  readonly method: string;
  readonly path: string;
  readonly item: PathItem;
  readonly op: Operation;
}

const key = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;

/** The Koa-router path of an app route as an OpenAPI template: `:id` → `{TicketID}`. */
const toTemplate = (path: string): string => path.replace(/:id\b/g, '{TicketID}');

/** A concrete path: templates filled with a fixture ticket. */
const concrete = (template: string, ticketId = 'ticket1.acme'): string =>
  template.replace('{TicketID}', encodeURIComponent(ticketId));

// ---------------------------------------------------------------------------------------------
// A small JSON Schema validator for the keywords the document uses (no new dependency).
// ---------------------------------------------------------------------------------------------

const SUPPORTED_KEYWORDS = new Set([
  '$ref',
  'title',
  'description',
  'type',
  'enum',
  'const',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'default',
  'examples',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  'xml',
]);

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'null':
      return value === null;
    default:
      return false;
  }
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function validate(
  root: unknown,
  schema: Schema,
  value: unknown,
  at = '$',
  errors: string[] = [],
): string[] {
  if (schema.$ref !== undefined) {
    const target = resolvePointer(root, schema.$ref);
    if (!isObject(target)) errors.push(`${at}: unresolved ${schema.$ref}`);
    else validate(root, target as Schema, value, at, errors);
  }
  if (schema.type !== undefined) {
    const types: readonly string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(type, value))) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`);
      return errors;
    }
  }
  if (schema.const !== undefined && value !== schema.const) {
    errors.push(`${at}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`);
  }
  if (schema.enum !== undefined && !schema.enum.some((option) => option === value)) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      errors.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
    if (
      schema.format === 'date-time' &&
      (!ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))
    ) {
      errors.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${at}: more than ${schema.maxItems} items`);
    const items = schema.items;
    if (items)
      value.forEach((item, index) => validate(root, items, item, `${at}[${index}]`, errors));
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(value, name)) errors.push(`${at}: ${name} is required`);
    }
    for (const [name, item] of Object.entries(value)) {
      const property = schema.properties?.[name];
      if (property) validate(root, property, item, `${at}.${name}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected ${name}`);
      else if (isObject(schema.additionalProperties))
        validate(root, schema.additionalProperties, item, `${at}.${name}`, errors);
    }
  }
  for (const part of schema.allOf ?? []) validate(root, part, value, at, errors);
  if (schema.anyOf && !schema.anyOf.some((part) => validate(root, part, value, at).length === 0)) {
    errors.push(`${at}: matches none of anyOf`);
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter(
      (part) => validate(root, part, value, at).length === 0,
    ).length;
    if (matching !== 1) errors.push(`${at}: matches ${matching} of oneOf, not exactly one`);
  }
  return errors;
}

/** Every schema object in the document (components and inline), with where it is. */
function collectSchemas(doc: OpenApiDocument): { at: string; schema: Schema }[] {
  const found: { at: string; schema: Schema }[] = [];
  const visit = (schema: Schema, at: string): void => {
    found.push({ at, schema });
    for (const [name, property] of Object.entries(schema.properties ?? {}))
      visit(property, `${at}/properties/${name}`);
    if (schema.items) visit(schema.items, `${at}/items`);
    if (isObject(schema.additionalProperties))
      visit(schema.additionalProperties, `${at}/additionalProperties`);
    for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
      schema[combinator]?.forEach((part, index) => visit(part, `${at}/${combinator}/${index}`));
    }
  };
  for (const [name, schema] of Object.entries(doc.components.schemas))
    visit(schema, `#/components/schemas/${name}`);
  for (const [name, parameter] of Object.entries(doc.components.parameters))
    visit(parameter.schema, `#/components/parameters/${name}/schema`);
  for (const [name, header] of Object.entries(doc.components.headers))
    visit(header.schema, `#/components/headers/${name}/schema`);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const at = `#/paths/${path}/${method}`;
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        visit(media.schema, `${at}/requestBody/${type}`);
      for (const [status, response] of Object.entries(op.responses)) {
        if ('$ref' in response) continue;
        for (const [type, media] of Object.entries(response.content ?? {}))
          visit(media.schema, `${at}/responses/${status}/${type}`);
      }
      for (const parameter of op.parameters ?? [])
        if (!('$ref' in parameter)) visit(parameter.schema, `${at}/parameters/${parameter.name}`);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

describe('the OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  let served: Response;

  const deref = <T>(value: T | Reference): T => {
    if (isObject(value) && typeof value['$ref'] === 'string') {
      const target = resolvePointer(doc, value['$ref']);
      if (target === undefined) throw new Error(`unresolved ${value['$ref']}`);
      return deref(target as T | Reference);
    }
    return value as T;
  };

  const operations = (): Op[] =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      HTTP_METHODS.flatMap((method) => {
        const op = item[method];
        return op ? [{ method, path, item, op }] : [];
      }),
    );

  const operationOf = (method: string, path: string): Op => {
    const found = operations().find((o) => key(o.method, o.path) === key(method, path));
    if (!found) throw new Error(`no operation for ${key(method, path)}`);
    return found;
  };

  /** The operation's parameters, path-level ones included (an operation's own win). */
  const parametersOf = ({ item, op }: Op): Parameter[] => {
    const all = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) =>
      deref<Parameter>(p),
    );
    return [...new Map(all.map((p) => [`${p.in}:${p.name.toLowerCase()}`, p])).values()];
  };

  const requires = (op: Operation, scheme: string): boolean =>
    op.security.some((requirement) => scheme in requirement);

  /** The app's routes as `METHOD /template` keys (HEAD is not in `app.routes`). */
  const appRoutes = (): string[] =>
    [
      ...new Set(
        server.app.routes
          .filter((r) => r.method !== 'HEAD')
          .map((r) => key(r.method, toTemplate(r.path))),
      ),
    ].sort();

  /**
   * Checks a real response against the document: its status is documented for the operation,
   * its media type is one the response lists, its body fits that schema (JSON and text), and
   * the headers the document marks required are there and fit theirs.
   */
  async function expectDocumented(method: string, path: string, response: Response): Promise<void> {
    const { op } = operationOf(method, path);
    const label = `${key(method, path)} → ${response.status}`;
    const documented =
      op.responses[String(response.status)] ??
      op.responses[`${String(response.status)[0]}XX`] ??
      op.responses['default'];
    expect(documented, `${label} is not documented`).toBeDefined();
    const spec = deref<ResponseObject>(documented!);
    for (const [name, ref] of Object.entries(spec.headers ?? {})) {
      const header = deref<Header>(ref);
      const value = response.headers.get(name);
      if (header.required) expect(value, `${label}: header ${name}`).not.toBeNull();
      if (value !== null) {
        const typed = header.schema.type === 'integer' ? Number(value) : value;
        expect(validate(doc, header.schema, typed), `${label}: header ${name}`).toEqual([]);
      }
    }
    const text = await response.text();
    if (!spec.content) {
      expect(text, `${label}: documented without a body`).toBe('');
      return;
    }
    const mediaType = (response.headers.get('Content-Type') ?? '').split(';')[0]!.trim();
    const media = spec.content[mediaType];
    expect(
      media,
      `${label}: ${mediaType} is not among ${Object.keys(spec.content).join(', ')}`,
    ).toBeDefined();
    if (mediaType.endsWith('json')) {
      expect(validate(doc, media!.schema, JSON.parse(text) as Json), `${label}: ${text}`).toEqual(
        [],
      );
    } else if (mediaType === 'text/plain') {
      expect(validate(doc, media!.schema, text), `${label}: ${text}`).toEqual([]);
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
    served = await fetch(`${server.url}/api/openapi.json`);
    doc = (await served.clone().json()) as OpenApiDocument;
  });
  afterAll(() => server.close());

  it('is OpenAPI 3.1, served as JSON', () => {
    expect(served.status).toBe(200);
    expect(served.headers.get('Content-Type')).toMatch(/^application\/json\b/);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    expect(Object.keys(doc.paths).every((path) => path.startsWith('/'))).toBe(true);
  });

  it('describes exactly the routes the app serves', () => {
    const documented = operations()
      .map((o) => key(o.method, o.path))
      .sort();
    expect(appRoutes().length).toBeGreaterThan(10);
    expect(documented).toEqual(appRoutes());
  });

  it('gives every operation a unique operationId, a summary, declared tags and responses', () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((tag) => tag.name));
    for (const { method, path, op } of operations()) {
      const label = key(method, path);
      expect(op.operationId, label).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
      expect(op.summary, label).toBeTruthy();
      expect(op.tags.length, label).toBeGreaterThan(0);
      for (const tag of op.tags) expect(tags.has(tag), `${label}: tag ${tag}`).toBe(true);
      expect(Object.keys(op.responses).length, label).toBeGreaterThan(0);
      expect(
        Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)),
        `${label}: a 2xx`,
      ).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(status, label).toMatch(/^(?:[1-5]\d\d|[1-5]XX|default)$/);
        const spec = deref<ResponseObject>(response);
        expect(spec.description, `${label} ${status}`).toBeTruthy();
        expect(
          Object.keys(spec.headers ?? {}),
          `${label} ${status}: X-Request-Id is on every response`,
        ).toContain('X-Request-Id');
        for (const [type, media] of Object.entries(spec.content ?? {})) {
          expect(isObject(media.schema), `${label} ${status} ${type}: schema`).toBe(true);
        }
      }
    }
  });

  it('declares every path parameter of each template, and only those', () => {
    for (const o of operations()) {
      const label = key(o.method, o.path);
      const params = parametersOf(o);
      const inTemplate = [...o.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!).sort();
      const declared = params
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      expect(declared, label).toEqual(inTemplate);
      for (const p of params) {
        expect(['query', 'header', 'path', 'cookie'], `${label} ${p.name}`).toContain(p.in);
        expect(p.description, `${label} ${p.name}`).toBeTruthy();
        expect(isObject(p.schema), `${label} ${p.name}: schema`).toBe(true);
        if (p.in === 'path')
          expect(p.required, `${label} ${p.name}: path parameters are required`).toBe(true);
        // OpenAPI ignores header parameters with these names; they belong to the media types.
        if (p.in === 'header')
          expect(['accept', 'content-type', 'authorization']).not.toContain(p.name.toLowerCase());
        if (p.example !== undefined)
          expect(validate(doc, p.schema, p.example), `${label} ${p.name}: example`).toEqual([]);
      }
      const all = [...(o.item.parameters ?? []), ...(o.op.parameters ?? [])].map((p) =>
        deref<Parameter>(p),
      );
      const own = (o.op.parameters ?? []).map((p) => deref<Parameter>(p));
      expect(
        new Set(own.map((p) => `${p.in}:${p.name}`)).size,
        `${label}: duplicate parameters`,
      ).toBe(own.length);
      expect(all.length).toBeGreaterThanOrEqual(params.length);
    }
  });

  it('resolves every $ref, and uses every component', () => {
    const refs = collectRefs(doc, '#');
    expect(refs.length).toBeGreaterThan(20);
    for (const { ref, at } of refs) {
      expect(ref, at).toMatch(/^#\//);
      expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined();
    }
    const used = new Set(refs.map(({ ref }) => ref));
    for (const [kind, entries] of Object.entries(doc.components)) {
      if (kind === 'securitySchemes') continue;
      for (const name of Object.keys(entries as object)) {
        expect(
          used.has(`#/components/${kind}/${name}`),
          `#/components/${kind}/${name} is never used`,
        ).toBe(true);
      }
    }
  });

  it('has well-formed schemas', () => {
    const schemas = collectSchemas(doc);
    expect(schemas.length).toBeGreaterThan(50);
    for (const { at, schema } of schemas) {
      for (const keyword of Object.keys(schema))
        expect(SUPPORTED_KEYWORDS.has(keyword), `${at}: ${keyword}`).toBe(true);
      const types: readonly string[] =
        schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
      for (const type of types) expect(JSON_TYPES.has(type), `${at}: type ${type}`).toBe(true);
      if (schema.properties && schema.required) {
        for (const name of schema.required)
          expect(Object.keys(schema.properties), `${at}: required ${name}`).toContain(name);
      }
      if (schema.enum) expect(schema.enum.length, `${at}: enum`).toBeGreaterThan(0);
      if (schema.pattern !== undefined)
        expect(() => new RegExp(schema.pattern!, 'u'), `${at}: pattern`).not.toThrow();
      if (schema.items) expect(types, `${at}: items without type array`).toContain('array');
      if (schema.default !== undefined)
        expect(validate(doc, schema, schema.default), `${at}: default`).toEqual([]);
      for (const example of schema.examples ?? [])
        expect(validate(doc, schema, example), `${at}: example`).toEqual([]);
    }
  });

  it('has examples that fit their schemas', () => {
    let checked = 0;
    for (const { method, path, op } of operations()) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        for (const [name, example] of Object.entries(media.examples ?? {})) {
          if (!type.endsWith('json')) continue;
          expect(
            validate(doc, media.schema, example.value),
            `${key(method, path)} ${type} ${name}`,
          ).toEqual([]);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('lists every problem type of the error table, and only those', () => {
    const problem = doc.components.schemas.Problem;
    const urns = Object.values(ERROR_TABLE).map((mapping) => `urn:tickets:problem:${mapping.slug}`);
    expect([...(problem.properties?.['type']?.enum ?? [])].sort()).toEqual([...urns].sort());
    expect([...(problem.properties?.['code']?.enum ?? [])].sort()).toEqual(
      Object.keys(ERROR_TABLE).sort(),
    );
    const text = JSON.stringify(doc);
    for (const urn of urns) {
      expect(problem.description, urn).toContain(urn);
      expect(text.split(urn).length, urn).toBeGreaterThan(2);
    }
    expect(problem.required).toEqual(
      expect.arrayContaining([
        'type',
        'title',
        'status',
        'detail',
        'instance',
        'code',
        'requestId',
      ]),
    );
    expect(Object.keys(problem.properties ?? {})).toContain('field');
  });

  it('narrows each problem response to the types of its status', () => {
    const statusOf = new Map(
      Object.keys(ERROR_TABLE).map((code) => [
        problemType(code as keyof typeof ERROR_TABLE),
        ERROR_TABLE[code as keyof typeof ERROR_TABLE].status,
      ]),
    );
    for (const { method, path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const media = deref<ResponseObject>(response).content?.['application/problem+json'];
        if (!media) continue;
        const label = `${key(method, path)} ${status}`;
        const narrowing = media.schema.allOf?.[1];
        expect(media.schema.allOf?.[0]?.$ref, label).toBe('#/components/schemas/Problem');
        expect(narrowing?.properties?.['status']?.const, label).toBe(Number(status));
        const types = narrowing?.properties?.['type']?.enum ?? [];
        expect(types.length, label).toBeGreaterThan(0);
        for (const type of types)
          expect(statusOf.get(String(type)), `${label}: ${String(type)}`).toBe(Number(status));
      }
    }
  });

  it('names the XML root elements the server writes and reads', () => {
    const xmlName = (name: string) =>
      (doc.components.schemas as Record<string, Schema>)[name]?.xml?.name;
    expect({
      Ticket: xmlName('Ticket'),
      TicketInput: xmlName('TicketInput'),
      TicketList: xmlName('TicketList'),
      Action: xmlName('Action'),
      ValidActions: xmlName('ValidActions'),
      History: xmlName('History'),
      Comment: xmlName('Comment'),
      CommentInput: xmlName('CommentInput'),
      LoginResponse: xmlName('LoginResponse'),
      StatusResponse: xmlName('StatusResponse'),
    }).toEqual({
      Ticket: XML_ROOTS.ticket,
      TicketInput: XML_ROOTS.ticket,
      TicketList: XML_ROOTS.ticketList,
      Action: 'Action',
      ValidActions: XML_ROOTS.validActions,
      History: XML_ROOTS.history,
      Comment: XML_ROOTS.comment,
      CommentInput: XML_ROOTS.comment,
      LoginResponse: XML_ROOTS.login,
      StatusResponse: XML_ROOTS.status,
    });
    for (const name of [
      'Ticket',
      'TicketInput',
      'TicketList',
      'Action',
      'ValidActions',
      'History',
      'Comment',
      'CommentInput',
      'LoginRequest',
      'LoginResponse',
      'Problem',
    ]) {
      expect(Object.keys(doc.components.schemas), name).toContain(name);
    }
  });

  it('takes request bodies in the ten media types (login: JSON only)', () => {
    const ten = [...BODY_MEDIA_TYPES.keys()].sort();
    expect(ten).toHaveLength(10);
    for (const { method, path, op } of operations()) {
      if (!op.requestBody) continue;
      const types = Object.keys(op.requestBody.content).sort();
      if (path === '/api/login')
        expect(types, key(method, path)).toEqual(ten.filter((type) => type.endsWith('json')));
      else expect(types, key(method, path)).toEqual(ten);
      expect(op.requestBody.required, key(method, path)).toBe(true);
    }
  });

  it('documents the action endpoint as the contract says', () => {
    const { op, item } = operationOf('post', '/api/tickets/{TicketID}/actions');
    const ok = deref<ResponseObject>(op.responses['200']!);
    expect(Object.keys(ok.content ?? {})).toEqual(['text/plain']);
    const stateSchema = ok.content!['text/plain']!.schema;
    for (const state of TICKET_STATES) expect(validate(doc, stateSchema, state)).toEqual([]);
    expect(validate(doc, stateSchema, 'resolved')).not.toEqual([]);
    expect(Object.keys(op.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '406',
      '409',
      '412',
      '413',
      '415',
      '422',
      '500',
      '503',
    ]);
    for (const [status, response] of Object.entries(op.responses)) {
      expect(Object.keys(deref<ResponseObject>(response).content ?? {}), status).toEqual([
        'text/plain',
      ]);
    }
    const names = parametersOf({
      method: 'post',
      path: '/api/tickets/{TicketID}/actions',
      item,
      op,
    }).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['TicketID', 'dryRun', 'Idempotency-Key', 'If-Match', 'X-Request-Id']),
    );
  });

  it('documents the statuses the contract implies for each kind of operation', () => {
    for (const o of operations()) {
      const label = key(o.method, o.path);
      const statuses = Object.keys(o.op.responses);
      const names = parametersOf(o).map((p) => p.name);
      if (o.op.security.length > 0) expect(statuses, label).toContain('401');
      if (o.op.requestBody)
        expect(statuses, label).toEqual(expect.arrayContaining(['400', '413', '415']));
      if (names.includes('Idempotency-Key')) expect(statuses, label).toContain('422');
      if (names.includes('If-Match')) expect(statuses, label).toContain('412');
      if (o.path.includes('{TicketID}'))
        expect(statuses, label).toEqual(expect.arrayContaining(['400', '404']));
      const answersData = Object.values(o.op.responses).some((r) =>
        Object.hasOwn(deref<ResponseObject>(r).content ?? {}, RESPONSE_MEDIA_TYPES[1]!),
      );
      if (answersData) expect(statuses, label).toContain('406');
      if (o.op.security.length > 0) expect(statuses, label).toContain('500');
    }
  });

  it('declares the tenant-suffixed cookie and CSRF header, and names only those in requirements', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.AtmoAuthToken).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'AtmoAuthToken_{tenant}',
    });
    expect(schemes.CsrfToken).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-Csrf-Token_{tenant}',
    });
    expect(schemes.AtmoAuthToken.description).toMatch(/tenant/);
    for (const { method, path, op } of operations()) {
      expect(Array.isArray(op.security), `${key(method, path)}: explicit security`).toBe(true);
      for (const requirement of op.security) {
        for (const [name, scopes] of Object.entries(requirement)) {
          expect(Object.keys(schemes), key(method, path)).toContain(name);
          expect(scopes).toEqual([]);
        }
      }
    }
  });

  it('asks for the session cookie exactly where the app does', async () => {
    for (const route of appRoutes()) {
      const [method, template] = route.split(' ') as [string, string];
      const response = await fetch(`${server.url}${concrete(template)}`, { method });
      const { op } = operationOf(method, template);
      expect(
        requires(op, 'AtmoAuthToken'),
        `${route} answered ${response.status} without a session`,
      ).toBe(response.status === 401);
      await expectDocumented(method, template, response);
    }
  });

  it('asks for the CSRF header exactly where the app does', async () => {
    const ada = await login(server.url, 'ada@acme.test');
    for (const route of appRoutes()) {
      const [method, template] = route.split(' ') as [string, string];
      if (template === '/api/login/endsession' || template === '/api/login/logout') continue; // below
      const response = await call(server.url, ada, concrete(template), { method, noCsrf: true });
      const { op } = operationOf(method, template);
      expect(
        requires(op, 'CsrfToken'),
        `${route} answered ${response.status} without the CSRF header`,
      ).toBe(response.status === 401);
      await expectDocumented(method, template, response);
    }
    for (const template of ['/api/login/endsession', '/api/login/logout']) {
      const method = template.endsWith('logout') ? 'POST' : 'GET';
      const session = await login(server.url, 'ada@acme.test');
      const response = await call(server.url, session, template, { method, noCsrf: true });
      expect(requires(operationOf(method, template).op, 'CsrfToken'), template).toBe(
        response.status === 401,
      );
      await expectDocumented(method, template, response);
    }
  });

  describe('against real answers', () => {
    const json = (body: unknown) => ({
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    /** One successful call of every operation, each with a fresh session of an API admin. */
    const samples: Record<string, (url: string, session: Session) => Promise<Response>> = {
      'POST /api/login': (url) =>
        fetch(`${url}/api/login`, {
          method: 'POST',
          ...json({ email: 'ada@acme.test', password: PASSWORD }),
        }),
      'GET /api/login/status': (url, s) => call(url, s, '/api/login/status'),
      'POST /api/login/renewToken': (url, s) =>
        call(url, s, '/api/login/renewToken', { method: 'POST' }),
      'GET /api/login/endsession': (url, s) => call(url, s, '/api/login/endsession'),
      'POST /api/login/logout': (url, s) => call(url, s, '/api/login/logout', { method: 'POST' }),
      'POST /api/tickets': (url, s) =>
        call(url, s, '/api/tickets', {
          method: 'POST',
          ...json({
            Title: 'Docs sample',
            Environment: 'Sandbox',
            APIID: 'payments.acme',
            Tag: 'docs',
          }),
        }),
      'GET /api/tickets': (url, s) => call(url, s, '/api/tickets?count=3'),
      'GET /api/tickets/{TicketID}': (url, s) => call(url, s, '/api/tickets/ticket5.acme'),
      'POST /api/tickets/{TicketID}/actions': (url, s) =>
        call(url, s, '/api/tickets/ticket1.acme/actions?dryRun=true', {
          method: 'POST',
          ...json({ ActionName: 'ticket.action.resolve', Comments: 'sample' }),
        }),
      'GET /api/tickets/{TicketID}/actions': (url, s) =>
        call(url, s, '/api/tickets/ticket1.acme/actions'),
      'GET /api/workflow/objects/{TicketID}/actions': (url, s) =>
        call(url, s, '/api/workflow/objects/ticket2.acme/actions'),
      'GET /api/tickets/{TicketID}/history': (url, s) =>
        call(url, s, '/api/tickets/ticket2.acme/history'),
      'POST /api/tickets/{TicketID}/comments': (url, s) =>
        call(url, s, '/api/tickets/ticket4.acme/comments', {
          method: 'POST',
          ...json({ Content: 'A sample comment' }),
        }),
      'GET /healthz': (url) => fetch(`${url}/healthz`),
      'GET /api/openapi.json': (url) => fetch(`${url}/api/openapi.json`),
    };

    it('has a sample for every operation', () => {
      expect(Object.keys(samples).sort()).toEqual(appRoutes());
    });

    it('answers every operation as documented', async () => {
      for (const [route, run] of Object.entries(samples)) {
        const [method, template] = route.split(' ') as [string, string];
        const response = await run(server.url, await login(server.url, 'ada@acme.test'));
        expect(response.status, `${route}: ${await response.clone().text()}`).toBeLessThan(300);
        await expectDocumented(method, template, response);
      }
    });

    it('answers XML with the documented root element', async () => {
      let checked = 0;
      for (const { method, path, op } of operations()) {
        if (method !== 'get' || op.security.length === 0) continue;
        // A fresh session each time: `endsession` ends the one it is called with.
        const ada = await login(server.url, 'ada@acme.test');
        const media = deref<ResponseObject>(op.responses['200']!).content?.['application/xml'];
        if (!media) continue;
        const schema = deref<Schema>(media.schema);
        const response = await call(server.url, ada, concrete(path, 'ticket2.acme'), {
          headers: { Accept: 'application/xml' },
        });
        const text = await response.text();
        expect(response.headers.get('Content-Type'), key(method, path)).toMatch(
          /^application\/xml\b/,
        );
        const root = /^(?:<\?xml[^>]*\?>\s*)?<([A-Za-z_][\w.-]*)/.exec(text)?.[1];
        expect(root, `${key(method, path)}: ${text.slice(0, 80)}`).toBe(schema.xml?.name);
        checked += 1;
      }
      expect(checked).toBeGreaterThanOrEqual(5);
    });

    it('answers errors as documented', async () => {
      const ada = await login(server.url, 'ada@acme.test');
      const carol = await login(server.url, 'carol@acme.test');
      const cases: [string, Session, string, Parameters<typeof call>[3]][] = [
        [
          'POST /api/tickets/{TicketID}/actions',
          carol,
          '/api/tickets/ticket1.acme/actions',
          { method: 'POST', ...json({ ActionName: 'ticket.action.resolve' }) },
        ],
        [
          'POST /api/tickets/{TicketID}/actions',
          ada,
          '/api/tickets/ticket3.acme/actions',
          { method: 'POST', ...json({ ActionName: 'ticket.action.resolve' }) },
        ],
        [
          'POST /api/tickets/{TicketID}/actions',
          ada,
          '/api/tickets/ticket1.acme/actions',
          { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'x' },
        ],
        [
          'POST /api/tickets/{TicketID}/actions',
          ada,
          '/api/tickets/ticket1.acme/actions',
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: '{}',
          },
        ],
        [
          'POST /api/tickets/{TicketID}/actions',
          ada,
          '/api/tickets/nobody.acme/actions',
          { method: 'POST', ...json({ ActionName: 'ticket.action.resolve' }) },
        ],
        [
          'POST /api/tickets',
          ada,
          '/api/tickets',
          {
            method: 'POST',
            ...json({ Title: '', Environment: 'Sandbox', APIID: 'payments.acme' }),
          },
        ],
        [
          'POST /api/tickets',
          ada,
          '/api/tickets',
          {
            method: 'POST',
            ...json({ Title: 'x', Environment: 'Sandbox', APIID: 'nothing.acme' }),
          },
        ],
        ['GET /api/tickets', ada, '/api/tickets?State=open', {}],
        ['GET /api/tickets/{TicketID}', ada, '/api/tickets/ticket99.acme', {}],
        [
          'GET /api/tickets/{TicketID}',
          ada,
          '/api/tickets/ticket1.acme',
          { headers: { Accept: 'text/html' } },
        ],
        [
          'POST /api/tickets/{TicketID}/comments',
          ada,
          '/api/tickets/ticket1.acme/comments',
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'If-Match': '"999"' },
            body: '{"Content":"x"}',
          },
        ],
      ];
      const seen = new Set<number>();
      for (const [route, session, path, options] of cases) {
        const [method, template] = route.split(' ') as [string, string];
        const response = await call(server.url, session, path, options);
        expect(response.status, `${route} ${path}`).toBeGreaterThanOrEqual(400);
        seen.add(response.status);
        await expectDocumented(method, template, response);
      }
      expect([...seen].sort((a, b) => a - b)).toEqual([400, 403, 404, 406, 409, 412, 415]);
    });

    it('states the limits TicketInput enforces', async () => {
      const ada = await login(server.url, 'ada@acme.test');
      const properties = doc.components.schemas.TicketInput.properties ?? {};
      for (const field of ['Title', 'Description']) {
        const max = properties[field]?.maxLength;
        expect(max, field).toEqual(expect.any(Number));
        const create = (length: number) =>
          call(server.url, ada, '/api/tickets', {
            method: 'POST',
            ...json({
              Title: 'Limits',
              Environment: 'Sandbox',
              APIID: 'payments.acme',
              [field]: 'x'.repeat(length),
            }),
          });
        expect((await create(max!)).status, `${field} of ${max}`).toBe(201);
        const over = await create(max! + 1);
        expect(over.status, `${field} of ${max! + 1}`).toBe(400);
        expect(((await over.json()) as { field?: string }).field).toBe(field);
      }
    });
  });
});
