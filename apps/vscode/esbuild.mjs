// Bundles the extension into one CommonJS file, dist/extension.js, with @tickets/client and
// everything it needs inside; only `vscode` (the editor's own module) stays outside.
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import path from 'node:path';

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

const production = !process.argv.includes('--dev');
const outfile = 'dist/extension.js';

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  minify: production,
  sourcemap: production ? false : 'linked',
  // The extension host's Node has fetch, EventSource's needs and crypto.randomUUID built in.
  mainFields: ['module', 'main'],
  conditions: ['import', 'node'],
  logLevel: 'warning',
  legalComments: 'external',
  plugins: [pureWorkspacePackages],
});

const kib = (statSync(outfile).size / 1024).toFixed(1);
process.stdout.write(`${outfile}: ${kib} KiB\n`);
