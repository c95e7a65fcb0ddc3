// The controller with a server that keeps failing: what the user is shown, and how often.
import { describe, expect, it } from 'vitest';
import { TicketsClientError, type TicketChange, type TicketsClient } from '@tickets/client';
import { TicketsController, type ControllerDeps } from '../src/services/controller.js';
import { NO_FILTERS } from '../src/services/filters.js';
import { SessionManager } from '../src/services/session.js';
import { sessionInfo } from './fixtures.js';

function failingServer() {
  const fault = () =>
    new TicketsClientError({
      kind: 'internal',
      status: 500,
      message: 'An error occurred processing the call.',
    });
  const client = {
    session: sessionInfo(),
    login: async () => ({}),
    logout: async () => undefined,
    tickets: {
      list: async () => {
        throw fault();
      },
      validActions: async () => [],
    },
    changes: async function* () {
      // A feed with nothing to say.
    },
  } as unknown as TicketsClient;
  return controllerWith(client);
}

function controllerWith(
  client: TicketsClient,
  timers: ControllerDeps['timers'] = noTimers,
  now: () => Date = () => new Date(),
) {
  const session = new SessionManager({
    createClient: () => client,
    secrets: {
      get: async () => undefined,
      store: async () => undefined,
      delete: async () => undefined,
    },
    settings: () => ({ serverUrl: 'http://127.0.0.1:1', tenant: 'acme', email: '' }),
    rememberEmail: async () => undefined,
    secretKey: () => 'key',
  });
  const shown: string[] = [];
  const controller = new TicketsController({
    session,
    log: {
      trace: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
    filters: () => NO_FILTERS,
    liveSettings: () => ({ live: true, pollIntervalSeconds: 3600 }),
    timers,
    now,
    view: {
      treeChanged: () => undefined,
      contextChanged: () => undefined,
      openCountChanged: () => undefined,
      sessionEnded: () => undefined,
      showError: (message) => void shown.push(message),
      ticketChanged: () => undefined,
    },
  });
  return { controller, session, shown };
}

const noTimers: ControllerDeps['timers'] = {
  setInterval: () => 0,
  clearInterval: () => undefined,
  setTimeout: () => 0,
  clearTimeout: () => undefined,
};

describe('a server that keeps failing', () => {
  it('is shown once for background reloads, and again whenever the user asks', async () => {
    const { controller, session, shown } = failingServer();
    await session.signIn('ada@acme.test', 'pw');
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (let poll = 0; poll < 5; poll += 1)
      await controller.refresh({ rediscover: false, background: true });
    expect(shown).toEqual(['An error occurred processing the call.']);
    await controller.refresh({ rediscover: true });
    expect(shown).toHaveLength(2);
    controller.dispose();
  });
});

describe('a burst of live changes', () => {
  it('makes one reload, and one more for changes that came during it', async () => {
    const feed: ((change: TicketChange) => void)[] = [];
    let lists = 0;
    const pendingLists: (() => void)[] = [];
    const client = {
      session: sessionInfo(),
      login: async () => ({}),
      logout: async () => undefined,
      tickets: {
        list: async () => {
          lists += 1;
          await new Promise<void>((resolve) => pendingLists.push(resolve));
          return { totalResults: 0, startIndex: 0, tickets: [] };
        },
        validActions: async () => [],
      },
      changes: async function* (options: { signal?: AbortSignal }) {
        const queue: TicketChange[] = [];
        let wake: (() => void) | undefined;
        feed.push((change) => {
          queue.push(change);
          wake?.();
        });
        while (!options.signal?.aborted) {
          const next = queue.shift();
          if (next) yield next;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    } as unknown as TicketsClient;
    const timers: (() => void)[] = [];
    const { controller, session } = controllerWith(client, {
      setInterval: () => 0,
      clearInterval: () => undefined,
      setTimeout: (run) => timers.push(run),
      clearTimeout: () => undefined,
    });
    await session.signIn('ada@acme.test', 'pw');
    // The sign-in's own load: its list calls wait until released.
    const settle = async () => {
      for (let i = 0; i < 20; i += 1) {
        for (const release of pendingLists.splice(0)) release();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    };
    await settle();
    const change = (eventId: number): TicketChange => ({
      eventId,
      ticketId: 'ticket1.acme',
      kind: 'comment',
      to: 'OPEN',
      version: eventId,
      userId: 'bob.acme',
      at: '2026-01-01T00:00:00.000Z',
    });
    const afterSignIn = lists;
    for (let id = 1; id <= 10; id += 1) feed[0]!(change(id));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(timers).toHaveLength(1);
    timers.shift()!();
    // While that reload waits on the server, more changes come.
    await new Promise((resolve) => setTimeout(resolve, 0));
    feed[0]!(change(11));
    feed[0]!(change(12));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(timers).toHaveLength(0);
    await settle();
    expect(timers).toHaveLength(1);
    timers.shift()!();
    await settle();
    expect(timers).toHaveLength(0);
    // Two reloads of the four state groups, however many changes.
    expect(lists - afterSignIn).toBe(8);
    controller.dispose();
  });
});

describe('hovers', () => {
  it('reuse an answer for a while, and ask again once it ran out or the ticket changed', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const gets: string[] = [];
    const client = {
      session: {
        userId: 'ada.acme',
        userName: 'Ada',
        tenant: 'acme',
        validUntil: new Date(clock + 3_600_000),
        siteAdmin: false,
        adminOf: [],
      },
      login: async () => ({}),
      logout: async () => undefined,
      tickets: {
        list: async () => ({ totalResults: 0, startIndex: 0, tickets: [] }),
        get: async (id: string) => {
          gets.push(id);
          return { id, title: `Title of ${id}`, state: 'OPEN' };
        },
        validActions: async () => [],
      },
      changes: async function* () {
        // Nothing changes.
      },
    } as unknown as TicketsClient;
    const { controller, session } = controllerWith(client, noTimers, () => new Date(clock));
    await session.signIn('ada@acme.test', 'pw');
    expect((await controller.hover('ticket1.acme')).ticket.title).toBe('Title of ticket1.acme');
    await controller.hover('ticket1.acme');
    expect(gets).toEqual(['ticket1.acme']);
    clock += 31_000;
    await controller.hover('ticket1.acme');
    expect(gets).toEqual(['ticket1.acme', 'ticket1.acme']);
    controller.dispose();
  });
});
