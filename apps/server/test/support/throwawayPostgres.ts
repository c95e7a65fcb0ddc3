/**
 * A PostgreSQL cluster of the test's own, to stop and start while a server uses it: `initdb` into
 * a temporary folder, on a free port, its Unix socket in that folder too. PostgreSQL refuses to
 * run as root, so as root the binaries run as the `postgres` user (runuser). The binaries are
 * found in PG_BIN, else the newest /usr/lib/postgresql/N/bin, else on the PATH (`pg_config`).
 * `destroy()` stops it and removes the folder; call it whatever happened.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly tcpUrl: string;
  /** The same database through the Unix socket: `postgres://postgres@/postgres?host=DIR&port=PORT` */
  readonly socketUrl: string;
  /** The folder holding the socket file `.s.PGSQL.PORT`. */
  readonly socketDir: string;
  readonly port: number;
  /** Whether it was last started (and not stopped since). */
  readonly running: boolean;
  /** `pg_ctl stop`: `fast` ends every session (57P01), `immediate` drops them (a crash). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start`, answering once the server takes connections. */
  start(): Promise<void>;
  /** Stops the server if it runs and removes its folder. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const configured = process.env['PG_BIN'];
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'no PostgreSQL binaries (initdb, pg_ctl) found: install PostgreSQL or set PG_BIN to their folder',
    );
  }
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = binDir();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tickets-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  mkdirSync(socketDir);
  if (asRoot) {
    const owner = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    for (const path of [dir, socketDir]) chownSync(path, Number(owner), Number(group));
  }
  chmodSync(dir, 0o755);
  /** Runs a PostgreSQL tool without blocking the event loop (the server under test shares it). */
  const run = async (tool: string, args: string[]): Promise<void> => {
    const command = join(bin, tool);
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
      : [command, args];
    await execFileAsync(file, argv, { cwd: dir, timeout: 120_000 });
  };
  const port = await freePort();
  let running = false;
  const instance: ThrowawayPostgres = {
    tcpUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    socketUrl: `postgres://postgres@/postgres?host=${encodeURIComponent(socketDir)}&port=${port}`,
    socketDir,
    port,
    get running() {
      return running;
    },
    async start() {
      await run('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${socketDir} -c max_connections=40 -c shared_buffers=16MB`,
        'start',
      ]);
      running = true;
    },
    async stop(mode = 'fast') {
      await run('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', mode, 'stop']);
      running = false;
    },
    async destroy() {
      try {
        if (running) await instance.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await instance.start();
  } catch (error) {
    await instance.destroy();
    throw error;
  }
  return instance;
}
