import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SCREENSHOTS_DIR } from './paths.js';
import { EXTENSION_BUNDLE } from './tools.js';

/** What one scenario measured, written beside its screenshots for the run's summary. */
export interface ScenarioMeasurements {
  readonly scenario: string;
  /** From the scenario's first hook to the end of its clean-up, code-server's start included. */
  readonly wallMs: number;
  /** What the extension logged as `activated in N ms`, if it did. */
  readonly activationMs: number | undefined;
}

export const MEASUREMENTS_FILE = 'measurements.json';

/** The extension's `activated in N ms` line, found in the log files under `logsDir`. */
export function activationMs(logsDir: string): number | undefined {
  if (!existsSync(logsDir)) return undefined;
  for (const entry of readdirSync(logsDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.log')) continue;
    const match = /activated in (\d+(?:\.\d+)?) ?ms/.exec(
      readFileSync(join(entry.parentPath, entry.name), 'utf8'),
    );
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The measurements of the scenarios that ran since `since` (epoch ms), as a few lines of text. */
export function summary(since: number, runWallMs: number): string {
  const scenarios: ScenarioMeasurements[] = [];
  if (existsSync(SCREENSHOTS_DIR)) {
    for (const name of readdirSync(SCREENSHOTS_DIR)) {
      const file = join(SCREENSHOTS_DIR, name, MEASUREMENTS_FILE);
      if (existsSync(file) && statSync(file).mtimeMs >= since) {
        scenarios.push(JSON.parse(readFileSync(file, 'utf8')) as ScenarioMeasurements);
      }
    }
  }
  const lines = [`end-to-end run: ${seconds(runWallMs)} wall, set-up and builds included`];
  for (const scenario of scenarios.sort((a, b) => a.scenario.localeCompare(b.scenario))) {
    const activation =
      scenario.activationMs === undefined ? 'not logged' : `${scenario.activationMs} ms`;
    lines.push(
      `  ${scenario.scenario}: ${seconds(scenario.wallMs)} wall; extension activated in ${activation}`,
    );
  }
  if (existsSync(EXTENSION_BUNDLE)) {
    lines.push(
      `  bundle dist/extension.js: ${(statSync(EXTENSION_BUNDLE).size / 1024).toFixed(1)} KiB`,
    );
  }
  lines.push(
    '  (targets, reported and never asserted: activation under 100 ms, bundle under 400 KB)',
  );
  return lines.join('\n');
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
