import { describe, expect, it } from 'vitest';
import { isConnectionLost, withDefaultUser } from '../src/store/postgres/unreachable.js';

/** An error shaped as Node's socket layer or node-postgres raises it. */
const failure = (fields: Record<string, unknown>, message = 'failed'): Error =>
  Object.assign(new Error(message), fields);

describe('isConnectionLost: every way of not reaching PostgreSQL', () => {
  it.each([
    ['a Unix socket whose file is missing', { code: 'ENOENT', syscall: 'connect' }],
    ['a refused TCP connection', { code: 'ECONNREFUSED', syscall: 'connect' }],
    ['a reset connection', { code: 'ECONNRESET', syscall: 'read' }],
    ['a TCP timeout', { code: 'ETIMEDOUT', syscall: 'connect' }],
    ['an unknown host', { code: 'ENOTFOUND', syscall: 'getaddrinfo' }],
    ['a resolver not answering', { code: 'EAI_AGAIN', syscall: 'getaddrinfo' }],
    ['no route to the host', { code: 'EHOSTUNREACH', syscall: 'connect' }],
    ['an administrator shutdown (57P01)', { code: '57P01' }],
    ['a crash of another backend (57P02)', { code: '57P02' }],
    ['a server starting, stopping or in recovery (57P03)', { code: '57P03' }],
    ['a connection exception (class 08)', { code: '08006' }],
    ['too many connections (class 53)', { code: '53300' }],
    ['a standby after a failover (25006)', { code: '25006' }],
    ['a database that does not exist, dropped or renamed (3D000)', { code: '3D000' }],
    ['a password refused, changed under a running server (28P01)', { code: '28P01' }],
    ['a role that does not exist (28000)', { code: '28000' }],
  ])('%s', (_what, fields) => {
    expect(isConnectionLost(failure(fields))).toBe(true);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
  ])('node-postgres’s own "%s"', (message) => {
    expect(isConnectionLost(new Error(message))).toBe(true);
  });

  it('a database that takes no connections (ALTER DATABASE ... ALLOW_CONNECTIONS false, 55000)', () => {
    const refused = failure(
      { code: '55000' },
      'database "tickets" is not currently accepting connections',
    );
    expect(isConnectionLost(refused)).toBe(true);
  });

  it('looks into an AggregateError of several addresses, each refused', () => {
    const refused = (address: string) =>
      failure({ code: 'ECONNREFUSED', syscall: 'connect', address });
    expect(isConnectionLost(new AggregateError([refused('::1'), refused('127.0.0.1')]))).toBe(true);
  });

  it('looks through a cause', () => {
    expect(
      isConnectionLost(new Error('wrapped', { cause: failure({ code: 'ECONNREFUSED' }) })),
    ).toBe(true);
  });

  it.each([
    ['a missing file that is not a socket', failure({ code: 'ENOENT', syscall: 'open' })],
    ['a unique violation', failure({ code: '23505' })],
    ['a syntax error', failure({ code: '42601' })],
    [
      'a statement out of order (55000 of another kind)',
      failure({ code: '55000' }, 'currval of sequence "s" is not yet defined in this session'),
    ],
    ['a plain bug', new TypeError('x is undefined')],
    ['no error at all', undefined],
  ])('not %s', (_what, error) => {
    expect(isConnectionLost(error)).toBe(false);
  });
});

describe('withDefaultUser: a URL without a user name behaves as psql', () => {
  const noPgUser = {};
  const os = () => 'tickets';

  it('takes the operating system’s user name, not $USER', () => {
    expect(withDefaultUser('postgres://db.internal/tickets', { USER: 'other' }, os)).toBe(
      'postgres://tickets@db.internal/tickets',
    );
    expect(withDefaultUser('postgresql://db.internal:5433/tickets', noPgUser, os)).toBe(
      'postgresql://tickets@db.internal:5433/tickets',
    );
  });

  it('works with a Unix socket in ?host= and an empty host', () => {
    expect(withDefaultUser('postgres:///tickets?host=/var/run/postgresql', noPgUser, os)).toBe(
      'postgres://tickets@/tickets?host=/var/run/postgresql',
    );
  });

  it('keeps a password given without a user name', () => {
    expect(withDefaultUser('postgres://:s3cret@db/tickets', noPgUser, os)).toBe(
      'postgres://tickets:s3cret@db/tickets',
    );
  });

  it('leaves the URL alone when it names a user, PGUSER is set, or ?user= is given', () => {
    expect(withDefaultUser('postgres://ada@db/tickets', noPgUser, os)).toBe(
      'postgres://ada@db/tickets',
    );
    expect(withDefaultUser('postgres://db/tickets', { PGUSER: 'ops' }, os)).toBe(
      'postgres://db/tickets',
    );
    expect(withDefaultUser('postgres://db/tickets?user=ops', noPgUser, os)).toBe(
      'postgres://db/tickets?user=ops',
    );
  });

  it('encodes a user name that needs it', () => {
    expect(withDefaultUser('postgres://db/t', noPgUser, () => 'DOMAIN\\ada b')).toBe(
      'postgres://DOMAIN%5Cada%20b@db/t',
    );
  });

  it('leaves a URL alone when the process has no user name', () => {
    expect(withDefaultUser('postgres://db/t', noPgUser, () => undefined)).toBe('postgres://db/t');
  });
});
