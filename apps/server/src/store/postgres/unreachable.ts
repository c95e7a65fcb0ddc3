import { userInfo } from 'node:os';

/**
 * Every way of not reaching PostgreSQL, or of being refused by it, told apart from a fault of
 * ours: the store answers these
 * with StoreBusyError "unreachable" (a 503 with `Retry-After`), never retried (a COMMIT may have
 * happened before the answer was lost), and the server recovers by itself once the database is
 * back, because each call takes a fresh pooled connection.
 */

/** SQLSTATEs of a server that is gone, going, not yet ready, or unable to take us. */
const UNREACHABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '25006', // read-only transaction: the server is a standby now (after a failover)
  '57014', // query cancelled (statement_timeout, or an operator)
  '57P01', // admin_shutdown: `pg_ctl stop`, the fast or smart shutdown of the server
  '57P02', // crash_shutdown: another backend crashed, every connection is ended
  '57P03', // cannot_connect_now: the server is starting up, shutting down or in recovery
  '57P05', // idle_session_timeout: the server ended an idle connection
  '3D000', // invalid_catalog_name: the database does not exist (dropped or renamed under us)
]);

/**
 * `55000` (object_not_in_prerequisite_state) is also raised by statements (`currval` before
 * `nextval`, say): only a connection refused because the database takes none counts.
 */
const NOT_ACCEPTING_CONNECTIONS = /is not currently accepting connections/;

/** Socket and resolver errors of a connection that could not be made or was cut. */
const UNREACHABLE_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED', // nothing listens on the port
  'ECONNRESET', // the connection was cut
  'ECONNABORTED',
  'EPIPE', // written to a connection the server closed
  'ETIMEDOUT', // TCP gave up
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND', // DNS: no such host
  'EAI_AGAIN', // DNS: the resolver is not answering
  'EAI_FAIL',
]);

/**
 * node-postgres's own errors for a connection dropped, unobtainable in time, or broken earlier;
 * they carry no code.
 */
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error and is not queryable|Connection is closed/;

interface ErrorLike {
  readonly code?: unknown;
  readonly syscall?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
  readonly cause?: unknown;
}

function isUnreachableError(error: ErrorLike): boolean {
  const { code, syscall, message } = error;
  if (typeof code === 'string') {
    // Class 08: connection exceptions; class 28: the credentials refused (a password changed
    // under a running server, a role dropped); class 53: insufficient resources (too many
    // connections).
    if (/^(08|28|53)[0-9A-Z]{3}$/.test(code)) return true;
    if (code === '55000' && typeof message === 'string') {
      return NOT_ACCEPTING_CONNECTIONS.test(message);
    }
    if (UNREACHABLE_SQLSTATES.has(code) || UNREACHABLE_ERRNOS.has(code)) return true;
    // A Unix socket whose file is missing: the server is down (it removes the file on exit).
    if (code === 'ENOENT' && syscall === 'connect') return true;
  }
  return typeof message === 'string' && UNREACHABLE_MESSAGE.test(message);
}

/**
 * Whether `error` means the database cannot be reached, or refuses this server, right now. It looks through Node's
 * AggregateError (a host name with several addresses, each refused) and through `cause`.
 */
export function isConnectionLost(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  const candidate = error as ErrorLike;
  if (isUnreachableError(candidate)) return true;
  if (Array.isArray(candidate.errors) && candidate.errors.length > 0) {
    return candidate.errors.every((inner: unknown) => isConnectionLost(inner, depth + 1));
  }
  return candidate.cause !== undefined && isConnectionLost(candidate.cause, depth + 1);
}

/** The operating system's name of the user this process runs as; undefined when it has none. */
function osUserName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A connection URL whose user name is missing gets the one `psql` would use: `PGUSER` (which
 * node-postgres reads itself, so the URL is left alone), else the operating system's name of
 * the process's user (node-postgres would take `$USER`, and fail when the environment has none).
 */
export function withDefaultUser(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  osUser: () => string | undefined = osUserName,
): string {
  const match = /^(postgres(?:ql)?:\/\/)(?:([^/?#@]*)@)?([^/?#]*)(.*)$/is.exec(url);
  if (!match || env['PGUSER'] || /[?&]user=./.test(match[4]!)) return url;
  const [, scheme, userinfo = '', host, rest] = match;
  if (userinfo !== '' && !userinfo.startsWith(':')) return url;
  const user = osUser();
  return user === undefined
    ? url
    : `${scheme}${encodeURIComponent(user)}${userinfo}@${host}${rest}`;
}
