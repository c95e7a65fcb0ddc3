// /api/docs in a real browser: headless Chromium (the one the extension's end-to-end tests use;
// apps/vscode/e2e/setup.sh installs it) loads the page under its Content-Security-Policy, and
// swagger-ui draws every path of the OpenAPI document, with no policy violation and no error.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/rest/openapi.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const run = promisify(execFile);

describe('/api/docs in headless Chromium', () => {
  let server: TestServer;
  let profile: string;
  beforeAll(async () => {
    server = await startTestServer();
    profile = mkdtempSync(join(tmpdir(), 'tickets-docs-browser-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('draws every path of the document, breaking no rule of the page’s CSP', async () => {
    const { stdout: dom, stderr: log } = await run(
      process.env['CHROMIUM'] ?? 'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        `--user-data-dir=${profile}`,
        '--enable-logging=stderr',
        '--v=0',
        // Time enough, on the browser's own clock, for the scripts and the document to load.
        '--virtual-time-budget=15000',
        '--dump-dom',
        `${server.url}/api/docs`,
      ],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const drawn = new Set([...dom.matchAll(/data-path="([^"]+)"/g)].map((match) => match[1]));
    expect([...drawn].sort()).toEqual(Object.keys(openApiDocument.paths).sort());
    const console = log.split('\n').filter((line) => line.includes(':CONSOLE'));
    expect(console.filter((line) => /Content Security Policy|Uncaught|Refused/.test(line))).toEqual(
      [],
    );
  });
});
