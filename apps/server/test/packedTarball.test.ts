// SLOW (minutes): the server as `npm pack -w apps/server` ships it, installed offline into an
// empty folder (npm's cache has every dependency; better-sqlite3 compiles from source there),
// then run as an operator would: `tickets-server --version`, `serve` and `/healthz`. The
// container image starts the same installed package with the Dockerfile's own command and
// environment (container.test.ts checks the Dockerfile against what this folder has).
import { execFile, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_DIR } from './support/childServer.js';
import { envOf, execForm, last, readDockerfile } from './container/dockerfile.js';
import { lockfileForTarball } from '../scripts/tarballLockfile.js';

const run = promisify(execFile);
const REPOSITORY = resolve(SERVER_DIR, '../..');
const INSTALL_LIMIT_MS = 15 * 60_000;
const { version } = JSON.parse(readFileSync(join(SERVER_DIR, 'package.json'), 'utf8')) as {
  version: string;
};

/** Only what npm and the server need from this environment. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

/** Starts `bin ...args` and resolves with its URL once it logs "listening". */
function serve(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; stop: () => Promise<number | null>; output: () => string }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolveStart, reject) => {
    const guard = setTimeout(() => {
      void stop();
      reject(new Error(`the server did not start: ${output}`));
    }, 60_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = /"url":"([^"]+)","database":"[^"]+","msg":"listening"/.exec(output)?.[1];
      if (url) {
        clearTimeout(guard);
        resolveStart({ url, stop, output: () => output });
      }
    });
    void exited.then((code) => {
      clearTimeout(guard);
      reject(new Error(`the server exited (${code}) before listening: ${output}`));
    });
  });
}

describe('the packed server package (slow: installs a tarball and compiles better-sqlite3)', () => {
  let work: string;
  let tarball: string;
  let installed: { readonly dir: string; readonly bin: string };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tickets-pack-'));
    await run('npm', ['pack', '-w', 'apps/server', '--pack-destination', work], {
      cwd: REPOSITORY,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      timeout: INSTALL_LIMIT_MS,
    });
    const name = readdirSync(work).find((file) => file.endsWith('.tgz'));
    expect(name, 'npm pack wrote a tarball').toBeDefined();
    tarball = join(work, name!);

    const dir = join(work, 'install');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'tickets-server-install',
        private: true,
        dependencies: { '@tickets/server': `file:${tarball}` },
        // npm 11 runs only the install scripts a project allows: the SQLite driver's build.
        allowScripts: { 'better-sqlite3': true },
      }),
    );
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify(lockfileForTarball(join(REPOSITORY, 'package-lock.json'), tarball)),
    );
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: cleanEnv(),
      timeout: INSTALL_LIMIT_MS,
    });
    installed = { dir, bin: join(dir, 'node_modules/.bin/tickets-server') };
  }, INSTALL_LIMIT_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the built server, its bin and the license; no sources, no tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    for (const file of [
      'package/package.json',
      'package/bin/tickets-server.js',
      'package/dist/cli.js',
      'package/dist/index.js',
      'package/dist/LICENSE',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.filter((file) => /^package\/(src|test|bench|scripts)\//.test(file))).toEqual([]);
    // postpack put the workspace's own build back: dist/cli.js imports its neighbours again.
    expect(readFileSync(join(SERVER_DIR, 'dist/cli.js'), 'utf8')).toContain("from './config.js'");
    expect(existsSync(join(SERVER_DIR, 'dist/chunks'))).toBe(false);
    const pkg = JSON.parse(
      readFileSync(join(installed.dir, 'node_modules/@tickets/server/package.json'), 'utf8'),
    ) as { engines?: { node?: string }; dependencies: Record<string, string> };
    expect(pkg.engines?.node).toMatch(/^>=20/);
    // The private workspace packages are inlined by the bundle, not depended upon.
    expect(Object.keys(pkg.dependencies).filter((name) => name.startsWith('@tickets/'))).toEqual(
      [],
    );
  });

  it('tickets-server --version answers the package version', async () => {
    const { stdout } = await run(installed.bin, ['--version'], { env: cleanEnv() });
    expect(stdout).toBe(`tickets-server ${version}\n`);
  });

  it('serves: /healthz, /api/docs and the OpenAPI document; stops on SIGTERM', async () => {
    const data = join(work, 'data');
    const server = await serve(
      installed.bin,
      ['--port', '0'],
      cleanEnv({ TICKETS_DATA_DIR: data }),
    );
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/api/docs`)).status).toBe(200);
      const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
        info: { version: string };
      };
      expect(document.info.version).toBe(version);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("runs with the container image's own command, environment and health check", async () => {
    // The image's last stage, with its folders mapped onto this machine: /app is the folder the
    // tarball was installed into (as the image's install stage does), the volume a temporary one.
    const runtime = readDockerfile(join(REPOSITORY, 'Dockerfile')).at(-1)!;
    const image = envOf(runtime);
    const volume = join(work, 'volume');
    const onHost = (arg: string) =>
      arg.replace(/^\/app\//, `${installed.dir}/`).replace(image['TICKETS_DATA_DIR']!, volume);
    const [node, ...entry] = execForm(last(runtime, 'ENTRYPOINT')!).map(onHost);
    expect(node).toBe('node');
    const port = await freePort();
    const imageEnv = Object.fromEntries(
      Object.entries(image).map(([name, value]) => [
        name,
        value
          .replace(/(^|:)\/app\//g, `$1${installed.dir}/`)
          .replace('$PATH', process.env['PATH'] ?? ''),
      ]),
    );
    const env = cleanEnv({ ...imageEnv, TICKETS_DATA_DIR: volume, PORT: String(port) });
    const server = await serve(
      process.execPath,
      [...entry, ...execForm(last(runtime, 'CMD')!)],
      env,
    );
    try {
      expect(server.url).toBe(`http://0.0.0.0:${port}`);
      const health = last(runtime, 'HEALTHCHECK')!;
      const [, ...check] = execForm(health.slice(health.indexOf('CMD ') + 4));
      const probe = await run(process.execPath, check, { env }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? 1,
      );
      expect(probe, 'the health check passes').toBe(0);
      // The signing secret was generated into the volume, readable by its owner only.
      expect(statSync(join(volume, 'secret')).mode & 0o777).toBe(0o600);
      expect(server.output()).toContain('the database has no tenant yet');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolveListen) => probe.listen(0, '127.0.0.1', resolveListen));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolveClose) => probe.close(() => resolveClose()));
  return port;
}
