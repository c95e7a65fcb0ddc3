import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXTENSION_DIR, REPO_DIR, SERVER_DIR, SETUP_SCRIPT } from './paths.js';

/** The set-up script may install Debian packages and code-server: minutes on a fresh machine. */
const SETUP_LIMIT_MS = 20 * 60_000;
const BUILD_LIMIT_MS = 10 * 60_000;

/**
 * Runs e2e/setup.sh (a few seconds when everything is installed; it installs what is missing)
 * and answers the code-server folder it reports.
 */
export function ensureTools(): string {
  const result = spawnSync('bash', [SETUP_SCRIPT], {
    cwd: REPO_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: SETUP_LIMIT_MS,
  });
  const dir = /^code-server-dir=(.+)$/m.exec(result.stdout ?? '')?.[1];
  if (result.status !== 0 || dir === undefined) {
    throw new Error(
      `${SETUP_SCRIPT} failed (exit ${result.status ?? result.signal}); its messages are above`,
    );
  }
  return dir;
}

/** The newest modification time of the files under `dir` (0 when it does not exist). */
function newestUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * True when `output` is missing, or when a file it is built from is newer than everything in its
 * folder (a compiler may leave the outputs of unchanged files as they were).
 */
function stale(output: string, sources: readonly string[]): boolean {
  if (!existsSync(output)) return true;
  const built = newestUnder(dirname(output));
  return sources.some((source) =>
    statSync(source).isDirectory() ? newestUnder(source) > built : statSync(source).mtimeMs > built,
  );
}

function run(command: string, args: readonly string[], what: string): void {
  process.stderr.write(`e2e: building ${what}\n`);
  const result = spawnSync(command, args, {
    cwd: REPO_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: BUILD_LIMIT_MS,
  });
  if (result.status !== 0) throw new Error(`building ${what} failed (exit ${result.status})`);
}

/** The built server's CLI, the extension's bundle and its manifest. */
export const SERVER_BIN = join(SERVER_DIR, 'bin/tickets-server.js');
export const EXTENSION_BUNDLE = join(EXTENSION_DIR, 'dist/extension.js');
export const EXTENSION_MANIFEST = join(EXTENSION_DIR, 'package.json');

/**
 * Builds the server (with the packages it needs, through turbo) and the extension's bundle when
 * they are missing or older than their sources, so the tests never run yesterday's code.
 */
export function ensureBuilt(): void {
  const serverSources = ['apps/server/src', 'packages/domain/src', 'packages/contract/src'].map(
    (dir) => join(REPO_DIR, dir),
  );
  if (stale(join(SERVER_DIR, 'dist/cli.js'), serverSources)) {
    run(
      'npx',
      ['turbo', 'run', 'build', '--filter=@tickets/server', '--output-logs=errors-only'],
      'the server',
    );
  }
  const extensionSources = [
    join(EXTENSION_DIR, 'src'),
    join(REPO_DIR, 'packages/client/src'),
    EXTENSION_MANIFEST,
  ];
  if (stale(EXTENSION_BUNDLE, extensionSources)) {
    run(
      'npx',
      ['turbo', 'run', 'build', '--filter=tickets-vscode', '--output-logs=errors-only'],
      'the extension',
    );
  }
}
