import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { provision, type ProvisionInput } from '../../src/provision.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';

/** apps/server, where `node --import tsx src/cli.ts` is run from. */
export const SERVER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** How long a child may take to start or to stop before a test gives up (a hang guard, not an assertion). */
const STARTUP_LIMIT_MS = 60_000;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A temporary folder for one test's database and secret, removed by `remove()`. */
export interface TempDir {
  readonly dir: string;
  readonly dbPath: string;
  remove(): void;
}

export function tempDir(prefix = 'tickets-child-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    dbPath: join(dir, 'tickets.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs an ES module script in a child Node.js (TypeScript sources load through tsx) and answers
 * how it ended; one still running after a minute is killed (a hang guard, not an assertion).
 */
export const runScript = (
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: SERVER_DIR,
        env: childEnv(env),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout });
    });
  });

/**
 * Scratch space for a describe block: `fresh()` makes a temporary folder, `start()` starts a
 * server, and the servers started (or pushed on `children`) are stopped; all of it is cleaned
 * up after each test, the servers before their folders.
 */
export function scratchSpace(prefix: string): {
  fresh(): TempDir;
  start(env: NodeJS.ProcessEnv, args?: readonly string[]): Promise<ChildServer>;
  readonly children: ChildServer[];
} {
  const dirs: TempDir[] = [];
  const children: ChildServer[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) await child.stop();
    for (const dir of dirs.splice(0)) dir.remove();
  });
  return {
    fresh() {
      const dir = tempDir(prefix);
      dirs.push(dir);
      return dir;
    },
    async start(env, args = []) {
      const server = await startChildServer(env, args);
      children.push(server);
      return server;
    },
    children,
  };
}

/** Two server processes over one database, for the tests of a describe block. */
export interface TwoServers {
  /** The temporary folder `prepare` was given (the SQLite file and the secret live there). */
  readonly dir: TempDir;
  /** Both processes, serving, in the order they were started. */
  readonly servers: readonly [ChildServer, ChildServer];
}

/**
 * Registers, in the calling describe block, two `serve` processes sharing one database: before
 * its tests, `prepare` readies the database in a fresh temporary folder and answers the servers'
 * environment, and both are started and listening; after each test neither may have logged at
 * error level or above; after the block they are stopped (by PID), the folder removed, and
 * `cleanup` run (to drop a schema, say). `atOnce` starts them together, so that each opens the
 * database while the other does, rather than one after the other.
 */
export function twoServersOnOneDatabase(options: {
  readonly prefix?: string;
  readonly prepare: (dir: TempDir) => Promise<NodeJS.ProcessEnv>;
  readonly atOnce?: boolean;
  readonly cleanup?: () => Promise<void>;
}): TwoServers {
  let dir: TempDir | undefined;
  const servers: ChildServer[] = [];
  beforeAll(async () => {
    dir = tempDir(options.prefix);
    const env = await options.prepare(dir);
    if (options.atOnce) {
      const started = await Promise.allSettled([startChildServer(env), startChildServer(env)]);
      // Every one that started is stopped after, even when the other failed.
      for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;
    } else {
      servers.push(await startChildServer(env));
      servers.push(await startChildServer(env));
    }
  });
  afterEach(() => {
    for (const server of servers)
      expect(server.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
  });
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.stop();
    dir?.remove();
    await options.cleanup?.();
  });
  return {
    get dir() {
      if (dir === undefined) throw new Error('the servers are not started yet (use in a test)');
      return dir;
    },
    get servers() {
      if (servers.length !== 2) throw new Error('the servers are not started yet (use in a test)');
      return servers as [ChildServer, ChildServer];
    },
  };
}

