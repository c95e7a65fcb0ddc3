/** The benchmark's scenarios, and one run of one of them against one server, checked. */
import type { BenchDatabase, Counts } from './checks.js';
import { runLoad, type LoadResult } from './load.js';
import { cpuMicros, peakRssMiB, resetPeakRss } from './processStats.js';
import { ACTION_TICKETS, BENCH_PASSWORD, LIST_PATH } from './seed.js';
import type { RunningServer } from './servers.js';

interface Session {
  readonly cookie: string;
  readonly csrfHeader: string;
  readonly csrf: string;
}

export interface Target {
  readonly server: RunningServer;
  readonly db: BenchDatabase;
  /** `baseline`: the SQLite baseline every ratio is taken to; `pg-plain`: node:http + pg. */
  readonly role: 'baseline' | 'pg-plain' | 'product';
  readonly session: Session;
  /** A session of the big tenant, for the list page (the product only). */
  readonly lister?: Session;
}

export interface Scenario {
  readonly name: string;
  readonly kind: 'actions' | 'conflicts' | 'list' | 'login flood';
  readonly connections: number;
  readonly productOnly?: boolean;
  /**
   * For a list scenario: page by `after` (keyset paging) from these places, each request the
   * page after one of them, rather than by `start` over the first 1,000 tickets.
   */
  readonly keyset?: KeysetPages;
  /** Actions that each carry a new Idempotency-Key, as the typed client's (and so the extension's) do. */
  readonly idempotent?: boolean;
  /** For a product-only scenario: the scenario whose baselines its ratios are taken to. */
  readonly comparedWith?: string;
}

/** The places a keyset-paging scenario starts its pages after: ticket `format(first + step·k)`. */
export interface KeysetPages {
  /** A string.format pattern with one %d. */
  readonly format: string;
  readonly first: number;
  readonly step: number;
  readonly count: number;
}

/**
 * A client paging on by `after` from half way down the list page's filter, as the typed client
 * does (the last TicketID of one page gives the next): l{i}.big with i a multiple of 4 is an
 * OPEN ticket of api1.big (seed.ts), newer the higher i, so a page of 20 after l{i}.big ends at
 * l{i-80}.big. At a million, from l500000.big (125,000 of the filter's tickets before it) on
 * for 1,000 pages. The ticket count as run.ts reads it.
 */
const LIST_TICKETS = Number(process.env['BENCH_LIST_TICKETS'] ?? '1000000');
const DEEP_PAGES: KeysetPages = {
  format: 'l%d.big',
  first: 4 * Math.floor(LIST_TICKETS / 8),
  step: -80,
  count: Math.max(1, Math.min(1000, Math.floor(LIST_TICKETS / 8 / 80))),
};

export const SCENARIOS: readonly Scenario[] = [
  { name: 'actions @1', kind: 'actions', connections: 1 },
  { name: 'actions @16', kind: 'actions', connections: 16 },
  { name: 'actions @64', kind: 'actions', connections: 64 },
  {
    name: 'actions @16, Idempotency-Key',
    kind: 'actions',
    connections: 16,
    productOnly: true,
    idempotent: true,
    comparedWith: 'actions @16',
  },
  { name: 'one ticket @16 (conflicts)', kind: 'conflicts', connections: 16 },
  // One client: how long a page takes to answer at scale. At 16, the same page under a load
  // that keeps the one core busy, where each answer also waits for the 15 others in flight.
  { name: 'list page, 1M tickets @1', kind: 'list', connections: 1, productOnly: true },
  { name: 'list page, 1M tickets @16', kind: 'list', connections: 16, productOnly: true },
  {
    name: 'list deep pages (after), 1M tickets @1',
    kind: 'list',
    connections: 1,
    productOnly: true,
    keyset: DEEP_PAGES,
  },
  {
    name: 'list deep pages (after), 1M tickets @16',
    kind: 'list',
    connections: 16,
    productOnly: true,
    keyset: DEEP_PAGES,
  },
  {
    name: 'actions @16 + 100 logins',
    kind: 'login flood',
    connections: 16,
    productOnly: true,
  },
];

/** Runs of idempotent scenarios so far in this process: part of their keys. */
let keyRuns = 0;

/** Login connections beside the actions in the login-flood scenario. */
const FLOOD_CONNECTIONS = 100;

export interface RunResult {
  readonly scenario: string;
  readonly server: string;
  readonly role: Target['role'];
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Server CPU (user + system) per request, µs; the database server's own is not counted. */
  readonly cpuMicrosPerRequest: number;
  readonly peakRssMiB: number;
  /** Statuses other than 200, and for the flood what the logins got. */
  readonly note: string;
}

