/** The benchmark's table: per scenario and server, medians over rounds and same-round ratios. */
import { SCENARIOS, type RunResult } from './scenarios.js';

export interface Sample extends RunResult {
  readonly round: number;
  /** Which of the run's phases (rounds of some scenarios, then rounds of others) it ran in. */
  readonly phase: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The median over rounds of this sample's req/s over the sample of `reference` of the same
 * phase and round ('–' when there is none).
 */
function ratio(samples: readonly Sample[], of: Sample[], reference: (s: Sample) => boolean) {
  const ratios = of.flatMap((sample) => {
    const ref = samples.find(
      (s) => s.phase === sample.phase && s.round === sample.round && reference(s),
    );
    return ref ? [sample.perSecond / ref.perSecond] : [];
  });
  return ratios.length > 0 ? median(ratios).toFixed(2) : '–';
}

export function printReport(samples: readonly Sample[]): void {
  // As wide as the longest scenario's name, so the columns line up.
  const width = Math.max(28, ...samples.map((s) => s.scenario.length));
  const header = [
    'scenario'.padEnd(width),
    'server'.padEnd(22),
    'req/s median (min–max)'.padEnd(24),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(8),
    'CPU µs/req'.padStart(10),
    'peak RSS'.padStart(9),
    '× baseline'.padStart(10),
    '× pg plain'.padStart(10),
    '  other answers',
  ].join(' ');
  console.log(header);
  console.log('-'.repeat(header.length));
  const keys = [...new Set(samples.map((s) => `${s.scenario}\u0000${s.server}`))];
  for (const key of keys) {
    const [scenario, server] = key.split('\u0000') as [string, string];
    const runs = samples.filter((s) => s.scenario === scenario && s.server === server);
    const rates = runs.map((s) => s.perSecond);
    // A product-only scenario is compared with the same round's baselines of another one.
    const refScenario = SCENARIOS.find((s) => s.name === scenario)?.comparedWith ?? scenario;
    const toBaseline = ratio(
      samples,
      runs,
      (s) => s.scenario === refScenario && s.role === 'baseline',
    );
    const toPlain = server.includes('PostgreSQL')
      ? ratio(samples, runs, (s) => s.scenario === refScenario && s.role === 'pg-plain')
      : '';
    console.log(
      [
        scenario.padEnd(width),
        server.padEnd(22),
        `${median(rates).toFixed(0)} (${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)})`.padEnd(
          24,
        ),
        median(runs.map((s) => s.p50))
          .toFixed(1)
          .padStart(7),
        median(runs.map((s) => s.p99))
          .toFixed(1)
          .padStart(8),
        median(runs.map((s) => s.cpuMicrosPerRequest))
          .toFixed(0)
          .padStart(10),
        `${Math.max(...runs.map((s) => s.peakRssMiB)).toFixed(0)} MiB`.padStart(9),
        toBaseline.padStart(10),
        toPlain.padStart(10),
        ` ${[...new Set(runs.map((s) => s.note).filter(Boolean))].slice(0, 1).join('')}`,
      ]
        .join(' ')
        .trimEnd(),
    );
  }
}
