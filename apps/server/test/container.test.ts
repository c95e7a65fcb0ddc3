// What can be checked of the container files without a Docker engine: the Dockerfile's last
// stage (non-root, HOST=0.0.0.0, the data folder a volume, a health check on /healthz that finds
// the server where HOST and PORT put it, an entry point that exists in the package), its install
// stage (the locked versions), what its COPY lines name, .dockerignore, and compose.yaml (it
// parses; its services, files, variables, secrets and ports agree with each other and with the
// server). packedTarball.test.ts runs the image's command and environment on the packed package.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPTIONS } from '../src/config.js';
import { DRAIN_TIMEOUT_MS } from '../src/main.js';
import {
  SERVER_DIR,
  childEnv,
  scratchSpace,
  serverEnv,
  startChildServer,
} from './support/childServer.js';
import { all, envOf, execForm, last, readDockerfile } from './container/dockerfile.js';

const REPOSITORY = resolve(SERVER_DIR, '../..');
const stages = readDockerfile(join(REPOSITORY, 'Dockerfile'));
const runtime = stages.at(-1)!;
const run = promisify(execFile);

/** The health check's command line: `node -e <script>`. */
function healthCheck(): string[] {
  const health = last(runtime, 'HEALTHCHECK')!;
  return execForm(health.slice(health.indexOf('CMD ') + 4));
}

/** Runs the health check's command as Docker would, in `env`: its exit code. */
function check(env: NodeJS.ProcessEnv): Promise<number | null> {
  const [, ...args] = healthCheck();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', resolvePromise);
  });
}

