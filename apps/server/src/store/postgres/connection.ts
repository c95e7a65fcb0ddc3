import pg from 'pg';
import { withDefaultUser } from './unreachable.js';

/** How the PostgreSQL store talks to its server: time limits, what is worth a retry, types. */

/**
 * How long one statement may wait for a lock another transaction holds (PostgreSQL's
 * `lock_timeout`), and how long, in all, a call keeps retrying a busy database before it gives up
 * with StoreBusyError (a 503).
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
/** Migrations wait longer for each other: another process may be applying a slow one. */
export const MIGRATION_LOCK_TIMEOUT = '60s';
/** The first key of the migrations' advisory lock (the second is the schema's name, hashed). */
export const MIGRATION_LOCK_CLASS = 0x7469636b; // 'tick'
export const CONNECT_TIMEOUT_MS = 10_000;
/** Connections per process: for every statement, and for the list page's (ticketList.ts). */
export const POOL_SIZE = 10;
export const LIST_POOL_SIZE = 4;

/**
 * The list pool's sessions. Each list statement is planned once per connection, for any values
 * (a generic plan), and such a plan cannot know LIMIT and OFFSET: PostgreSQL then plans for a
 * tenth of the filter's tickets, not a page. On a big tenant that made it compile the statement
 * (JIT, some 20 ms, on every execution), and where the table's order on disk strays from
 * `created`, scan and sort the whole tenant. The statements this pool runs are walks of an index
 * in the page's order (ticketList.ts), so these settings keep them that: no sort, no JIT, no
 * parallel workers for a page of at most 100 tickets.
 */
export const LIST_SESSION = [
  'SET plan_cache_mode = force_generic_plan',
  'SET enable_sort = off',
  'SET jit = off',
  'SET max_parallel_workers_per_gather = 0',
] as const;
/** No query takes this long here unless the server stopped answering. */
export const QUERY_TIMEOUT_MS = 30_000;
/**
 * A pooled connection silent this long is probed by TCP (keepalive), as is the watcher's: the
 * pool keeps its connections however long they idle, and a firewall or NAT between the server
 * and PostgreSQL may forget a silent one without telling either end. The probes keep it known
 * there, and a peer gone for good is found out by the system's own probe count.
 */
export const KEEPALIVE_IDLE_MS = 10_000;
/** The change watcher's queries are tiny: past this, its connection is taken for dead. */
export const WATCH_QUERY_TIMEOUT_MS = 10_000;

/** lock_not_available (lock_timeout), serialization_failure, deadlock_detected: worth a retry. */
const BUSY_CODES: ReadonlySet<string> = new Set(['55P03', '40001', '40P01']);

export const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BUSY_CODES.has(code);
};

/**
 * BIGINT columns (times in epoch milliseconds, counters, row ids) as JS numbers; node-postgres
 * answers them as strings by default. Every value the store writes is a safe integer.
 */
const parseBigint = (text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} is not a safe integer`);
  return value;
};
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseBigint
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** How the store's connections (the pools' and the change watcher's) reach the server at `url`. */
export const connectionConfig = (url: string) => ({
  connectionString: withDefaultUser(url),
  connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  // A server that stops answering without closing the connection must not hold a request (and
  // the pool) forever: TCP keepalive, a bound on every query, and on idle transactions.
  keepAlive: true,
  keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
  types: TYPES,
});

/**
 * A pool of up to `max` connections, each set up by the statements `settings` when it opens.
 * They are kept open however long they idle: idle ones ending together took a core ~100 ms
 * (docs/operating.md). One that breaks while idle is dropped, told to `onIdleError`, and replaced
 * on the next call; without a listener the error would end the process.
 */
export function openPool(
  connection: ReturnType<typeof connectionConfig>,
  options: {
    readonly max: number;
    readonly lockTimeoutMs: number;
    readonly settings: readonly string[];
    readonly onIdleError?: ((error: Error) => void) | undefined;
  },
): pg.Pool {
  const pool = new pg.Pool({
    ...connection,
    max: options.max,
    idleTimeoutMillis: 0,
    lock_timeout: options.lockTimeoutMs,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: QUERY_TIMEOUT_MS,
    ...(options.settings.length > 0 && {
      onConnect: async (client: pg.ClientBase) => {
        await client.query(options.settings.join('; '));
      },
    }),
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}
