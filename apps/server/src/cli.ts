import { lookup } from 'node:dns/promises';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  loadConfig,
  optionsHelp,
  optionsOf,
  parseCommandLine,
  type Config,
} from './config.js';
import { StoreBusyError } from './errors/appError.js';
import { createLogger, type Logger } from './logger.js';
import { startServer } from './main.js';
import { PACKAGE_VERSION } from './packageVersion.js';
import { parseJsonFile } from './jsonFile.js';
import { provision, ProvisionError } from './provision.js';
import { openStore } from './store/openStore.js';
import { SchemaTooNewError } from './store/schemaVersion.js';
import { isConnectionLost } from './store/postgres/unreachable.js';

type Command = 'serve' | 'migrate' | 'provision';

/** The commands, their arguments and what they do: the help is written from this. */
const COMMANDS: Record<Command, { readonly args: string; readonly summary: string }> = {
  serve: { args: '', summary: 'serve the REST API, tRPC and /api/docs (the default command)' },
  migrate: { args: '', summary: 'apply pending database migrations, then exit' },
  provision: {
    args: ' FILE',
    summary:
      'apply a provisioning JSON file (idempotent; nothing applied if it has errors), then exit',
  },
};

const isCommand = (word: string): word is Command => Object.hasOwn(COMMANDS, word);

/** `tickets-server --help`: the commands, then every option. */
function usage(): string {
  const commands = Object.entries(COMMANDS)
    .map(([name, { args, summary }]) => `  ${(name + args).padEnd(16)} ${summary}`)
    .join('\n');
  return `Usage: tickets-server [<command>] [options]

Commands:
${commands}

Options (each flag is also an environment variable; a flag wins):
${optionsHelp(optionsOf('serve'))}  -h, --help         this help (also after a command: tickets-server provision --help)
  -V, --version      the version of tickets-server
`;
}

/** `tickets-server COMMAND --help`: that command and the options it takes. */
function commandUsage(command: Command): string {
  const { args, summary } = COMMANDS[command];
  return `Usage: tickets-server ${command}${args} [options]

${summary}

Options (each flag is also an environment variable; a flag wins):
${optionsHelp(optionsOf(command))}`;
}