/** Variables the server reads: every option, and NAME_FILE for its secrets. */
const KNOWN_VARIABLES = new Set(
  Object.entries(OPTIONS).flatMap(([name, spec]) =>
    'secret' in spec ? [name, `${name}_FILE`] : [name],
  ),
);

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  depends_on?: Record<string, unknown> | string[];
  stop_grace_period?: string;
}
interface LockFile {
  packages: Record<
    string,
    { version?: string; integrity?: string; dependencies?: Record<string, string> }
  >;
}
const compose = parse(readFileSync(join(REPOSITORY, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  secrets: Record<string, { environment?: string; file?: string }>;
  volumes: Record<string, unknown>;
};

describe('Dockerfile', () => {
  const { fresh, children } = scratchSpace('tickets-container-');
  it('builds in stages and runs the last from a slim Node 20 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(
      readFileSync(join(REPOSITORY, 'Dockerfile'), 'utf8'),
    )?.[1];
    expect(nodeImage).toMatch(/^node:20[\w.-]*-slim$/);
    expect(stages.map((stage) => stage.from)).toEqual([
      '${NODE_IMAGE}',
      ...stages.slice(1, -1).map((stage) => stage.from),
      '${NODE_IMAGE}',
    ]);
    // Nothing but the installed package comes along from the build stages.
    for (const copy of all(runtime, 'COPY')) expect(copy).toMatch(/^--from=install /);
  });

  it('runs as an unprivileged user, listening on every interface, its data in a volume', () => {
    const user = last(runtime, 'USER');
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const env = envOf(runtime);
    expect(env['HOST']).toBe('0.0.0.0');
    expect(env['NODE_ENV']).toBe('production');
    expect(execForm(last(runtime, 'VOLUME')!)).toEqual([env['TICKETS_DATA_DIR']]);
    expect(last(runtime, 'EXPOSE')).toBe(env['PORT']);
    // `tickets-server` is on the PATH, for `docker exec ... tickets-server provision`.
    expect(env['PATH']).toMatch(/^\/app\/node_modules\/\.bin:/);
    // glibc's arenas bounded as the command's first line bounds them (docs/operating.md, "Memory").
    expect(env['MALLOC_ARENA_MAX']).toBe('2');
    expect(env['MALLOC_MMAP_THRESHOLD_']).toBe('131072');
    expect(readFileSync(join(SERVER_DIR, 'bin/tickets-server.js'), 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --no-allocation-site-pretenuring',
    );
    const own = Object.keys(env).filter(
      (n) => !['NODE_ENV', 'PATH', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_'].includes(n),
    );
    for (const name of own) expect(KNOWN_VARIABLES, name).toContain(name);
    // The demo (known passwords) is never on by default in the image.
    expect(env['TICKETS_DEMO']).toBeUndefined();
  });

  it('checks its health on /healthz and starts the bin of the server package', () => {
    const health = last(runtime, 'HEALTHCHECK')!;
    expect(health).toMatch(/--interval=\d+s/);
    const command = execForm(health.slice(health.indexOf('CMD ') + 4));
    expect(command.join(' ')).toContain('/healthz');
    const entrypoint = execForm(last(runtime, 'ENTRYPOINT')!);
    const pkg = JSON.parse(readFileSync(join(SERVER_DIR, 'package.json'), 'utf8')) as {
      name: string;
      bin: Record<string, string>;
    };
    // The young-generation bound and V8's pretenuring off (docs/operating.md, "Memory"), which
    // only node's own arguments can set.
    expect(entrypoint).toEqual([
      'node',
      '--max-semi-space-size=2',
      '--no-allocation-site-pretenuring',
      `/app/node_modules/${pkg.name}/${pkg.bin['tickets-server']}`,
    ]);
    expect(execForm(last(runtime, 'CMD')!)).toEqual(['serve']);
  });

  it('the health check finds the server on the PORT the server reads, as the image sets it', async () => {
    const [program, ...args] = healthCheck();
    expect(program).toBe('node');
    // The variable the check reads is the server's own option, set by the image, and nothing in
    // the image's command moves the server elsewhere with a flag.
    expect(args.join(' ')).toContain('process.env.PORT');
    expect(Object.keys(OPTIONS)).toContain('PORT');
    expect(envOf(runtime)['PORT']).toMatch(/^\d+$/);
    const command = [...execForm(last(runtime, 'ENTRYPOINT')!), ...execForm(last(runtime, 'CMD')!)];
    expect(command.some((arg) => arg.startsWith('--port') || arg === '-p')).toBe(false);

    // Run as Docker runs it, with the container's environment: healthy while the server listens
    // on that PORT, unhealthy when PORT names a port nobody serves.
    const dir = fresh();
    const server = await startChildServer(serverEnv(dir.dir));
    children.push(server);
    const port = new URL(server.url).port;
    expect(await check(childEnv({ PORT: port }))).toBe(0);
    await server.stop();
    expect(await check(childEnv({ PORT: port }))).toBe(1);
  });

  it('the health check asks the address the server listens on, from HOST', async () => {
    // The check reads the server's own option, and nothing in the command moves it with a flag.
    expect(healthCheck().join(' ')).toContain('process.env.HOST');
    expect(Object.keys(OPTIONS)).toContain('HOST');
    const command = [...execForm(last(runtime, 'ENTRYPOINT')!), ...execForm(last(runtime, 'CMD')!)];
    expect(command.some((arg) => arg.startsWith('--host'))).toBe(false);

    // An operator who names one address (127.0.0.2 is one that is not 127.0.0.1, ::1 one that
    // needs brackets in a URL) gets a server that answers there only; every interface (the
    // image's 0.0.0.0, or ::) is asked on loopback. Each: healthy while the server listens as
    // HOST says, unhealthy once it is gone.
    const dir = fresh();
    for (const host of ['127.0.0.2', '::1', '0.0.0.0', '::']) {
      const server = await startChildServer(serverEnv(dir.dir, { HOST: host }));
      children.push(server);
      const port = new URL(server.url).port;
      expect(await check(childEnv({ HOST: host, PORT: port })), host).toBe(0);
      if (host === '127.0.0.2') {
        // Not on 127.0.0.1: the address the check asked for was HOST's own.
        expect(await check(childEnv({ HOST: '127.0.0.1', PORT: port })), host).toBe(1);
      }
      await server.stop();
      expect(await check(childEnv({ HOST: host, PORT: port })), host).toBe(1);
    }
    // HOST unset: the server's default, the check's loopback.
    const server = await startChildServer(serverEnv(dir.dir, { HOST: undefined }));
    children.push(server);
    expect(await check(childEnv({ PORT: new URL(server.url).port }))).toBe(0);
  }, 60_000);

  it('installs the packed server with the versions package-lock.json pins', async () => {
    const install = stages.find((stage) => stage.name === 'install')!;
    const commands = all(install, 'RUN').flatMap((line) => line.split(/\s*&&\s*/));
    // `npm ci` installs a lockfile or nothing; `npm install` would resolve package.json's ranges
    // against the registry of the day.
    expect(commands.filter((c) => /^npm (install|i|add)\b/.test(c))).toEqual([]);
    const ci = commands.findIndex((c) => /^npm ci\b/.test(c));
    const write = commands.findIndex((c) => c.includes('deploy/tarball-folder.ts'));
    expect(write, 'the folder is readied before npm ci').toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(write);
    const folder = last(install, 'WORKDIR');
    expect(commands.slice(write, ci).findLast((c) => c.startsWith('cd '))).toBe(`cd ${folder}`);

    // The command as the stage runs it, /src being this repository, on a stand-in tarball (only
    // its hash goes into the lock): the folder's lock pins every package it installs at the
    // version and integrity the repository's lockfile has, the server's dependencies all in it.
    const dir = fresh().dir;
    const tarball = join(dir, 'tickets-server-0.1.0.tgz');
    writeFileSync(tarball, 'a stand-in for the packed server');
    const target = join(dir, 'app');
    mkdirSync(target);
    const command = commands[write]!.replace('/tmp/tickets-server-*.tgz', tarball).replace(
      new RegExp(` ${folder}$`),
      ` ${target}`,
    );
    expect(commands[write - 1]).toBe('cd /src');
    await run('sh', ['-c', command], { cwd: REPOSITORY, env: childEnv() });
    const repository = JSON.parse(
      readFileSync(join(REPOSITORY, 'package-lock.json'), 'utf8'),
    ) as LockFile;
    const lock = JSON.parse(readFileSync(join(target, 'package-lock.json'), 'utf8')) as LockFile;
    const pkg = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies).toEqual({ '@tickets/server': `file:${tarball}` });
    expect(lock.packages['']!.dependencies).toEqual(pkg.dependencies);
    const installed = Object.entries(lock.packages).filter(
      ([key]) => key !== '' && key !== 'node_modules/@tickets/server',
    );
    expect(installed.length).toBeGreaterThan(50);
    for (const [key, entry] of installed) {
      const there =
        repository.packages[key.replace('node_modules/@tickets/server/', 'apps/server/')];
      expect(there, key).toBeDefined();
      expect([entry.version, entry.integrity], key).toEqual([there!.version, there!.integrity]);
    }
    const server = repository.packages['apps/server']!;
    for (const name of Object.keys(server.dependencies!)) {
      const keys = [`node_modules/${name}`, `node_modules/@tickets/server/node_modules/${name}`];
      expect(
        keys.some((key) => key in lock.packages),
        name,
      ).toBe(true);
    }
  });

  it('copies only paths that exist in the repository', () => {
    const copies = stages.flatMap((stage) => all(stage, 'COPY')).filter((c) => !c.startsWith('--'));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.split(' ').slice(0, -1);
      for (const source of sources) expect(existsSync(join(REPOSITORY, source)), source).toBe(true);
    }
  });

  it('.dockerignore keeps dependencies, builds, data and secrets out of the context', () => {
    const ignored = readFileSync(join(REPOSITORY, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', 'data', '.env', '.git']) {
      expect(ignored).toContain(pattern);
    }
  });
});

describe('compose.yaml', () => {
  const servers = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

  it('runs two server instances from this Dockerfile, one PostgreSQL and one proxy', () => {
    expect(servers.map(([name]) => name)).toEqual(['tickets-1', 'tickets-2']);
    for (const [, service] of servers) {
      expect(existsSync(join(REPOSITORY, service.build!, 'Dockerfile'))).toBe(true);
    }
    expect(compose.services['postgres']?.image).toMatch(/^postgres:\d+/);
    expect(compose.services['proxy']?.image).toMatch(/^nginx:[\d.]+-alpine$/);
  });

  it('points both instances at the one database, with one signing secret, demo off by default', () => {
    const postgres = compose.services['postgres']!.environment!;
    for (const [name, service] of servers) {
      const env = service.environment!;
      for (const variable of Object.keys(env))
        expect(KNOWN_VARIABLES, variable).toContain(variable);
      expect(env['DATABASE_URL_FILE'], name).toBe('/run/secrets/database_url');
      expect(env['TICKETS_SECRET_FILE'], name).toBe('/run/secrets/tickets_secret');
      expect(service.secrets, name).toEqual(['database_url', 'tickets_secret']);
      expect(env['TICKETS_DEMO']).toBe('${TICKETS_DEMO:-off}');
    }
    expect(compose.secrets['database_url']).toEqual({ environment: 'DATABASE_URL' });
    expect(compose.secrets['tickets_secret']).toEqual({ environment: 'TICKETS_SECRET' });
    expect(postgres['POSTGRES_PASSWORD_FILE']).toBe('/run/secrets/postgres_password');
    expect(compose.services['postgres']!.secrets).toEqual(['postgres_password']);
    expect(compose.secrets['postgres_password']).toEqual({ environment: 'POSTGRES_PASSWORD' });

    // The header's set-up: the URL it exports names the postgres service, its user and database,
    // and the very password the postgres_password secret hands PostgreSQL.
    const header = readFileSync(join(REPOSITORY, 'compose.yaml'), 'utf8').split('\n');
    const exported = (name: string) =>
      header.map((line) => new RegExp(`^#\\s+export ${name}=(\\S+)`).exec(line)?.[1]).find(Boolean);
    expect(exported('POSTGRES_PASSWORD')).toBeDefined();
    expect(exported('TICKETS_SECRET')).toBeDefined();
    const url = new URL(exported('DATABASE_URL')!);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.username).toBe(postgres['POSTGRES_USER']);
    expect(url.password).toBe('$POSTGRES_PASSWORD');
    expect(url.pathname).toBe(`/${postgres['POSTGRES_DB']}`);
  });

  it('keeps every password and key out of the environment of the containers', () => {
    // `docker inspect`, /proc/*/environ and whatever dumps the environment show these values;
    // secrets come as files in /run/secrets/, each service reading the ones it is given.
    const sources = Object.values(compose.secrets).map((secret) => secret.environment!);
    expect(sources.sort()).toEqual(['DATABASE_URL', 'POSTGRES_PASSWORD', 'TICKETS_SECRET']);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        expect(sources, `${name}: ${variable}`).not.toContain(variable);
        for (const source of sources) expect(value, `${name}: ${variable}`).not.toContain(source);
        expect(value, `${name}: ${variable}`).not.toMatch(/\/\/[^/@\s]*:[^/@\s]*@/);
        if (variable.endsWith('_FILE')) {
          const secret = /^\/run\/secrets\/(\w+)$/.exec(value)?.[1];
          expect(service.secrets ?? [], `${name}: ${variable}`).toContain(secret);
        }
      }
    }
  });

  it('gives each instance longer to stop than its drain takes, before Docker kills it', () => {
    for (const [name, service] of servers) {
      // Docker's default is 10 s, the whole drain: one that used all of it was killed before
      // the database was closed.
      const grace = /^(\d+)s$/.exec(service.stop_grace_period ?? '')?.[1];
      expect(grace, name).toBeDefined();
      expect(Number(grace) * 1000, name).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS + 5_000);
    }
  });

  it('mounts files that exist, and the proxy sends to both instances on their port', () => {
    const proxy = compose.services['proxy']!;
    const mounts = (proxy.volumes ?? []).map((volume) => volume.split(':')[0]!);
    const config = mounts.find((source) => source.endsWith('nginx.conf'));
    expect(config).toBeDefined();
    const text = readFileSync(join(REPOSITORY, config!), 'utf8');
    const upstream = [...text.matchAll(/^\s*server ([\w-]+):(\d+)/gm)].map((m) => [m[1], m[2]]);
    const port = envOf(runtime)['PORT'];
    expect(upstream).toEqual(servers.map(([name]) => [name, port]));
    const listen = /^\s*listen (\d+);/m.exec(text)?.[1];
    expect(proxy.ports).toEqual([`\${TICKETS_PORT:-8080}:${listen}`]);
    // Server-sent events of the change feed go through unbuffered.
    expect(text).toMatch(/location \/trpc\/ \{[^}]*proxy_buffering off;/);
  });
});
