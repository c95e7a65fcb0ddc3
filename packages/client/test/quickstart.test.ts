// The README's example is examples/quickstart.ts, shown verbatim, and it runs against the server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quickstart } from '../examples/quickstart.js';
import type { TicketChange } from '../src/index.js';
import { PASSWORD, startTestServer, type TestServer } from './support.js';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the README example', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('logs in, lists, resolves and watches the change arrive', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const controller = new AbortController();
    const changes: TicketChange[] = [];
    const open = await quickstart({
      baseUrl: server.url,
      tenant: 'acme',
      email: 'ada@acme.test',
      password: PASSWORD,
      apiId: 'payments.acme',
      signal: controller.signal,
      onChange: (change) => {
        changes.push(change);
        if (change.to === 'RESOLVED') controller.abort();
      },
    });
    expect(open).toEqual(['ticket5.acme', 'ticket1.acme']);
    expect(info).toHaveBeenCalledWith('ticket5.acme is RESOLVED (version 2)');
    expect(changes).toEqual([
      expect.objectContaining({ ticketId: 'ticket5.acme', action: 'ticket.action.resolve' }),
    ]);
    // It logged out at the end.
    expect(server.logs.some((line) => line['path'] === '/trpc/session.logout')).toBe(true);
    info.mockRestore();
  });

  it('is shown in the README exactly as it is in examples/quickstart.ts', () => {
    const source = read('../examples/quickstart.ts');
    // The README imports the package by name; the example, inside the package, by path.
    const asPublished = source.replace("from '../src/index.js';", "from '@tickets/client';");
    expect(asPublished).toContain("from '@tickets/client';");
    const blocks = [...read('../README.md').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(asPublished);
  });
});
