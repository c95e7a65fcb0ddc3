// The bundle: one file, `vscode` left outside, the client inside, and none of what the extension
// does not use (zod, the XML workflow loader).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, without types.
import { bundle } from '../esbuild.mjs';

interface Metafile {
  outputs: Record<
    string,
    {
      imports: { path: string; external?: boolean }[];
      inputs: Record<string, { bytesInOutput: number }>;
    }
  >;
}

const dir = mkdtempSync(path.join(tmpdir(), 'tickets-vscode-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the bundle', () => {
  it('is one small file with the client inside and only vscode outside', async () => {
    const outfile = path.join(dir, 'extension.js');
    const { metafile, bytes } = (await bundle({ outfile })) as {
      metafile: Metafile;
      bytes: number;
    };
    // What is in the file (esbuild also lists what it read and then shook out, at 0 bytes).
    const inputs = Object.values(metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([name]) => name),
    );
    expect(inputs.some((input) => input.includes('packages/client/dist/'))).toBe(true);
    expect(inputs.some((input) => input.includes('node_modules/eventsource/'))).toBe(true);
    expect(inputs.filter((input) => /node_modules\/(zod|saxes)\//.test(input))).toEqual([]);
    const externals = Object.values(metafile.outputs).flatMap((output) =>
      output.imports.filter((i) => i.external).map((i) => i.path),
    );
    expect(
      new Set(externals.filter((name) => !name.startsWith('node:') && !isBuiltin(name))),
    ).toEqual(new Set(['vscode']));
    // The budget is 400 KB.
    expect(bytes).toBeLessThan(400 * 1024);
    expect(readFileSync(outfile, 'utf8')).toContain('activated in');
  });
});

function isBuiltin(name: string): boolean {
  return [
    'fs',
    'path',
    'http',
    'https',
    'net',
    'os',
    'url',
    'util',
    'crypto',
    'stream',
    'events',
    'zlib',
    'tls',
    'buffer',
  ].includes(name);
}
