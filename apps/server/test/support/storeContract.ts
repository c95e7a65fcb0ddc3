/**
 * The conformance suite of the `Store` interface: every method, through its documented
 * behaviour, for any implementation (SQLite today, PostgreSQL next). An implementation's test
 * file calls `describeStoreContract` with a factory that opens an empty, migrated store, a
 * function that opens a second store on the same database, and one that closes both and removes
 * what it created. Nothing here is specific to one engine: checks that need raw access to the
 * database belong in that engine's own test file.
 */
import {
  addComment,
  applyAction,
  COMMENT_ACTION,
  defaultTicketWorkflow,
  formatTicketId,
  startTicket,
  TICKET_ACTIONS,
  type Actor,
  type HistoryEntry,
  type Ticket,
  type TicketDraft,
  type Transition,
} from '@tickets/domain';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CHANGE_RETENTION_MS,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type ProvisionPlan,
  type SessionRecord,
  type Store,
  type StoredHistoryEntry,
  type TicketChangeRecord,
  type UserRecord,
} from '../../src/store/store.js';

export interface OpenedStore {
  readonly store: Store;
  /** Opens another store on the same database (file, schema), as another process would. */
  readonly openAnother: () => Promise<Store>;
  /** Closes the stores and removes whatever the factory created (files, schemas). */
  readonly close: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

const NOW = new Date('2026-03-01T12:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** A moment relative to NOW. */
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);

const user = (id: string, email: string, name: string, siteAdmin = false): UserRecord => ({
  id,
  tenant: id.slice(id.lastIndexOf('.') + 1),
  email,
  name,
  passwordHash: `scrypt$hash-of-${id}`,
  siteAdmin,
});

const USERS = {
  ada: user('ada.acme', 'ada@acme.test', 'Ada'),
  bob: user('bob.acme', 'bob@acme.test', 'Bob'),
  root: user('root.acme', 'root@acme.test', 'Root', true),
  samAcme: user('sam.acme', 'shared@example.test', 'Sam of Acme'),
  samGlobex: user('sam.globex', 'shared@example.test', 'Sam of Globex'),
  /** Provisioned with a mixed-case e-mail; found by any spelling of it. */
  gina: user('gina.globex', 'Gina@Globex.Test', 'Gina', true),
} as const;

/**
 * Two tenants. In acme, ada administers the Payments API and (with bob) the Shop app; root is
 * a site admin; sam has the same e-mail in both tenants. globex has gina and the Ledger API.
 */
const SEED: ProvisionPlan = {
  tenants: [
    { id: 'acme', name: 'Acme Payments' },
    { id: 'globex', name: 'Globex' },
  ],
  users: Object.values(USERS),
  resources: [
    {
      id: 'payments.acme',
      tenant: 'acme',
      type: 'api',
      name: 'Payments API',
      admins: ['ada.acme'],
    },
    {
      id: 'shop.acme',
      tenant: 'acme',
      type: 'app',
      name: 'Shop App',
      admins: ['ada.acme', 'bob.acme'],
    },
    {
      id: 'ledger.globex',
      tenant: 'globex',
      type: 'api',
      name: 'Ledger API',
      admins: ['gina.globex'],
    },
  ],
  tickets: [],
};

const ADA: Actor = {
  userId: 'ada.acme',
  tenant: 'acme',
  siteAdmin: false,
  adminOf: ['payments.acme', 'shop.acme'],
};
const BOB: Actor = { userId: 'bob.acme', tenant: 'acme', siteAdmin: false, adminOf: ['shop.acme'] };

/** A new ticket of the default workflow: `ticket{n}.{tenant}`, on the Payments API by bob. */
function newTicket(n: number, created: Date = NOW, draft: Partial<TicketDraft> = {}): Ticket {
  const tenant = draft.tenant ?? 'acme';
  return startTicket(
    defaultTicketWorkflow,
    {
      id: formatTicketId(`ticket${n}`, tenant),
      tenant,
      title: `Ticket number ${n}`,
      description: `What happened to ticket ${n}`,
      environment: 'Production',
      apiId: 'payments.acme',
      labels: ['com.soa.ticket.label.priority.medium'],
      tags: [],
      authorId: 'bob.acme',
      ...draft,
    },
    created,
  );
}

function globexTicket(n: number, created: Date = NOW): Ticket {
  return newTicket(n, created, {
    tenant: 'globex',
    apiId: 'ledger.globex',
    authorId: 'gina.globex',
  });
}

function historyEntry(
  action: string,
  created: Date,
  comments: readonly string[] = [],
  userId = 'bob.acme',
): HistoryEntry {
  return { action, from: 'OPEN', to: 'OPEN', comments, userId, created: created.toISOString() };
}

/** A transition of the default workflow; fails the test when the domain refuses it. */
function transition(
  ticket: Ticket,
  actionName: string,
  actor: Actor,
  when: Date,
  comments: readonly string[] = [],
): Transition {
  const result = applyAction(defaultTicketWorkflow, ticket, { actionName, comments }, actor, when);
  if (!result.ok) throw new Error(`fixture: ${actionName} refused: ${result.error.message}`);
  return result.value;
}

function comment(ticket: Ticket, content: string, actor: Actor, when: Date) {
  const result = addComment(ticket, content, actor, when);
  if (!result.ok) throw new Error(`fixture: comment refused: ${result.error.message}`);
  return result.value;
}

function idempotency(
  userId: string,
  key: string,
  overrides: Partial<IdempotencyRecord> = {},
): IdempotencyRecord {
  return {
    userId,
    key,
    requestHash: `hash-of-${key}`,
    outcome: JSON.stringify({ ok: true, value: { key } }),
    createdAt: NOW,
    ...overrides,
  };
}

/** A record the database refuses (its outcome is NOT NULL): the change's transaction fails. */
const UNWRITABLE_RECORD = idempotency('ada.acme', 'unwritable', {
  outcome: null as unknown as string,
});

/** How each database refuses it: PostgreSQL's not_null_violation, SQLite's NOT NULL constraint. */
const REFUSED_AS_NULL = { code: expect.stringMatching(/^(23502|SQLITE_CONSTRAINT_NOTNULL)$/) };

function session(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    userId: 'bob.acme',
    tenant: 'acme',
    csrfToken: `TokenID=csrf-${id},issueTime=${NOW.getTime()}`,
    loginAt: NOW,
    expiresAt: at(30 * MINUTE),
    ...overrides,
  };
}

const ZERO = { tenants: 0, workflows: 0, users: 0, resources: 0, tickets: 0 } as const;
const WORKFLOW_A = `<?xml version="1.0"?>\n<workflow name="a">\n  <!-- Ünïcode ✓ -->\n</workflow>\n`;
const WORKFLOW_B = `<?xml version="1.0"?>\n<workflow name="b"/>\n`;