/** The environment of a child: only what it needs, so the developer's own settings never leak in. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'NODE_OPTIONS']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** The server's own environment for a database file in `dir`: port 0, loopback, no demo. */
export function serverEnv(
  dir: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return childEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'tickets.db')}`,
    TICKETS_DATA_DIR: dir,
    TICKETS_DEMO: 'off',
    LOG_LEVEL: 'info',
    ...extra,
  });
}

/** Provisions `data` into the SQLite file at `dbPath`, in this process, and closes it again. */
export async function provisionFile(dbPath: string, data: ProvisionInput): Promise<void> {
  const store = SqliteStore.open(dbPath);
  try {
    await provision(store, data);
  } finally {
    await store.close();
  }
}

/**
 * A `prepare` for twoServersOnOneDatabase: `data` provisioned into the SQLite file of the folder,
 * which both servers share, hence the secret the first generates: a session works on either.
 */
export const sqliteProvisioned =
  (data: ProvisionInput) =>
  async (dir: TempDir): Promise<NodeJS.ProcessEnv> => {
    await provisionFile(dir.dbPath, data);
    return serverEnv(dir.dir);
  };

/** Runs `node --import tsx src/cli.ts ARGS` to completion and collects its output. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd = SERVER_DIR,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(SERVER_DIR, 'src/cli.ts'), ...args],
      {
        cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const guard = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(child.pid, 'SIGKILL');
    }, STARTUP_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A `serve` child process, up and listening. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every JSON log line of stdout so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Resolves with the first log line (now or later) whose `msg` is `msg`. */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  /** Sends a signal to this process (by its PID) unless it has exited. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the process if it still runs and waits for it: for `afterEach`. */
  stop(): Promise<Exit>;
}

/**
 * Starts `node --import tsx src/cli.ts serve` with `env` and waits for its "listening" log line,
 * whose `url` it answers with.
 */
export async function startChildServer(
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(SERVER_DIR, 'src/cli.ts'), 'serve', ...args],
    {
      cwd: SERVER_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error('the server process did not start');
  const pid = child.pid;
  const logs: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { msg: '(not JSON)', line };
      }
      logs.push(parsed);
      for (const waiter of waiters.filter((w) => w.msg === parsed['msg'])) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let done: Exit | undefined;
  const exited = new Promise<Exit>((resolveExit) => {
    child.on('exit', (code, signal) => {
      done = { code, signal };
      resolveExit(done);
    });
  });
  const running = (): boolean =>
    done === undefined && child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals): void => {
    if (running()) process.kill(pid, name);
  };
  const waitForLog = (msg: string): Promise<Record<string, unknown>> => {
    const found = logs.find((line) => line['msg'] === msg);
    if (found) return Promise.resolve(found);
    return new Promise((resolveLine, reject) => {
      const guard = setTimeout(
        () => reject(new Error(`no "${msg}" log line; stderr: ${stderr}`)),
        STARTUP_LIMIT_MS,
      );
      waiters.push({
        msg,
        resolve: (line) => {
          clearTimeout(guard);
          resolveLine(line);
        },
      });
      void exited.then(() => {
        clearTimeout(guard);
        const line = logs.find((l) => l['msg'] === msg);
        if (line) resolveLine(line);
        else reject(new Error(`the server exited before logging "${msg}"; stderr: ${stderr}`));
      });
    });
  };
  const stop = async (): Promise<Exit> => {
    signal('SIGKILL');
    return exited;
  };
  try {
    const listening = await waitForLog('listening');
    return {
      url: String(listening['url']),
      pid,
      child,
      logs,
      stderr: () => stderr,
      exited,
      waitForLog,
      signal,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `PRAGMA integrity_check` of a SQLite file (opening it also recovers its WAL). */
export function integrityCheck(dbPath: string): string {
  const db = new Database(dbPath);
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((row) => row.integrity_check)
      .join('\n');
  } finally {
    db.close();
  }
}

/** Runs `read` over a fresh connection to the SQLite file and closes it. */
export function readDb<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Writes to the SQLite file at `dbPath` (which must exist) through a connection of its own. */
export function writeDb<T>(dbPath: string, write: (db: Database.Database) => T): T {
  return readDb(dbPath, write);
}
