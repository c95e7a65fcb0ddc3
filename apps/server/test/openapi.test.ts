import { Validator } from '@seriousme/openapi-schema-validator';
import {
  ERROR_TABLE,
  IDEMPOTENCY_KEY_PATTERN,
  LIMITS,
  OPERATIONS,
  problemType,
  XML_ROOTS,
  type AppErrorCode,
  type Operation as Declared,
} from '@tickets/contract';
import { PRIORITY_LABELS, TICKET_STATES } from '@tickets/domain';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readXmlBody } from '../src/http/xml.js';
import { DOCS_ASSETS_PATH } from '../src/rest/docsRoutes.js';
import { BODY_MEDIA_TYPES, RESPONSE_MEDIA_TYPES } from '../src/http/mediaTypes.js';
import {
  HTTP_METHODS,
  type Header,
  type MediaType,
  type OpenApiDocument,
  type OperationObject,
  type Parameter,
  type PathItem,
  type Ref,
  type Response as ResponseObject,
  type Schema,
} from '../src/rest/openapiSchemas.js';
import { call, login, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

// ---------------------------------------------------------------------------------------------
// Reading the document: JSON pointers, $refs, operations.
// ---------------------------------------------------------------------------------------------

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
  readonly op: OperationObject;
}

const key = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;

/** The Koa-router path of an app route as an OpenAPI template: `:id` → `{TicketID}`. */
const toTemplate = (path: string): string =>
  path.replace(/:id\b/g, '{TicketID}').replace(/:(\w+)/g, '{$1}');

/** A concrete path: templates filled with a fixture ticket. */
const concrete = (template: string, ticketId = 'ticket1.acme'): string =>
  template.replace('{TicketID}', encodeURIComponent(ticketId));

/** What zod's converter makes of a contract schema, as the document must state it. */
const converted = (schema: z.ZodType, io: 'input' | 'output'): Schema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
  return rest;
};

const restOperations = Object.entries(OPERATIONS).flatMap(([name, op]: [string, Declared]) =>
  op.rest ? [{ name, op, rest: op.rest }] : [],
);

/** The problem types each failure of an operation may answer: the declared ones and those any call may meet. */
const expectedCodes = (op: Declared): Set<AppErrorCode> =>
  new Set<AppErrorCode>([
    ...op.errors,
    'NOT_ACCEPTABLE',
    'UNAVAILABLE',
    'INTERNAL',
    ...(op.auth === 'public' ? [] : (['UNAUTHENTICATED'] as const)),
  ]);

// ---------------------------------------------------------------------------------------------
// Ajv (JSON Schema 2020-12, the OpenAPI 3.1 dialect) over the document's schemas.
// ---------------------------------------------------------------------------------------------

const DOC_ID = 'https://tickets.test/openapi.json';
const addFormats = addFormatsModule.default;

/** The document's local `#/components/schemas/X` refs, pointing into the schema Ajv knows. */
function rebase<T>(node: T): T {
  if (Array.isArray(node)) return node.map(rebase) as T;
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${DOC_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rebase(v),
    ]),
  ) as T;
}

