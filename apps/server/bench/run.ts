/**
 * The benchmark (`npm run bench`): the product on SQLite and on PostgreSQL beside two baselines
 * (plain node:http + better-sqlite3 with synchronous=NORMAL; plain node:http + pg with one
 * statement per action), on the same data, under wrk from a separate process, in interleaved
 * rounds so that machine noise hits every server alike. Prints, per scenario and server: req/s
 * median (min–max), p50, p99, server CPU per request, peak RSS, and the ratio to the baseline
 * in the same rounds. After each run it checks that every 200 left exactly one history row.
 *
 *   BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_WARMUP_SECONDS=3 BENCH_STORES=sqlite,postgres
 *   BENCH_LIST_TICKETS=1000000 BENCH_DATABASE_URL=postgres://…   (TEST_DATABASE_URL otherwise)
 *   BENCH_SCENARIOS=actions,list   (scenarios whose name contains one of these; all by default)
 *   BENCH_VERBOSE=1   (each run's figures as it ends)
 *   BENCH_PRODUCT_NODE_FLAGS='--max-semi-space-size=8'   (node flags for the product only,
 *     instead of those the command's first line gives, as the Dockerfile and `npm start` do)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresDatabase, sqliteDatabase, type BenchDatabase } from './checks.js';
import { printReport, type Sample } from './report.js';
import { runScenario, SCENARIOS, type RunResult, type Target } from './scenarios.js';
import { BENCH_EMAIL, BENCH_PASSWORD, LIST_EMAIL, seedPostgres, seedSqlite } from './seed.js';
import { logIn, startServer, type RunningServer, type ServerSpec } from './servers.js';

const env = (name: string, fallback: string) => process.env[`BENCH_${name}`] ?? fallback;
/** Each run's own figures as it ends, not a dot: where a median hides one run's tail. */
const VERBOSE = env('VERBOSE', '') === '1';
const runLine = (round: string, run: RunResult): string =>
  (
    `${round}  ${run.scenario} | ${run.server}: ${run.perSecond.toFixed(0)}/s, ` +
    `p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, ` +
    `${run.cpuMicrosPerRequest.toFixed(0)} µs/req, ${run.peakRssMiB.toFixed(0)} MiB ${run.note}`
  ).trimEnd();
const ROUNDS = Number(env('ROUNDS', '3'));
const SECONDS = Number(env('SECONDS', '5'));
const WARMUP_SECONDS = Number(env('WARMUP_SECONDS', '3'));
const LIST_TICKETS = Number(env('LIST_TICKETS', '1000000'));
const STORES = env('STORES', 'sqlite,postgres').split(',');
const SCENARIO_FILTER = env('SCENARIOS', '').split(',').filter(Boolean);
const CHOSEN = SCENARIOS.filter(
  ({ name }) => SCENARIO_FILTER.length === 0 || SCENARIO_FILTER.some((part) => name.includes(part)),
);
const PG_URL = env(
  'DATABASE_URL',
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
);

