// The extension's behaviour without VS Code, against the real server (in-process, on port 0,
// over a temporary SQLite file) through the real @tickets/client: the tree, the open count,
// actions, live changes made by someone else, refusals, and a session that ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTicketsClient } from '@tickets/client';
import { act as restAct, login as restLogin } from '../../server/test/support/client.js';
import { PASSWORD } from '../../server/test/support/fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/testServer.js';
import { actionFailedMessage } from '../src/services/actionMenu.js';
import { TicketsController } from '../src/services/controller.js';
import { NO_FILTERS, type TicketFilters } from '../src/services/filters.js';
import { observingFeed } from '../src/services/liveUpdates.js';
import { SessionManager } from '../src/services/session.js';
import { eventually } from './fixtures.js';
import { startLossyProxy, startProxy } from './proxies.js';

/** The extension's services as activate() wires them, with fakes for the editor's parts. */
function extensionFor(url: string, now?: () => Date, pollIntervalSeconds = 3600) {
  const secrets = new Map<string, string>();
  const settings = { serverUrl: url, tenant: 'acme', email: '' };
  const log: string[] = [];
  const events = {
    sessionEnded: 0,
    errors: [] as string[],
    openCount: undefined as number | undefined,
    context: { signedIn: false, unreachable: false },
  };
  let filters: TicketFilters = NO_FILTERS;
  let logins = 0;
  const session = new SessionManager({
    createClient: (options) => {
      logins += 1;
      return createTicketsClient({
        ...options,
        ...(now && { now }),
        fetch: observingFeed(globalThis.fetch, (up) => controller.live.feedStatus(up)),
      });
    },
    secrets: {
      get: async (key) => secrets.get(key),
      store: async (key, value) => void secrets.set(key, value),
      delete: async (key) => void secrets.delete(key),
    },
    settings: () => settings,
    rememberEmail: async (email) => void (settings.email = email),
    secretKey: (serverUrl, tenant, email) => `${serverUrl}|${tenant}|${email}`,
  });
  const line = (level: string) => (message: string) => void log.push(`${level} ${message}`);
  const controller: TicketsController = new TicketsController({
    session,
    log: { trace: line('trace'), info: line('info'), warn: line('warn'), error: line('error') },
    filters: () => filters,
    liveSettings: () => ({ live: true, pollIntervalSeconds }),
    timers: { setInterval, clearInterval, setTimeout, clearTimeout },
    pageSize: 2,
    view: {
      treeChanged: () => undefined,
      contextChanged: (context) => void (events.context = context),
      openCountChanged: (count) => void (events.openCount = count),
      sessionEnded: () => void (events.sessionEnded += 1),
      showError: (message) => void events.errors.push(message),
      ticketChanged: () => undefined,
    },
  });
  const summary = () =>
    controller.tree
      .groups()
      .map(
        (g) =>
          `${g.state}:${g.total}:${g.rows.map((r) => r.ticket.id.replace('.acme', '')).join(',')}`,
      );
  return {
    controller,
    session,
    secrets,
    log,
    events,
    summary,
    logins: () => logins,
    setFilters: (next: TicketFilters) => void (filters = next),
  };
}

