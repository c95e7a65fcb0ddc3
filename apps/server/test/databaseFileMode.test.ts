import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSecret } from '../src/secret.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';

/** The permission bits of a file, e.g. 0o600. */
const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('the SQLite database file is private to its owner, like the signing secret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickets-mode-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file, its -wal and its -shm with mode 0600', async () => {
    const path = join(dir, 'data', 'tickets.db');
    const store = SqliteStore.open(path);
    try {
      // A write, so that the write-ahead log and its index certainly exist.
      await store.applyProvision({
        tenants: [{ id: 'acme', name: 'Acme' }],
        users: [],
        resources: [],
        tickets: [],
      });
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect({ file, mode: modeOf(file).toString(8) }).toEqual({ file, mode: '600' });
      }
      resolveSecret(undefined, join(dir, 'data'));
      expect(modeOf(join(dir, 'data', 'secret'))).toBe(modeOf(path));
    } finally {
      await store.close();
    }
  });

  it('leaves the mode of an existing database file as its operator set it', async () => {
    const path = join(dir, 'tickets.db');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    const store = SqliteStore.open(path);
    await store.close();
    expect(modeOf(path)).toBe(0o640);
  });
});