const withSchema = (url: string, schema: string) =>
  `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tickets-bench-'));
  const secret = randomBytes(32).toString('base64url');
  const schema = `tickets_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const servers: RunningServer[] = [];
  const databases: BenchDatabase[] = [];
  const targets: Target[] = [];
  let port = 18_000 + (process.pid % 1000) * 8;
  const start = async (name: string, spec: ServerSpec) => {
    const server = await startServer(name, spec, port++, secret, dir);
    servers.push(server);
    return server;
  };
  try {
    // The two seeds overlap: SQLite's (in this process, holding its event loop) runs while
    // PostgreSQL inserts the list's tickets in one statement of its own; 20 s less in all.
    const sqlitePath = join(dir, 'tickets.db');
    const seedingSqlite = async () => {
      console.log(`seeding SQLite (${LIST_TICKETS} list tickets) …`);
      await seedSqlite(sqlitePath, LIST_TICKETS);
    };
    if (STORES.includes('postgres')) {
      await withClient((client) => client.query(`CREATE SCHEMA ${schema}`));
      console.log(`seeding PostgreSQL schema ${schema} (${LIST_TICKETS} list tickets) …`);
      await seedPostgres(PG_URL, schema, LIST_TICKETS, async () => {
        if (STORES.includes('sqlite')) await seedingSqlite();
      });
    } else if (STORES.includes('sqlite')) {
      await seedingSqlite();
    }
    if (STORES.includes('sqlite')) {
      const db = sqliteDatabase(sqlitePath);
      databases.push(db);
      const product = await start('product, SQLite', {
        kind: 'product',
        databaseUrl: `sqlite:${sqlitePath}`,
      });
      const baseline = await start('baseline, SQLite', {
        kind: 'baseline-sqlite',
        path: sqlitePath,
      });
      const session = await logIn(product.url, 'bench', BENCH_EMAIL, BENCH_PASSWORD);
      const lister = await logIn(product.url, 'big', LIST_EMAIL, BENCH_PASSWORD);
      targets.push(
        { server: baseline, db, session, role: 'baseline' },
        { server: product, db, session, lister, role: 'product' },
      );
    }
    if (STORES.includes('postgres')) {
      const db = await postgresDatabase(PG_URL, schema);
      databases.push(db);
      const product = await start('product, PostgreSQL', {
        kind: 'product',
        databaseUrl: withSchema(PG_URL, schema),
      });
      const plain = await start('plain node:http + pg', {
        kind: 'baseline-pg',
        url: PG_URL,
        schema,
      });
      const session = await logIn(product.url, 'bench', BENCH_EMAIL, BENCH_PASSWORD);
      const lister = await logIn(product.url, 'big', LIST_EMAIL, BENCH_PASSWORD);
      targets.push(
        { server: plain, db, session, role: 'pg-plain' },
        { server: product, db, session, lister, role: 'product' },
      );
    }
    console.log(`warm-up, ${WARMUP_SECONDS} s each …`);
    // The actions on every server, and the list page on the product: a first list run on a
    // fresh server compiles its code and grows its heap, and measured a p99 of 120-170 ms.
    const warmUps = SCENARIOS.filter(
      (scenario) =>
        scenario.name === 'actions @16' || scenario.name === 'list page, 1M tickets @16',
    );
    for (const target of targets) {
      await target.db.reset();
      for (const scenario of warmUps) {
        if (scenario.productOnly && target.role !== 'product') continue;
        await runScenario(scenario, target, WARMUP_SECONDS);
      }
    }
    const samples: Sample[] = [];
    let [settling, unsettled] = [0, 0];
    const settle = async () => {
      const from = Date.now();
      for (const db of databases) if (!(await db.settle())) unsettled += 1;
      settling += Date.now() - from;
    };
    // The login floods' rounds come after all the others: a server's resident memory rarely
    // falls back after a flood's password checks, and a later run's peak would start there.
    // Ratios pair runs of one phase and round only, so a flood's have no baseline to pair with
    // (the README compares its actions with the product's own at 16 connections).
    const phases = [
      CHOSEN.filter((scenario) => scenario.kind !== 'login flood'),
      CHOSEN.filter((scenario) => scenario.kind === 'login flood'),
    ];
    for (const [index, phase] of phases.entries()) {
      for (let round = 1; round <= ROUNDS && phase.length > 0; round += 1) {
        for (const scenario of phase) {
          for (const target of targets) {
            if (scenario.productOnly && target.role !== 'product') continue;
            const sample = await runScenario(scenario, target, SECONDS, settle);
            samples.push({ ...sample, round, phase: index });
            const label = `${index === 0 ? '' : 'login flood '}round ${round}`;
            process.stdout.write(VERBOSE ? `${runLine(label, sample)}\n` : '.');
          }
        }
      }
    }
    // Once, after the last run: damage stays, so this finds what any run did, and checking
    // a million tickets' indexes takes SQLite about 11 s (it took three times that, each round).
    for (const db of databases) {
      const problems = await db.integrity();
      if (problems.length > 0) throw new Error(`integrity check failed: ${problems.join('; ')}`);
    }
    console.log('\n');
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `${ROUNDS} rounds × ${SECONDS} s per run, node ${process.version}, ${availableParallelism()} cores (${cpu}), ` +
        `${availableParallelism() >= 2 ? 'servers on core 0, wrk on the last' : 'unpinned'}; ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s in all (${(settling / 1000).toFixed(0)} s of it ` +
        'writing pending pages to disk before each run' +
        `${unsettled > 0 ? `; ${unsettled} times a database could not` : ''})`,
    );
    printReport(samples);
    console.log(
      '\nchecked after every run: each 200 left exactly one history row (plus at most one per ' +
        'connection for requests wrk abandoned at the end), one version step per history row, one ' +
        'change-log row per change (product); after the last run: PRAGMA integrity_check / the ' +
        'PostgreSQL counts. All passed.',
    );
  } finally {
    for (const server of servers) await server.stop();
    for (const db of databases) await db.close();
    if (STORES.includes('postgres')) {
      await withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

await main();