/** Why a server cannot listen, answered in words rather than a stack trace. */
const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The command line: returns the exit code (`serve` resolves only when the server has stopped).
 * The command comes first and may be left out (`tickets-server --port 9000` serves).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === 'help') return main(['--help']);
  const named = first !== undefined && !first.startsWith('-');
  if (named && !isCommand(first)) {
    process.stderr.write(`unknown command ${first}\n\n${usage()}`);
    return 2;
  }
  const command: Command = named ? (first as Command) : 'serve';
  let databaseUrl: string | undefined;
  let databasePath: string | undefined;
  try {
    const commandLine = parseCommandLine(named ? argv.slice(1) : argv, optionsOf(command));
    if (commandLine.version) {
      process.stdout.write(`tickets-server ${PACKAGE_VERSION}\n`);
      return 0;
    }
    if (commandLine.help) {
      process.stdout.write(named ? commandUsage(command) : usage());
      return 0;
    }
    const [file, ...extra] = commandLine.positionals;
    if (command === 'provision' && file === undefined) {
      process.stderr.write(`provision needs a FILE\n\n${commandUsage('provision')}`);
      return 2;
    }
    const config = loadConfig(process.env, {
      ...commandLine,
      positionals: command === 'provision' ? extra : commandLine.positionals,
    });
    if (config.database.kind === 'postgres') databaseUrl = config.database.url;
    else databasePath = config.database.path;
    const logger = createLogger(config.logLevel);
    switch (command) {
      case 'serve':
        return await serve(config, logger);
      case 'migrate':
        return await migrate(config);
      case 'provision':
        return await provisionFile(config, file!);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration: ${error.message}\n`);
      return 2;
    }
    if (error instanceof SchemaTooNewError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    const unusable = unusableFile(error, databasePath);
    if (unusable !== undefined) {
      process.stderr.write(`${unusable}\n`);
      return 1;
    }
    const cause = error instanceof StoreBusyError ? error.cause : error;
    if (error instanceof StoreBusyError || cannotUseDatabase(cause)) {
      process.stderr.write(
        `cannot use the database${databaseUrl ? ` at ${withoutPassword(databaseUrl)}` : ''}: ${(cause as Error).message}\n`,
      );
      return 1;
    }
    throw error;
  }
}

/** `serve`: listens until SIGTERM or SIGINT, then drains and exits 0. */
async function serve(config: Config, logger: Logger): Promise<number> {
  // Before anything is created: a HOST that names no address is a mistake in the configuration.
  try {
    await lookup(config.host);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOTFOUND') {
      throw new ConfigError(`HOST ${config.host}: no such address or host name`);
    }
    // The resolver not answering (EAI_AGAIN): nothing wrong with the setting, yet no listening.
    process.stderr.write(`cannot resolve HOST ${config.host}: ${code ?? String(error)}\n`);
    return 1;
  }
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, logger);
  } catch (error) {
    const { code, syscall } = error as NodeJS.ErrnoException;
    // Only the listen's own (an EACCES of the data folder is not the port's).
    if (code && LISTEN_ERRORS.has(code) && (syscall === 'listen' || syscall === 'getaddrinfo')) {
      process.stderr.write(
        `cannot listen on ${config.host}:${config.port}: ${code} (check HOST and PORT)\n`,
      );
      return 1;
    }
    throw error;
  }
  // The first signal starts the drain; a second one (Ctrl-C under `npm start` reaches the server
  // twice: from the terminal, and passed on by cross-env) must not cut it short, so the
  // handlers stay until the server has stopped. The drain is bounded by itself (10 s).
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down: waiting for the requests in flight');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(stopped, (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      stopped();
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return 0;
}

async function migrate(config: Config): Promise<number> {
  const store = await openStore(config.database, { migrate: false });
  try {
    const applied = await store.migrate();
    process.stdout.write(
      applied.length > 0
        ? `applied migration(s) ${applied.join(', ')}; the database is up to date\n`
        : 'the database is up to date (nothing to apply)\n',
    );
  } finally {
    await store.close();
  }
  return 0;
}

async function provisionFile(config: Config, file: string): Promise<number> {
  let input: unknown;
  try {
    input = parseJsonFile(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  const store = await openStore(config.database);
  try {
    const summary = await provision(store, input, {
      readFile: (path) => readFileSync(resolve(dirname(file), path), 'utf8'),
      progress: (message) => process.stderr.write(`${message}\n`),
    });
    process.stdout.write(
      `provisioned: ${summary.tenants} tenant(s), ${summary.workflows} workflow(s), ${summary.users} user(s), ${summary.resources} resource(s), ${summary.tickets} ticket(s) created or changed\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ProvisionError) {
      process.stderr.write(`${error.message}\nnothing was applied\n`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

/** What the file system answers about a folder or file the server cannot use. */
const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'ELOOP']);

/**
 * The data folder, the secret file or the SQLite file cannot be used (read-only, owned by
 * another user, a path through a file, a full disk): one line naming it, not a stack trace.
 */
function unusableFile(error: unknown, databasePath: string | undefined): string | undefined {
  const { code, path, message } = (error ?? {}) as NodeJS.ErrnoException;
  const hint = '(check TICKETS_DATA_DIR, DATABASE_URL and the owner and mode of the folder)';
  if (typeof code === 'string' && FILE_ERRORS.has(code) && typeof path === 'string') {
    return `cannot use ${path}: ${code} ${hint}`;
  }
  // better-sqlite3's own, without a path: the database file could not be opened or written.
  if (typeof code === 'string' && /^SQLITE_(CANTOPEN|READONLY|PERM|FULL)/.test(code)) {
    return `cannot use the database file ${databasePath ?? ''}: ${message} ${hint}`;
  }
  return undefined;
}

/** Errors of a TLS handshake whose certificate was refused (`sslmode=verify-full`, say). */
const CERTIFICATE_ERRORS = /^(ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_)/;

/**
 * The database is down, unreachable, refuses the credentials, does not exist, or its TLS does
 * not do what the URL asks (node-postgres says "The server does not support SSL connections").
 */
function cannotUseDatabase(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && CERTIFICATE_ERRORS.test(code)) ||
    (typeof message === 'string' && /does not support SSL/.test(message))
  );
}

/** A database URL fit for a message: the password replaced. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the configured DATABASE_URL)';
  }
}

/** Run as a script (`tsx src/cli.ts serve`); `bin/tickets-server.js` does the same for dist. */
function runDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (runDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
