// Readies an empty folder for `npm ci` of the packed server (the Dockerfile's install stage):
// a package.json that depends on the tarball alone, and a package-lock.json cut from the
// repository's, so the production dependencies are installed at the versions and integrity
// hashes package-lock.json pins (the ones the tests ran against), never at whatever the registry
// has published since within package.json's ranges. The lockfile comes from the same helper
// packedTarball.test.ts installs the tarball with, so the image installs what that test checks.
//
//   node --import tsx deploy/tarball-folder.ts <tickets-server-x.y.z.tgz> <folder>
//
// Run from the repository's root (tsx is one of its dev dependencies).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockfileForTarball } from '../apps/server/scripts/tarballLockfile.js';

const [tarball, folder, ...rest] = process.argv.slice(2);
if (!tarball || !folder || rest.length > 0) {
  process.stderr.write('usage: tarball-folder.ts <tarball> <folder>\n');
  process.exit(2);
}
const repositoryLock = resolve(import.meta.dirname, '../package-lock.json');
const file = resolve(tarball);
writeFileSync(
  join(folder, 'package.json'),
  `${JSON.stringify(
    {
      name: 'tickets-server-install',
      private: true,
      dependencies: { '@tickets/server': `file:${file}` },
      // npm 11 runs only the install scripts a project allows: the SQLite driver's build.
      allowScripts: { 'better-sqlite3': true },
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  join(folder, 'package-lock.json'),
  `${JSON.stringify(lockfileForTarball(repositoryLock, file), null, 2)}\n`,
);
