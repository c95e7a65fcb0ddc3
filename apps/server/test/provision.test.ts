import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TicketState } from '@tickets/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  provision,
  PROGRESS_FROM_USERS,
  ProvisionError,
  type ProvisionInput,
  type ProvisionOptions,
} from '../src/provision.js';
import { parseJsonFile } from '../src/jsonFile.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';

const base = {
  tenants: [{ id: 'acme', name: 'Acme' }],
  users: [
    { id: 'ada.acme', email: 'ada@acme.test', password: 'correct-horse-1', name: 'Ada' },
    { id: 'bob.acme', email: 'bob@acme.test', password: 'correct-horse-1', name: 'Bob' },
  ],
  resources: [
    { id: 'payments.acme', type: 'api', name: 'Payments', admins: ['ada.acme'] },
    { id: 'shop.acme', type: 'app', name: 'Shop', admins: [] },
  ],
  tickets: [
    {
      id: 'ticket1.acme',
      Title: 'One',
      Environment: 'Production',
      APIID: 'payments.acme',
      author: 'bob.acme',
    },
  ],
} satisfies ProvisionInput;

/** The example workflow of docs/workflows.md, "resolved means confirmed", as the page quotes it. */
const confirmedWorkflow = /```xml\n(<workflow name="acme-confirmed">[\s\S]*?)```/.exec(
  readFileSync(new URL('../../../docs/workflows.md', import.meta.url), 'utf8'),
)![1]!;

