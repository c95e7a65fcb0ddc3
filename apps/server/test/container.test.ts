// What can be checked of the container files without a Docker engine: the Dockerfile's last
// stage (non-root, HOST=0.0.0.0, the data folder a volume, a health check on /healthz, an entry
// point that exists in the package), what its COPY lines name, .dockerignore, and compose.yaml
// (it parses; its services, files, variables and ports agree with each other and with the
// server). packedTarball.test.ts runs the image's command and environment on the packed package.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPTIONS } from '../src/config.js';
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
    expect(readFileSync(join(SERVER_DIR, 'bin/tickets-server.js'), 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4',
    );
    const own = Object.keys(env).filter(
      (n) => !['NODE_ENV', 'PATH', 'MALLOC_ARENA_MAX'].includes(n),
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
    // The young-generation bound of docs/operating.md ("Memory"), which only node's own
    // arguments can set.
    expect(entrypoint).toEqual([
      'node',
      '--max-semi-space-size=4',
      `/app/node_modules/${pkg.name}/${pkg.bin['tickets-server']}`,
    ]);
    expect(execForm(last(runtime, 'CMD')!)).toEqual(['serve']);
  });

  it('the health check finds the server on the PORT the server reads, as the image sets it', async () => {
    const health = last(runtime, 'HEALTHCHECK')!;
    const [program, ...args] = execForm(health.slice(health.indexOf('CMD ') + 4));
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
    const check = (env: NodeJS.ProcessEnv) =>
      new Promise<number | null>((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', resolvePromise);
      });
    expect(await check(childEnv({ PORT: port }))).toBe(0);
    await server.stop();
    expect(await check(childEnv({ PORT: port }))).toBe(1);
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
    for (const [name, service] of servers) {
      const env = service.environment!;
      for (const variable of Object.keys(env))
        expect(KNOWN_VARIABLES, variable).toContain(variable);
      const url = new URL(env['DATABASE_URL']!.replace(/\$\{[^}]+\}/g, 'x'));
      expect(url.protocol, name).toBe('postgres:');
      expect(Object.keys(compose.services), name).toContain(url.hostname);
      expect(env['TICKETS_SECRET_FILE']).toBe('/run/secrets/tickets_secret');
      expect(service.secrets).toEqual(['tickets_secret']);
      expect(env['TICKETS_DEMO']).toBe('${TICKETS_DEMO:-off}');
    }
    expect(compose.secrets['tickets_secret']).toEqual({ environment: 'TICKETS_SECRET' });
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
