// The controller with a server that keeps failing: what the user is shown, and how often.
import { describe, expect, it } from 'vitest';
import { TicketsClientError, type TicketsClient } from '@tickets/client';
import { TicketsController } from '../src/services/controller.js';
import { NO_FILTERS } from '../src/services/filters.js';
import { SessionManager } from '../src/services/session.js';

function failingServer() {
  const fault = () =>
    new TicketsClientError({
      kind: 'internal',
      status: 500,
      message: 'An error occurred processing the call.',
    });
  const client = {
    session: {
      userId: 'ada.acme',
      userName: 'Ada',
      tenant: 'acme',
      validUntil: new Date(Date.now() + 60_000),
    },
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
    liveSettings: () => ({ live: false, pollIntervalSeconds: 3600 }),
    timers: {
      setInterval: () => 0,
      clearInterval: () => undefined,
      setTimeout: () => 0,
      clearTimeout: () => undefined,
    },
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
