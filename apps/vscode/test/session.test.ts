import { describe, expect, it } from 'vitest';
import { TicketsClientError, type TicketsClient } from '@tickets/client';
import { TicketsController } from '../src/services/controller.js';
import { NO_FILTERS } from '../src/services/filters.js';
import {
  SessionManager,
  SILENT_SIGN_IN_WINDOW_MS,
  type SessionDeps,
  type SessionState,
} from '../src/services/session.js';
import { sessionInfo } from './fixtures.js';

const unauthenticated = () =>
  new TicketsClientError({
    kind: 'unauthenticated',
    status: 401,
    message: 'wrong e-mail or password',
  });

/** Accounts the fake server knows; a login checks them. */
function setUp(
  accounts: Record<string, string> = { 'ada@acme.test': 'right' },
  now?: SessionDeps['now'],
) {
  const secrets = new Map<string, string>();
  const settings = { serverUrl: 'http://127.0.0.1:1', tenant: 'acme', email: '' };
  const logins: string[] = [];
  const logouts: number[] = [];
  let reachable = true;
  /** Whether the sessions it grants answer, or it refuses them all at once. */
  let sessionsWork = true;
  let made = 0;
  const createClient = (): TicketsClient => {
    let session: TicketsClient['session'];
    const number = (made += 1);
    return {
      get session() {
        return session;
      },
      login: async ({ email, password }: { email: string; password: string }) => {
        logins.push(email);
        if (!reachable)
          throw new TicketsClientError({ kind: 'network', message: 'connect ECONNREFUSED' });
        if (accounts[email] !== password) throw unauthenticated();
        session = sessionInfo({ adminOf: [{ id: 'payments.acme', type: 'api' }] });
        return {} as never;
      },
      status: async () => {
        if (!sessionsWork || !session) throw unauthenticated();
        return {};
      },
      logout: async () => {
        logouts.push(number);
        session = undefined;
      },
    } as unknown as TicketsClient;
  };
  const manager = new SessionManager({
    createClient,
    secrets: {
      get: async (key) => secrets.get(key),
      store: async (key, value) => void secrets.set(key, value),
      delete: async (key) => void secrets.delete(key),
    },
    settings: () => settings,
    rememberEmail: async (email) => {
      settings.email = email;
    },
    secretKey: (url, tenant, email) => `${url}|${tenant}|${email}`,
    ...(now && { now }),
  });
  const states: SessionState['kind'][] = [];
  manager.onDidChange((state) => states.push(state.kind));
  return {
    manager,
    secrets,
    settings,
    logins,
    logouts,
    states,
    accounts,
    setReachable: (value: boolean) => (reachable = value),
    setSessionsWork: (value: boolean) => (sessionsWork = value),
  };
}

describe('signing in', () => {
  it('keeps the password only in the secret store and remembers the e-mail', async () => {
    const { manager, secrets, settings, states } = setUp();
    const state = await manager.signIn('ada@acme.test', 'right');
    expect(state.session.userId).toBe('ada.acme');
    expect([...secrets]).toEqual([['http://127.0.0.1:1|acme|ada@acme.test', 'right']]);
    expect(settings).toEqual({
      serverUrl: 'http://127.0.0.1:1',
      tenant: 'acme',
      email: 'ada@acme.test',
    });
    expect(states).toEqual(['signedIn']);
  });

  it('a refusal changes nothing and keeps no password', async () => {
    const { manager, secrets, settings, states } = setUp();
    await expect(manager.signIn('ada@acme.test', 'wrong')).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    expect(secrets.size).toBe(0);
    expect(settings.email).toBe('');
    expect(states).toEqual([]);
    expect(manager.state.kind).toBe('signedOut');
  });

  it('restores the session at start-up with the kept password, and forgets a password the server refuses', async () => {
    const first = setUp();
    await first.manager.signIn('ada@acme.test', 'right');
    expect(await first.manager.restore()).toBe(true);

    const refused = setUp();
    await refused.manager.signIn('ada@acme.test', 'right');
    refused.accounts['ada@acme.test'] = 'changed';
    expect(await refused.manager.restore()).toBe(false);
    expect(refused.secrets.size).toBe(0);

    const nothing = setUp();
    expect(await nothing.manager.restore()).toBe(false);
    expect(nothing.logins).toEqual([]);
  });

  it('an unreachable server at start-up rejects (the view offers a retry) and keeps the password', async () => {
    const { manager, secrets, setReachable } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    setReachable(false);
    await expect(manager.restore()).rejects.toMatchObject({ kind: 'network' });
    expect(secrets.size).toBe(1);
  });

  it('signing out forgets the password it signed in with, even after the server setting changed', async () => {
    const { manager, secrets, settings } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    settings.serverUrl = 'http://127.0.0.1:2';
    await manager.signOut();
    expect(secrets.size).toBe(0);
  });

  it('signing out forgets the password', async () => {
    const { manager, secrets, states } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    await manager.signOut();
    expect(secrets.size).toBe(0);
    expect(manager.state.kind).toBe('signedOut');
    expect(states).toEqual(['signedIn', 'signedOut']);
  });
});

