import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The server package's version and licence (`--version`, the OpenAPI `info`): read from its
 * package.json, found by walking up from this module, which sits in src/ when run from source,
 * in dist/ when built, in a chunk of the bundle when installed from the packed tarball.
 */
const PACKAGE: { readonly version: string; readonly license: string } = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
        license?: string;
      };
      if (pkg.name === '@tickets/server' && pkg.version && pkg.license) {
        return { version: pkg.version, license: pkg.license };
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the package.json of @tickets/server was not found');
    dir = parent;
  }
})();

export const PACKAGE_VERSION = PACKAGE.version;

/** An SPDX identifier, e.g. `MIT`. */
export const PACKAGE_LICENSE = PACKAGE.license;
