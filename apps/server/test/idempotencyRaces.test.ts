import { describe, expect, it } from 'vitest';
import type { Store } from '../src/store/store.js';
import { act, login } from './support/client.js';
import { startTestServer } from './support/testServer.js';

const HOUR = 60 * 60 * 1000;

describe('Idempotency-Key over time and under races', () => {
  it('a key older than 24 hours is free again: a new request under it runs', async () => {
    let clock = new Date('2026-03-01T10:00:00Z');
    await using server = await startTestServer({ now: () => clock });
    const ada = await login(server.url, 'ada@acme.test');
    const key = { 'Idempotency-Key': 'reused-next-day' };
    expect(
      await act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve', { headers: key }),
    ).toMatchObject({
      status: 200,
      text: 'RESOLVED',
    });

    clock = new Date(clock.getTime() + 25 * HOUR);
    const again = await login(server.url, 'ada@acme.test');
    const later = await act(server.url, again, 'ticket1.acme', 'ticket.action.close', {
      headers: key,
    });
    expect(later).toMatchObject({ status: 200, text: 'CLOSED' });
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    // And the new answer is what the key replays from now on.
    const retry = await act(server.url, again, 'ticket1.acme', 'ticket.action.close', {
      headers: key,
    });
    expect(retry).toMatchObject({ status: 200, text: 'CLOSED' });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('a 409 lost to another change of the ticket is kept under the key and replayed', async () => {
    // The app reads ticket1 one version behind, as if another writer had just changed it.
    let stale = false;
    const behind = (store: Store): Store =>
      new Proxy(store, {
        get(target, name, receiver) {
          if (name !== 'getTicketWithAuthor') return Reflect.get(target, name, receiver) as unknown;
          return async (id: string) => {
            const found = await target.getTicketWithAuthor(id);
            return stale && found
              ? {
                  ...found,
                  ticket: { ...found.ticket, version: found.ticket.version - 1, state: 'OPEN' },
                }
              : found;
          };
        },
      });
    await using server = await startTestServer({ wrapStore: behind });
    const ada = await login(server.url, 'ada@acme.test');
    expect(await act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve')).toMatchObject({
      status: 200,
    });

    stale = true;
    const key = { 'Idempotency-Key': 'lost-race' };
    const lost = await act(server.url, ada, 'ticket1.acme', 'ticket.action.close', {
      headers: key,
    });
    expect(lost.status).toBe(409);
    expect(lost.headers.get('idempotent-replayed')).toBeNull();

    stale = false;
    const retry = await act(server.url, ada, 'ticket1.acme', 'ticket.action.close', {
      headers: key,
    });
    expect(retry.status).toBe(409);
    expect(retry.text).toBe(lost.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await server.store.getTicket('ticket1.acme'))?.state).toBe('RESOLVED');
    expect(await server.store.listHistory('ticket1.acme')).toHaveLength(1);
  });
});