describe('a 401 while signed in', () => {
  it('signs in again silently, once, with the kept password', async () => {
    const { manager, logins } = setUp();
    const { client } = await manager.signIn('ada@acme.test', 'right');
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => manager.failed(unauthenticated(), client)),
    );
    expect(outcomes).toEqual(['renewed', 'renewed', 'renewed']);
    expect(logins).toEqual(['ada@acme.test', 'ada@acme.test']);
    expect(manager.state.kind).toBe('signedIn');
  });

  it('leads back to sign-in once when that fails: one "signedOut", the rest ignored', async () => {
    const { manager, accounts, states } = setUp();
    const { client } = await manager.signIn('ada@acme.test', 'right');
    accounts['ada@acme.test'] = 'changed elsewhere';
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => manager.failed(unauthenticated(), client)),
    );
    expect(outcomes.filter((o) => o === 'signedOut')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'ignored')).toHaveLength(2);
    expect(await manager.failed(unauthenticated(), client)).toBe('ignored');
    expect(states).toEqual(['signedIn', 'signedOut']);
  });

  it('ignores failures that are not about the session, and those of a replaced client', async () => {
    const { manager } = setUp();
    const { client: old } = await manager.signIn('ada@acme.test', 'right');
    await manager.signIn('ada@acme.test', 'right');
    expect(
      await manager.failed(new TicketsClientError({ kind: 'forbidden', message: 'no' }), undefined),
    ).toBe('ignored');
    expect(await manager.failed(unauthenticated(), old)).toBe('ignored');
    expect(manager.state.kind).toBe('signedIn');
  });
});

describe('silent sign-ins in a row', () => {
  it('logs out the session a silent sign-in replaces', async () => {
    const { manager, logouts } = setUp();
    const { client } = await manager.signIn('ada@acme.test', 'right');
    expect(await manager.failed(unauthenticated(), client)).toBe('renewed');
    expect(logouts).toEqual([1]);
    expect(manager.state.kind === 'signedIn' && manager.state.client).not.toBe(client);
  });

  it('a 401 soon after a silent sign-in signs out without another login; later ones may sign in again', async () => {
    let clock = 1_000_000;
    const { manager, logins, logouts, states, setSessionsWork } = setUp(undefined, () => clock);
    await manager.signIn('ada@acme.test', 'right');
    const current = () => (manager.state.kind === 'signedIn' ? manager.state.client : undefined);

    // Long after a first silent sign-in, a second one is allowed.
    expect(await manager.failed(unauthenticated(), current())).toBe('renewed');
    clock += SILENT_SIGN_IN_WINDOW_MS;
    expect(await manager.failed(unauthenticated(), current())).toBe('renewed');
    expect(logins).toHaveLength(3);

    // A late 401 of a call the replaced session made: the new session still answers.
    clock += 1_000;
    expect(await manager.failed(unauthenticated(), current())).toBe('renewed');
    expect(manager.state.kind).toBe('signedIn');

    // The session it made fails at once: signed out, the failing session logged out too.
    setSessionsWork(false);
    expect(await manager.failed(unauthenticated(), current())).toBe('signedOut');
    expect(logins).toHaveLength(3);
    expect(logouts).toEqual([1, 2, 3]);
    expect(states).toEqual(['signedIn', 'signedIn', 'signedIn', 'signedOut']);
    expect(await manager.failed(unauthenticated(), undefined)).toBe('ignored');

    // The user's own sign-in starts afresh: its first 401 is taken up silently again.
    setSessionsWork(true);
    await manager.signIn('ada@acme.test', 'right');
    expect(await manager.failed(unauthenticated(), current())).toBe('renewed');
  });

  it('a server that answers 401 to everything after a login: at most 2 logins and one warning', async () => {
    let logins = 0;
    const live = new Set<number>();
    const refuse = async () => {
      throw unauthenticated();
    };
    const createClient = (): TicketsClient => {
      let id: number | undefined;
      return {
        get session() {
          return id === undefined ? undefined : sessionInfo();
        },
        login: async () => {
          logins += 1;
          id = logins;
          live.add(id);
          return {};
        },
        logout: async () => {
          if (id !== undefined) live.delete(id);
          id = undefined;
        },
        status: refuse,
        tickets: { list: refuse, get: refuse, validActions: refuse, act: refuse },
        changes: async function* () {
          yield* [];
          throw unauthenticated();
        },
      } as unknown as TicketsClient;
    };
    const secrets = new Map<string, string>();
    const session = new SessionManager({
      createClient,
      secrets: {
        get: async (key) => secrets.get(key),
        store: async (key, value) => void secrets.set(key, value),
        delete: async (key) => void secrets.delete(key),
      },
      settings: () => ({ serverUrl: 'http://127.0.0.1:1', tenant: 'acme', email: 'ada@acme.test' }),
      rememberEmail: async () => undefined,
      secretKey: () => 'key',
    });
    const warnings: string[] = [];
    let ended = 0;
    const controller = new TicketsController({
      session,
      log: {
        trace: () => undefined,
        info: () => undefined,
        warn: (message) => void warnings.push(message),
        error: () => undefined,
      },
      filters: () => NO_FILTERS,
      liveSettings: () => ({ live: true, pollIntervalSeconds: 3600 }),
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
        sessionEnded: () => void (ended += 1),
        showError: () => undefined,
        ticketChanged: () => undefined,
      },
    });
    await session.signIn('ada@acme.test', 'right');
    // The stream and the reload fail, the session is taken up once, they fail again: signed out.
    for (let tick = 0; tick < 200 && session.state.kind === 'signedIn'; tick += 1)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(session.state.kind).toBe('signedOut');
    expect(logins).toBe(2);
    expect(ended).toBe(1);
    expect(warnings.filter((w) => w.startsWith('the session ended'))).toHaveLength(1);
    expect(live.size).toBe(0);
    controller.dispose();
  });
});
