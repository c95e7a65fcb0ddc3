import { closeSync, openSync } from 'node:fs';

/**
 * Creates the database file empty and readable by its owner only (0600, like the signing secret
 * beside it: it holds password hashes, session ids and CSRF tokens), unless it exists already; an
 * existing file keeps the mode its operator gave it. SQLite creates the `-wal` and `-shm` files
 * with the mode of the database file, so they are 0600 too.
 */
export function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