describe('provision', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-provision-'));
    store = SqliteStore.open(join(dir, 'tickets.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const issuesOf = async (
    input: unknown,
    options?: ProvisionOptions,
  ): Promise<{ path: string; message: string }[]> => {
    const error = await provision(store, input, options).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ProvisionError);
    return [...(error as ProvisionError).issues];
  };

  it.each<[string, (input: typeof base) => unknown, string, RegExp]>([
    [
      'a duplicate tenant',
      (f) => ({ ...f, tenants: [...f.tenants, f.tenants[0]] }),
      'tenants[1].id',
      /duplicate id acme/,
    ],
    [
      'a duplicate user',
      (f) => ({ ...f, users: [...f.users, { ...f.users[0]!, email: 'x@acme.test' }] }),
      'users[2].id',
      /duplicate/,
    ],
    [
      'two users with one e-mail',
      (f) => ({ ...f, users: [f.users[0], { ...f.users[1]!, email: 'ADA@acme.test' }] }),
      'users[1].email',
      /same e-mail as users\[0\]/,
    ],
    [
      'a user of an unknown tenant',
      (f) => ({
        ...f,
        users: [...f.users, { ...f.users[0]!, id: 'eve.nowhere', email: 'eve@x.test' }],
      }),
      'users[2].id',
      /no tenant nowhere/,
    ],
    [
      'an admin of another tenant',
      (f) => ({
        ...f,
        tenants: [...f.tenants, { id: 'globex', name: 'G' }],
        users: [
          ...f.users,
          { id: 'gil.globex', email: 'gil@g.test', password: 'correct-horse-1', name: 'Gil' },
        ],
        resources: [{ ...f.resources[0]!, admins: ['gil.globex'] }],
      }),
      'resources[0].admins[0]',
      /not a user of tenant acme/,
    ],
    [
      'an APIID that names an app',
      (f) => ({ ...f, tickets: [{ ...f.tickets[0]!, APIID: 'shop.acme' }] }),
      'tickets[0].APIID',
      /is an app, not an api/,
    ],
    [
      'a ticket with neither APIID nor AppID',
      (f) => ({ ...f, tickets: [{ ...f.tickets[0]!, APIID: undefined }] }),
      'tickets[0].APIID',
      /needs an APIID or an AppID/,
    ],
    [
      'an unknown field',
      (f) => ({ ...f, tickets: [{ ...f.tickets[0]!, Priority: 'high' }] }),
      'tickets[0]',
      /Priority/,
    ],
    [
      'a malformed id',
      (f) => ({ ...f, users: [{ ...f.users[0]!, id: 'no-tenant' }] }),
      'users[0].id',
      /\{local\}\.\{tenant\}/,
    ],
  ])('refuses %s, naming the field, and applies nothing', async (_what, change, path, message) => {
    const issues = await issuesOf(change(base));
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
    expect(await store.countTenants()).toBe(0);
  });

  describe("under the docs' example workflow", () => {
    const underConfirmed = (states: TicketState[]) => ({
      ...base,
      tenants: [{ id: 'acme', name: 'Acme', workflow: './acme-workflow.xml' }],
      tickets: states.map((State, i) => ({ ...base.tickets[0], id: `ticket${i}.acme`, State })),
    });

    it('provisions a ticket in every state it reaches, on the step taking its actions leads to', async () => {
      await provision(store, underConfirmed(['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN']), {
        readFile: () => confirmedWorkflow,
      });
      const stored = await Promise.all(
        [0, 1, 2, 3].map(async (i) => store.getTicket(`ticket${i}.acme`)),
      );
      // Resolve leads an admin to step 20 and a site admin (its conditional result) to step 30,
      // each result setting its own state; reopening goes back to step 10.
      expect(stored.map((ticket) => [ticket?.state, ticket?.step])).toEqual([
        ['OPEN', 10],
        ['RESOLVED', 20],
        ['CLOSED', 30],
        ['REOPEN', 10],
      ]);
    });

    it('refuses a state no action of the workflow sets, naming the field', async () => {
      const neverReopens = confirmedWorkflow.replaceAll(
        '<arg name="status">REOPEN</arg>',
        '<arg name="status">OPEN</arg>',
      );
      const issues = await issuesOf(underConfirmed(['RESOLVED', 'REOPEN']), {
        readFile: () => neverReopens,
      });
      expect(issues).toEqual([
        {
          path: 'tickets[1].State',
          message: 'the workflow never reaches REOPEN; it reaches OPEN, RESOLVED, CLOSED',
        },
      ]);
      expect(await store.countTenants()).toBe(0);
    });
  });

  it('is idempotent, and a second run reports nothing changed', async () => {
    expect(await provision(store, base)).toEqual({
      tenants: 1,
      workflows: 0,
      users: 2,
      resources: 2,
      tickets: 1,
    });
    const hash = (await store.getUser('ada.acme'))!.passwordHash;
    expect(await provision(store, base)).toEqual({
      tenants: 0,
      workflows: 0,
      users: 0,
      resources: 0,
      tickets: 0,
    });
    expect((await store.getUser('ada.acme'))!.passwordHash).toBe(hash);
  });

  it('updates what changed: a new password, a renamed user, admins replaced; a ticket is never rewritten', async () => {
    await provision(store, base);
    const loggedIn = {
      id: 'session-of-ada',
      userId: 'ada.acme',
      tenant: 'acme',
      csrfToken: 'csrf',
      loginAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    };
    await store.createSession(loggedIn);
    await store.createSession({ ...loggedIn, id: 'session-of-bob', userId: 'bob.acme' });
    const oldHash = (await store.getUser('ada.acme'))!.passwordHash;
    const summary = await provision(store, {
      ...base,
      users: [{ ...base.users[0], password: 'another-pass-2', name: 'Ada L.' }, base.users[1]],
      resources: [{ ...base.resources[0], admins: ['bob.acme'] }, base.resources[1]],
      tickets: [{ ...base.tickets[0], Title: 'Renamed in the file' }],
    });
    expect(summary).toEqual({ tenants: 0, workflows: 0, users: 1, resources: 1, tickets: 0 });
    const ada = (await store.getUser('ada.acme'))!;
    expect(ada.name).toBe('Ada L.');
    expect(ada.passwordHash).not.toBe(oldHash);
    expect(await store.adminResourceIds('ada.acme')).toEqual([]);
    expect(await store.adminResourceIds('bob.acme')).toEqual(['payments.acme']);
    expect((await store.getTicket('ticket1.acme'))!.title).toBe('One');
    // The new password ended Ada's session; Bob's, unchanged, lives on.
    expect((await store.getSession('session-of-ada'))!.endedAt).toBeInstanceOf(Date);
    expect((await store.getSession('session-of-bob'))!.endedAt).toBeUndefined();
  });

  it('keeps the type of a resource that tickets name, and changes that of one no ticket names', async () => {
    await provision(store, base);
    // ticket1 names payments.acme as its APIID: it cannot become an app.
    expect(
      await issuesOf({
        ...base,
        resources: [{ ...base.resources[0], type: 'app' }, base.resources[1]],
        tickets: [],
      }),
    ).toEqual([
      {
        path: 'resources[0].type',
        message: 'payments.acme is the APIID of 1 ticket(s): its type stays api',
      },
    ]);
    expect((await store.getResource('payments.acme'))!.type).toBe('api');
    // No ticket names shop.acme: it may become an API.
    const summary = await provision(store, {
      ...base,
      resources: [base.resources[0], { ...base.resources[1], type: 'api' }],
      tickets: [],
    });
    expect(summary.resources).toBe(1);
    expect((await store.getResource('shop.acme'))!.type).toBe('api');
  });

  it('says how far it got with the passwords of a large file, and nothing for a small one', async () => {
    const small: string[] = [];
    await provision(store, base, { progress: (message) => small.push(message) });
    expect(small).toEqual([]);

    const users = Array.from({ length: PROGRESS_FROM_USERS }, (_, i) => ({
      id: `user${i}.acme`,
      email: `user${i}@acme.test`,
      password: `password-${i}`,
      name: `User ${i}`,
    }));
    const messages: string[] = [];
    await provision(
      store,
      { ...base, users: [...base.users, ...users] },
      {
        progress: (message) => messages.push(message),
      },
    );
    const total = PROGRESS_FROM_USERS + base.users.length;
    expect(messages[0]).toBe(
      `checking the passwords of ${total} users (a slow hash each, by design)`,
    );
    expect(messages.at(-1)).toBe(`passwords: ${total}/${total}`);
    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(messages.length).toBeLessThanOrEqual(12);
  });
});

describe('parseJsonFile', () => {
  it.each([
    ['{"tenants": [', 1, 14, /Unexpected end of JSON input/],
    ['{\n  "users": [\n    {"id": 1,}\n  ]\n}', 3, 14, /property name/],
    ['\uFEFF{\n"a": tru}', 2, 9, /^JSON syntax error at line 2, column 9: Unexpected token '}'$/],
    ['[1, 2]]', 1, 7, /Unexpected non-whitespace|Unexpected/],
  ])('names the line and column of a syntax error in %j', (text, line, column, reason) => {
    let error: unknown;
    try {
      parseJsonFile(text);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SyntaxError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^JSON syntax error at line ${line}, column ${column}: `));
    expect(message).toMatch(reason);
    expect(message).not.toContain('position');
  });

  it('reads a file with a byte order mark', () => {
    expect(parseJsonFile('\uFEFF{"tenants": []}')).toEqual({ tenants: [] });
  });
});
