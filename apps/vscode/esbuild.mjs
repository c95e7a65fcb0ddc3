// Bundles the extension into one CommonJS file, dist/extension.js, with @tickets/client and
// everything it needs inside; only `vscode` (the editor's own module) stays outside.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The workspace's pure packages (@tickets/domain, @tickets/contract) only declare values: marked
 * free of side effects, the modules of theirs the extension does not use (the XML workflow
 * loader, the zod schemas) stay out of the bundle.
 */
const pureWorkspacePackages = {
  name: 'pure-workspace-packages',
  setup(build) {
    build.onResolve({ filter: /^@tickets\/(domain|contract)$/ }, async (args) => {
      if (args.pluginData === 'pure') return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'pure',
      });
      return { ...resolved, sideEffects: false };
    });
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!/[\\/]packages[\\/](domain|contract)[\\/]dist[\\/]/.test(args.importer))
        return undefined;
      return { path: path.resolve(args.resolveDir, args.path), sideEffects: false };
    });
  },
};

/** Builds the bundle; answers esbuild's metafile (what went in) and the file's size in bytes. */
export async function bundle({
  outfile = path.join(here, 'dist/extension.js'),
  production = true,
} = {}) {
  const result = await build({
    entryPoints: [path.join(here, 'src/extension.ts')],
    bundle: true,
    outfile,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vscode'],
    minify: production,
    sourcemap: production ? false : 'linked',
    mainFields: ['module', 'main'],
    conditions: ['import', 'node'],
    logLevel: 'warning',
    legalComments: 'external',
    metafile: true,
    plugins: [pureWorkspacePackages],
  });
  return { metafile: result.metafile, bytes: statSync(outfile).size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { bytes } = await bundle({ production: !process.argv.includes('--dev') });
  process.stdout.write(`dist/extension.js: ${(bytes / 1024).toFixed(1)} KiB\n`);
}
