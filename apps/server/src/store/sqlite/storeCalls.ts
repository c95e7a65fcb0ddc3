import { retryWhileBusy, type BusyPolicy } from '../retryWhileBusy.js';
import type { SqliteAccounts } from './accounts.js';
import type { WalSync } from './walSync.js';

const AsyncFunction = (async () => {}).constructor;

/** Calls that write nothing: after them, there is nothing new to flush. */
const READS = new Set([
  'getTenant',
  'getWorkflow',
  'countTenants',
  'getUser',
  'getUsers',
  'findUsersByEmail',
  'getResource',
  'adminResourceIds',
  'adminResources',
  'getLoginFailures',
  'getSession',
  'getCaller',
  'getTicket',
  'getTicketWithAuthor',
  'listTickets',
  'listHistory',
  'pageHistory',
  'getIdempotency',
  'listChanges',
  'latestEventId',
  'watchChanges',
  'flushed',
  'ping',
]);
/** The SqliteStore's own members that are no Store calls, and `close`, which waits for flushes itself. */
const SYNCHRONOUS = new Set(['constructor', 'sql', 'applyMigrations', 'close']);
/**
 * Writes that change nothing a caller is read from (sessions, users, resource admins): the
 * cached callers stay. (Ticket writes, group-committed, touch none either.)
 */
const CALLERS_UNTOUCHED = new Set([
  'allocateTicketNumber',
  'saveIdempotency',
  'recordLoginFailure',
  'admitLoginAttempt',
  'clearLoginFailures',
]);
/** The group commit retries its batches and flushes them itself. */
const GROUP_COMMITTED = new Set(['insertTicket', 'commitChange']);

/** What the wrapper needs of a SqliteStore (private fields there, read through this shape). */
interface StoreInternals {
  readonly wal: WalSync;
  readonly accounts: SqliteAccounts;
}

/**
 * Wraps every call of the Store interface on the SqliteStore's prototype (the async methods;
 * `close` aside): it is retried while the database is busy; one that writes drops the cached
 * callers (SqliteAccounts), then resolves only once what it wrote is on disk (WalSync), while
 * reads answer at once (Store.flushed is for answers that show what was read). The class's
 * private helpers are synchronous and run inside those calls.
 */
export function wrapStoreCalls(prototype: object, busy: BusyPolicy): void {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (SYNCHRONOUS.has(name)) continue;
    const { value: method, get, set } = Object.getOwnPropertyDescriptor(prototype, name)!;
    if (get || set)
      throw new TypeError(`SqliteStore.${name}: no accessors on the store (see storeCalls.ts)`);
    // A Store call declared without `async` (a plain delegation) would escape the wrapper: no
    // busy retry, no flush before its answer. Refused here, when the module loads.
    if (!(method instanceof AsyncFunction)) {
      throw new TypeError(`SqliteStore.${name} must be declared async (see storeCalls.ts)`);
    }
    const call = method as (this: StoreInternals, ...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(prototype, name, {
      value: async function durably(this: StoreInternals, ...args: unknown[]) {
        const { wal, accounts } = this;
        // After a failed flush nothing is written (nor acknowledged) any more.
        if (!READS.has(name)) wal.assertUsable();
        if (GROUP_COMMITTED.has(name)) return call.apply(this, args);
        const forgets = !READS.has(name) && !CALLERS_UNTOUCHED.has(name);
        const result = await retryWhileBusy(() => {
          const done = call.apply(this, args);
          if (!forgets) return done;
          // The call's statements ran synchronously, just now: no caller read before them is
          // served after them. And again when it settles, should a write ever come after an await.
          accounts.forgetCallers();
          return done.finally(() => accounts.forgetCallers());
        }, busy);
        if (!READS.has(name)) {
          wal.committed();
          await wal.durable();
        }
        return result;
      },
    });
  }
}
