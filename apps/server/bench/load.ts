/**
 * The benchmark's load: Debian's `wrk` with bench/load.lua, in a process of its own on
 * 127.0.0.1, pinned to the last core when there are two or more (the servers get the first).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('load.lua', import.meta.url));

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  /** Latency percentiles, milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly socketErrors: number;
  /** Responses by HTTP status. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** `taskset` arguments that pin a process to one core (none on a single core). */
export function pinned(core: 'server' | 'load', command: string[]): string[] {
  const cores = availableParallelism();
  if (cores < 2) return command;
  return ['taskset', '-c', core === 'server' ? '0' : String(cores - 1), ...command];
}

/** Runs wrk for `seconds` against `url` with `connections` and the script's mode arguments. */
export function runLoad(
  url: string,
  connections: number,
  seconds: number,
  args: readonly string[],
): Promise<LoadResult> {
  const command = pinned('load', [
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    SCRIPT,
    url,
    '--',
    ...args,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) =>
      reject(new Error(`cannot run wrk (apt-get install wrk): ${error.message}`)),
    );
    child.on('close', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (exit ${code}):\n${output}`));
        return;
      }
      const raw = JSON.parse(line.slice('WRK_RESULT '.length)) as LoadResult;
      resolve({ ...raw, p50: raw.p50 / 1000, p99: raw.p99 / 1000 });
    });
  });
}
