import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from './paths.js';
import { startGroup, type ProcessGroup } from './processes.js';
import { SERVER_BIN } from './tools.js';

/** A hang guard for start-up, not an expectation of speed. */
const START_LIMIT_MS = 90_000;

export interface TicketsServer {
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again (after `stop`) on the same port, over the same database. */
  restart(): Promise<void>;
}

/** The server's environment: a SQLite file in `dataDir`, loopback, no demo tenant. */
function serverEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dataDir, 'tickets.db')}`,
    TICKETS_DATA_DIR: dataDir,
    TICKETS_DEMO: 'off',
    LOG_LEVEL: 'info',
  };
}

/**
 * Provisions `provisioning` (the `provision` command's JSON; `files` are written beside it, for
 * the workflows it names) into a new SQLite database in `dataDir`, with the real CLI, then
 * starts `tickets-server serve` on a free port. Its log goes to `logFile`.
 */
export async function startTicketsServer(options: {
  readonly dataDir: string;
  readonly provisioning: unknown;
  readonly files?: Readonly<Record<string, string>>;
  readonly logFile: string;
}): Promise<TicketsServer> {
  const env = serverEnv(options.dataDir);
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(options.dataDir, name), content);
  }
  const provisioningFile = join(options.dataDir, 'provision.json');
  writeFileSync(provisioningFile, JSON.stringify(options.provisioning, null, 2));
  const provisioned = spawnSync(process.execPath, [SERVER_BIN, 'provision', provisioningFile], {
    cwd: REPO_DIR,
    env,
    encoding: 'utf8',
    timeout: START_LIMIT_MS,
  });
  if (provisioned.status !== 0) {
    throw new Error(`provisioning failed (exit ${provisioned.status}):\n${provisioned.stderr}`);
  }

  let group = await serve(env, options.logFile);
  const url = group.url;
  const port = new URL(url).port;
  return {
    url,
    stop: () => group.stop(),
    restart: async () => {
      await group.stop();
      group = await serve({ ...env, PORT: port }, options.logFile);
    },
  };
}

/** Starts `tickets-server serve` and waits for its `listening` log line. */
async function serve(
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<ProcessGroup & { readonly url: string }> {
  const group = startGroup(process.execPath, [SERVER_BIN, 'serve'], {
    cwd: REPO_DIR,
    env,
    logFile,
  });
  try {
    const [line] = await group.waitForOutput(/^\{.*"msg":"listening".*\}$/m, START_LIMIT_MS);
    const url = (JSON.parse(line) as { url?: unknown }).url;
    if (typeof url !== 'string') throw new Error(`the server logged no URL: ${line}`);
    return { ...group, url };
  } catch (error) {
    await group.stop();
    throw error;
  }
}
