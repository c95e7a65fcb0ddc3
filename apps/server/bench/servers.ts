/** The servers the benchmark measures, each a process of its own pinned to the first core. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned } from './load.js';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export type ServerSpec =
  | { readonly kind: 'product'; readonly databaseUrl: string }
  | { readonly kind: 'baseline-sqlite'; readonly path: string }
  | { readonly kind: 'baseline-pg'; readonly url: string; readonly schema: string };

function command(spec: ServerSpec, port: number): string[] {
  switch (spec.kind) {
    case 'product': {
      // Run as a command, as an operator does: its first line gives node its flags.
      const flags = (process.env['BENCH_PRODUCT_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
      const bin = join(SERVER_DIR, 'bin/tickets-server.js');
      return flags.length > 0 ? ['node', ...flags, bin, 'serve'] : [bin, 'serve'];
    }
    case 'baseline-sqlite':
      return ['node', '--import', 'tsx', 'bench/baselineSqliteServer.ts', String(port), spec.path];
    case 'baseline-pg':
      return [
        'node',
        '--import',
        'tsx',
        'bench/baselinePgServer.ts',
        String(port),
        spec.url,
        spec.schema,
      ];
  }
}

/** The end of a server's log, for a message. */
const logTail = (logPath: string): string => readFileSync(logPath, 'utf8').slice(-2000);

async function waitUntilServing(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the server ended at start; its log ends:\n${logTail(logPath)}`);
    }
    try {
      await fetch(`${url}/api/login/status`);
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`the server did not start; its log ends:\n${logTail(logPath)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function startServer(
  name: string,
  spec: ServerSpec,
  port: number,
  secret: string,
  logDir: string,
): Promise<RunningServer> {
  const logPath = join(logDir, `${name.replace(/\W+/g, '-')}.log`);
  const log = openSync(logPath, 'a');
  const argv = pinned('server', command(spec, port));
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: SERVER_DIR,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      TICKETS_SECRET: secret,
      TICKETS_DEMO: 'off',
      LOG_LEVEL: 'warn',
      ...(spec.kind === 'product' && { DATABASE_URL: spec.databaseUrl }),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilServing(url, child, logPath);
  return {
    name,
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Logs in through the product's REST API; answers the Cookie header and the CSRF header. */
export async function logIn(
  url: string,
  tenant: string,
  email: string,
  password: string,
): Promise<{ cookie: string; csrfHeader: string; csrf: string }> {
  const response = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`login of ${email} answered ${response.status}`);
  const cookies = new Map(
    response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!.split(/=(.*)/s, 2) as [string, string]),
  );
  return {
    cookie: `AtmoAuthToken_${tenant}=${cookies.get(`AtmoAuthToken_${tenant}`)}`,
    csrfHeader: `X-Csrf-Token_${tenant}`,
    csrf: cookies.get(`Csrf-Token_${tenant}`)!,
  };
}
