// Two server processes over one PostgreSQL schema: a change made through the second reaches a
// client subscribed to the first. Fails (never skips) when PostgreSQL cannot be reached.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connected,
  createSchema,
  dropSchema,
  eventually,
  fixture,
  loggedIn,
  requirePostgresUrl,
  restAct,
  restLogin,
  runCli,
  serverEnv,
  startChildServer,
  tempDir,
  urlWithSearchPath,
  watch,
  type ChildServer,
  type TempDir,
} from './support.js';

/** Shared by both processes, so that a session of one is good on the other. */
const SECRET = 'client-postgres-secret-0123456789abcdef';

describe('changes() across two server processes on PostgreSQL', () => {
  let schema: string | undefined;
  let dir: TempDir | undefined;
  const children: ChildServer[] = [];

  beforeAll(async () => {
    const url = requirePostgresUrl();
    schema = await createSchema('tickets_client');
    dir = tempDir('tickets-client-pg-');
    const env = serverEnv(dir.dir, {
      DATABASE_URL: urlWithSearchPath(url, schema),
      TICKETS_SECRET: SECRET,
    });
    const file = join(dir.dir, 'fixture.json');
    writeFileSync(file, JSON.stringify(fixture));
    const provisioned = await runCli(['provision', file], env);
    expect(provisioned, provisioned.stderr).toMatchObject({ code: 0 });
    const started = await Promise.allSettled([startChildServer(env), startChildServer(env)]);
    for (const result of started) if (result.status === 'fulfilled') children.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
  });

  afterAll(async () => {
    for (const child of children) await child.stop();
    dir?.remove();
    if (schema !== undefined) await dropSchema(schema);
  });

  it('a change made through the second process reaches a subscriber of the first', async () => {
    const [first, second] = children as [ChildServer, ChildServer];
    expect((await first.waitForLog('listening'))['database']).toBe('postgres');
    const { client, lines } = await loggedIn(first.url, 'bob@acme.test');
    const stream = watch(client, { lastEventId: 0 });
    await connected(lines);

    const ada = await restLogin(second.url, 'ada@acme.test');
    expect(await restAct(second.url, ada, 'ticket1.acme', 'ticket.action.resolve')).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });
    await eventually(() => stream.received.length > 0, 20_000, 'the change from the other process');
    expect(stream.received).toEqual([
      expect.objectContaining({
        ticketId: 'ticket1.acme',
        kind: 'action',
        action: 'ticket.action.resolve',
        from: 'OPEN',
        to: 'RESOLVED',
        userId: 'ada.acme',
      }),
    ]);

    // And through the client on the second process, back to the stream on the first.
    const carol = (await loggedIn(second.url, 'carol@acme.test')).client;
    await carol.tickets.comment('ticket6.acme', { content: 'from the second process' });
    await eventually(() => stream.received.length > 1, 20_000, 'the comment');
    expect(stream.received[1]).toMatchObject({ ticketId: 'ticket6.acme', kind: 'comment' });
    expect(await stream.stop()).toEqual({});
  });
});
