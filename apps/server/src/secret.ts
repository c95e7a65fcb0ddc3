import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MIN_SECRET_LENGTH } from './config.js';

/**
 * The cookie signing key: `TICKETS_SECRET` when given, else one generated once and kept in the
 * data folder (readable by its owner only), so sessions survive restarts. An existing file that
 * holds no usable secret (too short, e.g. empty after a crash, or with control characters) stops
 * the start with a {@link ConfigError} naming it: it is neither used nor overwritten, since an
 * operator may have put it there.
 */
export function resolveSecret(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) return configured;
  const path = join(dataDir, 'secret');
  const existing = readSecret(path);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  return createSecretFile(dataDir, path, secret) ? secret : readSecret(path)!;
}

/** The secret in the file, or undefined when there is no file; throws when it is unusable. */
function readSecret(path: string): string | undefined {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Like TICKETS_SECRET_FILE: one value, its trailing newline dropped.
  const secret = content.replace(/\r?\n$/, '');
  // eslint-disable-next-line no-control-regex
  if (secret.length < MIN_SECRET_LENGTH || /[\u0000-\u001f\u007f]/.test(secret)) {
    throw new ConfigError(
      `the signing secret in ${path} is unusable (it must be one line of at least ` +
        `${MIN_SECRET_LENGTH} characters): put a valid one there, or delete the file to have ` +
        'a new one generated (which ends every session), or set TICKETS_SECRET',
    );
  }
  return secret;
}

/**
 * Writes the secret whole or not at all: into a private temporary file in the same folder,
 * flushed to disk, then linked to its name, which fails when another starter got there first.
 * Returns false then (the caller reads the winner's file, complete since it was linked).
 */
function createSecretFile(dataDir: string, path: string, secret: string): boolean {
  const temporary = join(dataDir, `.secret-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    try {
      writeSync(fd, `${secret}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    syncFolder(dataDir);
    return true;
  } finally {
    unlinkSync(temporary);
  }
}

/** Makes the new name durable: a crash after it leaves the whole file, never an empty one. */
function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
