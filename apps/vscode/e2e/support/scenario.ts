import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { startCodeServer, type CodeServer } from './codeServer.js';
import { activationMs, MEASUREMENTS_FILE, type ScenarioMeasurements } from './measurements.js';
import { SCREENSHOTS_DIR } from './paths.js';
import { removeAtExit } from './processes.js';
import { restLogin, restLoginRefusal, type RestUser } from './rest.js';
import { startTicketsServer, type TicketsServer } from './ticketsServer.js';
import { Workbench } from './workbench.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The code-server folder e2e/setup.sh reported (see globalSetup.ts). */
    codeServerDir: string;
  }
}

export interface ScenarioSetup {
  /** The folder under e2e/screenshots/ for this scenario's screenshots (and logs, on failure). */
  readonly name: string;
  /** The `provision` command's JSON for the server's database. */
  readonly provisioning: unknown;
  /** Files written beside the provisioning file (the workflows it names). */
  readonly files?: Readonly<Record<string, string>>;
  /** The tenant the extension signs in to. */
  readonly tenant: string;
  /** VS Code user settings besides `tickets.serverUrl` and `tickets.tenant`. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Files of the workspace folder that is opened, by name. */
  readonly workspaceFiles?: Readonly<Record<string, string>>;
}

/** What a scenario's tests use, once its `beforeAll` has run. */
export interface Scenario {
  readonly workbench: Workbench;
  /** The tickets server, to stop and start again. */
  readonly server: Pick<TicketsServer, 'stop' | 'restart'>;
  /** Logs a user in through the REST API, as someone working beside the editor. */
  rest(email: string, password: string): Promise<RestUser>;
  /** The server's reason for refusing this login through the REST API. */
  loginRefusal(email: string, password: string): Promise<string>;
}

/**
 * Registers the hooks of one end-to-end scenario: a real tickets server over a fresh SQLite
 * database, code-server with the built extension and fresh folders, and Chromium on its
 * workbench. Everything started is stopped, and every temporary folder removed, in `afterAll`,
 * whatever happened. Screenshots, and the output of both servers, go to
 * e2e/screenshots/<name>/, emptied first; when a test failed, a screenshot of that moment and a
 * copy of code-server's logs (the extension host's among them) are kept there too.
 */
export function useScenario(setup: ScenarioSetup): Scenario {
  const screenshotsDir = join(SCREENSHOTS_DIR, setup.name);
  let started = 0;
  let runDir: string | undefined;
  let server: TicketsServer | undefined;
  let codeServer: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let failed = false;

  beforeAll(async () => {
    started = performance.now();
    rmSync(screenshotsDir, { recursive: true, force: true });
    mkdirSync(screenshotsDir, { recursive: true });
    runDir = mkdtempSync(join(tmpdir(), `tickets-e2e-${setup.name}-`));
    removeAtExit(runDir);
    const serverDir = join(runDir, 'server');
    mkdirSync(serverDir);
    server = await startTicketsServer({
      dataDir: serverDir,
      provisioning: setup.provisioning,
      files: setup.files ?? {},
      logFile: join(screenshotsDir, 'tickets-server.log'),
    });
    codeServer = await startCodeServer({
      codeServerDir: inject('codeServerDir'),
      runDir: join(runDir, 'code-server'),
      settings: {
        'tickets.serverUrl': server.url,
        'tickets.tenant': setup.tenant,
        ...setup.settings,
      },
      workspaceFiles: setup.workspaceFiles ?? {},
      logFile: join(screenshotsDir, 'code-server.log'),
    });
    workbench = await Workbench.open(
      codeServer.workbenchUrl,
      screenshotsDir,
      join(runDir, 'browser'),
    );
  });

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    failed = true;
    const step = `failed-${context.task.name.replace(/\W+/g, '-').slice(0, 60)}`;
    // The test has failed already; a page too broken for a screenshot should not hide why.
    await workbench?.screenshot(step).catch((error: unknown) => {
      process.stderr.write(`e2e ${setup.name}: no screenshot of the failure: ${String(error)}\n`);
    });
  });

  afterAll(async () => {
    const logsDir = codeServer?.logsDir;
    await inTurn([
      () => workbench?.close(),
      () => codeServer?.stop(),
      () => server?.stop(),
      () => {
        const measurements: ScenarioMeasurements = {
          scenario: setup.name,
          wallMs: Math.round(performance.now() - started),
          activationMs: logsDir === undefined ? undefined : activationMs(logsDir),
        };
        writeFileSync(join(screenshotsDir, MEASUREMENTS_FILE), JSON.stringify(measurements));
      },
      () => {
        if (!failed && workbench !== undefined) return;
        const kept = join(screenshotsDir, 'logs');
        if (logsDir !== undefined && existsSync(logsDir))
          cpSync(logsDir, kept, { recursive: true });
        process.stderr.write(
          `e2e ${setup.name} failed: screenshots and the servers' logs are in ${screenshotsDir},` +
            ` code-server's and the extension host's in ${kept}\n`,
        );
      },
      () => runDir !== undefined && rmSync(runDir, { recursive: true, force: true }),
    ]);
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the scenario's ${what} did not start`);
    return value;
  };
  return {
    get workbench() {
      return need(workbench, 'workbench');
    },
    get server() {
      return need(server, 'server');
    },
    rest: (email, password) => restLogin(need(server, 'server').url, setup.tenant, email, password),
    loginRefusal: (email, password) =>
      restLoginRefusal(need(server, 'server').url, setup.tenant, email, password),
  };
}

/** Runs every step, even after one failed, and then throws the first failure. */
async function inTurn(steps: readonly (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
