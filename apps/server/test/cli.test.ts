// The command line, `tickets-server` (CONTRACT §6), run as users run it: a child process of
// `node --import tsx src/cli.ts`, with only the environment it is given.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/demo.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { call, login } from './support/client.js';
import {
  createSchema,
  dropSchema,
  TEST_DATABASE_URL,
  urlWithSearchPath,
  withClient,
} from './support/postgres.js';
import {
  childEnv,
  readDb,
  runCli,
  writeDb,
  serverEnv,
  startChildServer,
  scratchSpace,
  type TempDir,
} from './support/childServer.js';

/** The example of CONTRACT §6, plus the author it names. */
const CONTRACT_EXAMPLE = {
  tenants: [{ id: 'acme', name: 'Acme Payments' }],
  users: [
    {
      id: 'ada.acme',
      email: 'ada@acme.test',
      password: 's3cret-pass',
      name: 'Ada',
      siteAdmin: false,
    },
    { id: 'bob.acme', email: 'bob@acme.test', password: 'bobs-own-pass', name: 'Bob' },
  ],
  resources: [{ id: 'payments.acme', type: 'api', name: 'Payments API', admins: ['ada.acme'] }],
  tickets: [
    {
      id: 'ticket1.acme',
      Title: 'Refunds fail',
      Description: '...',
      Environment: 'Production',
      APIID: 'payments.acme',
      author: 'bob.acme',
      State: 'OPEN',
    },
  ],
};

/** Every row of every table but the migrations log, for "nothing changed" comparisons. */
function dump(dbPath: string): Record<string, unknown[]> {
  return readDb(dbPath, (db) => {
    const tables = (
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((row) => row.name);
    return Object.fromEntries(
      tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all()]),
    );
  });
}

/** The counts of a `provisioned: ...` summary line, by what they count. */
function summary(stdout: string): Record<string, number> {
  const line = stdout.split('\n').find((l) => l.startsWith('provisioned:'));
  expect(line, stdout).toBeDefined();
  return Object.fromEntries(
    [...line!.matchAll(/(\d+) (\w+)\(s\)/g)].map((match) => [match[2]!, Number(match[1])]),
  );
}

