// The server as the packed tarball ships it (run by `prepack`, after the TypeScript build):
// src/cli.ts and src/index.ts bundled by esbuild over dist/cli.js and dist/index.js, with the
// private workspace packages (@tickets/domain, @tickets/contract) inlined and every dependency
// of package.json left to npm. Shared code goes to dist/chunks/. The license goes along.
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(join(root, 'dist/chunks'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts', 'src/index.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: `node${pkg.engines.node.replace(/^>=/, '')}`,
  // A dependency (and its subpaths) is imported at run time from node_modules, never inlined.
  external: Object.keys(pkg.dependencies),
  logLevel: 'warning',
});
copyFileSync(join(root, '../../LICENSE'), join(root, 'dist/LICENSE'));
