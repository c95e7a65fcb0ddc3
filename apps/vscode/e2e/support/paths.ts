import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/vscode/e2e */
export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** apps/vscode, the extension's workspace. */
export const EXTENSION_DIR = resolve(E2E_DIR, '..');
/** The repository's root. */
export const REPO_DIR = resolve(EXTENSION_DIR, '../..');
/** apps/server, whose built CLI the tests start. */
export const SERVER_DIR = join(REPO_DIR, 'apps/server');
/** Screenshots and kept logs, one folder per scenario (gitignored). */
export const SCREENSHOTS_DIR = join(E2E_DIR, 'screenshots');
/** The script that installs code-server, Chromium and friends. */
export const SETUP_SCRIPT = join(E2E_DIR, 'setup.sh');
/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';
