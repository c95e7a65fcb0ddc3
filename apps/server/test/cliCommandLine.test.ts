// The command line as an operator meets it: `--help` on every command, `--version`, `serve` as
// the default command, secrets from files, no demo unless asked, provisioning that says what it
// does. Run as users run it: a child process of `node --import tsx src/cli.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_TENANT_HINT } from '../src/main.js';
import { PROGRESS_FROM_USERS } from '../src/provision.js';
import { login } from './support/client.js';
import {
  childEnv,
  runCli,
  serverEnv,
  startChildServer,
  scratchSpace,
} from './support/childServer.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

describe('tickets-server: the command line', () => {
  const { fresh, children } = scratchSpace('tickets-cmdline-');

  it('--version and -V print the version of the package', async () => {
    for (const args of [['--version'], ['-V'], ['serve', '--version']]) {
      const result = await runCli(args, childEnv());
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toBe(`tickets-server ${version}\n`);
    }
  });

  it.each([
    ['serve', ['--port PORT', '--host HOST', '--tickets-csrf', '--tickets-secret-file PATH']],
    ['migrate', ['--database-url URL', '--database-url-file PATH', '--log-level']],
    ['provision', ['provision FILE', '--database-url URL', '--tickets-data-dir DIR']],
  ])('%s --help prints that command, its options and their variables', async (command, words) => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli([command, flag], childEnv());
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`Usage: tickets-server ${command}`);
      for (const word of words) expect(result.stdout).toContain(word);
      expect(result.stdout).toContain('env DATABASE_URL');
    }
  });

  it('the help of migrate leaves out what only serve uses', async () => {
    const result = await runCli(['migrate', '--help'], childEnv());
    expect(result.stdout).not.toContain('--port');
    const refused = await runCli(['migrate', '--port', '9000'], childEnv());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('configuration: unknown option --port\n');
  });

  it('the help lists every option with its default, from one table', async () => {
    const result = await runCli(['--help'], childEnv());
    for (const line of [
      'env HOST, default 127.0.0.1',
      'env PORT, default 8080',
      'env TICKETS_SESSION_MINUTES, default 30',
      'env TICKETS_CSRF, default write',
      'env TICKETS_DEMO, default off',
      'env LOG_LEVEL, default info',
      '(env TICKETS_SECRET_FILE)',
    ]) {
      expect(result.stdout).toContain(line);
    }
  });

  it('serve is the default command: `tickets-server --port N` serves on N', async () => {
    // The flags alone, no command word: it tries to listen on exactly that port (taken here, so
    // it says so and exits instead of serving for ever).
    const dir = fresh();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const env = serverEnv(dir.dir, { PORT: undefined });
      const result = await runCli(['--port', port, '--tickets-csrf', 'all'], env);
      expect(result.stderr).toBe(
        `cannot listen on 127.0.0.1:${port}: EADDRINUSE (check HOST and PORT)\n`,
      );
      expect(result.code).toBe(1);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    const badPort = await runCli(['--port', 'http'], childEnv());
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('configuration: PORT must be a whole number');
  });

  it('an unexpected argument or a flag without its value exits 2', async () => {
    const extra = await runCli(['serve', 'now'], childEnv());
    expect(extra.code).toBe(2);
    expect(extra.stderr).toBe('configuration: unexpected argument now\n');
    const missing = await runCli(['--port'], childEnv());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('configuration: --port needs a value\n');
  });

  it('serve alone never creates the demo: it says how to provision a first site admin', async () => {
    const dir = fresh();
    const env = serverEnv(dir.dir);
    delete env['TICKETS_DEMO'];
    const server = await startChildServer(env);
    children.push(server);
    const hint = server.logs.find((line) => line['msg'] === 'the database has no tenant yet');
    expect(hint).toMatchObject({ level: 40, hint: FIRST_TENANT_HINT });
    expect(FIRST_TENANT_HINT).toContain('tickets-server provision FILE');
    expect(server.stderr()).not.toContain('Demo tenant');
    const refused = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'admin@demo.test', password: 'demo-pass-1' }),
    });
    expect(refused.status).toBe(401);
  });

  it('npm start asks for the demo: it serves the demo tenant on an empty database', async () => {
    const { scripts } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { scripts: Record<string, string> };
    const [, args] = /bin\/tickets-server\.js serve (.*)$/.exec(scripts['start']!) ?? [];
    expect(args).toBe('--tickets-demo on');
    const dir = fresh();
    const server = await startChildServer(serverEnv(dir.dir, { TICKETS_DEMO: undefined }), [
      ...args!.split(' '),
    ]);
    children.push(server);
    expect(server.stderr()).toContain('Demo tenant "demo" is ready');
    const ada = await login(server.url, 'ada@demo.test', 'demo-pass-1');
    expect(ada.tenant).toBe('demo');
  });

  it('TICKETS_SECRET_FILE signs the cookies with the key in the file', async () => {
    const dir = fresh();
    const keyFile = join(dir.dir, 'key');
    writeFileSync(keyFile, `${'k'.repeat(40)}\n`);
    const env = serverEnv(dir.dir, { TICKETS_SECRET_FILE: keyFile, TICKETS_DEMO: 'on' });
    const first = await startChildServer(env);
    children.push(first);
    const session = await login(first.url, 'ada@demo.test', 'demo-pass-1');
    await first.stop();
    // No secret was generated into the data folder: the file's key is the one in use, so a
    // server with the same file accepts the session.
    expect(() => readFileSync(join(dir.dir, 'secret'))).toThrow();
    const second = await startChildServer(env);
    children.push(second);
    const status = await fetch(`${second.url}/api/login/status`, {
      headers: { Cookie: session.cookie, Accept: 'application/json' },
    });
    expect(status.status).toBe(200);
  });

  it('provision reports its progress on stderr for a large file, and a second run keeps every hash', async () => {
    const dir = fresh();
    const users = Array.from({ length: PROGRESS_FROM_USERS }, (_, i) => ({
      id: `user${i}.acme`,
      email: `user${i}@acme.test`,
      password: `password-${i}`,
      name: `User ${i}`,
    }));
    const file = join(dir.dir, 'many.json');
    writeFileSync(file, JSON.stringify({ tenants: [{ id: 'acme', name: 'Acme' }], users }));
    const env = childEnv({ DATABASE_URL: `sqlite:${dir.dbPath}`, TICKETS_DATA_DIR: dir.dir });
    const first = await runCli(['provision', file], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`checking the passwords of ${PROGRESS_FROM_USERS} users`);
    expect(first.stderr).toContain(`passwords: ${PROGRESS_FROM_USERS}/${PROGRESS_FROM_USERS}`);
    expect(first.stdout).toContain(`${PROGRESS_FROM_USERS} user(s)`);
    const second = await runCli(['provision', file], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('0 user(s)');
  });

  it('a JSON syntax error in a provisioning file names its line and column', async () => {
    const dir = fresh();
    const file = join(dir.dir, 'broken.json');
    writeFileSync(
      file,
      '{\n  "tenants": [\n    { "id": "acme", "name": "Acme" }\n    { "id": "x" }\n  ]\n}\n',
    );
    const result = await runCli(
      ['provision', file],
      childEnv({ DATABASE_URL: `sqlite:${dir.dbPath}`, TICKETS_DATA_DIR: dir.dir }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^cannot read ${file}: JSON syntax error at line 4, column 5: `),
    );
  });
});
