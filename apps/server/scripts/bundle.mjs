// The server as the packed tarball ships it (run by `prepack`, after the TypeScript build):
// src/cli.ts and src/index.ts bundled by esbuild over dist/cli.js and dist/index.js, with the
// private workspace packages (@tickets/domain, @tickets/contract) inlined and every dependency
// of package.json left to npm. Shared code goes to dist/chunks/. The license goes along.
// `--restore` (postpack) puts the workspace's own build back: the TypeScript output, in which
// dist/cli.js and dist/index.js import the workspace packages like every other file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(join(root, 'dist/chunks'), { recursive: true, force: true });
if (process.argv.includes('--restore')) {
  rmSync(join(root, 'dist/LICENSE'), { force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(0);
}
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