function schemaValidator(doc: OpenApiDocument) {
  // Strict: unknown keywords, formats or types are errors, not silently ignored.
  // (`required` inside `anyOf` without `properties` is plain JSON Schema, so not strictRequired.)
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv as never);
  ajv.addKeyword({ keyword: 'xml', schemaType: 'object' });
  ajv.addSchema({ $id: DOC_ID, $defs: rebase(doc.components.schemas) });
  const cache = new Map<Schema, ValidateFunction>();
  return (schema: Schema, value: unknown): string[] => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(rebase(schema));
      cache.set(schema, validate);
    }
    return validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '$'} ${e.message ?? ''}`);
  };
}

/** Every schema of the document (components, parameters, headers, media types), with where it is. */
function collectSchemas(doc: OpenApiDocument): { at: string; schema: Schema }[] {
  const found: { at: string; schema: Schema }[] = Object.entries(doc.components.schemas).map(
    ([name, schema]) => ({ at: `#/components/schemas/${name}`, schema }),
  );
  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${at}/${i}`));
    else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'schema' && isObject(v)) found.push({ at: `${at}/schema`, schema: v as Schema });
        else if (k !== 'schemas') visit(v, `${at}/${k}`);
      }
    }
  };
  visit(doc.paths, '#/paths');
  visit({ parameters: doc.components.parameters, headers: doc.components.headers }, '#/components');
  return found;
}

/** Every subschema with a `default` or `examples`, with where it is. */
function annotated(schema: unknown, at: string, found: { at: string; schema: Schema }[] = []) {
  if (Array.isArray(schema)) schema.forEach((s, i) => annotated(s, `${at}/${i}`, found));
  else if (isObject(schema)) {
    if ('default' in schema || 'examples' in schema) found.push({ at, schema: schema as Schema });
    for (const [k, v] of Object.entries(schema)) {
      if (k !== 'default' && k !== 'examples' && k !== 'enum' && k !== 'const')
        annotated(v, `${at}/${k}`, found);
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
  let check: (schema: Schema, value: unknown) => string[];

  const deref = <T>(value: T | Ref): T => {
    if (isObject(value) && typeof value['$ref'] === 'string') {
      const target = resolvePointer(doc, value['$ref']);
      if (target === undefined) throw new Error(`unresolved ${value['$ref']}`);
      return deref(target as T | Ref);
    }
    return value as T;
  };

  /** A schema with its component refs replaced by the components (without their `xml`). */
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (!isObject(node)) return node;
    if (typeof node['$ref'] === 'string') {
      const { xml: _, ...target } = deref<Record<string, unknown>>(node as Ref);
      return inline(target);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
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

  const requires = (op: OperationObject, scheme: string): boolean =>
    op.security.some((requirement) => scheme in requirement);

  /** The request body schema of an operation (its JSON one), with its component refs resolved. */
  const bodySchema = (operationId: string): Schema => {
    const o = operations().find((x) => x.op.operationId === operationId);
    return deref<Schema>(o!.op.requestBody!.content['application/json']!.schema);
  };
  /** The alternatives of a schema, nested `anyOf`s flattened. */
  const branches = (schema: Schema): Schema[] =>
    schema.anyOf ? schema.anyOf.flatMap((b) => (isObject(b) ? branches(b) : [])) : [schema];
  const propertyOf = (schema: Schema, name: string): Schema => {
    const property = schema.properties?.[name];
    if (!isObject(property)) throw new Error(`no property ${name}`);
    return property;
  };

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
   * its media type is one the response lists, its body fits that schema (JSON and text, by
   * Ajv), and the headers the document marks required are there and fit theirs.
   */
  async function expectDocumented(method: string, path: string, response: Response): Promise<void> {
    const { op } = operationOf(method, path);
    const label = `${key(method, path)} → ${response.status}`;
    const documented = op.responses[String(response.status)];
    expect(documented, `${label} is not documented`).toBeDefined();
    const spec = deref<ResponseObject>(documented!);
    for (const [name, ref] of Object.entries(spec.headers ?? {})) {
      const header = deref<Header>(ref);
      const value = response.headers.get(name);
      if (header.required) expect(value, `${label}: header ${name}`).not.toBeNull();
      if (value !== null) {
        const typed = header.schema.type === 'integer' ? Number(value) : value;
        expect(check(header.schema, typed), `${label}: header ${name}`).toEqual([]);
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
      expect(check(media!.schema, JSON.parse(text)), `${label}: ${text}`).toEqual([]);
    } else if (mediaType === 'text/plain') {
      expect(check(media!.schema, text), `${label}: ${text}`).toEqual([]);
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
    served = await fetch(`${server.url}/api/openapi.json`);
    doc = (await served.clone().json()) as OpenApiDocument;
    check = schemaValidator(doc);
  });
  afterAll(() => server.close());

  it('is OpenAPI 3.1, served as JSON, versioned and licensed as the server', () => {
    expect(served.status).toBe(200);
    expect(served.headers.get('Content-Type')).toMatch(/^application\/json\b/);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(doc.info.version).toBe((pkg as { version: string }).version);
    expect(doc.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    expect((pkg as { license: string }).license).toBe('MIT');
    expect(Object.keys(doc.paths).every((path) => path.startsWith('/'))).toBe(true);
  });

  it('is valid against the OpenAPI 3.1 schema', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('has schemas that are strict JSON Schema 2020-12, with defaults and examples that fit', () => {
    const schemas = collectSchemas(doc);
    expect(schemas.length).toBeGreaterThan(100);
    for (const { at, schema } of schemas) {
      expect(() => check(schema, null), at).not.toThrow();
    }
    let annotations = 0;
    for (const { at, schema } of schemas) {
      for (const sub of annotated(schema, at)) {
        if ('default' in sub.schema)
          expect(check(sub.schema, sub.schema.default), `${sub.at}: default`).toEqual([]);
        for (const example of sub.schema.examples ?? [])
          expect(check(sub.schema, example), `${sub.at}: example`).toEqual([]);
        annotations += 1;
      }
    }
    expect(annotations).toBeGreaterThan(0);
  });

  it('describes exactly the routes the app serves', () => {
    const documented = operations()
      .map((o) => key(o.method, o.path))
      .sort();
    expect(appRoutes().length).toBeGreaterThan(10);
    expect(documented).toEqual(appRoutes());
  });

  it('derives every REST operation from its declaration in the contract', () => {
    const SECURITY = {
      public: [],
      session: [{ AtmoAuthToken: [] }],
      'session+csrf': [{ AtmoAuthToken: [], CsrfToken: [] }],
    };
    const WRITE_PARAMETER = {
      idempotencyKey: 'Idempotency-Key',
      ifMatch: 'If-Match',
      dryRun: 'dryRun',
    };
    for (const { name, op, rest } of restOperations) {
      const primary = operationOf(rest.method, toTemplate(rest.path));
      expect(primary.op.operationId, name).toBe(rest.operationId);
      for (const path of [rest.path, ...(rest.aliases ?? [])]) {
        const o = operationOf(rest.method, toTemplate(path));
        const label = `${name} at ${path}`;
        expect(o.op.summary, label).toBe(op.summary);
        expect(o.op.security, label).toEqual(SECURITY[op.auth]);
        const statuses = Object.keys(o.op.responses);
        expect(
          statuses.filter((s) => s.startsWith('2')),
          label,
        ).toEqual([String(rest.status)]);
        // The body and the answer are what zod's converter makes of the declared schemas.
        expect(o.op.requestBody !== undefined, label).toBe(rest.body !== undefined);
        if (rest.body) {
          for (const media of Object.values(o.op.requestBody!.content))
            expect(inline(media.schema), label).toEqual(converted(rest.body, 'input'));
        }
        const ok = deref<ResponseObject>(o.op.responses[String(rest.status)]!);
        if (rest.answer === 'text') expect(Object.keys(ok.content!), label).toEqual(['text/plain']);
        else {
          expect(Object.keys(ok.content!), label).toEqual([...RESPONSE_MEDIA_TYPES]);
          for (const media of Object.values(ok.content!))
            expect(inline(media.schema), label).toEqual(converted(rest.answer.schema, 'output'));
          expect(deref<Schema>(ok.content!['application/xml']!.schema).xml, label).toEqual({
            name: rest.answer.xmlRoot,
          });
        }
        // Parameters: the query schema's fields, the write options, the tenant.
        const params = parametersOf(o);
        const query = rest.query ? converted(rest.query, 'input') : { properties: {} };
        for (const [field, schema] of Object.entries(query.properties ?? {})) {
          const p = params.find((x) => x.in === 'query' && x.name === field);
          expect(p?.schema, `${label}: ?${field}`).toEqual(schema);
        }
        for (const option of rest.writeOptions ?? [])
          expect(
            params.map((p) => p.name),
            label,
          ).toContain(WRITE_PARAMETER[option]);
        expect(
          params.some((p) => p.name === 'fedmemberid'),
          label,
        ).toBe(rest.tenantFrom === 'request');
        // Errors: each declared one (and the 401/406/500/503 any call may meet) under its status.
        const codes = expectedCodes(op);
        const errorStatuses = [...new Set([...codes].map((c) => String(ERROR_TABLE[c].status)))];
        expect(statuses.filter((s) => /^[45]/.test(s)).sort(), label).toEqual(errorStatuses.sort());
        for (const status of errorStatuses) {
          const problem = deref<ResponseObject>(o.op.responses[status]!).content?.[
            'application/problem+json'
          ];
          if (!problem) continue; // the action endpoint answers errors as text
          const types = problem.schema.allOf?.[1];
          const expected = [...codes].filter((c) => String(ERROR_TABLE[c].status) === status);
          expect(isObject(types) && types.properties?.['type'], `${label} ${status}`).toMatchObject(
            {
              enum: expect.arrayContaining(expected.map(problemType)),
            },
          );
        }
      }
    }
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
      expect(
        Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)),
        `${label}: a 2xx`,
      ).toBe(true);
      expect(
        Object.keys(op.responses).some((status) => /^[45]\d\d$/.test(status)),
        `${label}: an error answer`,
      ).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(status, label).toMatch(/^[1-5]\d\d$/);
        const spec = deref<ResponseObject>(response);
        expect(spec.description, `${label} ${status}`).toBeTruthy();
        expect(
          Object.keys(spec.headers ?? {}),
          `${label} ${status}: X-Request-Id is on every response`,
        ).toContain('X-Request-Id');
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
        expect(p.description, `${label} ${p.name}`).toBeTruthy();
        if (p.in === 'path')
          expect(p.required, `${label} ${p.name}: path parameters are required`).toBe(true);
        // OpenAPI ignores header parameters with these names; they belong to the media types.
        if (p.in === 'header')
          expect(['accept', 'content-type', 'authorization']).not.toContain(p.name.toLowerCase());
        if (p.example !== undefined)
          expect(check(p.schema, p.example), `${label} ${p.name}: example`).toEqual([]);
      }
      const own = (o.op.parameters ?? []).map((p) => deref<Parameter>(p));
      expect(
        new Set(own.map((p) => `${p.in}:${p.name}`)).size,
        `${label}: duplicate parameters`,
      ).toBe(own.length);
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

  it('states the limits of the contract, and no other', () => {
    const ticket = bodySchema('createTicket');
    expect(propertyOf(ticket, 'Title')).toMatchObject({ minLength: 1, maxLength: LIMITS.title });
    expect(propertyOf(ticket, 'Description')).toMatchObject({ maxLength: LIMITS.description });
    // An API's or app's id is bounded as a list filter's is; whether it exists is the server's.
    for (const field of ['APIID', 'AppID']) {
      expect(propertyOf(ticket, field).maxLength, field).toBe(LIMITS.filterId);
      expect(propertyOf(ticket, field).type, field).toBe('string');
    }
    expect(ticket.anyOf).toEqual([{ required: ['APIID'] }, { required: ['AppID'] }]);
    // A list is one value or several; each value, and the count, within the contract's limits.
    const oneOrMany = (schema: Schema, item: Schema, maxItems: number) => {
      const found = branches(schema);
      expect(found).toContainEqual(item);
      expect(found).toContainEqual({ type: 'array', items: item, maxItems });
    };
    oneOrMany(
      propertyOf(ticket, 'Tag'),
      { type: 'string', maxLength: LIMITS.listItem },
      LIMITS.tags,
    );
    oneOrMany(
      propertyOf(ticket, 'Label'),
      { type: 'string', enum: [...PRIORITY_LABELS] },
      LIMITS.labels,
    );

    const action = bodySchema('executeTicketAction');
    expect(propertyOf(action, 'ActionName')).toMatchObject({
      minLength: 1,
      maxLength: LIMITS.actionName,
    });
    oneOrMany(
      propertyOf(action, 'Comments'),
      { type: 'string', maxLength: LIMITS.comment },
      LIMITS.comments,
    );
    expect(propertyOf(bodySchema('addTicketComment'), 'Content')).toMatchObject({
      minLength: 1,
      maxLength: LIMITS.comment,
    });
    const credentials = bodySchema('login');
    expect(propertyOf(credentials, 'email')).toMatchObject({ maxLength: LIMITS.email });
    expect(propertyOf(credentials, 'password')).toMatchObject({ maxLength: LIMITS.password });

    const list = operationOf('get', '/api/tickets');
    const query = new Map(parametersOf(list).map((p) => [p.name, p.schema]));
    for (const filter of ['APIID', 'AppID', 'AuthorID'])
      expect(query.get(filter), filter).toMatchObject({ maxLength: LIMITS.filterId });
    expect(query.get('start')).toMatchObject({ minimum: 0, maximum: LIMITS.maxStart, default: 0 });
    expect(query.get('count')).toMatchObject({ minimum: 1, default: LIMITS.defaultCount });
    expect(query.get('State')).toMatchObject({ enum: [...TICKET_STATES] });

    // The history pages by the list's rules, but only when asked: no defaults, so none is whole.
    const history = operationOf('get', '/api/tickets/{TicketID}/history');
    const paging = new Map(parametersOf(history).map((p) => [p.name, p.schema]));
    expect(paging.get('start')).toMatchObject({ minimum: 0, maximum: LIMITS.maxStart });
    expect(paging.get('count')).toMatchObject({ minimum: 1 });
    expect(paging.get('start')).not.toHaveProperty('default');
    expect(paging.get('count')).not.toHaveProperty('default');
    const historyList = doc.components.schemas['HistoryList']!;
    expect(historyList.required).toEqual(['History']);
    expect(propertyOf(historyList, 'totalResults')).toMatchObject({ type: 'integer' });
    expect(propertyOf(historyList, 'startIndex')).toMatchObject({ type: 'integer' });

    const idempotencyKey = doc.components.parameters['IdempotencyKey']!;
    expect(idempotencyKey.schema.pattern).toBe(IDEMPOTENCY_KEY_PATTERN.source);
  });

  it('lists every problem type of the error table, and only those', () => {
    const problem = doc.components.schemas['Problem']!;
    const urns = Object.values(ERROR_TABLE).map((mapping) => `urn:tickets:problem:${mapping.slug}`);
    const property = (name: string) => propertyOf(problem, name);
    expect([...(property('type').enum ?? [])].sort()).toEqual([...urns].sort());
    expect([...(property('code').enum ?? [])].sort()).toEqual(Object.keys(ERROR_TABLE).sort());
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
    for (const { method, path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const media = deref<ResponseObject>(response).content?.['application/problem+json'];
        if (!media) continue;
        const label = `${key(method, path)} ${status}`;
        const [problem, narrowing] = media.schema.allOf ?? [];
        expect(isObject(problem) && problem.$ref, label).toBe('#/components/schemas/Problem');
        if (!isObject(narrowing)) throw new Error(`${label}: no narrowing`);
        const properties = narrowing.properties ?? {};
        expect(properties['status'], label).toMatchObject({ const: Number(status) });
        const types = (isObject(properties['type']) && properties['type'].enum) || [];
        const codes = (isObject(properties['code']) && properties['code'].enum) || [];
        expect(types.length, label).toBeGreaterThan(0);
        expect(types, label).toEqual(codes.map((c) => problemType(c as AppErrorCode)));
        for (const c of codes)
          expect(ERROR_TABLE[c as AppErrorCode].status, `${label}: ${String(c)}`).toBe(
            Number(status),
          );
      }
    }
  });

  it('names the XML root elements the server writes and reads', () => {
    const xmlName = (schema: Schema | Ref | undefined) => deref<Schema>(schema!).xml;
    for (const { name, rest } of restOperations) {
      const o = operationOf(rest.method, toTemplate(rest.path));
      if (rest.answer !== 'text') {
        const media = deref<ResponseObject>(o.op.responses[String(rest.status)]!).content!;
        expect(xmlName(media['application/xml']?.schema), name).toEqual({
          name: rest.answer.xmlRoot,
        });
      }
    }
    expect({
      createTicket: xmlName(bodySchema('createTicket')),
      executeTicketAction: xmlName(bodySchema('executeTicketAction')),
      addTicketComment: xmlName(bodySchema('addTicketComment')),
    }).toEqual({
      createTicket: { name: XML_ROOTS.ticket },
      executeTicketAction: { name: XML_ROOTS.action },
      addTicketComment: { name: XML_ROOTS.comment },
    });
    expect(Object.keys(doc.components.schemas)).toContain('Problem');
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

  it('has examples that fit their schemas, and that the server decodes (XML only under XML)', () => {
    let json = 0;
    let xml = 0;
    for (const { name, rest } of restOperations) {
      if (!rest.body) continue;
      const { op } = operationOf(rest.method, toTemplate(rest.path));
      const content: Record<string, MediaType> = { ...op.requestBody!.content };
      for (const [type, media] of Object.entries(content)) {
        const label = `${name} ${type}`;
        const examples = Object.values(media.examples ?? {});
        expect(examples.length, `${label}: an example`).toBeGreaterThan(0);
        for (const { value, description } of examples) {
          expect(typeof value, `${label}: no string example under an object schema`).toBe('object');
          expect(check(media.schema, value), label).toEqual([]);
          const decoded = rest.body.safeParse(value);
          expect(decoded.success, label).toBe(true);
          if (BODY_MEDIA_TYPES.get(type) === 'xml') {
            // The wire form, quoted in the description, decodes to the same command.
            const wire = /```xml\n([\s\S]*?)\n```/.exec(description ?? '')?.[1];
            expect(wire, `${label}: the XML on the wire`).toBeDefined();
            const root = deref<Schema>(media.schema).xml?.name;
            const read = readXmlBody(wire!, root!);
            if (!read.ok) throw new Error(`${label}: ${read.message}`);
            expect(rest.body.parse(read.value), label).toEqual(decoded.data);
            xml += 1;
          } else {
            json += 1;
          }
        }
      }
    }
    expect(json).toBeGreaterThanOrEqual(4 * 5);
    expect(xml).toBeGreaterThanOrEqual(3 * 5);
  });

  it('documents the action endpoint as the contract says', () => {
    const o = operationOf('post', '/api/tickets/{TicketID}/actions');
    const ok = deref<ResponseObject>(o.op.responses['200']!);
    expect(Object.keys(ok.content ?? {})).toEqual(['text/plain']);
    const stateSchema = ok.content!['text/plain']!.schema;
    for (const state of TICKET_STATES) expect(check(stateSchema, state)).toEqual([]);
    expect(check(stateSchema, 'resolved')).not.toEqual([]);
    expect(Object.keys(o.op.responses).sort()).toEqual([
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
    for (const [status, response] of Object.entries(o.op.responses)) {
      expect(Object.keys(deref<ResponseObject>(response).content ?? {}), status).toEqual([
        'text/plain',
      ]);
    }
    expect(parametersOf(o).map((p) => p.name)).toEqual(
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
      if (answersData) expect(statuses, label).toEqual(expect.arrayContaining(['406', '503']));
      expect(statuses, label).toContain('500');
    }
  });

  it('declares the tenant-suffixed cookie and CSRF header, and names only those in requirements', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes['AtmoAuthToken']).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'AtmoAuthToken_{tenant}',
    });
    expect(schemes['CsrfToken']).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-Csrf-Token_{tenant}',
    });
    expect(schemes['AtmoAuthToken']!.description).toMatch(/tenant/);
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
      'GET /api/docs': (url) => fetch(`${url}/api/docs`),
      'GET /api/docs/assets/{version}/{file}': (url) =>
        fetch(`${url}${DOCS_ASSETS_PATH}/swagger-ui.css`),
    };

    it('has a sample for every operation', () => {
      expect(Object.keys(samples).sort()).toEqual(appRoutes());
    });

    it('answers every operation as documented', async () => {
      for (const [route, run] of Object.entries(samples)) {
        const [method, template] = route.split(' ') as [string, string];
        const response = await run(server.url, await login(server.url, 'ada@acme.test'));
        // Exactly the success the document declares (201 for a creation, 200 otherwise).
        const declared = Object.keys(operationOf(method, template).op.responses ?? {}).filter(
          (code) => /^2\d\d$/.test(code),
        );
        expect(declared, route).toHaveLength(1);
        expect(response.status, `${route}: ${await response.clone().text()}`).toBe(
          Number(declared[0]),
        );
        await expectDocumented(method, template, response);
      }
    });

    it('answers a ticket unchanged since If-None-Match with a documented 304', async () => {
      const ada = await login(server.url, 'ada@acme.test');
      const first = await call(server.url, ada, '/api/tickets/ticket5.acme');
      const etag = first.headers.get('ETag')!;
      const again = await call(server.url, ada, '/api/tickets/ticket5.acme', {
        headers: { 'If-None-Match': etag },
      });
      expect(again.status).toBe(304);
      await expectDocumented('GET', '/api/tickets/{TicketID}', again);
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

    it('enforces the limits it states, and none it does not', async () => {
      const ada = await login(server.url, 'ada@acme.test');
      const ticket = bodySchema('createTicket');
      const create = (fields: Record<string, unknown>) =>
        call(server.url, ada, '/api/tickets', {
          method: 'POST',
          ...json({ Title: 'Limits', Environment: 'Sandbox', APIID: 'payments.acme', ...fields }),
        });
      for (const field of ['Title', 'Description']) {
        const max = propertyOf(ticket, field).maxLength!;
        expect((await create({ [field]: 'x'.repeat(max) })).status, `${field} of ${max}`).toBe(201);
        const over = await create({ [field]: 'x'.repeat(max + 1) });
        expect(over.status, `${field} of ${max + 1}`).toBe(400);
        expect(((await over.json()) as { field?: string }).field).toBe(field);
      }
      // APIID up to its maxLength is looked up (no such resource of the caller's); past it, a 400.
      const apiMax = propertyOf(ticket, 'APIID').maxLength!;
      const longest = await create({ APIID: `${'x'.repeat(apiMax - 5)}.acme` });
      expect(longest.status).toBe(403);
      const tooLong = await create({ APIID: `${'x'.repeat(apiMax - 4)}.acme` });
      expect(tooLong.status).toBe(400);
      expect(((await tooLong.json()) as { field?: string }).field).toBe('APIID');

      const content = propertyOf(bodySchema('addTicketComment'), 'Content').maxLength!;
      const comment = (length: number) =>
        call(server.url, ada, '/api/tickets/ticket4.acme/comments', {
          method: 'POST',
          ...json({ Content: 'x'.repeat(length) }),
        });
      expect((await comment(content)).status).toBe(201);
      expect((await comment(content + 1)).status).toBe(400);
    });
  });
});