describe('tickets-server (the command line)', () => {
  const { fresh, children } = scratchSpace('tickets-cli-');
  /** The environment of a command against the database in `dir`. */
  const envFor = (dir: TempDir, extra: Record<string, string> = {}) =>
    childEnv({
      DATABASE_URL: `sqlite:${dir.dbPath}`,
      TICKETS_DATA_DIR: dir.dir,
      LOG_LEVEL: 'warn',
      ...extra,
    });
  const writeJson = (dir: TempDir, name: string, value: unknown): string => {
    const path = join(dir.dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return path;
  };

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help'], childEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: tickets-server [<command>] [options]');
    for (const word of ['serve', 'migrate', 'provision FILE', 'DATABASE_URL', 'TICKETS_CSRF']) {
      expect(result.stdout).toContain(word);
    }
  });

  it('an unknown command exits 2 and says so', async () => {
    const result = await runCli(['frobnicate'], childEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command frobnicate');
    expect(result.stderr).toContain('Usage:');
  });

  it.each([
    ['serve', { TICKETS_CSRF: 'maybe' }, [], 'TICKETS_CSRF'],
    ['serve', { PORT: 'eighty' }, [], 'PORT'],
    ['serve', { TICKETS_SESSION_MINUTES: '0' }, [], 'TICKETS_SESSION_MINUTES'],
    ['serve', { TICKETS_SECRET: 'short' }, [], 'TICKETS_SECRET'],
    ['migrate', { LOG_LEVEL: 'verbose' }, [], 'LOG_LEVEL'],
    ['migrate', { DATABASE_URL: 'mysql://db/tickets' }, [], 'DATABASE_URL'],
    ['migrate', {}, ['--log-level', 'loud'], 'LOG_LEVEL'],
    ['migrate', {}, ['--no-such-option', 'x'], '--no-such-option'],
    ['migrate', {}, ['--port', '9000'], '--port'],
  ] as const)(
    'bad configuration: %s %j %j exits 2 naming %s',
    async (command, env, flags, name) => {
      const dir = fresh();
      const result = await runCli([command, ...flags], envFor(dir, { ...env }));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^configuration: /);
      expect(result.stderr).toContain(name);
      expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    },
  );

  it('migrate and provision leave alone the variables only serve reads (one environment for all three)', async () => {
    const dir = fresh();
    const servesOnly = {
      PORT: 'eighty',
      TICKETS_CSRF: 'maybe',
      TICKETS_SECRET: 'short',
      TICKETS_SESSION_MINUTES: '0',
    };
    const migrated = await runCli(['migrate'], envFor(dir, servesOnly));
    expect(migrated.code, migrated.stderr).toBe(0);
    const provisioned = await runCli(
      ['provision', writeJson(dir, 'acme.json', CONTRACT_EXAMPLE)],
      envFor(dir, servesOnly),
    );
    expect(provisioned.code, provisioned.stderr).toBe(0);
  });

  it('migrate on a fresh path creates the schema (folders included), and again changes nothing', async () => {
    const dir = fresh();
    const dbPath = join(dir.dir, 'nested', 'deeper', 'tickets.db');
    const env = childEnv({ DATABASE_URL: `sqlite:${dbPath}`, TICKETS_DATA_DIR: dir.dir });
    const first = await runCli(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      `applied migration(s) ${SQLITE_MIGRATIONS.map((m) => m.version).join(', ')}; the database is up to date\n`,
    );

    const schema = readDb(dbPath, (db) => ({
      tables: (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((row) => row.name),
      versions: (
        db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
          version: number;
        }[]
      ).map((row) => row.version),
      journal: db.pragma('journal_mode', { simple: true }),
    }));
    expect(schema.tables).toEqual(
      expect.arrayContaining([
        'tenants',
        'users',
        'resources',
        'resource_admins',
        'sessions',
        'tickets',
        'history',
        'idempotency',
        'schema_migrations',
      ]),
    );
    expect(schema.versions).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    expect(schema.journal).toBe('wal');
    expect(dump(dbPath)['tenants']).toEqual([]);

    const before = dump(dbPath);
    const second = await runCli(['migrate'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing to apply');
    expect(dump(dbPath)).toEqual(before);
  });

  it('a database migrated by a newer server is refused by migrate, provision and serve, changing nothing', async () => {
    const newer = SQLITE_MIGRATIONS.at(-1)!.version + 1;
    const message = `the database's schema is at migration ${newer}, newer than this server knows (up to ${newer - 1}): run the newer tickets-server that migrated it, or restore the backup taken before it did\n`;
    // SQLite
    const dir = fresh();
    expect((await runCli(['migrate'], envFor(dir))).code).toBe(0);
    writeDb(dir.dbPath, (db) =>
      db
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(newer, 'from the future', new Date().toISOString()),
    );
    const before = dump(dir.dbPath);
    const file = writeJson(dir, 'acme.json', CONTRACT_EXAMPLE);
    for (const args of [['migrate'], ['provision', file], ['serve']]) {
      const result = await runCli(args, envFor(dir, { PORT: '0', HOST: '127.0.0.1' }));
      expect(result.code, args[0]).toBe(1);
      expect(result.stderr, args[0]).toBe(message);
    }
    expect(dump(dir.dbPath)).toEqual(before);

    // PostgreSQL, whose migrations are numbered alike
    expect(POSTGRES_MIGRATIONS.at(-1)!.version).toBe(newer - 1);
    const schema = await createSchema();
    try {
      const env = envFor(dir, {
        DATABASE_URL: urlWithSearchPath(TEST_DATABASE_URL, schema),
        PORT: '0',
        HOST: '127.0.0.1',
      });
      expect((await runCli(['migrate'], env)).code).toBe(0);
      await withClient((client) =>
        client.query(
          `INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
          [newer, 'from the future', new Date().toISOString()],
        ),
      );
      for (const args of [['migrate'], ['provision', file], ['serve']]) {
        const result = await runCli(args, env);
        expect(result.code, args[0]).toBe(1);
        expect(result.stderr, args[0]).toBe(message);
      }
      const tenants = await withClient((client) =>
        client.query(`SELECT count(*)::int AS n FROM ${schema}.tenants`),
      );
      expect(tenants.rows[0]).toEqual({ n: 0 });
    } finally {
      await dropSchema(schema);
    }
  });

  it('provision FILE applies the CONTRACT §6 example; a second run changes nothing', async () => {
    const dir = fresh();
    const file = writeJson(dir, 'acme.json', CONTRACT_EXAMPLE);
    const first = await runCli(['provision', file], envFor(dir));
    expect(first.code, first.stderr).toBe(0);
    expect(summary(first.stdout)).toMatchObject({
      tenant: 1,
      user: 2,
      resource: 1,
      ticket: 1,
    });

    const rows = dump(dir.dbPath);
    expect(rows['tenants']).toEqual([
      expect.objectContaining({ id: 'acme', name: 'Acme Payments' }),
    ]);
    expect(rows['users']).toHaveLength(2);
    for (const user of rows['users'] as { password_hash: string; id: string }[]) {
      // Only slow salted hashes are stored, never the password itself.
      expect(user.password_hash).toMatch(/^scrypt\$/);
      expect(user.password_hash).not.toContain('s3cret-pass');
      expect(user.password_hash).not.toContain('bobs-own-pass');
    }
    expect(rows['resource_admins']).toEqual([
      { resource_id: 'payments.acme', user_id: 'ada.acme' },
    ]);
    expect(rows['tickets']).toEqual([
      expect.objectContaining({
        id: 'ticket1.acme',
        title: 'Refunds fail',
        state: 'OPEN',
        author_id: 'bob.acme',
        api_id: 'payments.acme',
        version: 1,
      }),
    ]);
    expect(rows['history']).toEqual([]);

    // The flags work as well as the environment, before or after FILE.
    const second = await runCli(
      ['provision', '--database-url', `sqlite:${dir.dbPath}`, file],
      childEnv({ TICKETS_DATA_DIR: dir.dir, LOG_LEVEL: 'warn' }),
    );
    expect(second.code, second.stderr).toBe(0);
    const counts = summary(second.stdout);
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(4);
    for (const [what, count] of Object.entries(counts)) expect(count, what).toBe(0);
    expect(dump(dir.dbPath)).toEqual(rows);
  });

  it('provisioning a ticket in RESOLVED records that in its history', async () => {
    const dir = fresh();
    const file = writeJson(dir, 'resolved.json', {
      ...CONTRACT_EXAMPLE,
      tickets: [
        { ...CONTRACT_EXAMPLE.tickets[0], State: 'RESOLVED' },
        { ...CONTRACT_EXAMPLE.tickets[0], id: 'ticket2.acme', State: 'CLOSED' },
      ],
    });
    const result = await runCli(['provision', file], envFor(dir));
    expect(result.code, result.stderr).toBe(0);
    const rows = dump(dir.dbPath);
    const tickets = rows['tickets'] as { id: string; state: string; version: number }[];
    expect(tickets.find((t) => t.id === 'ticket1.acme')).toMatchObject({
      state: 'RESOLVED',
      version: 2,
    });
    expect(tickets.find((t) => t.id === 'ticket2.acme')).toMatchObject({
      state: 'CLOSED',
      version: 2,
    });
    const history = rows['history'] as {
      ticket_id: string;
      action: string;
      from_state: string;
      to_state: string;
      user_id: string;
    }[];
    expect(history.filter((h) => h.ticket_id === 'ticket1.acme')).toEqual([
      expect.objectContaining({ from_state: 'OPEN', to_state: 'RESOLVED', user_id: 'bob.acme' }),
    ]);
    expect(history.filter((h) => h.ticket_id === 'ticket2.acme')).toEqual([
      expect.objectContaining({ from_state: 'OPEN', to_state: 'CLOSED' }),
    ]);

    // ...and the API shows it, on a server over that file.
    const server = await startChildServer(serverEnv(dir.dir));
    children.push(server);
    const ada = await login(server.url, 'ada@acme.test', 's3cret-pass');
    const response = await call(server.url, ada, '/api/tickets/ticket1.acme/history', {
      headers: { Accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { History: unknown[] }).History).toEqual([
      expect.objectContaining({ From: 'OPEN', To: 'RESOLVED', UserID: 'bob.acme' }),
    ]);
  });

  it('a file with errors names each bad field by its path, exits non-zero and applies nothing', async () => {
    const dir = fresh();
    const shape = writeJson(dir, 'shape.json', {
      ...CONTRACT_EXAMPLE,
      users: [
        { ...CONTRACT_EXAMPLE.users[0], email: 'not-an-email' },
        { ...CONTRACT_EXAMPLE.users[1], password: 'short' },
      ],
      tickets: [{ ...CONTRACT_EXAMPLE.tickets[0], Environment: 'Staging', State: 'DONE' }],
    });
    const bad = await runCli(['provision', shape], envFor(dir));
    expect(bad.code).not.toBe(0);
    for (const path of [
      'users[0].email',
      'users[1].password',
      'tickets[0].Environment',
      'tickets[0].State',
    ]) {
      expect(bad.stderr).toContain(path);
    }
    expect(bad.stderr).toContain('nothing was applied');

    // References that do not resolve are found as well, with everything else in the file valid.
    const references = writeJson(dir, 'references.json', {
      ...CONTRACT_EXAMPLE,
      users: [CONTRACT_EXAMPLE.users[0], { ...CONTRACT_EXAMPLE.users[1], id: 'bob.initech' }],
      resources: [{ ...CONTRACT_EXAMPLE.resources[0], admins: ['ada.acme', 'nobody.acme'] }],
      tickets: [{ ...CONTRACT_EXAMPLE.tickets[0], APIID: 'nosuch.acme' }],
    });
    const unresolved = await runCli(['provision', references], envFor(dir));
    expect(unresolved.code).not.toBe(0);
    for (const path of [
      'users[1].id',
      'resources[0].admins[1]',
      'tickets[0].author',
      'tickets[0].APIID',
    ]) {
      expect(unresolved.stderr).toContain(path);
    }

    // Not even the valid tenant, users and resource of either file were written.
    const rows = dump(dir.dbPath);
    for (const table of ['tenants', 'users', 'resources', 'tickets', 'history']) {
      expect(rows[table], table).toEqual([]);
    }

    const unreadable = await runCli(
      ['provision', writeJson(dir, 'broken.json', '{"tenants": [')],
      envFor(dir),
    );
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toContain('cannot read');
    expect(unreadable.stderr).toContain('JSON syntax error at line 1, column 14');
    const missing = await runCli(['provision'], envFor(dir));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('provision needs a FILE');
  });

  it('serve on an empty database provisions the demo tenant, says how to log in, and stops on SIGTERM', async () => {
    const dir = fresh();
    mkdirSync(dir.dir, { recursive: true });
    const server = await startChildServer(serverEnv(dir.dir, { TICKETS_DEMO: 'on' }));
    children.push(server);
    expect(server.logs.map((line) => line['msg'])).toContain(
      'provisioned the demo tenant on an empty database',
    );
    const instructions = server.stderr();
    expect(instructions).toContain('Demo tenant "demo" is ready');
    expect(instructions).toContain('ada@demo.test');
    expect(instructions).toContain(DEMO_PASSWORD);
    // The printed commands point at the address that really answers (PORT=0 picked one).
    expect(instructions).toContain(`${server.url}/api/login`);
    expect(server.logs.some((line) => JSON.stringify(line).includes(DEMO_PASSWORD))).toBe(false);

    const ada = await login(server.url, 'ada@demo.test', DEMO_PASSWORD);
    expect(ada.tenant).toBe('demo');
    const list = await call(server.url, ada, '/api/tickets', {
      headers: { Accept: 'application/json' },
    });
    expect(list.status).toBe(200);
    const tickets = ((await list.json()) as { Ticket: { State: string }[] }).Ticket;
    expect(new Set(tickets.map((t) => t.State))).toEqual(
      new Set(['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN']),
    );
    const resolved = await call(server.url, ada, '/api/tickets/ticket1.demo/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ActionName: 'ticket.action.resolve' }),
    });
    expect(resolved.status).toBe(200);

    server.signal('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.map((line) => line['msg'])).toContain('stopped');

    // The database is no longer empty: the next start provisions nothing and prints nothing.
    const again = await startChildServer(serverEnv(dir.dir, { TICKETS_DEMO: 'on' }));
    children.push(again);
    expect(again.stderr()).not.toContain('Demo tenant');
    const still = await login(again.url, 'ada@demo.test', DEMO_PASSWORD);
    const ticket = await call(again.url, still, '/api/tickets/ticket1.demo', {
      headers: { Accept: 'application/json' },
    });
    expect(((await ticket.json()) as { State: string }).State).toBe('RESOLVED');
    again.signal('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
  });

  it('a second SIGTERM or SIGINT while it drains (Ctrl-C under npm start sends two) does not cut the requests in flight', async () => {
    const dir = fresh();
    const provisioned = await runCli(
      ['provision', writeJson(dir, 'acme.json', CONTRACT_EXAMPLE)],
      envFor(dir),
    );
    expect(provisioned.code).toBe(0);
    const server = await startChildServer(serverEnv(dir.dir));
    children.push(server);
    const bob = await login(server.url, 'bob@acme.test', 'bobs-own-pass');
    // A comment whose body is held back: its handler is in flight while the signals arrive.
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    const continued = new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('100 Continue')) resolve();
      }),
    );
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const body = JSON.stringify({ Content: 'written while the server drains' });
    socket.write(
      [
        'POST /api/tickets/ticket1.acme/comments HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        `Cookie: ${bob.cookie}`,
        `X-Csrf-Token_${bob.tenant}: ${bob.csrf}`,
        'Content-Type: application/json',
        'Accept: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        'Expect: 100-continue',
        '',
        '',
      ].join('\r\n'),
    );
    await continued;

    server.signal('SIGTERM');
    await server.waitForLog('shutting down');
    server.signal('SIGINT');
    server.signal('SIGTERM');
    await server.waitForLog('already shutting down: waiting for the requests in flight');
    socket.write(body);
    await closed;
    expect(received).toMatch(/HTTP\/1\.1 201 Created/);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.map((line) => line['msg'])).toContain('stopped');
    const comments = readDb(dir.dbPath, (db) =>
      db.prepare("SELECT count(*) FROM history WHERE action = 'comment'").pluck().get(),
    );
    expect(comments).toBe(1);
  });

  it('serve with TICKETS_DEMO=off leaves an empty database empty', async () => {
    const dir = fresh();
    const server = await startChildServer(serverEnv(dir.dir));
    children.push(server);
    expect(server.stderr()).not.toContain('Demo tenant');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    server.signal('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(dump(dir.dbPath)['tenants']).toEqual([]);
  });

  it('serve on a port that is taken says so in words and exits 1', async () => {
    const dir = fresh();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const result = await runCli(['serve'], serverEnv(dir.dir, { PORT: port }));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('serve on PostgreSQL on a port that is taken exits 1 too: the store it opened is closed', async () => {
    const dir = fresh();
    const schema = await createSchema();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const result = await runCli(
        ['serve'],
        serverEnv(dir.dir, {
          PORT: port,
          DATABASE_URL: urlWithSearchPath(TEST_DATABASE_URL, schema),
        }),
      );
      // Left open, the pool's connections and the counts' folding kept the process alive.
      expect(result).toMatchObject({ code: 1, signal: null });
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      await dropSchema(schema);
    }
  });

  it('a database it cannot reach is said in one line, without the password, and exits 1', async () => {
    const dir = fresh();
    const result = await runCli(
      ['migrate', '--database-url', 'postgres://tickets:s3cret@127.0.0.1:1/tickets'],
      childEnv({ TICKETS_DATA_DIR: dir.dir }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'cannot use the database at postgres://tickets:***@127.0.0.1:1/tickets: connect ECONNREFUSED 127.0.0.1:1\n',
    );
  });

  it('a HOST that names no address is a configuration error (exit 2), before anything is created', async () => {
    const dir = fresh();
    for (const host of ['not-a-host.invalid', '999.1.1.1']) {
      const result = await runCli(['serve'], serverEnv(dir.dir, { HOST: host }));
      expect(result.code, host).toBe(2);
      expect(result.stderr, host).toBe(
        `configuration: HOST ${host}: no such address or host name\n`,
      );
    }
    expect(existsSync(dir.dbPath)).toBe(false);
    expect(existsSync(join(dir.dir, 'secret'))).toBe(false);
  });

  it('a data folder it cannot use is said in one line, naming the path, and exits 1', async () => {
    const dir = fresh();
    // A path through a regular file (ENOTDIR): as root, as CI runs, permissions would not stop it.
    const file = join(dir.dir, 'not-a-folder');
    writeFileSync(file, '');
    const dataDir = join(file, 'data');
    for (const command of ['migrate', 'serve']) {
      const result = await runCli(
        [command],
        childEnv({ TICKETS_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
      );
      expect(result.code, command).toBe(1);
      expect(result.stderr, command).toMatch(
        new RegExp(`^cannot use ${dataDir}\\S*: ENOTDIR \\(check TICKETS_DATA_DIR, DATABASE_URL`),
      );
      expect(result.stderr.trim().split('\n'), command).toHaveLength(1);
    }
  });

  it('TLS that the PostgreSQL server cannot give is said in one line and exits 1', async () => {
    const dir = fresh();
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('sslmode', 'verify-full');
    const result = await runCli(
      ['migrate', '--database-url', url.toString()],
      childEnv({ TICKETS_DATA_DIR: dir.dir }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^cannot use the database at postgres:\/\/.*sslmode=verify-full: /,
    );
    // Without TLS on the server (as here), or with Debian's self-signed one, which verify-full refuses.
    expect(result.stderr).toMatch(/does not support SSL|certificate/i);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
