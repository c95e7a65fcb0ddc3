import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXTENSION_DIR } from './paths.js';
import { startGroup } from './processes.js';
import { EXTENSION_MANIFEST } from './tools.js';

/** Hang guards for start-up, not expectations of speed. */
const START_LIMIT_MS = 90_000;
const HEALTH_POLL_MS = 250;

/** Settings every run starts with: no tips, tours, trust prompts or update checks. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export interface CodeServer {
  /** The workbench's URL, with the workspace folder open. */
  readonly workbenchUrl: string;
  /** The user-data-dir's logs folder: the server's, the extension host's and the output channels'. */
  readonly logsDir: string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /** The code-server folder e2e/setup.sh reports. */
  readonly codeServerDir: string;
  /** A fresh folder for this run; everything code-server writes goes below it. */
  readonly runDir: string;
  /** User settings besides the quiet defaults. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Files of the workspace folder that is opened, by relative path. */
  readonly workspaceFiles?: Readonly<Record<string, string>>;
  readonly logFile: string;
}

/**
 * Installs the built extension (its manifest, `dist/` and `media/`) into a fresh extensions
 * folder, the way a .vsix would lay it out: `<publisher>.<name>-<version>`.
 */
function installExtension(extensionsDir: string): void {
  const manifest = JSON.parse(readFileSync(EXTENSION_MANIFEST, 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const target = join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  mkdirSync(target, { recursive: true });
  for (const entry of ['package.json', 'dist', 'media', 'README.md', 'LICENSE']) {
    const source = join(EXTENSION_DIR, entry);
    if (existsSync(source)) cpSync(source, join(target, entry), { recursive: true });
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).ok;
  } catch {
    return false;
  }
}

/**
 * Starts code-server on a free loopback port with a fresh user-data-dir, extensions folder and
 * XDG folders under `runDir` (so nothing is written to the home folder), the extension
 * installed and `settings` seeded, and waits until it answers `/healthz`.
 */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const dir = (name: string): string => {
    const path = join(options.runDir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const userDataDir = dir('user-data');
  const extensionsDir = dir('extensions');
  const workspaceDir = dir('workspace');
  const xdg = dir('xdg');
  installExtension(extensionsDir);
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(
    join(userDataDir, 'User/settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2),
  );
  for (const [path, content] of Object.entries(options.workspaceFiles ?? {})) {
    writeFileSync(join(workspaceDir, path), content);
  }
  const configFile = join(options.runDir, 'code-server.yaml');
  writeFileSync(configFile, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    TMPDIR: options.runDir,
    XDG_CONFIG_HOME: join(xdg, 'config'),
    XDG_DATA_HOME: join(xdg, 'data'),
    XDG_CACHE_HOME: join(xdg, 'cache'),
  };
  const group = startGroup(
    join(options.codeServerDir, 'node_modules/.bin/code-server'),
    [
      '--config',
      configFile,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--extensions-dir',
      extensionsDir,
      '--user-data-dir',
      userDataDir,
      workspaceDir,
    ],
    { cwd: options.runDir, env, logFile: options.logFile },
  );
  try {
    const [, url] = await group.waitForOutput(
      /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/,
      START_LIMIT_MS,
    );
    const base = url!;
    const deadline = Date.now() + START_LIMIT_MS;
    while (!(await healthy(base))) {
      if (Date.now() > deadline) throw new Error(`code-server at ${base} never became healthy`);
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
    return {
      workbenchUrl: `${base}/?folder=${encodeURIComponent(workspaceDir)}`,
      logsDir: join(userDataDir, 'logs'),
      stop: () => group.stop(),
    };
  } catch (error) {
    await group.stop();
    throw error;
  }
}
