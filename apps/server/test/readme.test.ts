import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoData } from '../src/demo.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const run = promisify(execFile);
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The first sh block after a heading. */
function blockAfter(heading: string): string {
  const at = readme.indexOf(heading);
  expect(at, `README has "${heading}"`).toBeGreaterThanOrEqual(0);
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(match, `a sh block follows "${heading}"`).not.toBeNull();
  return match![1]!;
}

describe("the README's curl session", () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer({ data: demoData });
    dir = mkdtempSync(join(tmpdir(), 'tickets-readme-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in, lists and resolves against the demo data, as printed', async () => {
    // The block as printed, pointed at this test's server instead of port 8080.
    const script = blockAfter('### A curl session').replaceAll('http://127.0.0.1:8080', server.url);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      timeout: 30_000,
    });

    const [loginLine, listLine, state] = stdout.split('\n');
    expect(JSON.parse(loginLine!)).toMatchObject({ userFDN: 'ada.demo', Status: 'Success' });
    const list = JSON.parse(listLine!) as { Ticket: { TicketID: string; State: string }[] };
    expect(list.Ticket.map((ticket) => ticket.TicketID)).toContain('ticket1.demo');
    expect(list.Ticket.every((ticket) => ticket.State === 'OPEN')).toBe(true);
    expect(state).toBe('RESOLVED');
    expect((await server.store.getTicket('ticket1.demo'))?.state).toBe('RESOLVED');
  });
});
