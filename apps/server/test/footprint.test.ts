// What a server process loads to answer REST requests, read off the real `serve` process on
// either store: node's fetch implementation (undici) costs about 4 MB of heap and more of its
// code, and no REST answer needs it. Two things loaded it: Koa 3, which checks any object body
// against fetch's `Response` (so every JSON answer is written as bytes, `sendJson`), and pg on
// node 20, which asks whether it runs in a Cloudflare Worker by making a `Response` (see
// `importPostgresStore`). This guards both.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/demo.js';
import { call, login } from './support/client.js';
import { scratchSpace, serverEnv } from './support/childServer.js';
import {
  createSchema,
  dropSchema,
  TEST_DATABASE_URL,
  urlWithSearchPath,
} from './support/postgres.js';

/** Node's own module for fetch, `Request`, `Response` and `Headers`. */
const FETCH_MODULE = 'NativeModule internal/deps/undici/undici';

describe('the modules a REST-only server loads', () => {
  const { fresh, start } = scratchSpace('tickets-footprint-');

  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it.each(['SQLite', 'PostgreSQL'])(
    "on %s, answers of every kind (data, text, XML, problems, health, OpenAPI) never load node's fetch implementation",
    async (store) => {
      const dir = fresh();
      let database: Record<string, string> = {};
      if (store === 'PostgreSQL') {
        const schema = await createSchema('tickets_footprint');
        schemas.push(schema);
        database = { DATABASE_URL: urlWithSearchPath(TEST_DATABASE_URL, schema) };
      }
      // Preloaded into the server: on exit, it writes the list of node's modules it loaded.
      const probe = join(dir.dir, 'probe.cjs');
      const loaded = join(dir.dir, 'loaded.txt');
      writeFileSync(
        probe,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));\n`,
      );
      const server = await start(
        serverEnv(dir.dir, {
          TICKETS_DEMO: 'on',
          ...database,
          // Only the probe: whatever the test runner's own NODE_OPTIONS load is not the server's.
          NODE_OPTIONS: `--require ${JSON.stringify(probe)}`,
        }),
      );
      const { url } = server;

      const ada = await login(url, 'ada@demo.test', DEMO_PASSWORD);
      const answers = [
        await call(url, ada, '/api/tickets?APIID=payments.demo', {
          headers: { Accept: 'application/json' },
        }),
        await call(url, ada, '/api/tickets?APIID=payments.demo', {
          headers: { Accept: 'application/xml' },
        }),
        await call(url, ada, '/api/tickets/ticket1.demo/actions', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ActionName: 'ticket.action.resolve' }),
        }),
        // Problems, in JSON and in text.
        await call(url, undefined, '/api/tickets', { headers: { Accept: 'application/json' } }),
        await call(url, ada, '/api/no-such-route'),
        await call(url, ada, '/api/tickets/ticket1.demo/actions', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ActionName: 'ticket.action.resolve' }),
        }),
        await call(url, undefined, '/api/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ email: 'ada@demo.test', password: 'not the password' }),
        }),
        await call(url, undefined, '/healthz'),
        await call(url, undefined, '/api/openapi.json'),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([
        200, 200, 200, 401, 404, 409, 401, 200, 200,
      ]);
      expect(answers[3]!.headers.get('content-type')).toBe('application/problem+json');
      expect(await answers[3]!.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(await answers[7]!.json()).toEqual({ status: 'ok' });
      expect(answers[8]!.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await answers[8]!.json()).toMatchObject({ openapi: '3.1.0' });

      server.signal('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      const modules = readFileSync(loaded, 'utf8').split('\n');
      // The probe saw the server's own modules; and among them, not fetch's.
      expect(modules).toContain('NativeModule _http_server');
      expect(modules).not.toContain(FETCH_MODULE);
    },
  );
});
