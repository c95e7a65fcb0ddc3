import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version of the server package (`--version`, the OpenAPI `info.version`): read from its
 * package.json, found by walking up from this module, which sits in src/ when run from source,
 * in dist/ when built, in a chunk of the bundle when installed from the packed tarball.
 */
export const PACKAGE_VERSION: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@tickets/server' && pkg.version) return pkg.version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the package.json of @tickets/server was not found');
    dir = parent;
  }
})();
