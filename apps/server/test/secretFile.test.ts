import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, MIN_SECRET_LENGTH } from '../src/config.js';
import { resolveSecret } from '../src/secret.js';
import { SERVER_DIR, runCli, scratchSpace, serverEnv } from './support/childServer.js';

/** Runs resolveSecret in a separate process and returns the secret it settled on. */
function resolveInChild(dataDir: string): Promise<string> {
  const script =
    "const { resolveSecret } = await import('./src/secret.ts');" +
    'process.stdout.write(resolveSecret(undefined, process.argv[1]));';
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, dataDir],
      { cwd: SERVER_DIR, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`child exited ${code}`)),
    );
  });
}

describe('the generated signing secret (DATA_DIR/secret)', () => {
  const { fresh } = scratchSpace('tickets-secret-');

  it('is generated once, private to its owner, and read back on the next start', () => {
    const dir = fresh().dir;
    const first = resolveSecret(undefined, join(dir, 'data'));
    const path = join(dir, 'data', 'secret');
    expect(first.length).toBeGreaterThanOrEqual(MIN_SECRET_LENGTH);
    expect(readFileSync(path, 'utf8')).toBe(`${first}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Only the secret is left in the folder: no temporary file.
    expect(readdirSync(join(dir, 'data'))).toEqual(['secret']);
    expect(resolveSecret(undefined, join(dir, 'data'))).toBe(first);
  });

  it.each([
    ['empty (a crash during the first start)', ''],
    ['too short', `${'s'.repeat(MIN_SECRET_LENGTH - 1)}\n`],
    ['more than one line', `${'a'.repeat(20)}\n${'b'.repeat(20)}\n`],
  ])('an existing file that is %s is neither used nor overwritten', (_, content) => {
    const dir = fresh().dir;
    const path = join(dir, 'secret');
    writeFileSync(path, content, { mode: 0o600 });
    let refused: unknown;
    try {
      resolveSecret(undefined, dir);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain(path);
    expect((refused as Error).message).toContain(`at least ${MIN_SECRET_LENGTH} characters`);
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('a secret the operator put there, of the minimum length, is used as it is', () => {
    const dir = fresh().dir;
    const operators = 'o'.repeat(MIN_SECRET_LENGTH);
    writeFileSync(join(dir, 'secret'), operators);
    expect(resolveSecret(undefined, dir)).toBe(operators);
  });

  it('TICKETS_SECRET wins: the folder is not read, nothing is written', () => {
    const dir = fresh().dir;
    writeFileSync(join(dir, 'secret'), '');
    expect(resolveSecret('k'.repeat(40), dir)).toBe('k'.repeat(40));
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('');
  });

  it('servers starting together on an empty folder all settle on the one secret on disk', async () => {
    const dir = join(fresh().dir, 'data');
    const secrets = await Promise.all(Array.from({ length: 4 }, () => resolveInChild(dir)));
    const onDisk = readFileSync(join(dir, 'secret'), 'utf8');
    expect(secrets.map((secret) => `${secret}\n`)).toEqual(Array(4).fill(onDisk));
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('serve refuses to start on an unusable secret file, naming it, with exit code 2', async () => {
    const dir = fresh().dir;
    const path = join(dir, 'secret');
    writeFileSync(path, '');
    const result = await runCli(['serve'], serverEnv(dir));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`configuration: the signing secret in ${path} is unusable`);
    expect(result.stderr).not.toContain('listening');
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});
