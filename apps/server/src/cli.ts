import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { StoreBusyError } from './errors/appError.js';
import { createLogger } from './logger.js';
import { startServer } from './main.js';
import { provision, ProvisionError } from './provision.js';
import { openStore } from './store/openStore.js';
import { isConnectionLost } from './store/postgres/postgresStore.js';

const USAGE = `Usage: tickets-server <command> [options]

Commands:
  serve            serve the REST API (default)
  migrate          apply pending database migrations, then exit
  provision FILE   apply a provisioning JSON file (idempotent), then exit

Options (each also an environment variable of the same name):
  --host HOST                      HOST (127.0.0.1)
  --port PORT                      PORT (8080)
  --database-url URL               DATABASE_URL (sqlite:./data/tickets.db; or postgres://...)
  --tickets-secret KEY             TICKETS_SECRET (generated into the data folder)
  --tickets-session-minutes N      TICKETS_SESSION_MINUTES (30)
  --tickets-session-max-minutes N  TICKETS_SESSION_MAX_MINUTES (480)
  --tickets-csrf write|all|off     TICKETS_CSRF (write)
  --tickets-data-dir DIR           TICKETS_DATA_DIR (./data)
  --tickets-demo on|off            TICKETS_DEMO (on: provision the demo tenant on an empty database)
  --tickets-trust-proxy on|off     TICKETS_TRUST_PROXY (off: trust X-Forwarded-Proto from a TLS proxy)
  --log-level LEVEL                LOG_LEVEL (info)
`;

/** Why a server cannot listen, answered in words rather than a stack trace. */
const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** The command line: returns the exit code (`serve` resolves only when the server has stopped). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const takesValue = (arg: string | undefined): boolean =>
    arg !== undefined && arg.startsWith('--') && !arg.includes('=');
  const positional = rest.filter((arg, i) => !arg.startsWith('--') && !takesValue(rest[i - 1]));
  const flags = rest.filter((arg, i) => arg.startsWith('--') || takesValue(rest[i - 1]));
  let databaseUrl: string | undefined;
  try {
    const config = loadConfig(process.env, flags);
    if (config.database.kind === 'postgres') databaseUrl = config.database.url;
    const logger = createLogger(config.logLevel);
    switch (command) {
      case 'serve': {
        let running: Awaited<ReturnType<typeof startServer>>;
        try {
          running = await startServer(config, logger);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code && LISTEN_ERRORS.has(code)) {
            process.stderr.write(
              `cannot listen on ${config.host}:${config.port}: ${code} (check HOST and PORT)\n`,
            );
            return 1;
          }
          throw error;
        }
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ signal }, 'shutting down');
            running.close().then(resolve, (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              resolve();
            });
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        return 0;
      }
      case 'migrate': {
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
      case 'provision': {
        const file = positional[0];
        if (!file) {
          process.stderr.write('provision needs a FILE\n\n' + USAGE);
          return 2;
        }
        let input: unknown;
        try {
          input = JSON.parse(readFileSync(file, 'utf8'));
        } catch (error) {
          process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
          return 1;
        }
        const store = await openStore(config.database);
        try {
          const summary = await provision(store, input, {
            readFile: (path) => readFileSync(resolve(dirname(file), path), 'utf8'),
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
      default:
        process.stderr.write(`unknown command ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration: ${error.message}\n`);
      return 2;
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

/** The database is down, unreachable, refuses the credentials or does not exist. */
function cannotUseDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    isConnectionLost(error) ||
    (typeof code === 'string' && ['28P01', '28000', '3D000'].includes(code))
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