describe('the extension against the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('signs in, shows the tree by state with counts, the open count, and the actions of each ticket', async () => {
    const ext = extensionFor(server.url);
    await ext.controller.start();
    expect(ext.events.context).toEqual({ signedIn: false, unreachable: false });
    await ext.session.signIn('ada@acme.test', PASSWORD);
    await eventually(() => ext.events.openCount !== undefined, 'the open count');
    expect(ext.events.context).toEqual({ signedIn: true, unreachable: false });
    // Pages of two, newest first.
    expect(ext.summary()).toEqual([
      'OPEN:3:ticket6,ticket5',
      'REOPEN:1:ticket4',
      'RESOLVED:1:ticket2',
      'CLOSED:1:ticket3',
    ]);
    expect(ext.controller.tree.groups()[0]!.hasMore).toBe(true);
    await ext.controller.loadMore('OPEN');
    expect(ext.summary()[0]).toBe('OPEN:3:ticket6,ticket5,ticket1');
    // Ada administers the Payments API: OPEN ticket1 and ticket5, REOPEN ticket4.
    expect(ext.controller.knownResources().mine).toEqual([{ type: 'api', id: 'payments.acme' }]);
    expect(ext.events.openCount).toBe(3);
    const allowed = (id: string) =>
      ext.controller.tree
        .findRow(id)!
        .actions.filter((a) => a.allowed)
        .map((a) => a.value);
    expect(allowed('ticket1.acme')).toEqual(['ticket.action.resolve', 'ticket.action.close']);
    expect(allowed('ticket6.acme')).toEqual([]);
    // Filtered to her resources: the app-only ticket goes.
    ext.setFilters({ ...NO_FILTERS, scope: 'mine' });
    await ext.controller.refresh({ rediscover: false });
    expect(ext.summary()[0]).toBe('OPEN:2:ticket5,ticket1');
    ext.controller.dispose();
  });

  it('takes the user’s resources from the server: an app admin’s, and every one for a site admin', async () => {
    const openOf = (ext: ReturnType<typeof extensionFor>): number =>
      ext.controller.tree
        .groups()
        .filter((g) => g.state === 'OPEN' || g.state === 'REOPEN')
        .reduce((sum, g) => sum + (g.total ?? 0), 0);
    const shay = extensionFor(server.url);
    await shay.session.signIn('shay@acme.test', PASSWORD);
    await eventually(() => shay.events.openCount !== undefined, 'the open count');
    expect(shay.controller.knownResources()).toMatchObject({
      mine: [{ type: 'app', id: 'shop.acme' }],
      siteAdmin: false,
    });
    expect(shay.controller.knownResources().all).toEqual(
      expect.arrayContaining([
        { type: 'api', id: 'payments.acme' },
        { type: 'app', id: 'shop.acme' },
      ]),
    );
    shay.setFilters({ ...NO_FILTERS, scope: 'mine' });
    await shay.controller.refresh({ rediscover: true });
    expect(shay.events.openCount).toBe(openOf(shay));
    shay.controller.dispose();

    const root = extensionFor(server.url);
    await root.session.signIn('root@acme.test', PASSWORD);
    await eventually(() => root.events.openCount !== undefined, 'the open count');
    expect(root.controller.knownResources().siteAdmin).toBe(true);
    // Every open ticket of the tenant, whatever it names; "my resources" filters nothing.
    const everyOpen = openOf(root);
    expect(everyOpen).toBeGreaterThan(0);
    expect(root.events.openCount).toBe(everyOpen);
    const unfiltered = root.summary();
    root.setFilters({ ...NO_FILTERS, scope: 'mine' });
    await root.controller.refresh({ rediscover: false });
    expect(root.summary()).toEqual(unfiltered);
    root.controller.dispose();
  });

  it('resolves a ticket with a comment, shows it at once, and a refusal carries the server’s reason', async () => {
    const ext = extensionFor(server.url);
    await ext.session.signIn('ada@acme.test', PASSWORD);
    await eventually(() => ext.events.openCount !== undefined, 'the first load');
    const result = await ext.controller.runAction(
      'ticket1.acme',
      'ticket.action.resolve',
      'Fixed in 2.4.1',
    );
    expect(result).toMatchObject({ state: 'RESOLVED', replayed: false });
    expect(ext.controller.tree.findRow('ticket1.acme')?.ticket.state).toBe('RESOLVED');
    const detail = await ext.controller.detail('ticket1.acme');
    expect(detail.history.at(-1)).toMatchObject({
      action: 'ticket.action.resolve',
      from: 'OPEN',
      to: 'RESOLVED',
      comments: ['Fixed in 2.4.1'],
      userId: 'ada.acme',
    });

    const refused = await ext.controller
      .runAction('ticket6.acme', 'ticket.action.close', '')
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ kind: 'forbidden', status: 403 });
    const reason = (refused as Error).message;
    expect(reason.length).toBeGreaterThan(0);
    expect(actionFailedMessage('Close', 'ticket6.acme', refused as never)).toContain(reason);
    expect((await ext.controller.detail('ticket6.acme')).ticket.state).toBe('OPEN');
    ext.controller.dispose();
  });

  it('shows a change someone else made through REST without a refresh', async () => {
    const ext = extensionFor(server.url);
    await ext.session.signIn('ada@acme.test', PASSWORD);
    await eventually(() => ext.log.includes('info live updates: connected'), 'the live feed');
    await eventually(() => ext.events.openCount !== undefined, 'the first load');
    const carol = await restLogin(server.url, 'carol@acme.test');
    const answer = await restAct(server.url, carol, 'ticket5.acme', 'ticket.action.close', {
      comments: 'Not needed',
    });
    expect(answer).toMatchObject({ status: 200, text: 'CLOSED' });
    await eventually(
      () => ext.controller.tree.findRow('ticket5.acme')?.ticket.state === 'CLOSED',
      'ticket5 in Closed',
    );
    expect(
      ext.controller.tree
        .groups()
        .find((g) => g.state === 'CLOSED')!
        .rows.map((r) => r.ticket.id),
    ).toContain('ticket5.acme');
    expect(ext.controller.live.polling).toBe(false);
    ext.controller.dispose();
  });

  it('takes an ended session up again once with the kept password; without one, leads to sign-in once', async () => {
    const ext = extensionFor(server.url);
    await ext.session.signIn('ada@acme.test', PASSWORD);
    await eventually(() => ext.events.openCount !== undefined, 'the first load');
    const loginsBefore = ext.logins();
    // The session ends on the server (as at its maximum age).
    await ext.controller.client().logout();
    await ext.controller.refresh({ rediscover: false });
    await eventually(
      () => ext.session.state.kind === 'signedIn' && ext.logins() === loginsBefore + 1,
      'the silent sign-in',
    );
    expect(ext.events.sessionEnded).toBe(0);

    ext.secrets.clear();
    await ext.controller.client().logout();
    await Promise.all([
      ext.controller.refresh({ rediscover: false }),
      ext.controller.loadMore('OPEN'),
      ext.controller.detail('ticket1.acme').catch((error: unknown) => ext.controller.failed(error)),
    ]);
    expect(ext.session.state.kind).toBe('signedOut');
    expect(ext.events.sessionEnded).toBe(1);
    expect(ext.events.errors).toEqual([]);
    expect(ext.events.context).toEqual({ signedIn: false, unreachable: false });
    expect(ext.events.openCount).toBeUndefined();
    ext.controller.dispose();
  });

  it('works against a server that asks for the CSRF header on every request: one login, one session', async () => {
    const strict = await startTestServer({ csrf: 'all' });
    try {
      const ext = extensionFor(strict.url);
      await ext.session.signIn('ada@acme.test', PASSWORD);
      await eventually(() => ext.log.includes('info live updates: connected'), 'the live feed');
      await eventually(() => ext.events.openCount !== undefined, 'the first load');
      expect(ext.summary()[0]).toBe('OPEN:3:ticket6,ticket5');
      const carol = await restLogin(strict.url, 'carol@acme.test');
      const answer = await restAct(strict.url, carol, 'ticket5.acme', 'ticket.action.close', {
        comments: 'Not needed',
      });
      expect(answer).toMatchObject({ status: 200, text: 'CLOSED' });
      await eventually(
        () => ext.controller.tree.findRow('ticket5.acme')?.ticket.state === 'CLOSED',
        'ticket5 in Closed',
      );
      expect(ext.logins()).toBe(1);
      expect(ext.events.sessionEnded).toBe(0);
      expect(ext.events.errors).toEqual([]);
      const live = await strict.sql<{ n: number }>(
        "SELECT COUNT(*) AS n FROM sessions WHERE user_id = 'ada.acme' AND ended_at IS NULL",
      );
      expect(Number(live[0]!.n)).toBe(1);
      ext.controller.dispose();
    } finally {
      await strict.close();
    }
  });

  it('says the server is unreachable at start-up, and signs in by itself once it is back', async () => {
    const proxy = await startProxy(server.url);
    try {
      const ext = extensionFor(proxy.url, undefined, 5);
      ext.secrets.set(`${proxy.url}|acme|ada@acme.test`, PASSWORD);
      await ext.session.signIn('ada@acme.test', PASSWORD);
      ext.controller.dispose();
      await ext.session.signOut();
      // The next start finds the server down.
      ext.secrets.set(`${proxy.url}|acme|ada@acme.test`, PASSWORD);
      proxy.setUp(false);
      await ext.controller.start();
      expect(ext.events.context).toEqual({ signedIn: false, unreachable: true });
      expect(ext.log.some((l) => l.startsWith('warn no answer from the server'))).toBe(true);
      expect(ext.log).toContain('info signing in again in 5 s (or on Retry)');
      proxy.setUp(true);
      // By itself, after the poll interval (Retry would do it at once).
      await eventually(() => ext.events.context.signedIn, 'the sign-in by itself', 60_000);
      expect(ext.events.context).toEqual({ signedIn: true, unreachable: false });
      ext.controller.dispose();
    } finally {
      await proxy.close();
    }
  });

  it('falls back to polling while the live channel is down, and says so in the log', async () => {
    const proxy = await startProxy(server.url);
    try {
      const ext = extensionFor(proxy.url);
      await ext.session.signIn('ada@acme.test', PASSWORD);
      await eventually(() => ext.log.includes('info live updates: connected'), 'the live feed');
      proxy.setUp(false);
      await eventually(() => ext.controller.live.polling, 'polling', 60_000);
      expect(ext.log).toContain(
        'warn live updates: the live channel is down; polling every 3600 s until it is back',
      );
      proxy.setUp(true);
      await eventually(() => !ext.controller.live.polling, 'the live feed back', 60_000);
      expect(ext.log).toContain('info live updates: connected again; polling stopped');
      ext.controller.dispose();
    } finally {
      await proxy.close();
    }
  });

  it('an action whose answers were lost, run again, applies once', async () => {
    const proxy = await startLossyProxy(server.url);
    try {
      const ext = extensionFor(proxy.url);
      await ext.session.signIn('ada@acme.test', PASSWORD);
      await eventually(() => ext.events.openCount !== undefined, 'the first load');
      const before = (await ext.controller.detail('ticket4.acme')).history.length;
      proxy.loseActionAnswers(true);
      // The client sends it four times under one key; the server applies the first, every
      // answer is lost on the way back.
      await expect(
        ext.controller.runAction('ticket4.acme', 'ticket.action.resolve', 'Fixed'),
      ).rejects.toMatchObject({ kind: 'network' });
      expect(proxy.actionRequests()).toBe(4);
      proxy.loseActionAnswers(false);
      // The user presses Retry: the same key again, answered as a replay.
      const retried = await ext.controller.runAction(
        'ticket4.acme',
        'ticket.action.resolve',
        'Fixed',
      );
      expect(retried).toMatchObject({ state: 'RESOLVED', replayed: true });
      const history = (await ext.controller.detail('ticket4.acme')).history;
      expect(history).toHaveLength(before + 1);
      expect(history.at(-1)).toMatchObject({
        action: 'ticket.action.resolve',
        comments: ['Fixed'],
      });
      ext.controller.dispose();
    } finally {
      await proxy.close();
    }
  });

  it('keeps the session alive by itself past its first expiry (one-minute sessions, a moved clock)', async () => {
    let clock = Date.parse('2031-05-01T08:00:00.000Z');
    const now = (): Date => new Date(clock);
    const short = await startTestServer({ sessionMinutes: 1, now });
    try {
      const ext = extensionFor(short.url, now);
      await ext.session.signIn('ada@acme.test', PASSWORD);
      await eventually(() => ext.events.openCount !== undefined, 'the first load');
      const renewals = () =>
        short.logs.filter(
          (line) => line['msg'] === 'request' && line['path'] === '/trpc/session.renew',
        ).length;
      const logins = ext.logins();
      for (let minute = 0; minute < 3; minute += 1) {
        clock += 45_000; // less than a third of the session left: the next call renews first
        await ext.controller.refresh({ rediscover: false });
      }
      expect(renewals()).toBeGreaterThanOrEqual(3);
      expect(ext.controller.client().session!.validUntil.getTime()).toBeGreaterThan(clock);
      // No silent sign-in was needed, and nothing was shown.
      expect(ext.logins()).toBe(logins);
      expect(ext.events.sessionEnded).toBe(0);
      expect(ext.events.errors).toEqual([]);
      ext.controller.dispose();
    } finally {
      await short.close();
    }
  });
});
