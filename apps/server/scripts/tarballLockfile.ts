import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface LockEntry {
  readonly version: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [field: string]: unknown;
}

const SERVER = 'apps/server';
const INSTALLED_AT = 'node_modules/@tickets/server';

/** The folder a lockfile key's package is in, for Node's lookup: `a/node_modules/b` → `a`. */
function parentOf(key: string): string {
  if (key === SERVER) return '';
  const at = key.lastIndexOf('/node_modules/');
  return at < 0 ? '' : key.slice(0, at);
}

/**
 * A package-lock.json for a folder that installs only the packed server tarball, cut from the
 * repository's lockfile: the server's dependencies (and the peers npm would add) at the very
 * versions and integrities the repository uses, so `npm ci --offline` finds every tarball in
 * npm's cache without asking the registry for anything.
 */
export function lockfileForTarball(repositoryLock: string, tarball: string): object {
  const packages = (
    JSON.parse(readFileSync(repositoryLock, 'utf8')) as {
      packages: Record<string, LockEntry>;
    }
  ).packages;
  const server = packages[SERVER]!;
  const resolve = (name: string, from: string): string => {
    for (let dir = from; ; dir = parentOf(dir)) {
      const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (packages[key]) return key;
      if (!dir)
        throw new Error(`${name} (needed by ${from || 'the server'}) is not in the lockfile`);
    }
  };
  const needed = new Set<string>();
  const walk = (from: string, entry: LockEntry): void => {
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (name) => !entry.peerDependenciesMeta?.[name]?.optional,
    );
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ];
    for (const name of names) {
      const key = resolve(name, from);
      if (needed.has(key)) continue;
      needed.add(key);
      walk(key, packages[key]!);
    }
  };
  walk(SERVER, server);

  const tarballEntry = {
    version: server.version,
    resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    license: server['license'],
    engines: server['engines'],
    bin: server['bin'],
    dependencies: server.dependencies,
  };
  const installed: Record<string, unknown> = {
    '': { dependencies: { '@tickets/server': `file:${tarball}` } },
    [INSTALLED_AT]: tarballEntry,
  };
  for (const key of [...needed].sort()) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[key]!;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // The repository's lockfile may leave out registry URLs (omit-lockfile-registry-resolved).
    const resolved =
      entry.resolved ??
      `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    const at = key.startsWith(`${SERVER}/`)
      ? `${INSTALLED_AT}/${key.slice(SERVER.length + 1)}`
      : key;
    installed[at] = { ...entry, resolved };
  }
  return {
    name: 'tickets-server-install',
    lockfileVersion: 3,
    requires: true,
    packages: installed,
  };
}
