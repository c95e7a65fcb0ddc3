/**
 * HTTP benchmark: the real app on 127.0.0.1, a SQLite file in a temporary folder, bounded
 * request counts. Prints throughput and latency per scenario and ratios between them measured in
 * the same run (absolute numbers depend on the machine; the ratios are what to compare).
 *
 *   npm run bench            (from the repository root, or in apps/server)
 *   BENCH_REQUESTS=4000 BENCH_CONCURRENCY=32 npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { provision } from '../src/provision.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 2000);
const CONCURRENCY = Math.min(Number(process.env['BENCH_CONCURRENCY'] ?? 16), 32);
const TICKETS = 64;
const PASSWORD = 'bench-password-1';

interface Result {
  readonly name: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

async function startServer(synchronous: 'FULL' | 'NORMAL') {
  const dir = mkdtempSync(join(tmpdir(), 'tickets-bench-'));
  const store = SqliteStore.open(join(dir, 'tickets.db'), { synchronous });
  await provision(store, {
    tenants: [{ id: 'bench', name: 'Bench' }],
    users: [{ id: 'ada.bench', email: 'ada@bench.test', password: PASSWORD, name: 'Ada' }],
    resources: [{ id: 'api.bench', type: 'api', name: 'API', admins: ['ada.bench'] }],
    tickets: Array.from({ length: TICKETS }, (_, i) => ({
      id: `t${i}.bench`,
      Title: `Ticket ${i}`,
      Environment: 'Production' as const,
      APIID: 'api.bench',
      author: 'ada.bench',
      State: 'CLOSED' as const,
    })),
  });
  const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const { koa } = createApp({
    store,
    logger: createLogger('warn', quiet),
    secret: 'bench-secret-bench-secret-bench-secret',
  });
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const login = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@bench.test', password: PASSWORD }),
  });
  const cookies = new Map(
    login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!.split(/=(.*)/s, 2) as [string, string]),
  );
  const headers = {
    Cookie: `AtmoAuthToken_bench=${cookies.get('AtmoAuthToken_bench')}`,
    'X-Csrf-Token_bench': cookies.get('Csrf-Token_bench')!,
  };
  return {
    url,
    headers,
    /** Whether each ticket is CLOSED (else REOPEN). */
    closed: [] as boolean[],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `REQUESTS` requests, `CONCURRENCY` at a time; `request(i)` must answer 2xx. */
async function measure(name: string, request: (i: number) => Promise<Response>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        const t0 = performance.now();
        const response = await request(i);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${name}: request ${i} answered ${response.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: REQUESTS / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

/**
 * Every ticket alternates CLOSED -> REOPEN -> CLOSED, so each request is a real transition.
 * Requests for one ticket never overlap (CONCURRENCY < TICKETS), so the client can track states.
 */
function actionRequest(server: Awaited<ReturnType<typeof startServer>>, format: 'json' | 'xml') {
  return (i: number) => {
    const ticket = i % TICKETS;
    const reopen = (server.closed[ticket] ??= true);
    server.closed[ticket] = !reopen;
    const action = reopen ? 'ticket.action.reopen' : 'ticket.action.close';
    return fetch(`${server.url}/api/tickets/t${ticket}.bench/actions`, {
      method: 'POST',
      headers: { ...server.headers, 'Content-Type': `application/${format}` },
      body:
        format === 'json'
          ? JSON.stringify({ ActionName: action, Comments: 'benchmark' })
          : `<Action><ActionName>${action}</ActionName><Comments>benchmark</Comments></Action>`,
    });
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const server = await startServer(synchronous);
    try {
      if (synchronous === 'FULL') {
        // Warm-up: the same mix, not reported, so that JIT and caches do not favour later scenarios.
        await measure('warm-up', (i) =>
          fetch(`${server.url}/api/tickets/t${i % TICKETS}.bench`, { headers: server.headers }),
        );
        await measure('warm-up', actionRequest(server, 'json'));
        await measure('warm-up', actionRequest(server, 'xml'));
        results.push(
          await measure('GET ticket', (i) =>
            fetch(`${server.url}/api/tickets/t${i % TICKETS}.bench`, { headers: server.headers }),
          ),
        );
        results.push(
          await measure('GET list (20)', () =>
            fetch(`${server.url}/api/tickets`, { headers: server.headers }),
          ),
        );
        results.push(await measure('POST action JSON', actionRequest(server, 'json')));
        results.push(await measure('POST action XML', actionRequest(server, 'xml')));
      } else {
        results.push(
          await measure('POST action JSON, synchronous=NORMAL', actionRequest(server, 'json')),
        );
      }
    } finally {
      await server.close();
    }
  }
  const byName = new Map(results.map((r) => [r.name, r]));
  const ratio = (a: string, b: string) =>
    (byName.get(a)!.perSecond / byName.get(b)!.perSecond).toFixed(2);
  console.log(
    `${REQUESTS} requests per scenario, ${CONCURRENCY} at a time, node ${process.version}\n`,
  );
  console.log('scenario                                  req/s    p50 ms   p99 ms');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(40)} ${r.perSecond.toFixed(0).padStart(6)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(8)}`,
    );
  }
  console.log('\nratios (same run):');
  console.log(`  action JSON / GET ticket         ${ratio('POST action JSON', 'GET ticket')}`);
  console.log(`  action XML / action JSON         ${ratio('POST action XML', 'POST action JSON')}`);
  console.log(
    `  synchronous NORMAL / FULL        ${ratio('POST action JSON, synchronous=NORMAL', 'POST action JSON')}`,
  );
  console.log(
    `\nmemory: rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
  );
}

await main();
