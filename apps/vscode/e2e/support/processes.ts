import { spawn } from 'node:child_process';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';

/** How long a group gets to exit after SIGTERM before it is SIGKILLed. */
const TERM_GRACE_MS = 5_000;

export interface GroupOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where stdout and stderr go, besides the in-memory copy. */
  readonly logFile: string;
}

/** A child started as the leader of a process group of its own (like `setsid`). */
export interface ProcessGroup {
  readonly pid: number;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output, now or later. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name) when the leader has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERMs the whole group, then SIGKILLs what is left after a grace period. */
  stop(): Promise<void>;
}

const running = new Set<number>();

const temporaryDirs = new Set<string>();

/** Removes `dir` when the test worker ends without its clean-up (interrupted, crashed). */
export function removeAtExit(dir: string): void {
  temporaryDirs.add(dir);
}

/**
 * A test worker that ends however it ends (Ctrl+C included) takes its process groups and
 * temporary folders with it; a normal run has stopped and removed them already.
 */
const cleanUpNow = (): void => {
  for (const pid of running) signalGroup(pid, 'SIGKILL');
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanUpNow();
    process.kill(process.pid, signal); // then end as the signal would have
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

function groupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `command args` in a new process group, its output copied to `logFile`. */
export function startGroup(
  command: string,
  args: readonly string[],
  options: GroupOptions,
): ProcessGroup {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  const pid = child.pid;
  running.add(pid);
  const log: WriteStream = createWriteStream(options.logFile, { flags: 'a' });
  let text = '';
  const watchers = new Set<() => void>();
  const take = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    log.write(chunk);
    for (const watcher of watchers) watcher();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (error) => {
      text += `\n${String(error)}\n`;
      resolve('error');
    });
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let leaderDone = false;
  void exited.then(() => {
    leaderDone = true;
    for (const watcher of watchers) watcher();
  });

  const waitForOutput = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = text.match(pattern);
        if (match) finish(() => resolve(match));
        else if (leaderDone)
          finish(() => reject(new Error(`${command} exited before printing ${pattern}:\n${text}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${command} did not print ${pattern}:\n${text}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        watchers.delete(check);
        settle();
      };
      watchers.add(check);
      check();
    });

  const stop = async (): Promise<void> => {
    if (signalGroup(pid, 'SIGTERM')) {
      const deadline = Date.now() + TERM_GRACE_MS;
      while (groupAlive(pid) && Date.now() < deadline) await delay(100);
      signalGroup(pid, 'SIGKILL');
    }
    await Promise.race([exited, delay(TERM_GRACE_MS)]);
    running.delete(pid);
    await new Promise<void>((resolve) => log.end(resolve));
  };

  return { pid, output: () => text, waitForOutput, exited, stop };
}