/** Ids in a stable order, for answers whose order the interface leaves open. */
const byId = <T extends { readonly id: string }>(rows: readonly T[]): T[] =>
  [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const sorted = (values: readonly string[]): string[] => [...values].sort();
const withoutEmail = ({ email: _email, ...rest }: UserRecord) => rest;

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

/**
 * Declares the conformance tests of `Store` for one implementation. `open` answers an empty
 * store with every migration applied; each test gets its own.
 */
export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`${name}: the Store contract`, () => {
    let store: Store;
    let openAnother: () => Promise<Store>;
    let close: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, openAnother, close } = await open());
    });
    afterEach(async () => {
      await close?.();
      close = undefined;
    });

    const seed = async (): Promise<void> => {
      await store.applyProvision(SEED);
    };

    /** Inserts tickets (no history, no idempotency) and checks each went in. */
    const insert = async (...tickets: Ticket[]): Promise<void> => {
      for (const ticket of tickets) expect(await store.insertTicket(ticket, [])).toBe('inserted');
    };

    describe('an empty store', () => {
      it('names its kind', () => {
        expect(['sqlite', 'postgres']).toContain(store.kind);
      });

      it('migrate: answers no versions when every migration is applied, again and again', async () => {
        expect(await store.migrate()).toEqual([]);
        expect(await store.migrate()).toEqual([]);
      });

      it('ping: resolves while the database can be reached', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('holds nothing', async () => {
        expect(await store.countTenants()).toBe(0);
        expect(await store.getTenant('acme')).toBeUndefined();
        expect(await store.getUser('ada.acme')).toBeUndefined();
        expect(await store.getUsers(['ada.acme'])).toEqual([]);
        expect(await store.findUsersByEmail('ada@acme.test')).toEqual([]);
        expect(await store.getResource('payments.acme')).toBeUndefined();
        expect(await store.adminResourceIds('ada.acme')).toEqual([]);
        expect(await store.getWorkflow(1)).toBeUndefined();
        expect(await store.getTicket('ticket1.acme')).toBeUndefined();
        expect(await store.listTickets({ tenant: 'acme', start: 0, count: 20 })).toEqual({
          total: 0,
          tickets: [],
        });
        expect(await store.listHistory('ticket1.acme')).toEqual([]);
        expect(await store.getIdempotency('ada.acme', 'k')).toBeUndefined();
        expect(await store.getSession('s')).toBeUndefined();
        expect(await store.getLoginFailures('ada@acme.test')).toBeUndefined();
        expect(await store.listChanges('acme', 0, 10)).toEqual([]);
        expect(await store.latestEventId()).toBe(0);
      });
    });

    describe('directory', () => {
      beforeEach(seed);

      it('getTenant: id and name; no workflowId for the built-in workflow; undefined when unknown', async () => {
        const acme = await store.getTenant('acme');
        expect(acme).toEqual({ id: 'acme', name: 'Acme Payments' });
        expect(acme?.workflowId).toBeUndefined();
        expect(await store.getTenant('globex')).toEqual({ id: 'globex', name: 'Globex' });
        expect(await store.getTenant('initech')).toBeUndefined();
      });

      it('getTenant: the workflowId of the workflow the tenant loaded', async () => {
        await store.applyProvision({
          ...SEED,
          tenants: [
            { id: 'acme', name: 'Acme Payments', workflow: { name: 'a', xml: WORKFLOW_A } },
          ],
        });
        const acme = await store.getTenant('acme');
        expect(acme).toEqual({ id: 'acme', name: 'Acme Payments', workflowId: expect.any(Number) });
        expect((await store.getWorkflow(acme!.workflowId!))?.xml).toBe(WORKFLOW_A);
        expect((await store.getTenant('globex'))?.workflowId).toBeUndefined();
      });

      it('countTenants: every tenant', async () => {
        expect(await store.countTenants()).toBe(2);
        await store.applyProvision({ ...SEED, tenants: [{ id: 'initech', name: 'Initech' }] });
        expect(await store.countTenants()).toBe(3);
      });

      it('getUser: every field, siteAdmin as a boolean; undefined when unknown', async () => {
        expect(await store.getUser('ada.acme')).toEqual(USERS.ada);
        expect(await store.getUser('root.acme')).toEqual(USERS.root);
        expect((await store.getUser('root.acme'))?.siteAdmin).toBe(true);
        expect((await store.getUser('ada.acme'))?.siteAdmin).toBe(false);
        const gina = await store.getUser('gina.globex');
        expect(gina && withoutEmail(gina)).toEqual(withoutEmail(USERS.gina));
        expect(gina?.email.toLowerCase()).toBe('gina@globex.test');
        expect(await store.getUser('nobody.acme')).toBeUndefined();
      });

      it('getUsers: each known user once, whatever the duplicates and unknown ids', async () => {
        expect(byId(await store.getUsers(['bob.acme', 'ada.acme', 'bob.acme', 'x.acme']))).toEqual([
          USERS.ada,
          USERS.bob,
        ]);
        expect(await store.getUsers(['sam.globex'])).toEqual([USERS.samGlobex]);
        expect(await store.getUsers(['nobody.acme'])).toEqual([]);
        expect(await store.getUsers([])).toEqual([]);
      });

      it('findUsersByEmail: case-insensitive, in one tenant or in all', async () => {
        expect(await store.findUsersByEmail('ada@acme.test')).toEqual([USERS.ada]);
        expect(await store.findUsersByEmail('ADA@Acme.Test')).toEqual([USERS.ada]);
        expect(await store.findUsersByEmail('Ada@ACME.test', 'acme')).toEqual([USERS.ada]);
        expect(await store.findUsersByEmail('ada@acme.test', 'globex')).toEqual([]);

        expect(byId(await store.findUsersByEmail('shared@example.test'))).toEqual([
          USERS.samAcme,
          USERS.samGlobex,
        ]);
        expect(await store.findUsersByEmail('SHARED@example.test', 'globex')).toEqual([
          USERS.samGlobex,
        ]);
        expect(await store.findUsersByEmail('shared@example.test', 'acme')).toEqual([
          USERS.samAcme,
        ]);

        // Provisioned as Gina@Globex.Test.
        for (const spelling of ['gina@globex.test', 'Gina@Globex.Test', 'GINA@GLOBEX.TEST']) {
          const found = await store.findUsersByEmail(spelling);
          expect(found.map((u) => u.id)).toEqual(['gina.globex']);
          expect(await store.findUsersByEmail(spelling, 'globex')).toHaveLength(1);
        }

        expect(await store.findUsersByEmail('nobody@acme.test')).toEqual([]);
        expect(await store.findUsersByEmail('nobody@acme.test', 'acme')).toEqual([]);
        expect(await store.findUsersByEmail('ada@acme.test', 'initech')).toEqual([]);
      });

      it('getResource: id, tenant, type and name; undefined when unknown', async () => {
        expect(await store.getResource('payments.acme')).toEqual({
          id: 'payments.acme',
          tenant: 'acme',
          type: 'api',
          name: 'Payments API',
        });
        expect(await store.getResource('shop.acme')).toEqual({
          id: 'shop.acme',
          tenant: 'acme',
          type: 'app',
          name: 'Shop App',
        });
        expect(await store.getResource('ledger.globex')).toEqual({
          id: 'ledger.globex',
          tenant: 'globex',
          type: 'api',
          name: 'Ledger API',
        });
        expect(await store.getResource('nothing.acme')).toBeUndefined();
      });

      it('adminResourceIds: the resources a user administers; none for others', async () => {
        expect(sorted(await store.adminResourceIds('ada.acme'))).toEqual([
          'payments.acme',
          'shop.acme',
        ]);
        expect(await store.adminResourceIds('bob.acme')).toEqual(['shop.acme']);
        expect(await store.adminResourceIds('gina.globex')).toEqual(['ledger.globex']);
        expect(await store.adminResourceIds('root.acme')).toEqual([]);
        expect(await store.adminResourceIds('nobody.acme')).toEqual([]);
      });

      it('adminResources: the records of those resources, in one read, by id', async () => {
        expect(await store.adminResources('ada.acme')).toEqual([
          { id: 'payments.acme', tenant: 'acme', type: 'api', name: 'Payments API' },
          { id: 'shop.acme', tenant: 'acme', type: 'app', name: 'Shop App' },
        ]);
        expect(await store.adminResources('gina.globex')).toEqual([
          { id: 'ledger.globex', tenant: 'globex', type: 'api', name: 'Ledger API' },
        ]);
        expect(await store.adminResources('root.acme')).toEqual([]);
        expect(await store.adminResources('nobody.acme')).toEqual([]);
      });
    });

    describe('getWorkflow', () => {
      beforeEach(seed);

      it('answers a stored workflow exactly as loaded; undefined for an unknown id', async () => {
        await store.applyProvision({
          ...SEED,
          tenants: [
            { id: 'acme', name: 'Acme Payments', workflow: { name: 'Acme flow', xml: WORKFLOW_A } },
          ],
        });
        const id = (await store.getTenant('acme'))!.workflowId!;
        expect(await store.getWorkflow(id)).toEqual({
          id,
          tenant: 'acme',
          name: 'Acme flow',
          xml: WORKFLOW_A,
        });
        expect(await store.getWorkflow(id + 1000)).toBeUndefined();
      });
    });

    describe('login failures', () => {
      beforeEach(seed);

      it('counts failures per key with the time of the last; clear forgets them', async () => {
        const key = 'ada@acme.test';
        expect(await store.getLoginFailures(key)).toBeUndefined();
        await store.recordLoginFailure(key, NOW);
        expect(await store.getLoginFailures(key)).toEqual({ count: 1, lastFailureAt: NOW });
        await store.recordLoginFailure(key, at(MINUTE));
        await store.recordLoginFailure(key, at(2 * MINUTE));
        expect(await store.getLoginFailures(key)).toEqual({
          count: 3,
          lastFailureAt: at(2 * MINUTE),
        });
        expect(await store.getLoginFailures('bob@acme.test')).toBeUndefined();

        await store.clearLoginFailures(key);
        expect(await store.getLoginFailures(key)).toBeUndefined();
        await store.recordLoginFailure(key, at(3 * MINUTE));
        expect(await store.getLoginFailures(key)).toEqual({
          count: 1,
          lastFailureAt: at(3 * MINUTE),
        });
      });

      it('keeps keys apart, also for accounts that do not exist; clearing an unknown key is fine', async () => {
        await store.recordLoginFailure('nobody@nowhere.test', NOW);
        await store.recordLoginFailure('ada@acme.test', NOW);
        await store.recordLoginFailure('ada@acme.test', NOW);
        await store.clearLoginFailures('ada@acme.test');
        expect(await store.getLoginFailures('nobody@nowhere.test')).toEqual({
          count: 1,
          lastFailureAt: NOW,
        });
        await expect(store.clearLoginFailures('never@failed.test')).resolves.toBeUndefined();
      });

      const THROTTLE = { failuresBeforeDelay: 3, maxDelayMs: 60 * SECOND };

      it('admits and counts attempts until the wait, refuses (uncounted) within it, then doubles it', async () => {
        const key = 'ada@acme.test';
        for (const failures of [1, 2, 3]) {
          expect(await store.admitLoginAttempt(key, NOW, THROTTLE)).toEqual({
            admitted: true,
            failures,
            at: NOW,
          });
        }
        expect(await store.admitLoginAttempt(key, NOW, THROTTLE)).toEqual({
          admitted: false,
          waitMs: SECOND,
        });
        expect(await store.admitLoginAttempt(key, at(999), THROTTLE)).toEqual({
          admitted: false,
          waitMs: 1,
        });
        // An attempt stamped before the last failure (it waited longer to be checked) waits
        // from the last failure, no longer than the policy says.
        expect(await store.admitLoginAttempt(key, at(-5 * SECOND), THROTTLE)).toEqual({
          admitted: false,
          waitMs: SECOND,
        });
        expect(await store.getLoginFailures(key)).toEqual({ count: 3, lastFailureAt: NOW });

        expect(await store.admitLoginAttempt(key, at(SECOND), THROTTLE)).toEqual({
          admitted: true,
          failures: 4,
          at: at(SECOND),
        });
        expect(await store.admitLoginAttempt(key, at(2 * SECOND), THROTTLE)).toEqual({
          admitted: false,
          waitMs: SECOND,
        });
        expect(await store.getLoginFailures(key)).toEqual({ count: 4, lastFailureAt: at(SECOND) });
        expect(await store.admitLoginAttempt('bob@acme.test', NOW, THROTTLE)).toEqual({
          admitted: true,
          failures: 1,
          at: NOW,
        });

        await store.clearLoginFailures(key);
        expect(await store.admitLoginAttempt(key, at(2 * SECOND), THROTTLE)).toEqual({
          admitted: true,
          failures: 1,
          at: at(2 * SECOND),
        });
        // Below the threshold, an attempt stamped before the last failure counts at the last.
        expect(await store.admitLoginAttempt(key, NOW, THROTTLE)).toEqual({
          admitted: true,
          failures: 2,
          at: at(2 * SECOND),
        });
      });

      it('admits exactly as many of a concurrent burst, from two stores on one database, as one after another', async () => {
        const another = await openAnother();
        const key = 'ada@acme.test';
        const burst = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? store : another).admitLoginAttempt(key, NOW, THROTTLE),
          ),
        );
        const counted = burst.flatMap((admission) =>
          admission.admitted ? [admission.failures] : [],
        );
        expect(counted.sort()).toEqual([1, 2, 3]);
        expect(burst.filter((admission) => !admission.admitted)).toEqual(
          Array.from({ length: 9 }, () => ({ admitted: false, waitMs: SECOND })),
        );
        expect(await another.getLoginFailures(key)).toEqual({ count: 3, lastFailureAt: NOW });
      });
    });

    describe('sessions', () => {
      beforeEach(seed);

      it('createSession / getSession: every field; not ended; undefined when unknown', async () => {
        const s = session('s1', { userId: 'gina.globex', tenant: 'globex' });
        await store.createSession(s);
        const got = await store.getSession('s1');
        expect(got).toEqual(s);
        expect(got?.endedAt).toBeUndefined();
        expect(got?.loginAt).toBeInstanceOf(Date);
        expect(got?.expiresAt).toBeInstanceOf(Date);
        expect(await store.getSession('s2')).toBeUndefined();
      });

      it('getCaller: the session, its user and the resources it administers; undefined when unknown', async () => {
        const s = session('s1', { userId: 'ada.acme' });
        await store.createSession(s);
        expect(await store.getCaller('s1')).toEqual({
          session: s,
          user: await store.getUser('ada.acme'),
          adminOf: ['payments.acme', 'shop.acme'],
        });
        await store.createSession(session('s2', { userId: 'root.acme' }));
        expect((await store.getCaller('s2'))?.adminOf).toEqual([]);
        expect(await store.getCaller('s3')).toBeUndefined();
      });

      it('getCaller: a logout and a change of rights made through another connection show at once', async () => {
        await store.createSession(session('s1', { userId: 'ada.acme' }));
        expect((await store.getCaller('s1'))?.adminOf).toEqual(['payments.acme', 'shop.acme']);
        const other = await openAnother();
        await other.applyProvision({
          ...SEED,
          resources: SEED.resources.map((resource) =>
            resource.id === 'shop.acme' ? { ...resource, admins: ['bob.acme'] } : resource,
          ),
        });
        expect((await store.getCaller('s1'))?.adminOf).toEqual(['payments.acme']);
        await other.endSession('s1', NOW);
        expect((await store.getCaller('s1'))?.session.endedAt).toEqual(NOW);
      });

      it('getCaller: a session created, renewed or ended, and a change of rights, through the same store show at once', async () => {
        expect(await store.getCaller('s1')).toBeUndefined();
        await store.createSession(session('s1', { userId: 'ada.acme' }));
        expect((await store.getCaller('s1'))?.adminOf).toEqual(['payments.acme', 'shop.acme']);
        await store.renewSession('s1', at(HOUR), NOW);
        expect((await store.getCaller('s1'))?.session.expiresAt).toEqual(at(HOUR));
        await store.applyProvision({
          ...SEED,
          resources: SEED.resources.map((resource) =>
            resource.id === 'payments.acme' ? { ...resource, admins: [] } : resource,
          ),
        });
        expect((await store.getCaller('s1'))?.adminOf).toEqual(['shop.acme']);
        await store.endSession('s1', at(MINUTE));
        expect((await store.getCaller('s1'))?.session.endedAt).toEqual(at(MINUTE));
      });

      it('createSession with ifPasswordHash: only while the user still has that password', async () => {
        const s = session('s1');
        const user = (await store.getUser(s.userId))!;
        expect(await store.createSession(s, 'scrypt$not-the-hash')).toBe(false);
        expect(await store.getSession('s1')).toBeUndefined();
        expect(await store.createSession(s, user.passwordHash)).toBe(true);
        expect(await store.getSession('s1')).toEqual(s);
      });

      it('renewSession: moves the expiry of a live session', async () => {
        await store.createSession(session('s1'));
        expect(await store.renewSession('s1', at(HOUR), at(10 * MINUTE))).toBe(true);
        expect((await store.getSession('s1'))?.expiresAt).toEqual(at(HOUR));
        expect(await store.renewSession('s1', at(2 * HOUR), at(50 * MINUTE))).toBe(true);
        expect((await store.getSession('s1'))?.expiresAt).toEqual(at(2 * HOUR));
      });

      it('renewSession: false for an ended session, which stays as it is', async () => {
        await store.createSession(session('s1'));
        await store.endSession('s1', at(MINUTE));
        expect(await store.renewSession('s1', at(HOUR), at(2 * MINUTE))).toBe(false);
        expect(await store.getSession('s1')).toEqual({
          ...session('s1'),
          endedAt: at(MINUTE),
        });
      });

      it('renewSession: false for an expired session (also at the instant of expiry)', async () => {
        await store.createSession(session('gone', { expiresAt: at(-MINUTE) }));
        await store.createSession(session('edge', { expiresAt: NOW }));
        expect(await store.renewSession('gone', at(HOUR), NOW)).toBe(false);
        expect(await store.renewSession('edge', at(HOUR), NOW)).toBe(false);
        expect((await store.getSession('gone'))?.expiresAt).toEqual(at(-MINUTE));
        expect((await store.getSession('edge'))?.expiresAt).toEqual(NOW);
      });

      it('renewSession: false for an unknown session', async () => {
        expect(await store.renewSession('nope', at(HOUR), NOW)).toBe(false);
        expect(await store.getSession('nope')).toBeUndefined();
      });

      it('endSession: records when; a second end keeps the first time; unknown ids are fine', async () => {
        await store.createSession(session('s1'));
        await store.createSession(session('s2'));
        await store.endSession('s1', at(MINUTE));
        expect((await store.getSession('s1'))?.endedAt).toEqual(at(MINUTE));
        await store.endSession('s1', at(2 * MINUTE));
        expect((await store.getSession('s1'))?.endedAt).toEqual(at(MINUTE));
        expect((await store.getSession('s2'))?.endedAt).toBeUndefined();
        await expect(store.endSession('nope', NOW)).resolves.toBeUndefined();
      });
    });

    describe('allocateTicketNumber', () => {
      beforeEach(seed);

      it('counts up from 1, per tenant', async () => {
        expect(await store.allocateTicketNumber('acme')).toBe(1);
        expect(await store.allocateTicketNumber('acme')).toBe(2);
        expect(await store.allocateTicketNumber('globex')).toBe(1);
        expect(await store.allocateTicketNumber('acme')).toBe(3);
        expect(await store.allocateTicketNumber('globex')).toBe(2);
      });

      it('skips the numbers of ids already taken (provisioned or inserted)', async () => {
        await store.applyProvision({
          ...SEED,
          tickets: [{ ticket: newTicket(1), history: [] }],
        });
        await insert(newTicket(2), newTicket(4), globexTicket(1));
        expect(await store.allocateTicketNumber('acme')).toBe(3);
        expect(await store.allocateTicketNumber('acme')).toBe(5);
        expect(await store.allocateTicketNumber('acme')).toBe(6);
        expect(await store.allocateTicketNumber('globex')).toBe(2);
      });

      it('does not hand out a number twice, even when the ticket was never inserted', async () => {
        const numbers = [];
        for (let i = 0; i < 5; i += 1) numbers.push(await store.allocateTicketNumber('acme'));
        expect(numbers).toEqual([1, 2, 3, 4, 5]);
      });

      it('rejects an unknown tenant', async () => {
        await expect(store.allocateTicketNumber('initech')).rejects.toThrow();
      });
    });

    describe('insertTicket', () => {
      beforeEach(seed);

      it('inserted: the ticket, its first history rows in order, and the idempotency record', async () => {
        const ticket = newTicket(1);
        const history = [
          historyEntry('import', NOW, ['first']),
          historyEntry('import', at(SECOND), []),
        ];
        const record = idempotency('bob.acme', 'create-1');
        expect(await store.insertTicket(ticket, history, record)).toBe('inserted');
        expect(await store.getTicket(ticket.id)).toEqual(ticket);
        const stored = await store.listHistory(ticket.id);
        expect(stored.map(({ id: _id, ...entry }) => entry)).toEqual(history);
        expect(stored[0]!.id).toBeLessThan(stored[1]!.id);
        expect(await store.getIdempotency('bob.acme', 'create-1')).toEqual(record);
      });

      it('pageHistory: one page oldest first, the total, an empty page past the end', async () => {
        const ticket = newTicket(1);
        const history = Array.from({ length: 7 }, (_, n) =>
          historyEntry('import', at(n * SECOND), [`entry ${n}`]),
        );
        expect(await store.insertTicket(ticket, history)).toBe('inserted');
        const page = await store.pageHistory(ticket.id, { start: 2, count: 3 });
        expect(page.total).toBe(7);
        expect(page.entries.map(({ id: _id, ...entry }) => entry)).toEqual(history.slice(2, 5));
        expect(page.entries).toEqual((await store.listHistory(ticket.id)).slice(2, 5));
        expect(await store.pageHistory(ticket.id, { start: 7, count: 3 })).toEqual({
          total: 7,
          entries: [],
        });
        expect(await store.pageHistory('ticket9.acme', { start: 0, count: 3 })).toEqual({
          total: 0,
          entries: [],
        });
      });

      it('inserted without history or idempotency record', async () => {
        const ticket = newTicket(1);
        expect(await store.insertTicket(ticket, [])).toBe('inserted');
        expect(await store.getTicket(ticket.id)).toEqual(ticket);
        expect(await store.listHistory(ticket.id)).toEqual([]);
      });

      it('id-taken: nothing written, the stored ticket, its history and the key stay as they were', async () => {
        const first = newTicket(1);
        expect(await store.insertTicket(first, [historyEntry('import', NOW)])).toBe('inserted');
        const before = await store.listHistory(first.id);

        const second = newTicket(1, at(MINUTE), { title: 'Another', authorId: 'ada.acme' });
        const record = idempotency('ada.acme', 'create-again');
        expect(await store.insertTicket(second, [historyEntry('import', at(MINUTE))], record)).toBe(
          'id-taken',
        );
        expect(await store.getTicket(first.id)).toEqual(first);
        expect(await store.listHistory(first.id)).toEqual(before);
        // The key stays free, so that the caller can retry with the next number and the same key.
        expect(await store.getIdempotency('ada.acme', 'create-again')).toBeUndefined();
        expect(await store.insertTicket(newTicket(2), [], record)).toBe('inserted');
        expect(await store.getIdempotency('ada.acme', 'create-again')).toEqual(record);
      });

      it('conflict: the idempotency key is already stored; nothing of the ticket is written', async () => {
        const earlier = idempotency('bob.acme', 'k', { outcome: '{"ok":true,"value":"earlier"}' });
        await store.saveIdempotency(earlier);
        const ticket = newTicket(7);
        const later = idempotency('bob.acme', 'k', { outcome: '{"ok":true,"value":"later"}' });
        expect(await store.insertTicket(ticket, [historyEntry('import', NOW)], later)).toBe(
          'conflict',
        );
        expect(await store.getTicket(ticket.id)).toBeUndefined();
        expect(await store.listHistory(ticket.id)).toEqual([]);
        expect((await store.listTickets({ tenant: 'acme', start: 0, count: 20 })).total).toBe(0);
        expect(await store.getIdempotency('bob.acme', 'k')).toEqual(earlier);
        // The id was not taken either.
        expect(await store.insertTicket(ticket, [])).toBe('inserted');
      });

      it('idempotency keys are per user: the same key of another user is no conflict', async () => {
        await store.saveIdempotency(idempotency('ada.acme', 'k'));
        expect(await store.insertTicket(newTicket(1), [], idempotency('bob.acme', 'k'))).toBe(
          'inserted',
        );
        expect(await store.getIdempotency('bob.acme', 'k')).toEqual(idempotency('bob.acme', 'k'));
      });
    });

    describe('getTicket', () => {
      beforeEach(seed);

      it('round-trips every field of a ticket with an API, an app and a stored workflow', async () => {
        await store.applyProvision({
          ...SEED,
          tenants: [
            { id: 'acme', name: 'Acme Payments', workflow: { name: 'a', xml: WORKFLOW_A } },
          ],
        });
        const workflowId = (await store.getTenant('acme'))!.workflowId!;
        const ticket: Ticket = {
          ...newTicket(12, at(-HOUR), {
            title: 'Ünïcode “quotes” & <angle> brackets ✓',
            description: 'Line one\nline two\ttabbed\n\n— and an emoji 🎫',
            environment: 'Sandbox',
            apiId: 'payments.acme',
            appId: 'shop.acme',
            labels: ['com.soa.ticket.label.priority.high'],
            tags: ['keys', 'sandbox', 'ünï', 'with space'],
            authorId: 'ada.acme',
            workflowId,
          }),
          state: 'REOPEN',
          step: 4,
          updated: at(-MINUTE).toISOString(),
          version: 7,
          commentCount: 3,
        };
        await insert(ticket);
        const got = await store.getTicket(ticket.id);
        expect(got).toEqual(ticket);
        expect(got?.workflowId).toBe(workflowId);
        expect(got?.apiId).toBe('payments.acme');
        expect(got?.appId).toBe('shop.acme');
        // The list page reads its rows its own way: every field comes back the same there, with
        // a filter that one index serves (planned once, on PostgreSQL) and with one that is not.
        for (const filter of [{}, { apiId: 'payments.acme' }]) {
          const page = await store.listTickets({ tenant: 'acme', start: 0, count: 20, ...filter });
          expect(page).toEqual({ total: 1, tickets: [{ ...ticket, authorName: 'Ada' }] });
        }
      });

      it('leaves apiId, appId and workflowId undefined when the ticket has none', async () => {
        const appOnly = newTicket(1, NOW, { apiId: undefined, appId: 'shop.acme', labels: [] });
        const apiOnly = newTicket(2, NOW, { environment: 'Sandbox' });
        await insert(appOnly, apiOnly);

        const gotApp = await store.getTicket(appOnly.id);
        expect(gotApp).toEqual(appOnly);
        expect(gotApp?.apiId).toBeUndefined();
        expect(gotApp?.workflowId).toBeUndefined();
        expect(gotApp?.labels).toEqual([]);
        expect(gotApp?.tags).toEqual([]);

        const gotApi = await store.getTicket(apiOnly.id);
        expect(gotApi).toEqual(apiOnly);
        expect(gotApi?.appId).toBeUndefined();
        expect(gotApi?.workflowId).toBeUndefined();

        // The same on a list page (ties by id: ticket1 first).
        const [listedApp, listedApi] = (
          await store.listTickets({ tenant: 'acme', start: 0, count: 20 })
        ).tickets;
        expect(listedApp).toEqual({ ...appOnly, authorName: 'Bob' });
        expect(listedApp?.apiId).toBeUndefined();
        expect(listedApp?.workflowId).toBeUndefined();
        expect(listedApi).toEqual({ ...apiOnly, authorName: 'Bob' });
        expect(listedApi?.appId).toBeUndefined();
        expect(listedApi?.workflowId).toBeUndefined();
      });

      it("getTicketWithAuthor: the ticket and its author's name; undefined for an unknown id", async () => {
        const ticket = newTicket(1, NOW, { authorId: 'bob.acme' });
        await insert(ticket);
        expect(await store.getTicketWithAuthor(ticket.id)).toEqual({
          ticket,
          authorName: (await store.getUser('bob.acme'))!.name,
        });
        expect(await store.getTicketWithAuthor('ticket2.acme')).toBeUndefined();
      });

      it('undefined for an unknown id, also one of another tenant', async () => {
        await insert(newTicket(1));
        expect(await store.getTicket('ticket2.acme')).toBeUndefined();
        expect(await store.getTicket('ticket1.globex')).toBeUndefined();
      });
    });

    describe('listTickets', () => {
      beforeEach(seed);

      const T = (s: number) => at(s * SECOND);
      const t1 = newTicket(1, T(1));
      const t2 = newTicket(2, T(2), { apiId: undefined, appId: 'shop.acme', authorId: 'ada.acme' });
      const t3: Ticket = {
        ...newTicket(3, T(3), { appId: 'shop.acme' }),
        state: 'RESOLVED',
        step: 2,
        version: 2,
      };
      // Created at the same instant: ties go by id ascending (as text: ticket10 before ticket9).
      const t9 = newTicket(9, T(4));
      const t10 = newTicket(10, T(4));
      const g1 = globexTicket(1, T(5));
      const ids = (page: { tickets: readonly Ticket[] }) => page.tickets.map((t) => t.id);
      /** A page, its tickets without their authors' names (the first test checks those). */
      const list = async (query: Partial<Parameters<Store['listTickets']>[0]> = {}) => {
        const page = await store.listTickets({ tenant: 'acme', start: 0, count: 20, ...query });
        return { ...page, tickets: page.tickets.map(({ authorName: _, ...ticket }) => ticket) };
      };

      beforeEach(async () => {
        // Inserted out of order, so that no implementation passes by insertion order.
        await insert(t9, t2, g1, t10, t1, t3);
      });

      it("the tenant's tickets, newest first, ties by id ascending, every field", async () => {
        const page = await list();
        expect(page.total).toBe(5);
        expect(ids(page)).toEqual([
          'ticket10.acme',
          'ticket9.acme',
          'ticket3.acme',
          'ticket2.acme',
          'ticket1.acme',
        ]);
        // Each with its author's name, read with it.
        expect((await store.listTickets({ tenant: 'acme', start: 0, count: 20 })).tickets).toEqual(
          [t10, t9, t3, t2, t1].map((ticket) => ({
            ...ticket,
            authorName: ticket.authorId === 'ada.acme' ? 'Ada' : 'Bob',
          })),
        );
        expect(await store.listTickets({ tenant: 'globex', start: 0, count: 20 })).toEqual({
          total: 1,
          tickets: [{ ...g1, authorName: 'Gina' }],
        });
        expect(await store.listTickets({ tenant: 'initech', start: 0, count: 20 })).toEqual({
          total: 0,
          tickets: [],
        });
      });

      it("after: the page right after that ticket; unknownAfter for an unknown one or another tenant's", async () => {
        expect(await list({ after: 'ticket9.acme', count: 2 })).toEqual({
          total: 5,
          tickets: [t3, t2],
        });
        expect(
          await list({ apiId: 'payments.acme', state: 'OPEN', after: 'ticket10.acme' }),
        ).toEqual({ total: 3, tickets: [t9, t1] });
        for (const after of ['ticket99.acme', 'ticket1.globex']) {
          expect(await list({ after })).toEqual({ total: 5, tickets: [], unknownAfter: true });
        }
      });

      it('start and count page through; total counts every match', async () => {
        expect(await list({ start: 0, count: 2 })).toEqual({ total: 5, tickets: [t10, t9] });
        expect(await list({ start: 1, count: 2 })).toEqual({ total: 5, tickets: [t9, t3] });
        expect(await list({ start: 4, count: 2 })).toEqual({ total: 5, tickets: [t1] });
        expect(await list({ start: 5, count: 2 })).toEqual({ total: 5, tickets: [] });
        expect(await list({ start: 100, count: 20 })).toEqual({ total: 5, tickets: [] });
      });

      it('filters by API, app, author and state, alone and together', async () => {
        expect(ids(await list({ apiId: 'payments.acme' }))).toEqual([
          'ticket10.acme',
          'ticket9.acme',
          'ticket3.acme',
          'ticket1.acme',
        ]);
        expect(ids(await list({ appId: 'shop.acme' }))).toEqual(['ticket3.acme', 'ticket2.acme']);
        expect(await list({ authorId: 'ada.acme' })).toEqual({ total: 1, tickets: [t2] });
        expect(await list({ state: 'RESOLVED' })).toEqual({ total: 1, tickets: [t3] });
        expect(await list({ state: 'CLOSED' })).toEqual({ total: 0, tickets: [] });

        const both = await list({ apiId: 'payments.acme', state: 'OPEN', start: 1, count: 1 });
        expect(both).toEqual({ total: 3, tickets: [t9] });
        expect(
          await list({ apiId: 'payments.acme', appId: 'shop.acme', authorId: 'bob.acme' }),
        ).toEqual({ total: 1, tickets: [t3] });
        // Each index's filters: by app, or by author, with a state.
        expect(await list({ appId: 'shop.acme', state: 'RESOLVED' })).toEqual({
          total: 1,
          tickets: [t3],
        });
        expect(ids(await list({ authorId: 'bob.acme', state: 'OPEN' }))).toEqual([
          'ticket10.acme',
          'ticket9.acme',
          'ticket1.acme',
        ]);
        // A filter never reaches into another tenant.
        expect(await list({ apiId: 'ledger.globex' })).toEqual({ total: 0, tickets: [] });
        expect(await list({ authorId: 'gina.globex' })).toEqual({ total: 0, tickets: [] });
      });

      it('sees committed changes', async () => {
        const before = (await list({ state: t1.state })).total;
        const resolved = transition(t1, TICKET_ACTIONS.resolve, ADA, T(10));
        await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: t1.version,
          history: resolved.history,
        });
        expect(await list({ state: 'RESOLVED' })).toEqual({
          total: 2,
          tickets: [t3, resolved.ticket],
        });
        // The ticket left its former state: counted there no more.
        expect((await list({ state: t1.state })).total).toBe(before - 1);
      });
    });

    describe('commitChange', () => {
      beforeEach(seed);

      let ticket: Ticket;
      beforeEach(async () => {
        ticket = newTicket(1);
        await insert(ticket, newTicket(2));
      });

      it('writes the ticket and appends its history row with the comments', async () => {
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE), [
          'Fixed in 1.2',
          'Ünïcode ✓ and "quotes"',
        ]);
        const result = await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: ticket.version,
          history: resolved.history,
        });
        expect(result).toEqual({ historyId: expect.any(Number), eventId: expect.any(Number) });
        if (result === 'conflict') return;
        expect(await store.getTicket(ticket.id)).toEqual(resolved.ticket);
        expect(await store.listHistory(ticket.id)).toEqual([
          { id: result.historyId, ...resolved.history },
        ]);
        // Other tickets are untouched.
        expect(await store.getTicket('ticket2.acme')).toEqual(newTicket(2));
        expect(await store.listHistory('ticket2.acme')).toEqual([]);
      });

      it('a comment: version and comment count move, the history row has from = to', async () => {
        const added = comment(ticket, 'Still broken', BOB, at(MINUTE));
        const result = await store.commitChange({
          ticket: added.ticket,
          expectedVersion: ticket.version,
          history: added.history,
        });
        expect(result).not.toBe('conflict');
        const got = await store.getTicket(ticket.id);
        expect(got).toEqual(added.ticket);
        expect(got).toMatchObject({ version: 2, commentCount: 1, state: 'OPEN' });
        expect((await store.listHistory(ticket.id)).map(({ id: _id, ...e }) => e)).toEqual([
          added.history,
        ]);
      });

      it('conflict when the stored version is not the expected one: nothing written', async () => {
        const first = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        expect(
          await store.commitChange({
            ticket: first.ticket,
            expectedVersion: ticket.version,
            history: first.history,
          }),
        ).not.toBe('conflict');
        const before = await store.listHistory(ticket.id);

        // A second change computed from the same (now stale) read loses.
        const stale = transition(ticket, TICKET_ACTIONS.close, BOB, at(2 * MINUTE), ['late']);
        expect(
          await store.commitChange({
            ticket: stale.ticket,
            expectedVersion: ticket.version,
            history: stale.history,
            idempotency: idempotency('bob.acme', 'stale'),
          }),
        ).toBe('conflict');
        expect(await store.getTicket(ticket.id)).toEqual(first.ticket);
        expect(await store.listHistory(ticket.id)).toEqual(before);
        expect(await store.getIdempotency('bob.acme', 'stale')).toBeUndefined();

        // A version ahead of the stored one loses as well.
        const ahead = transition(first.ticket, TICKET_ACTIONS.close, ADA, at(3 * MINUTE));
        expect(
          await store.commitChange({
            ticket: ahead.ticket,
            expectedVersion: first.ticket.version + 1,
            history: ahead.history,
          }),
        ).toBe('conflict');
        expect(await store.getTicket(ticket.id)).toEqual(first.ticket);
        expect(await store.listHistory(ticket.id)).toEqual(before);
      });

      it('conflict for a ticket that does not exist: nothing written', async () => {
        const ghost = newTicket(99);
        const change = transition(ghost, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        expect(
          await store.commitChange({
            ticket: change.ticket,
            expectedVersion: ghost.version,
            history: change.history,
          }),
        ).toBe('conflict');
        expect(await store.getTicket(ghost.id)).toBeUndefined();
        expect(await store.listHistory(ghost.id)).toEqual([]);
      });

      it('stores the idempotency record with the change', async () => {
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        const record = idempotency('ada.acme', 'resolve-1', {
          outcome: JSON.stringify({ ok: true, value: { state: 'RESOLVED' } }),
          createdAt: at(MINUTE),
        });
        const result = await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: ticket.version,
          history: resolved.history,
          idempotency: record,
        });
        if (result === 'conflict') throw new Error('expected the change to be written');
        expect((await store.listHistory(ticket.id)).map((e) => e.id)).toEqual([result.historyId]);
        expect(await store.getTicket(ticket.id)).toEqual(resolved.ticket);
        expect(await store.getIdempotency('ada.acme', 'resolve-1')).toEqual(record);
      });

      it('an expired record under the key is replaced by the change', async () => {
        await store.saveIdempotency(
          idempotency('ada.acme', 'old', { createdAt: at(-IDEMPOTENCY_TTL_MS - MINUTE) }),
        );
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        const record = idempotency('ada.acme', 'old', { outcome: '"new"', createdAt: at(MINUTE) });
        const result = await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: ticket.version,
          history: resolved.history,
          idempotency: record,
        });
        expect(result).not.toBe('conflict');
        expect(await store.getTicket(ticket.id)).toEqual(resolved.ticket);
        expect(await store.getIdempotency('ada.acme', 'old')).toEqual(record);
      });

      it('conflict when the idempotency key is already stored: the ticket is unchanged', async () => {
        const earlier = idempotency('ada.acme', 'k', { outcome: '"earlier"' });
        await store.saveIdempotency(earlier);
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE), ['x']);
        expect(
          await store.commitChange({
            ticket: resolved.ticket,
            expectedVersion: ticket.version,
            history: resolved.history,
            idempotency: idempotency('ada.acme', 'k', { outcome: '"later"' }),
          }),
        ).toBe('conflict');
        expect(await store.getTicket(ticket.id)).toEqual(ticket);
        expect(await store.listHistory(ticket.id)).toEqual([]);
        expect(await store.getIdempotency('ada.acme', 'k')).toEqual(earlier);

        // The same change without the taken key still goes through afterwards.
        expect(
          await store.commitChange({
            ticket: resolved.ticket,
            expectedVersion: ticket.version,
            history: resolved.history,
          }),
        ).not.toBe('conflict');
        expect(await store.getTicket(ticket.id)).toEqual(resolved.ticket);
      });

      it('one transaction: when the idempotency record cannot be written, nothing is written', async () => {
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        await expect(
          store.commitChange({
            ticket: resolved.ticket,
            expectedVersion: ticket.version,
            history: resolved.history,
            idempotency: UNWRITABLE_RECORD,
          }),
        ).rejects.toMatchObject(REFUSED_AS_NULL);
        expect(await store.getTicket(ticket.id)).toEqual(ticket);
        expect(await store.listHistory(ticket.id)).toEqual([]);
      });

      it('a chain of changes, each on the version the previous one wrote', async () => {
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        const closed = transition(resolved.ticket, TICKET_ACTIONS.close, BOB, at(2 * MINUTE));
        const reopened = transition(closed.ticket, TICKET_ACTIONS.reopen, BOB, at(3 * MINUTE));
        const ids: number[] = [];
        for (const [from, step] of [
          [ticket, resolved],
          [resolved.ticket, closed],
          [closed.ticket, reopened],
        ] as const) {
          const result = await store.commitChange({
            ticket: step.ticket,
            expectedVersion: from.version,
            history: step.history,
          });
          if (result === 'conflict') throw new Error('expected the change to be written');
          ids.push(result.historyId);
        }
        expect(await store.getTicket(ticket.id)).toEqual(reopened.ticket);
        expect(await store.listHistory(ticket.id)).toEqual([
          { id: ids[0], ...resolved.history },
          { id: ids[1], ...closed.history },
          { id: ids[2], ...reopened.history },
        ]);
      });
    });

    describe('listHistory', () => {
      beforeEach(seed);

      it("a ticket's rows in the order written, ids increasing, other tickets apart", async () => {
        const ticket = newTicket(1);
        const other = newTicket(2);
        await store.insertTicket(ticket, [
          historyEntry('import', NOW, ['a']),
          historyEntry('import', NOW, ['b', 'c']),
        ]);
        await store.insertTicket(other, [historyEntry('import', NOW, ['other'])]);
        // A later row may carry an earlier time: the order is that of writing.
        const commented = comment(ticket, 'third', BOB, at(-HOUR));
        await store.commitChange({
          ticket: commented.ticket,
          expectedVersion: ticket.version,
          history: commented.history,
        });
        const resolved = transition(commented.ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE), [
          'fourth',
        ]);
        await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: commented.ticket.version,
          history: resolved.history,
        });

        const rows = await store.listHistory(ticket.id);
        expect(rows.map((row) => row.comments)).toEqual([['a'], ['b', 'c'], ['third'], ['fourth']]);
        expect(rows.map(({ id: _id, ...row }) => row)).toEqual([
          historyEntry('import', NOW, ['a']),
          historyEntry('import', NOW, ['b', 'c']),
          commented.history,
          resolved.history,
        ]);
        for (let i = 1; i < rows.length; i += 1)
          expect(rows[i]!.id).toBeGreaterThan(rows[i - 1]!.id);
        expect((await store.listHistory(other.id)).map((row) => row.comments)).toEqual([['other']]);
        expect(await store.listHistory('ticket3.acme')).toEqual([]);
      });
    });

    describe('idempotency records', () => {
      beforeEach(seed);

      it('saveIdempotency stores a new record and answers it; getIdempotency reads it back', async () => {
        const record = idempotency('ada.acme', 'key-1', { createdAt: at(-MINUTE) });
        expect(await store.saveIdempotency(record)).toEqual(record);
        expect(await store.getIdempotency('ada.acme', 'key-1')).toEqual(record);
        expect(await store.getIdempotency('ada.acme', 'key-2')).toBeUndefined();
        expect(await store.getIdempotency('bob.acme', 'key-1')).toBeUndefined();
      });

      it('the first writer wins: a second save answers what is stored and changes nothing', async () => {
        const first = idempotency('ada.acme', 'k', { requestHash: 'h1', outcome: '"one"' });
        const second = idempotency('ada.acme', 'k', {
          requestHash: 'h2',
          outcome: '"two"',
          createdAt: at(MINUTE),
        });
        await store.saveIdempotency(first);
        expect(await store.saveIdempotency(second)).toEqual(first);
        expect(await store.getIdempotency('ada.acme', 'k')).toEqual(first);
      });

      it('a record older than IDEMPOTENCY_TTL_MS gives its key up to a new one', async () => {
        const old = idempotency('ada.acme', 'k', {
          requestHash: 'h1',
          outcome: '"old"',
          createdAt: NOW,
        });
        const justInside = idempotency('ada.acme', 'k', {
          requestHash: 'h2',
          outcome: '"inside"',
          createdAt: new Date(NOW.getTime() + IDEMPOTENCY_TTL_MS),
        });
        const past = idempotency('ada.acme', 'k', {
          requestHash: 'h3',
          outcome: '"new"',
          createdAt: new Date(NOW.getTime() + IDEMPOTENCY_TTL_MS + 1),
        });
        await store.saveIdempotency(old);
        expect(await store.saveIdempotency(justInside)).toEqual(old);
        expect(await store.saveIdempotency(past)).toEqual(past);
        expect(await store.getIdempotency('ada.acme', 'k')).toEqual(past);
      });

      it('keys are per user', async () => {
        const ada = idempotency('ada.acme', 'k', { outcome: '"ada"' });
        const bob = idempotency('bob.acme', 'k', { outcome: '"bob"' });
        expect(await store.saveIdempotency(ada)).toEqual(ada);
        expect(await store.saveIdempotency(bob)).toEqual(bob);
        expect(await store.getIdempotency('ada.acme', 'k')).toEqual(ada);
        expect(await store.getIdempotency('bob.acme', 'k')).toEqual(bob);
      });

      it('keeps any visible ASCII key and a large outcome exactly', async () => {
        const key = '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'.repeat(6).slice(0, 255);
        const outcome = JSON.stringify({ ok: true, value: { text: 'ü✓🎫'.repeat(10_000) } });
        const record = idempotency('ada.acme', key, { outcome });
        expect(await store.saveIdempotency(record)).toEqual(record);
        expect(await store.getIdempotency('ada.acme', key)).toEqual(record);
      });
    });

    describe('applyProvision', () => {
      it('counts what it created; a second identical run counts zero and changes nothing', async () => {
        const plan: ProvisionPlan = {
          ...SEED,
          tickets: [
            { ticket: newTicket(1), history: [] },
            {
              ticket: { ...newTicket(2), state: 'RESOLVED', step: 2, version: 2 },
              history: [
                {
                  action: 'provision',
                  from: 'OPEN',
                  to: 'RESOLVED',
                  comments: ['Provisioned in state RESOLVED'],
                  userId: 'bob.acme',
                  created: NOW.toISOString(),
                },
              ],
            },
            { ticket: globexTicket(1), history: [] },
          ],
        };
        expect(await store.applyProvision(plan)).toEqual({
          tenants: 2,
          workflows: 0,
          users: 6,
          resources: 3,
          tickets: 3,
        });
        const history = await store.listHistory('ticket2.acme');
        expect(history.map(({ id: _id, ...row }) => row)).toEqual(plan.tickets[1]!.history);
        expect(await store.getTicket('ticket2.acme')).toEqual(plan.tickets[1]!.ticket);

        expect(await store.applyProvision(plan)).toEqual(ZERO);
        expect(await store.applyProvision(plan)).toEqual(ZERO);
        expect(await store.countTenants()).toBe(2);
        expect(await store.getUser('ada.acme')).toEqual(USERS.ada);
        expect(sorted(await store.adminResourceIds('ada.acme'))).toEqual([
          'payments.acme',
          'shop.acme',
        ]);
        expect(await store.listHistory('ticket2.acme')).toEqual(history);
        expect((await store.listTickets({ tenant: 'acme', start: 0, count: 20 })).total).toBe(2);
      });

      it('an empty plan counts zero', async () => {
        expect(
          await store.applyProvision({ tenants: [], users: [], resources: [], tickets: [] }),
        ).toEqual(ZERO);
      });

      it('counts and applies changed tenants, users and resources only', async () => {
        await store.applyProvision(SEED);
        const changed: ProvisionPlan = {
          ...SEED,
          tenants: [
            { id: 'acme', name: 'Acme Payments Ltd' },
            { id: 'globex', name: 'Globex' },
            { id: 'initech', name: 'Initech' },
          ],
          users: [
            { ...USERS.ada, name: 'Ada Lovelace' },
            { ...USERS.bob, passwordHash: 'scrypt$new-hash' },
            { ...USERS.root, siteAdmin: false },
            { ...USERS.samAcme, email: 'sam@acme.test' },
            USERS.samGlobex,
            USERS.gina,
          ],
          resources: [
            { ...SEED.resources[0]!, name: 'Payments API v2' },
            { ...SEED.resources[1]!, type: 'api' },
            SEED.resources[2]!,
          ],
        };
        expect(await store.applyProvision(changed)).toEqual({
          tenants: 2,
          workflows: 0,
          users: 4,
          resources: 2,
          tickets: 0,
        });
        expect(await store.getTenant('acme')).toEqual({ id: 'acme', name: 'Acme Payments Ltd' });
        expect(await store.getTenant('initech')).toEqual({ id: 'initech', name: 'Initech' });
        expect(await store.getUser('ada.acme')).toEqual({ ...USERS.ada, name: 'Ada Lovelace' });
        expect((await store.getUser('bob.acme'))?.passwordHash).toBe('scrypt$new-hash');
        expect((await store.getUser('root.acme'))?.siteAdmin).toBe(false);
        expect((await store.findUsersByEmail('sam@acme.test')).map((u) => u.id)).toEqual([
          'sam.acme',
        ]);
        expect((await store.findUsersByEmail('shared@example.test')).map((u) => u.id)).toEqual([
          'sam.globex',
        ]);
        expect((await store.getResource('payments.acme'))?.name).toBe('Payments API v2');
        expect((await store.getResource('shop.acme'))?.type).toBe('api');
        expect(await store.applyProvision(changed)).toEqual(ZERO);
      });

      it("replaces a resource's admins with the plan's", async () => {
        await store.applyProvision(SEED);
        const withAdmins = (admins: readonly string[]): ProvisionPlan => ({
          ...SEED,
          resources: [SEED.resources[0]!, { ...SEED.resources[1]!, admins }, SEED.resources[2]!],
        });

        expect(await store.applyProvision(withAdmins(['bob.acme', 'root.acme']))).toEqual({
          ...ZERO,
          resources: 1,
        });
        expect(await store.adminResourceIds('ada.acme')).toEqual(['payments.acme']);
        expect(await store.adminResourceIds('bob.acme')).toEqual(['shop.acme']);
        expect(await store.adminResourceIds('root.acme')).toEqual(['shop.acme']);
        expect(await store.applyProvision(withAdmins(['root.acme', 'bob.acme']))).toEqual(ZERO);

        expect(await store.applyProvision(withAdmins([]))).toEqual({ ...ZERO, resources: 1 });
        expect(await store.adminResourceIds('bob.acme')).toEqual([]);
        expect(await store.adminResourceIds('root.acme')).toEqual([]);
        expect(await store.adminResourceIds('ada.acme')).toEqual(['payments.acme']);
        expect(await store.applyProvision(withAdmins([]))).toEqual(ZERO);
      });

      it('stores a workflow only when its XML differs from the current one', async () => {
        await store.applyProvision(SEED);
        const withWorkflow = (workflow?: { name: string; xml: string }): ProvisionPlan => ({
          ...SEED,
          tenants: [{ id: 'acme', name: 'Acme Payments', workflow }, SEED.tenants[1]!],
        });

        expect(await store.applyProvision(withWorkflow({ name: 'a', xml: WORKFLOW_A }))).toEqual({
          ...ZERO,
          workflows: 1,
        });
        const first = (await store.getTenant('acme'))!.workflowId!;
        expect(first).toEqual(expect.any(Number));
        expect(await store.getWorkflow(first)).toEqual({
          id: first,
          tenant: 'acme',
          name: 'a',
          xml: WORKFLOW_A,
        });

        // Same XML (whatever its name): nothing stored.
        expect(await store.applyProvision(withWorkflow({ name: 'a', xml: WORKFLOW_A }))).toEqual(
          ZERO,
        );
        expect(
          await store.applyProvision(withWorkflow({ name: 'renamed', xml: WORKFLOW_A })),
        ).toEqual(ZERO);
        expect((await store.getTenant('acme'))?.workflowId).toBe(first);

        // A ticket created under the first definition keeps it.
        await insert(newTicket(1, NOW, { workflowId: first }));

        expect(await store.applyProvision(withWorkflow({ name: 'b', xml: WORKFLOW_B }))).toEqual({
          ...ZERO,
          workflows: 1,
        });
        const second = (await store.getTenant('acme'))!.workflowId!;
        expect(second).not.toBe(first);
        expect(await store.getWorkflow(second)).toEqual({
          id: second,
          tenant: 'acme',
          name: 'b',
          xml: WORKFLOW_B,
        });
        expect(await store.getWorkflow(first)).toEqual({
          id: first,
          tenant: 'acme',
          name: 'a',
          xml: WORKFLOW_A,
        });
        expect((await store.getTicket('ticket1.acme'))?.workflowId).toBe(first);

        // Going back to the first XML stores it again as the current one.
        expect(await store.applyProvision(withWorkflow({ name: 'a', xml: WORKFLOW_A }))).toEqual({
          ...ZERO,
          workflows: 1,
        });
        const third = (await store.getTenant('acme'))!.workflowId!;
        expect(third).not.toBe(second);
        expect((await store.getWorkflow(third))?.xml).toBe(WORKFLOW_A);

        // A plan without a workflow leaves the current one; other tenants keep the built-in.
        expect(await store.applyProvision(withWorkflow(undefined))).toEqual(ZERO);
        expect((await store.getTenant('acme'))?.workflowId).toBe(third);
        expect((await store.getTenant('globex'))?.workflowId).toBeUndefined();
      });

      it("a provisioned ticket follows its tenant's workflow as it is after the plan", async () => {
        const plan: ProvisionPlan = {
          ...SEED,
          tenants: [
            { id: 'acme', name: 'Acme Payments', workflow: { name: 'a', xml: WORKFLOW_A } },
            SEED.tenants[1]!,
          ],
          tickets: [
            { ticket: newTicket(1), history: [] },
            { ticket: globexTicket(1), history: [] },
          ],
        };
        expect(await store.applyProvision(plan)).toEqual({
          tenants: 2,
          workflows: 1,
          users: 6,
          resources: 3,
          tickets: 2,
        });
        const workflowId = (await store.getTenant('acme'))!.workflowId!;
        expect(await store.getTicket('ticket1.acme')).toEqual({ ...newTicket(1), workflowId });
        const globex = await store.getTicket('ticket1.globex');
        expect(globex).toEqual(globexTicket(1));
        expect(globex?.workflowId).toBeUndefined();
      });

      it('leaves existing tickets and their history untouched', async () => {
        const original = newTicket(1);
        const plan: ProvisionPlan = {
          ...SEED,
          tickets: [{ ticket: original, history: [historyEntry('provision', NOW, ['p'])] }],
        };
        await store.applyProvision(plan);
        const resolved = transition(original, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: original.version,
          history: resolved.history,
        });
        const history = await store.listHistory(original.id);
        expect(history).toHaveLength(2);

        const rewritten: ProvisionPlan = {
          ...SEED,
          tickets: [
            {
              ticket: { ...original, title: 'Rewritten', description: 'Rewritten' },
              history: [historyEntry('provision', at(HOUR), ['again'])],
            },
            { ticket: newTicket(2), history: [] },
          ],
        };
        expect(await store.applyProvision(rewritten)).toEqual({ ...ZERO, tickets: 1 });
        expect(await store.getTicket(original.id)).toEqual(resolved.ticket);
        expect(await store.listHistory(original.id)).toEqual(history);
        expect(await store.getTicket('ticket2.acme')).toEqual(newTicket(2));
      });

      it('one transaction: nothing is applied when it throws', async () => {
        await store.applyProvision(SEED);
        const broken: ProvisionPlan = {
          tenants: [
            { id: 'acme', name: 'Renamed' },
            { id: 'initech', name: 'Initech', workflow: { name: 'a', xml: WORKFLOW_A } },
          ],
          users: [user('peter.initech', 'peter@initech.test', 'Peter')],
          resources: [
            {
              id: 'tps.initech',
              tenant: 'initech',
              type: 'api',
              name: 'TPS',
              // No such user anywhere: the store's references refuse it.
              admins: ['nobody.initech'],
            },
          ],
          tickets: [],
        };
        await expect(store.applyProvision(broken)).rejects.toThrow();
        expect(await store.getTenant('acme')).toEqual({ id: 'acme', name: 'Acme Payments' });
        expect(await store.getTenant('initech')).toBeUndefined();
        expect(await store.countTenants()).toBe(2);
        expect(await store.getUser('peter.initech')).toBeUndefined();
        expect(await store.getResource('tps.initech')).toBeUndefined();
        // The store is still usable, and the fixed plan goes through.
        const fixed: ProvisionPlan = {
          ...broken,
          resources: [{ ...broken.resources[0]!, admins: ['peter.initech'] }],
        };
        expect(await store.applyProvision(fixed)).toEqual({
          tenants: 2,
          workflows: 1,
          users: 1,
          resources: 1,
          tickets: 0,
        });
      });
    });

    describe('purgeExpired', () => {
      beforeEach(seed);

      it('removes expired sessions, idempotency records older than 24 h and stale login failures; keeps the rest', async () => {
        await store.createSession(session('expired', { expiresAt: at(-MINUTE) }));
        await store.createSession(session('live', { expiresAt: at(MINUTE) }));
        await store.createSession(session('ended-long-ago', { expiresAt: at(HOUR) }));
        await store.endSession('ended-long-ago', at(-HOUR));
        await store.saveIdempotency(idempotency('ada.acme', 'old', { createdAt: at(-25 * HOUR) }));
        await store.saveIdempotency(
          idempotency('ada.acme', 'fresh', { createdAt: at(-23 * HOUR) }),
        );
        await store.saveIdempotency(idempotency('bob.acme', 'new', { createdAt: NOW }));
        await store.recordLoginFailure('stale@acme.test', at(-2 * HOUR));
        await store.recordLoginFailure('fresh@acme.test', at(-MINUTE));

        await store.purgeExpired(NOW);

        expect(await store.getSession('expired')).toBeUndefined();
        expect(await store.getSession('ended-long-ago')).toBeUndefined();
        expect(await store.getSession('live')).toEqual(session('live', { expiresAt: at(MINUTE) }));
        expect(await store.getIdempotency('ada.acme', 'old')).toBeUndefined();
        expect(await store.getIdempotency('ada.acme', 'fresh')).toEqual(
          idempotency('ada.acme', 'fresh', { createdAt: at(-23 * HOUR) }),
        );
        expect(await store.getIdempotency('bob.acme', 'new')).toBeDefined();
        expect(await store.getLoginFailures('stale@acme.test')).toBeUndefined();
        expect(await store.getLoginFailures('fresh@acme.test')).toEqual({
          count: 1,
          lastFailureAt: at(-MINUTE),
        });
      });

      it('touches nothing else, and a second run is harmless', async () => {
        const ticket = newTicket(1, at(-48 * HOUR));
        await store.insertTicket(ticket, [historyEntry('import', at(-48 * HOUR))]);
        await store.purgeExpired(NOW);
        await store.purgeExpired(NOW);
        expect(await store.getTicket(ticket.id)).toEqual(ticket);
        expect(await store.listHistory(ticket.id)).toHaveLength(1);
        expect(await store.countTenants()).toBe(2);
        expect(await store.getUser('ada.acme')).toEqual(USERS.ada);
      });
    });

    describe('history is append-only', () => {
      beforeEach(seed);

      it('no write of the store rewrites or removes an earlier history row', async () => {
        const ticket = newTicket(1);
        const snapshots: StoredHistoryEntry[][] = [];
        const snap = async () => snapshots.push(await store.listHistory(ticket.id));

        await store.insertTicket(ticket, [historyEntry('import', NOW, ['first'])]);
        await snap();
        const added = comment(ticket, 'a comment', BOB, at(MINUTE));
        await store.commitChange({
          ticket: added.ticket,
          expectedVersion: ticket.version,
          history: added.history,
        });
        await snap();
        // Refused writes of every kind.
        await store.insertTicket(ticket, [historyEntry('import', NOW, ['dup'])]);
        await store.commitChange({
          ticket: added.ticket,
          expectedVersion: ticket.version,
          history: added.history,
        });
        await store.applyProvision({ ...SEED, tickets: [{ ticket, history: [] }] });
        await store.purgeExpired(at(365 * 24 * HOUR));
        await snap();
        const resolved = transition(added.ticket, TICKET_ACTIONS.resolve, ADA, at(2 * MINUTE));
        await store.commitChange({
          ticket: resolved.ticket,
          expectedVersion: added.ticket.version,
          history: resolved.history,
        });
        await snap();

        expect(snapshots.map((rows) => rows.length)).toEqual([1, 2, 2, 3]);
        for (let i = 1; i < snapshots.length; i += 1) {
          expect(snapshots[i]!.slice(0, snapshots[i - 1]!.length)).toEqual(snapshots[i - 1]);
        }
      });
    });

    describe('the change log', () => {
      beforeEach(seed);

      /** A bound on waiting for something asynchronous (a hang guard, never a timed assertion). */
      const PATIENCE = { timeout: 10_000 } as const;

      /**
       * The tenant's changes, once at least `count` are listable. A store may hold a committed
       * change back while an older transaction is still open (on PostgreSQL: anywhere on the
       * server, other tests' included), so a read straight after a commit may not list it yet.
       */
      const listable = async (tenant: string, count: number): Promise<TicketChangeRecord[]> => {
        let changes: TicketChangeRecord[] = [];
        await expect
          .poll(async () => (changes = await store.listChanges(tenant, 0, 1000)).length, PATIENCE)
          .toBeGreaterThanOrEqual(count);
        return changes;
      };
      /** Waits until `eventId` is listable, and with it every change committed before it. */
      const settled = async (eventId: number): Promise<void> => {
        await expect.poll(() => store.latestEventId(), PATIENCE).toBeGreaterThanOrEqual(eventId);
      };
      /** Commits a change computed from `from`; fails the test on a conflict. */
      const commit = async (from: Ticket, step: { ticket: Ticket; history: HistoryEntry }) => {
        const result = await store.commitChange({
          ticket: step.ticket,
          expectedVersion: from.version,
          history: step.history,
        });
        if (result === 'conflict') throw new Error('expected the change to be written');
        return result;
      };
      const increasing = (ids: readonly number[]): boolean =>
        ids.every((id, i) => i === 0 || id > ids[i - 1]!);

      it('insertTicket records `created`, commitChange `action` or `comment`, with increasing eventIds', async () => {
        const ticket = newTicket(1, at(-HOUR));
        await insert(ticket);
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE), ['Fixed']);
        const first = await commit(ticket, resolved);
        const commented = comment(resolved.ticket, 'Thanks', BOB, at(2 * MINUTE));
        const second = await commit(resolved.ticket, commented);

        const changes = await listable('acme', 3);
        expect(changes).toEqual([
          {
            eventId: expect.any(Number),
            tenant: 'acme',
            ticketId: ticket.id,
            kind: 'created',
            to: 'OPEN',
            version: ticket.version,
            userId: 'bob.acme',
            at: at(-HOUR).toISOString(),
          },
          {
            eventId: first.eventId,
            tenant: 'acme',
            ticketId: ticket.id,
            kind: 'action',
            action: TICKET_ACTIONS.resolve,
            from: 'OPEN',
            to: 'RESOLVED',
            version: resolved.ticket.version,
            userId: 'ada.acme',
            at: at(MINUTE).toISOString(),
          },
          {
            eventId: second.eventId,
            tenant: 'acme',
            ticketId: ticket.id,
            kind: 'comment',
            action: COMMENT_ACTION,
            from: 'RESOLVED',
            to: 'RESOLVED',
            version: commented.ticket.version,
            userId: 'bob.acme',
            at: at(2 * MINUTE).toISOString(),
          },
        ]);
        expect(changes[0]!.action).toBeUndefined();
        expect(changes[0]!.from).toBeUndefined();
        expect(increasing(changes.map((change) => change.eventId))).toBe(true);
        expect(changes.map((change) => change.version)).toEqual([1, 2, 3]);
        expect(await store.latestEventId()).toBe(second.eventId);
      });

      it("listChanges: only the tenant's changes, after afterEventId, at most limit, ascending", async () => {
        await insert(newTicket(1), globexTicket(1), newTicket(2), globexTicket(2), newTicket(3));
        const acme = await listable('acme', 3);
        const globex = await listable('globex', 2);
        expect(acme.map((change) => change.ticketId)).toEqual([
          'ticket1.acme',
          'ticket2.acme',
          'ticket3.acme',
        ]);
        expect(globex.map((change) => change.ticketId)).toEqual([
          'ticket1.globex',
          'ticket2.globex',
        ]);
        expect(globex.every((change) => change.tenant === 'globex')).toBe(true);
        const [a1, a2, a3] = acme.map((change) => change.eventId) as [number, number, number];
        const [g1, g2] = globex.map((change) => change.eventId) as [number, number];
        // One sequence for every tenant: the ids interleave in the order of the commits.
        expect(increasing([a1, g1, a2, g2, a3])).toBe(true);

        const ids = async (tenant: string, after: number, limit: number) =>
          (await store.listChanges(tenant, after, limit)).map((change) => change.eventId);
        expect(await ids('acme', a1, 10)).toEqual([a2, a3]);
        expect(await ids('acme', a1, 1)).toEqual([a2]);
        expect(await ids('acme', 0, 2)).toEqual([a1, a2]);
        expect(await ids('acme', g1, 10)).toEqual([a2, a3]);
        expect(await ids('acme', a3, 10)).toEqual([]);
        expect(await ids('globex', a2, 10)).toEqual([g2]);
        expect(await ids('initech', 0, 10)).toEqual([]);
        expect(await store.latestEventId()).toBe(a3);

        await expect(store.listChanges('acme', 0, 0)).rejects.toThrow(RangeError);
        await expect(store.listChanges('acme', 0, -1)).rejects.toThrow(RangeError);
        await expect(store.listChanges('acme', 0.5, 10)).rejects.toThrow(RangeError);
      });

      it('a refused or failed write records no change; provisioning records none either', async () => {
        await store.applyProvision({ ...SEED, tickets: [{ ticket: newTicket(9), history: [] }] });
        const ticket = newTicket(1);
        await insert(ticket);
        // The id is taken.
        expect(await store.insertTicket(newTicket(1, at(MINUTE), { title: 'Again' }), [])).toBe(
          'id-taken',
        );
        // Another request stored the idempotency key first.
        await store.saveIdempotency(idempotency('bob.acme', 'k'));
        const taken = idempotency('bob.acme', 'k', { outcome: '"later"' });
        expect(await store.insertTicket(newTicket(2), [], taken)).toBe('conflict');
        const resolved = transition(ticket, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        const change = {
          ticket: resolved.ticket,
          expectedVersion: ticket.version,
          history: resolved.history,
        };
        expect(await store.commitChange({ ...change, idempotency: taken })).toBe('conflict');
        // The version moved on.
        expect(await store.commitChange({ ...change, expectedVersion: ticket.version + 1 })).toBe(
          'conflict',
        );
        // The transaction failed.
        await expect(
          store.commitChange({ ...change, idempotency: UNWRITABLE_RECORD }),
        ).rejects.toMatchObject(REFUSED_AS_NULL);

        // Once a later change is listable, whatever was committed before it is too.
        const written = await commit(ticket, resolved);
        await settled(written.eventId);
        const changes = await store.listChanges('acme', 0, 100);
        expect(changes.map((c) => [c.ticketId, c.kind, c.version])).toEqual([
          ['ticket1.acme', 'created', 1],
          ['ticket1.acme', 'action', 2],
        ]);
        expect(changes[1]!.eventId).toBe(written.eventId);
        expect(await store.latestEventId()).toBe(written.eventId);
      });

      it('purgeExpired removes changes older than CHANGE_RETENTION_MS and keeps the rest', async () => {
        expect(CHANGE_RETENTION_MS).toBeGreaterThanOrEqual(24 * HOUR);
        const old = newTicket(1, at(-CHANGE_RETENTION_MS - MINUTE));
        const edge = newTicket(2, at(-CHANGE_RETENTION_MS));
        await insert(old, edge, globexTicket(1, at(-HOUR)));
        const kept = await commit(old, transition(old, TICKET_ACTIONS.resolve, ADA, at(-MINUTE)));
        await settled(kept.eventId);
        const before = await store.listChanges('acme', 0, 100);
        expect(before.map((c) => [c.ticketId, c.kind])).toEqual([
          ['ticket1.acme', 'created'],
          ['ticket2.acme', 'created'],
          ['ticket1.acme', 'action'],
        ]);

        await store.purgeExpired(NOW);
        expect(await store.listChanges('acme', 0, 100)).toEqual(before.slice(1));
        expect((await store.listChanges('globex', 0, 100)).map((c) => c.ticketId)).toEqual([
          'ticket1.globex',
        ]);
        expect(await store.latestEventId()).toBe(kept.eventId);
        // The tickets and their history stay.
        expect((await store.getTicket(old.id))?.state).toBe('RESOLVED');
        expect(await store.listHistory(old.id)).toHaveLength(1);

        await store.purgeExpired(at(CHANGE_RETENTION_MS + HOUR));
        expect(await store.listChanges('acme', 0, 100)).toEqual([]);
        expect(await store.listChanges('globex', 0, 100)).toEqual([]);
        expect(await store.latestEventId()).toBe(0);
        // An id is never handed out again: a client's last eventId never names a later change.
        await insert(newTicket(3));
        const [next] = await listable('acme', 1);
        expect(next!.eventId).toBeGreaterThan(kept.eventId);
      });

      it('watchChanges: called after a commit of this store and of another store on the same database; not after stop', async () => {
        const other = await openAnother();
        const watching = vi.fn();
        const stopped = vi.fn();
        const stopWatching = await store.watchChanges(watching);
        const stop = await store.watchChanges(stopped);
        const calls = (listener: typeof watching) => listener.mock.calls.length;

        let before = calls(watching);
        await insert(newTicket(1));
        await expect.poll(() => calls(watching), PATIENCE).toBeGreaterThan(before);

        before = calls(watching);
        expect(await other.insertTicket(newTicket(2), [])).toBe('inserted');
        await expect.poll(() => calls(watching), PATIENCE).toBeGreaterThan(before);
        const read = (await other.getTicket('ticket2.acme'))!;
        before = calls(watching);
        const resolved = transition(read, TICKET_ACTIONS.resolve, ADA, at(MINUTE));
        expect(
          await other.commitChange({
            ticket: resolved.ticket,
            expectedVersion: read.version,
            history: resolved.history,
          }),
        ).not.toBe('conflict');
        await expect.poll(() => calls(watching), PATIENCE).toBeGreaterThan(before);

        // A store calls all its listeners at once: while the one still watching is called
        // again, the stopped one is not.
        await stop();
        const stoppedAt = calls(stopped);
        before = calls(watching);
        expect(await other.insertTicket(newTicket(3), [])).toBe('inserted');
        await expect.poll(() => calls(watching), PATIENCE).toBeGreaterThan(before);
        before = calls(watching);
        await insert(newTicket(4));
        await expect.poll(() => calls(watching), PATIENCE).toBeGreaterThan(before);
        expect(calls(stopped)).toBe(stoppedAt);

        await stopWatching();
        // Stopping twice is harmless.
        await expect(stop()).resolves.toBeUndefined();
        // What was watched is all there, in order, whichever store wrote it.
        const changes = await listable('acme', 5);
        expect(changes.map((c) => [c.ticketId, c.kind])).toEqual([
          ['ticket1.acme', 'created'],
          ['ticket2.acme', 'created'],
          ['ticket2.acme', 'action'],
          ['ticket3.acme', 'created'],
          ['ticket4.acme', 'created'],
        ]);
      });
    });
  });
}
