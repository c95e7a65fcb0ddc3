import type { TestProject } from 'vitest/node';
import { summary } from './measurements.js';
import { ensureBuilt, ensureTools } from './tools.js';

/**
 * Once per run: installs what is missing (e2e/setup.sh), builds the server and the extension
 * when their outputs are older than their sources, and hands the code-server folder to the
 * tests. At the end, prints what the run measured.
 */
export default function setup(project: TestProject): () => void {
  const started = Date.now();
  project.provide('codeServerDir', ensureTools());
  ensureBuilt();
  return () => {
    process.stdout.write(`\n${summary(started, Date.now() - started)}\n\n`);
  };
}