const statusNote = (label: string, result: LoadResult, ok = '200') =>
  Object.entries(result.statuses)
    .filter(([status]) => status !== ok)
    .map(([status, n]) => `${label}${status}×${n}`)
    .join(' ');

/** One run; `settle` (every database's pending writes to disk) comes after the reset. */
export async function runScenario(
  scenario: Scenario,
  target: Target,
  seconds: number,
  settle: () => Promise<unknown> = () => target.db.settle(),
): Promise<RunResult> {
  const { server, db, session } = target;
  await db.reset();
  await settle();
  const before = await db.counts();
  resetPeakRss(server.pid);
  const cpuBefore = cpuMicros(server.pid);
  const actions = (first: number, count: number) =>
    runLoad(server.url, scenario.connections, seconds, [
      'actions',
      String(first),
      String(count),
      session.cookie,
      session.csrfHeader,
      session.csrf,
      // Keys never seen before: a key used again would be answered as a replay, without a change.
      ...(scenario.idempotent ? [`bench-${process.pid}-${++keyRuns}`] : []),
    ]);
  let result: LoadResult;
  let logins: LoadResult | undefined;
  switch (scenario.kind) {
    case 'actions':
      result = await actions(0, ACTION_TICKETS);
      break;
    case 'conflicts':
      result = await actions(0, 1);
      break;
    case 'list': {
      const lister = target.lister!;
      const { keyset } = scenario;
      result = await runLoad(server.url, scenario.connections, seconds, [
        keyset ? 'pages' : 'list',
        LIST_PATH,
        lister.cookie,
        ...(keyset
          ? [keyset.format, String(keyset.first), String(keyset.step), String(keyset.count)]
          : []),
      ]);
      break;
    }
    case 'login flood':
      [result, logins] = await Promise.all([
        actions(0, ACTION_TICKETS),
        runLoad(server.url, FLOOD_CONNECTIONS, seconds, ['login', 'flood.test', BENCH_PASSWORD]),
      ]);
      break;
  }
  const cpu = cpuMicros(server.pid) - cpuBefore;
  const after = await settledCounts(db);
  const served = result.requests + (logins?.requests ?? 0);
  check(scenario, target, result, before, after);
  return {
    scenario: scenario.name,
    server: server.name,
    role: target.role,
    perSecond: result.requests / result.seconds,
    p50: result.p50,
    p99: result.p99,
    cpuMicrosPerRequest: served > 0 ? cpu / served : 0,
    peakRssMiB: peakRssMiB(server.pid),
    note: [
      statusNote('', result),
      result.socketErrors > 0 ? `socket errors ×${result.socketErrors}` : '',
      logins
        ? `logins ${(logins.requests / logins.seconds).toFixed(0)}/s p99 ${logins.p99.toFixed(0)} ms ${statusNote('login ', logins, '401')}`
        : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
}

/**
 * The counts once the server is done with the requests wrk abandoned when it stopped (they may
 * still commit): the same twice in a row, 100 ms apart (at most 5 s).
 */
async function settledCounts(db: BenchDatabase): Promise<Counts> {
  let last = await db.counts();
  for (let waited = 0; waited < 5_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await db.counts();
    if (now.history === last.history && now.changes === last.changes) return now;
    last = now;
  }
  return last;
}

/** Every 200 left exactly one history row; nothing else wrote one. Throws when not. */
function check(
  scenario: Scenario,
  target: Target,
  result: LoadResult,
  before: Counts,
  after: Counts,
): void {
  const history = after.history - before.history;
  const versions = after.versions - before.versions;
  const changes = after.changes - before.changes;
  const ok = scenario.kind === 'list' ? 0 : (result.statuses['200'] ?? 0);
  // wrk stops with up to one request per connection in flight: the server may have committed
  // them, but no 200 was counted.
  const abandoned = scenario.kind === 'list' ? 0 : scenario.connections;
  const problems = [
    history !== versions && `${history} history rows for ${versions} version steps`,
    (history < ok || history > ok + abandoned) &&
      `${history} history rows for ${ok} answers 200 (at most ${abandoned} abandoned in flight)`,
    target.role === 'product' &&
      changes !== history &&
      `${changes} change-log rows for ${history} history rows`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(`${scenario.name}, ${target.server.name}: ${problems.join('; ')}`);
  }
}
